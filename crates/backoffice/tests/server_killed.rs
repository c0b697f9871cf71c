//! The `guichet-backoffice serve` process killed with SIGKILL in the middle of a device's
//! pushes, many times, on SQLite and on PostgreSQL. After each kill the test looks at both
//! sides and records where the kill landed: before the back office committed the batch in
//! flight, after it committed but before the device recorded the answer, or after. The second
//! case is the one exactly-once exists for: those entries must come back as duplicates when
//! pushed again, and the test requires that some kills land there. At the end the back office
//! holds every change of the device's outbox once, and nothing waits or was refused.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::time::{Duration, Instant};

use common::processes::{Bus, Replica};
use guichet_protocol::{ExchangeRequest, Outcome};
use guichet_workstation::store::OutboxState;
use guichet_workstation::sync;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Requests taken whenever little waits: about four changes each, a batch or more to push.
const REQUESTS: u32 = 150;
const KILLS: usize = 12;

/// Where a kill landed, for the batch the device had in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Landing {
    /// The back office had not committed it: nothing of it is there.
    BeforeCommit,
    /// The back office committed it; the device never recorded the answer.
    CommittedNotRecorded,
    /// The device had recorded the answer (the kill caught a later exchange, or none).
    Recorded,
}

/// The ids of the changes the back office applied.
async fn applied_ids(url: &str) -> HashSet<String> {
    common::column::<String>(url, "SELECT id FROM applied_changes")
        .await
        .into_iter()
        .collect()
}

/// How many changes the back office applied: a cheap query, polled while a push is in flight.
async fn applied_count(url: &str) -> i64 {
    common::column(url, "SELECT count(*) FROM applied_changes").await[0]
}

