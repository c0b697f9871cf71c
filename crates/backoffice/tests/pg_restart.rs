//! The back office on a PostgreSQL of its own (`initdb` and `pg_ctl` in a temporary directory,
//! not the shared server) serves again within seconds after the database restarts under
//! traffic, without a restart of its own, and nothing pushed is lost or applied twice.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::exchange;
use guichet_backoffice::storage::PostgresStorage;
use guichet_backoffice::{BackOffice, Error};
use guichet_fixtures::history::citizen;
use guichet_fixtures::pg::Cluster;
use guichet_protocol::Outcome;
use guichet_workstation::store::OutboxState;
use tempfile::TempDir;

/// How soon the back office must serve again once the database is back.
const HEALED_WITHIN: Duration = Duration::from_secs(10);

/// A back office on `cluster` (see `common::athens`).
async fn office_on(cluster: &Cluster) -> BackOffice {
    let storage = PostgresStorage::connect(&cluster.url()).await.unwrap();
    common::athens(Arc::new(storage)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_back_office_serves_again_after_its_database_restarts_with_nothing_lost_or_doubled() {
    let cluster = Cluster::start();
    let office = office_on(&cluster).await;
    let enrolled = common::enrol(&office, "ATH-01").await;
    let device = office.authenticate(&enrolled.token).await.unwrap();
    let dir = TempDir::new().unwrap();
    let mut ws = common::workstation(&dir, &enrolled);
    let first = office
        .exchange(&device, &exchange(Vec::new(), 0))
        .await
        .unwrap();
    ws.apply_exchange(&[], &first).unwrap();

    // Traffic before the restart: citizens registered and pushed.
    let mut pushed = 0;
    for n in 1..=20 {
        ws.register_citizen(&citizen(n)).unwrap();
    }
    let batch = common::pending(&ws, 0);
    let answer = office
        .exchange(&device, &exchange(batch.clone(), first.cursor))
        .await
        .unwrap();
    common::assert_every_outcome(&answer, |o| matches!(o, Outcome::Applied { .. }));
    ws.apply_exchange(&batch, &answer).unwrap();
    let cursor = answer.cursor;
    pushed += batch.len();

    // The database restarts under traffic (the device pulling over and over): every
    // connection the back office holds dies; a request caught by it is a 503, never a hang.
    let data_seq = batch.last().map_or(0, |e| e.seq);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = tokio::spawn({
        let (office, device, stop) = (office.clone(), device.clone(), stop.clone());
        async move {
            let mut refused = Vec::new();
            let mut served = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let asked = Instant::now();
                match office
                    .exchange(&device, &exchange(Vec::new(), cursor))
                    .await
                {
                    Ok(_) => served += 1,
                    Err(e) => refused.push((e.status_and_code().0, e.to_string())),
                }
                assert!(asked.elapsed() < Duration::from_secs(20), "a request hung");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (served, refused)
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let restart = tokio::task::spawn_blocking(move || {
        cluster.pg_ctl("restart");
        cluster
    });
    for n in 21..=40 {
        ws.register_citizen(&citizen(n)).unwrap();
    }
    let cluster = restart.await.unwrap();
    let back = Instant::now();
    let batch = common::pending(&ws, data_seq);
    let answer = loop {
        match office
            .exchange(&device, &exchange(batch.clone(), cursor))
            .await
        {
            Ok(answer) => break answer,
            Err(e) => {
                let (status, _) = e.status_and_code();
                assert_eq!(
                    status, 503,
                    "a database that restarted is a 503 to try again: {e}"
                );
                assert!(
                    back.elapsed() < HEALED_WITHIN,
                    "still failing {:?} after the database came back: {e}",
                    back.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let healed_in = back.elapsed();
    assert!(healed_in < HEALED_WITHIN, "{healed_in:?}");
    common::assert_every_outcome(&answer, |o| matches!(o, Outcome::Applied { .. }));
    ws.apply_exchange(&batch, &answer).unwrap();
    pushed += batch.len();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (served, refused) = traffic.await.unwrap();
    assert!(served > 0, "the other device was served around the restart");
    assert!(
        refused.iter().all(|(status, _)| *status == 503),
        "what the restart caught is a 503 to try again: {refused:?}"
    );

    // Nothing lost, nothing twice: everything pushed again is a duplicate, and the back office
    // holds each change once.
    assert_eq!(
        ws.outbox_count(OutboxState::Pending).unwrap(),
        0,
        "nothing waits on the device"
    );
    let all = common::pending(&ws, 0);
    assert_eq!(all.len(), pushed);
    let again = office
        .exchange(&device, &exchange(all.clone(), 0))
        .await
        .unwrap();
    common::assert_every_outcome(&again, |o| matches!(o, Outcome::Duplicate { .. }));
    assert_eq!(
        common::column::<i64>(&cluster.url(), "SELECT count(*) FROM applied_changes").await,
        [pushed as i64]
    );
    assert_eq!(
        common::column::<i64>(&cluster.url(), "SELECT count(*) FROM citizens").await,
        [40]
    );
    drop(office);
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_back_office_whose_database_is_down_answers_503_in_bounded_time() {
    let cluster = Cluster::start();
    let office = office_on(&cluster).await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.pg_ctl("stop");
        cluster
    })
    .await
    .unwrap();
    let asked = Instant::now();
    let refused = office.clerks(None).await.unwrap_err();
    assert!(
        matches!(refused, Error::DatabaseUnavailable(_) | Error::Postgres(_)),
        "{refused:?}"
    );
    assert_eq!(refused.status_and_code().0, 503, "{refused}");
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "{:?}",
        asked.elapsed()
    );
    // Back up: served again.
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.pg_ctl("start");
        cluster
    })
    .await
    .unwrap();
    let back = Instant::now();
    loop {
        match office.clerks(None).await {
            Ok(_) => break,
            Err(e) => {
                assert!(back.elapsed() < HEALED_WITHIN, "{e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    drop(cluster);
}
