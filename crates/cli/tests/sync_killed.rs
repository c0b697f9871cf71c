//! `guichet sync` killed with SIGKILL at random moments while it sends 1,000 requests over a
//! slow link: every restart resumes, and at the end the back office holds every request once,
//! as the workstation has it, each change of its outbox applied once, and nothing waits or was
//! refused.

#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use guichet_tests::proxy::{Faults, Proxy};
use guichet_tests::{Device, Server};
use guichet_workstation::SystemClock;
use guichet_workstation::store::{OutboxState, RequestFilter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const REQUESTS: usize = 1000;
const KILLS_WANTED: usize = 50;

fn guichet_sync(dir: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_guichet"))
        .args(["--data-dir"])
        .arg(dir)
        .args(["sync", "--timeout", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start guichet sync")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_resumes_after_every_kill_and_nothing_is_lost_or_doubled() {
    let server = Server::start("ATH-01").await;
    // 64 kB/s each way: slow enough that a run spans many kills, fast enough for CI.
    let proxy = Proxy::start(server.addr).await.expect("proxy");
    let mut device = Device::enroll_through(
        &server,
        &proxy.url(),
        "ATH-01",
        Arc::new(SystemClock),
        Duration::from_secs(10),
    )
    .await;
    device
        .sync()
        .await
        .expect("first sync brings the catalogue");
    guichet_fixtures::history::generate_history(&mut device.ws, REQUESTS, 5).expect("history");
    let pending = device.ws.pending_push(100_000).expect("outbox").len();
    assert!(pending > 2 * REQUESTS, "{pending} entries wait");
    // `guichet sync` runs in the clerk's command line session: the database is encrypted, and
    // the session's token is what opens it.
    let token = device.ws.open_cli_session().expect("session");
    std::fs::write(device.dir.path().join("session"), token).expect("session file");
    proxy.set(Faults::bandwidth(64 * 1024));

    let mut rng = StdRng::seed_from_u64(20_261_126);
    let mut kills = 0;
    let mut runs = 0;
    while kills < KILLS_WANTED && runs < 400 {
        runs += 1;
        let waiting = device.ws.pending_push(1).expect("outbox").len();
        let mut child = guichet_sync(device.dir.path());
        // Mostly kills in the middle of an exchange; now and then a run lives long enough
        // to get a batch or two through, so that the sync advances from kill to kill.
        let delay = if rng.random_bool(0.06) {
            rng.random_range(700..1500)
        } else {
            rng.random_range(30..400)
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("kill");
            let status = child.wait().expect("reap");
            if status.signal() == Some(9) && waiting > 0 {
                kills += 1;
            }
        }
    }
    assert!(
        kills >= KILLS_WANTED,
        "only {kills} kills landed during the sync in {runs} runs"
    );
    // The killed runs made progress between kills: this is a resumed sync, not one run.
    let sent = device
        .ws
        .outbox(Some(OutboxState::Sent), 100_000)
        .expect("outbox")
        .len();
    assert!(sent > 0, "no run got anything through before it was killed");

    // Let the last run finish on a clear link.
    proxy.clear();
    let status = tokio::task::spawn_blocking({
        let dir = device.dir.path().to_owned();
        move || guichet_sync(&dir).wait()
    })
    .await
    .expect("join")
    .expect("sync");
    assert!(status.success(), "{status:?}");

    let ws = &device.ws;
    assert!(ws.pending_push(10).expect("outbox").is_empty());
    assert!(
        ws.outbox(Some(OutboxState::Refused), 10)
            .expect("outbox")
            .is_empty()
    );
    assert!(
        ws.outbox(Some(OutboxState::Conflict), 10)
            .expect("outbox")
            .is_empty()
    );
    assert!(ws.verify_audit().expect("audit").result.is_ok());
    let requests = ws
        .list_requests(&RequestFilter {
            limit: Some(100_000),
            ..RequestFilter::default()
        })
        .expect("requests");
    assert_eq!(requests.len(), REQUESTS);
    // Each change of the outbox applied once on the back office, and nothing else.
    let outbox: std::collections::HashSet<String> = ws
        .outbox(None, 100_000)
        .expect("outbox")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(outbox.len() > 2 * REQUESTS, "{}", outbox.len());
    assert_eq!(server.applied_change_ids().await, outbox);
    let storage = server.office.storage();
    for r in &requests {
        let canonical = guichet_domain::receipt::ReceiptNumber::parse(&r.receipt).expect("receipt");
        let there = storage
            .request_by_receipt(canonical.as_str())
            .await
            .expect("on the back office");
        assert_eq!(there.id, r.id);
        assert_eq!(there.status, r.status, "{}", r.receipt);
        assert_eq!(there.paid_minor, r.paid_minor, "{}", r.receipt);
    }
    server.shutdown().await;
}
