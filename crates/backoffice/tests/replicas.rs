//! The back office scaled out as an operator would: three `guichet-backoffice serve` processes
//! on one PostgreSQL, behind nginx balancing round-robin. Six devices of one centre work
//! offline and sync at the same time, landing on different replicas; one replica is killed
//! (SIGKILL) while they sync and started again later, as a crash or a rolling upgrade would.
//! Every change is applied once, the centre's log has no gap and no repeat, and every device
//! ends with every request of the centre: no cursor skipped a late commit.

mod common;

use std::time::Duration;

use common::processes::{Balancer, Bus, Replica};
use guichet_protocol::{ExchangeRequest, Outcome};
use guichet_workstation::store::{OutboxState, RequestFilter};
use guichet_workstation::sync::{self, SyncError};

const DEVICES: u32 = 6;
const PER_ROUND: u32 = 6;

/// Each device takes `PER_ROUND` requests for citizens of its own (numbered apart per device
/// and round).
fn work(buses: &mut [Bus], rounds: &mut u32) {
    for (n, bus) in (0u32..).zip(buses.iter_mut()) {
        let first = 1 + n * 10_000 + *rounds * 100;
        guichet_fixtures::history::take_requests(&mut bus.ws, first, PER_ROUND).unwrap();
    }
    *rounds += 1;
}