fn pending_ids(bus: &Bus) -> HashSet<String> {
    bus.ws
        .pending_push(100_000)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

async fn killed_many_times(url: &str, office: guichet_backoffice::BackOffice, seed: u64) {
    let mut replica = Replica::start(url).await;
    let mut bus = Bus::enrol(&office, &replica.url(), "killed").await;
    sync::sync_once(&mut bus.ws, &bus.client, &|_| {})
        .await
        .expect("the first sync brings the catalogue");
    let mut citizens = 1;

    let mut rng = StdRng::seed_from_u64(seed);
    let mut landings: Vec<(Landing, &'static str, usize)> = Vec::new();
    let mut runs = 0;
    let in_doubt = |landings: &[(Landing, &str, usize)]| {
        landings
            .iter()
            .any(|(l, _, _)| *l == Landing::CommittedNotRecorded)
    };
    // Until enough kills landed, one of them between commit and record.
    while (landings.len() < KILLS || !in_doubt(&landings)) && runs < 8 * KILLS {
        runs += 1;
        if bus.ws.outbox_count(OutboxState::Pending).unwrap() < 300 {
            guichet_fixtures::history::take_requests(&mut bus.ws, citizens, REQUESTS).unwrap();
            citizens += REQUESTS;
        }
        let before = pending_ids(&bus);
        let applied_before = applied_count(url).await;
        let syncing = tokio::spawn(async move {
            let result = sync::sync_once(&mut bus.ws, &bus.client, &|_| {}).await;
            (bus, result)
        });
        // Half the kills at a random moment; half as soon as the back office's database shows
        // the batch committed, which is when an answer is most likely still on its way.
        let how = if runs % 2 == 0 {
            tokio::time::sleep(Duration::from_millis(rng.random_range(5..300))).await;
            "at random"
        } else {
            let asked = Instant::now();
            while applied_count(url).await == applied_before
                && asked.elapsed() < Duration::from_secs(20)
                && !syncing.is_finished()
            {
                tokio::task::yield_now().await;
            }
            "once committed"
        };
        replica.kill();
        let (back, result) = syncing.await.unwrap();
        bus = back;
        if result.is_ok() {
            // The run finished before the kill: it landed nowhere.
            replica.restart().await;
            continue;
        }

        let applied = applied_ids(url).await;
        let after = pending_ids(&bus);
        let recorded: HashSet<_> = before.difference(&after).cloned().collect();
        assert!(
            recorded.is_subset(&applied),
            "the device recorded as sent what the back office does not hold"
        );
        let in_doubt: Vec<String> = after
            .iter()
            .filter(|id| applied.contains(*id))
            .cloned()
            .collect();
        let landing = if !in_doubt.is_empty() {
            Landing::CommittedNotRecorded
        } else if before.iter().any(|id| applied.contains(id)) {
            Landing::Recorded
        } else {
            Landing::BeforeCommit
        };
        landings.push((landing, how, in_doubt.len()));
        replica.restart().await;

        if landing == Landing::CommittedNotRecorded {
            // Pushed again, exactly those entries are duplicates: nothing applied twice.
            let push: Vec<_> = bus
                .ws
                .pending_push(100_000)
                .unwrap()
                .into_iter()
                .filter(|e| in_doubt.contains(&e.id))
                .collect();
            let request = ExchangeRequest {
                audit: bus.ws.audit_claim(None).unwrap(),
                push: push.clone(),
                cursor: bus.ws.sync_point().unwrap().map_or(0, |p| p.cursor),
                limit: 1,
                recovery_key: None,
                state: None,
            };
            let answer = match bus.client.exchange(&request).await {
                Err(sync::SyncError::AuditAnchor { seq, .. }) => {
                    let request = ExchangeRequest {
                        audit: bus.ws.audit_claim(Some(seq)).unwrap(),
                        ..request
                    };
                    bus.client.exchange(&request).await.unwrap()
                }
                answer => answer.unwrap(),
            };
            common::assert_every_outcome(&answer, |o| matches!(o, Outcome::Duplicate { .. }));
            bus.ws.apply_exchange(&push, &answer).unwrap();
        }
    }

    let mut tally: BTreeMap<(Landing, &str), (usize, usize)> = BTreeMap::new();
    for (landing, how, in_doubt) in &landings {
        let entry = tally.entry((*landing, how)).or_default();
        entry.0 += 1;
        entry.1 += in_doubt;
    }
    // Shown with `--nocapture`: where the kills of this run landed.
    let _ = writeln!(
        std::io::stderr(),
        "{url}: where {} kills landed (count, entries in doubt): {tally:?}",
        landings.len()
    );
    assert!(
        landings.len() >= KILLS,
        "only {} kills caught a sync in {runs} runs",
        landings.len()
    );
    assert!(
        in_doubt(&landings),
        "no kill landed between the back office's commit and the device's record in {runs} \
         runs: {tally:?}"
    );

    // The rest goes through; the back office holds each change of the outbox once.
    sync::sync_once(&mut bus.ws, &bus.client, &|_| {})
        .await
        .expect("the last sync");
    for state in [
        OutboxState::Pending,
        OutboxState::Refused,
        OutboxState::Conflict,
    ] {
        assert_eq!(bus.ws.outbox_count(state).unwrap(), 0, "{state:?}");
    }
    let outbox: HashSet<String> = bus
        .ws
        .outbox(None, 100_000)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(
        outbox.len() >= (citizens as usize - 1) * 4,
        "{}",
        outbox.len()
    );
    assert_eq!(applied_ids(url).await, outbox);
    replica.kill();
}

/// The two backends one after the other: on a busy machine, a poll that shares the cores with
/// another such test sees the commit too late more often.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_push_on_sqlite_loses_nothing_and_applies_nothing_twice() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("backoffice.sqlite3");
    let storage = guichet_backoffice::storage::SqliteStorage::open(&path).unwrap();
    let office = common::athens(std::sync::Arc::new(storage)).await;
    killed_many_times(&format!("sqlite://{}", path.display()), office, 20_261_205).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_push_on_postgres_loses_nothing_and_applies_nothing_twice() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let database = common::PgDatabase::create().await;
    let office = common::athens(database.storage().await).await;
    killed_many_times(&database.url, office, 20_261_206).await;
}
