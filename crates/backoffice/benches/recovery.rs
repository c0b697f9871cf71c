//! How soon the back office serves again after its PostgreSQL restarts (issue 20), as a bench
//! binary: `cargo bench -p guichet-backoffice --bench recovery`.
//!
//! A PostgreSQL cluster of its own (`initdb` and `pg_ctl` in a temporary directory), a back
//! office on it with one enrolled device. Five times: the database restarts (`pg_ctl restart`,
//! fast shutdown) while the device asks for an exchange every 20 ms; the bench reads how long
//! the back office refused (503) in all, and how long after the database answered again it
//! took to serve. The floor of the second is zero: the pool finds its connections closed
//! when it next takes them and opens new ones. Target: served again within 10 s of the
//! database (the bound the test `pg_restart.rs` also holds); the bench prints NOT met and
//! exits non-zero on a miss.

// A bench binary reports to its terminal: the figures are its output.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use guichet_backoffice::BackOffice;
use guichet_backoffice::storage::PostgresStorage;
use guichet_domain::catalogue::CenterKind;
use guichet_fixtures::pg::Cluster;
use guichet_protocol::{EnrollRequest, ExchangeRequest};

const RESTARTS: usize = 5;
const TARGET: Duration = Duration::from_secs(10);

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Whether the database itself answers, on a connection of the bench's own.
async fn database_answers(url: &str) -> bool {
    match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            client.simple_query("SELECT 1").await.is_ok()
        }
        Err(_) => false,
    }
}

#[tokio::main]
async fn main() {
    let cluster = Arc::new(
        tokio::task::spawn_blocking(Cluster::start)
            .await
            .expect("cluster"),
    );
    let storage = PostgresStorage::connect(&cluster.url())
        .await
        .expect("the back office on the cluster");
    let office = BackOffice::new(Arc::new(storage));
    office
        .add_center(&guichet_backoffice::NewCenter {
            code: "ATH-01",
            name: "Athens Central",
            kind: CenterKind::Stationary,
            time_zone: "Europe/Athens",
            currency: "EUR",
            waiting_target_min: 15,
        })
        .await
        .expect("centre");
    let code = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .expect("code");
    let enrolled = office
        .enroll(&EnrollRequest {
            code: code.code,
            label: Some("bench".into()),
            recovery_key: None,
        })
        .await
        .expect("enrol");
    let device = office.authenticate(&enrolled.token).await.expect("device");
    let ask = ExchangeRequest {
        audit: None,
        push: Vec::new(),
        cursor: 0,
        limit: 10,
        recovery_key: None,
        state: None,
    };
    office.exchange(&device, &ask).await.expect("served before");

    let mut outages = Vec::new();
    let mut after_database = Vec::new();
    for run in 1..=RESTARTS {
        let restarting = tokio::task::spawn_blocking({
            let cluster = Arc::clone(&cluster);
            move || cluster.pg_ctl("restart")
        });
        let started = Instant::now();
        let mut refused_since: Option<Instant> = None;
        let mut database_back: Option<Instant> = None;
        loop {
            let served = office.exchange(&device, &ask).await.is_ok();
            if database_back.is_none()
                && restarting.is_finished()
                && database_answers(&cluster.url()).await
            {
                database_back = Some(Instant::now());
            }
            if !served {
                refused_since.get_or_insert_with(Instant::now);
            } else if let Some(back) = database_back {
                outages.push(refused_since.map_or(0.0, |since| since.elapsed().as_secs_f64()));
                after_database.push(back.elapsed().as_secs_f64());
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "run {run}: not served again within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        restarting.await.expect("pg_ctl restart");
        println!(
            "restart {run}: refused for {:.2} s; served {:.3} s after the database answered",
            outages[run - 1],
            after_database[run - 1]
        );
    }
    let outage = median(outages);
    let healed = median(after_database);
    let met = healed <= TARGET.as_secs_f64();
    println!(
        "median of {RESTARTS} restarts: refused (503) for {outage:.2} s in all; served again {healed:.3} s after the database answered (floor 0 s; target <= {} s: {})",
        TARGET.as_secs(),
        if met { "met" } else { "NOT met" }
    );
    if !met {
        std::process::exit(1);
    }
}