/// Every device syncs at once, each on a task of its own; what failed is returned, not hidden.
async fn sync_all(buses: Vec<Bus>) -> (Vec<Bus>, Vec<SyncError>) {
    let tasks: Vec<_> = buses
        .into_iter()
        .map(|mut bus| {
            tokio::spawn(async move {
                let result = sync::sync_once(&mut bus.ws, &bus.client, &|_| {}).await;
                (bus, result.err())
            })
        })
        .collect();
    let mut buses = Vec::new();
    let mut failed = Vec::new();
    for task in tasks {
        let (bus, error) = task.await.unwrap();
        buses.push(bus);
        failed.extend(error);
    }
    (buses, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_behind_nginx_apply_each_change_once_in_one_order_through_a_crash() {
    let database = common::PgDatabase::create().await;
    let office = common::athens(database.storage().await).await;
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Replica::start(&database.url).await);
    }
    let ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let balancer = Balancer::start(&ports).await;
    let url = balancer.url();

    let mut buses = Vec::new();
    for n in 0..DEVICES {
        buses.push(Bus::enrol(&office, &url, &format!("bus {n}")).await);
    }
    let (mut buses, failed) = sync_all(buses).await;
    assert!(failed.is_empty(), "first syncs: {failed:?}");

    // A round all up; then a replica dies while the devices sync, at a later moment each try
    // until it has caught an exchange in flight, and comes back on the same port, as after a
    // crash or an upgrade; then a round all up again.
    let mut rounds = 0;
    work(&mut buses, &mut rounds);
    let (back, failed) = sync_all(buses).await;
    buses = back;
    assert!(failed.is_empty(), "all up: {failed:?}");
    let mut failed_while_down = 0;
    for attempt in 0..8 {
        work(&mut buses, &mut rounds);
        let syncing = tokio::spawn(sync_all(buses));
        tokio::time::sleep(Duration::from_millis(10 + 25 * attempt)).await;
        replicas[1].kill();
        let (back, failed) = syncing.await.unwrap();
        buses = back;
        replicas[1].restart().await;
        failed_while_down = failed.len();
        if failed_while_down > 0 {
            break;
        }
    }
    work(&mut buses, &mut rounds);
    let (back, failed) = sync_all(buses).await;
    buses = back;
    // A sync that failed in the crash leaves its entries for the next: this one may push them.
    assert!(failed.is_empty(), "after the restart: {failed:?}");

    // Until nothing waits anywhere, then once more so that every device pulls the rest.
    for pass in 0..5 {
        let (back, failed) = sync_all(buses).await;
        buses = back;
        assert!(failed.is_empty(), "pass {pass}: {failed:?}");
        let waiting: u64 = buses
            .iter()
            .map(|b| b.ws.outbox_count(OutboxState::Pending).unwrap())
            .sum();
        if waiting == 0 {
            break;
        }
    }
    let (buses, failed) = sync_all(buses).await;
    assert!(failed.is_empty(), "last pass: {failed:?}");

    let requests = (DEVICES * rounds * PER_ROUND) as usize;
    let mut outboxes = 0;
    for (n, bus) in buses.iter().enumerate() {
        for state in [
            OutboxState::Pending,
            OutboxState::Refused,
            OutboxState::Conflict,
        ] {
            assert_eq!(bus.ws.outbox_count(state).unwrap(), 0, "bus {n}: {state:?}");
        }
        let all = bus
            .ws
            .list_requests(&RequestFilter {
                limit: Some(10_000),
                ..RequestFilter::default()
            })
            .unwrap();
        assert_eq!(all.len(), requests, "bus {n} holds the centre's requests");
        outboxes += bus.ws.outbox(None, 100_000).unwrap().len();
    }

    // Each change once on the back office; the centre's log numbered 1..=N without a gap.
    let applied =
        common::column::<i64>(&database.url, "SELECT count(*) FROM applied_changes").await;
    assert_eq!(applied, [outboxes as i64]);
    let log = common::column::<i64>(
        &database.url,
        "SELECT seq FROM change_log WHERE center = 'ATH-01' ORDER BY seq",
    )
    .await;
    assert_eq!(log, (1..=log.len() as i64).collect::<Vec<_>>());
    // What peers must see is logged (a clerk's login on one device is not), and every entry
    // a device sent is the place of a change applied from it.
    let orphans = common::column::<i64>(
        &database.url,
        "SELECT count(*) FROM change_log l
         WHERE l.origin_device IN (SELECT device FROM applied_changes)
           AND NOT EXISTS (SELECT 1 FROM applied_changes a
                           WHERE a.log_seq = l.seq AND a.device = l.origin_device)",
    )
    .await;
    assert_eq!(orphans, [0]);
    assert!(log.len() >= 4 * requests, "{} logged", log.len());
    let origins = common::column::<i64>(
        &database.url,
        "SELECT count(DISTINCT origin_device) FROM change_log
         WHERE origin_device IN (SELECT device FROM applied_changes)",
    )
    .await;
    assert_eq!(origins, [i64::from(DEVICES)]);
    let citizens = common::column::<i64>(&database.url, "SELECT count(*) FROM citizens").await;
    assert_eq!(citizens, [requests as i64]);

    // Pushed again, whole, everything is a duplicate.
    let device = office.authenticate(&buses[0].token).await.unwrap();
    let entries = common::pending(&buses[0].ws, 0);
    let again = office
        .exchange(
            &device,
            &ExchangeRequest {
                audit: buses[0].ws.audit_claim(None).unwrap(),
                push: entries,
                cursor: 0,
                limit: 1,
                recovery_key: None,
                state: None,
            },
        )
        .await
        .unwrap();
    common::assert_every_outcome(&again, |o| matches!(o, Outcome::Duplicate { .. }));

    // The exchanges were spread over the three replicas; the crash cut the answers of the
    // syncs it caught (nginx does not send a POST again elsewhere), which the next round
    // finished.
    let answered = balancer.answered("/sync/v1/exchange");
    let served: Vec<_> = answered
        .iter()
        .filter(|(_, statuses)| statuses.contains_key("200"))
        .map(|(upstream, _)| upstream.clone())
        .collect();
    assert_eq!(
        served.len(),
        3,
        "each replica answered exchanges: {answered:?}"
    );
    let cut: usize = answered.values().filter_map(|s| s.get("502")).sum();
    assert!(
        cut >= 1 && failed_while_down >= 1,
        "the crash caught syncs in flight ({cut} answers cut, {failed_while_down} syncs failed): \
         {answered:?}"
    );
}
