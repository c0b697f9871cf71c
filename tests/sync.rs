//! A workstation and a back office over real HTTP on loopback: enrolment, offline work pushed
//! exactly once, agency decisions pulled exactly once, retries after a lost answer, wrong
//! clocks, and the refusals the clerk must see.

use std::sync::Arc;

use guichet_domain::request::{Action, RequestStatus};
use guichet_fixtures::history::citizen;
use guichet_tests::{Device, Server};
use guichet_workstation::clock::{Clock, SkewedClock, SystemClock};
use guichet_workstation::store::{OutboxState, RequestFilter};
use guichet_workstation::sync::SyncError;

const CENTER: &str = "ATH-01";

/// The back office's storage keys receipts by their canonical form.
fn canonical(receipt: &str) -> String {
    guichet_domain::receipt::ReceiptNumber::parse(receipt)
        .unwrap()
        .as_str()
        .to_owned()
}

async fn converge(clock: Arc<dyn Clock>) {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, clock).await;

    // The first sync brings the catalogue.
    let first = device.sync().await.unwrap();
    assert!(first.pulled >= 1, "{first:?}");
    assert!(device.ws.catalogue_version().unwrap().is_some());

    let receipts = device.offline_work(12);
    let report = device.sync().await.unwrap();
    assert_eq!(report.refused + report.conflicts, 0, "{report:?}");
    assert!(report.applied >= 12 * 4, "{report:?}");
    assert!(device.ws.pending_push(10).unwrap().is_empty());

    // Every request exists on the back office once, with the same content.
    let storage = server.office.storage();
    for receipt in &receipts {
        let on_server = storage
            .request_by_receipt(&canonical(receipt))
            .await
            .unwrap();
        let here = device.ws.request(receipt).unwrap();
        assert_eq!(on_server.id, here.summary.id);
        assert_eq!(on_server.status, RequestStatus::Dispatched);
        assert_eq!(on_server.service, here.summary.service_code);
    }

    // The agency decides; each decision reaches the workstation once.
    for (i, receipt) in receipts.iter().enumerate() {
        server
            .office
            .agency_decide(receipt, Action::TakeInProcessing, None, "agency:anna")
            .await
            .unwrap();
        if i % 2 == 0 {
            server
                .office
                .agency_decide(receipt, Action::MarkReady, None, "agency:anna")
                .await
                .unwrap();
        }
    }
    let pulled = device.sync().await.unwrap();
    assert_eq!(pulled.pulled, 18, "{pulled:?}");
    for (i, receipt) in receipts.iter().enumerate() {
        let here = device.ws.request(receipt).unwrap();
        let expected = if i % 2 == 0 {
            RequestStatus::Ready
        } else {
            RequestStatus::InProcessing
        };
        assert_eq!(here.summary.status, expected, "{receipt}");
        let agency_lines = here
            .timeline
            .iter()
            .filter(|e| e.actor == "agency:anna")
            .count();
        assert_eq!(agency_lines, if i % 2 == 0 { 2 } else { 1 });
    }

    // Nothing left to do: one exchange, nothing moved.
    let idle = device.sync().await.unwrap();
    assert_eq!(idle.exchanges, 1);
    assert_eq!(idle.pushed + idle.pulled, 0);

    // The clerk delivers the ready ones; delivery is pushed and accepted.
    for receipt in receipts.iter().step_by(2) {
        device
            .ws
            .advance(receipt, Action::Deliver, None, None)
            .unwrap();
    }
    let delivered = device.sync().await.unwrap();
    assert_eq!(delivered.applied, 6);
    let on_server = storage
        .request_by_receipt(&canonical(&receipts[0]))
        .await
        .unwrap();
    assert_eq!(on_server.status, RequestStatus::Delivered);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_work_converges_exactly_once() {
    converge(Arc::new(SystemClock)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_six_hours_ahead_changes_nothing() {
    converge(Arc::new(SkewedClock {
        offset: chrono::Duration::hours(6),
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_six_hours_behind_changes_nothing() {
    converge(Arc::new(SkewedClock {
        offset: chrono::Duration::hours(-6),
    }))
    .await;
}

/// A clock whose offset from the true time can be changed while it runs, as when an operator
/// or NTP sets a bus's clock in the middle of a sync.
#[derive(Debug, Default)]
struct JumpingClock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl JumpingClock {
    fn jump_to(&self, offset: chrono::Duration) {
        self.offset_ms.store(
            offset.num_milliseconds(),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

impl Clock for JumpingClock {
    fn now(&self) -> guichet_domain::queue::Moment {
        let mut moment = SystemClock.now();
        moment.wall += chrono::Duration::milliseconds(
            self.offset_ms.load(std::sync::atomic::Ordering::SeqCst),
        );
        moment
    }
}

/// The stamps of the device's outbox entries, in the order it made them.
fn outbox_stamps(device: &Device) -> Vec<guichet_domain::hlc::HlcStamp> {
    device
        .ws
        .outbox(None, 100_000)
        .unwrap()
        .iter()
        .map(|e| e.hlc.parse().unwrap())
        .collect()
}

/// The device's wall clock jumps two hours back in the middle of a sync over a slow link,
/// then three hours forward: the sync finishes, nothing is refused, and every change made
/// after a jump still comes after every change made before it, in the device's order and
/// in clock-stamp order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_that_jumps_during_a_sync_breaks_no_order() {
    let server = Server::start(CENTER).await;
    let proxy = guichet_tests::proxy::Proxy::start(server.addr)
        .await
        .unwrap();
    let clock = Arc::new(JumpingClock::default());
    let mut device = Device::enroll_through(
        &server,
        &proxy.url(),
        CENTER,
        clock.clone(),
        std::time::Duration::from_secs(20),
    )
    .await;
    device.sync().await.unwrap();
    let mut receipts = device.offline_work(40);
    proxy.set(guichet_tests::proxy::Faults::bandwidth(16 * 1024));
    let jump = tokio::spawn({
        let clock = clock.clone();
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            clock.jump_to(chrono::Duration::hours(-2));
        }
    });
    let started = std::time::Instant::now();
    let report = device.sync().await.unwrap();
    jump.await.unwrap();
    assert!(
        started.elapsed() > std::time::Duration::from_millis(300),
        "the jump came after the sync ended: {:?}",
        started.elapsed()
    );
    assert_eq!(report.refused + report.conflicts, 0, "{report:?}");
    proxy.clear();

    receipts.extend(device.offline_work(5));
    clock.jump_to(chrono::Duration::hours(1));
    receipts.extend(device.offline_work(5));
    let report = device.sync().await.unwrap();
    assert_eq!(report.refused + report.conflicts, 0, "{report:?}");
    assert!(device.ws.pending_push(10).unwrap().is_empty());

    let stamps = outbox_stamps(&device);
    assert!(stamps.len() >= 50 * 4, "{}", stamps.len());
    assert!(
        stamps.windows(2).all(|pair| pair[0] < pair[1]),
        "the device's changes are stamped in the order it made them"
    );
    let storage = server.office.storage();
    for receipt in &receipts {
        let there = storage
            .request_by_receipt(&canonical(receipt))
            .await
            .unwrap();
        assert_eq!(there.status, RequestStatus::Dispatched, "{receipt}");
        let detail = device.ws.request(receipt).unwrap();
        let order: Vec<guichet_domain::hlc::HlcStamp> = detail
            .timeline
            .iter()
            .map(|e| e.hlc.parse().unwrap())
            .collect();
        assert!(order.is_sorted(), "{receipt}: {order:?}");
        assert_eq!(
            detail.timeline.last().map(|e| e.to),
            Some(RequestStatus::Dispatched)
        );
    }
    server.shutdown().await;
}

/// The answer to a push is lost (a timeout after the back office applied it): the entries stay
/// pending, go out again under the same ids, and are acknowledged as duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_lost_answer_applies_nothing_twice() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let receipts = device.offline_work(3);
    let push = device.ws.pending_push(100).unwrap();
    let request = guichet_protocol::ExchangeRequest {
        audit: device.ws.audit_claim(None).unwrap(),
        push: push.clone(),
        cursor: device.ws.sync_point().unwrap().unwrap().cursor,
        limit: 100,
        recovery_key: None,
        state: None,
    };
    // Sent and applied by the back office, but the answer never reaches the device.
    let lost = device.office.exchange(&request).await.unwrap();
    assert!(
        lost.results
            .iter()
            .all(|r| matches!(r.outcome, guichet_protocol::Outcome::Applied { .. }))
    );
    assert_eq!(device.ws.pending_push(100).unwrap().len(), push.len());

    let retry = device.sync().await.unwrap();
    assert_eq!(retry.duplicates as usize, push.len(), "{retry:?}");
    assert_eq!(retry.applied, 0);
    assert!(device.ws.pending_push(10).unwrap().is_empty());
    for receipt in &receipts {
        assert_eq!(
            server
                .office
                .storage()
                .request_by_receipt(&canonical(receipt))
                .await
                .unwrap()
                .status,
            RequestStatus::Dispatched
        );
    }
    server.shutdown().await;
}

/// The citizen withdraws at the counter while the agency rejects: the agency came first, so the
/// cancellation is a conflict the clerk sees, with the back office's status; nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_losing_change_is_shown_as_a_conflict() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let receipts = device.offline_work(1);
    device.sync().await.unwrap();
    server
        .office
        .agency_decide(&receipts[0], Action::TakeInProcessing, None, "agency:anna")
        .await
        .unwrap();
    server
        .office
        .agency_decide(
            &receipts[0],
            Action::Reject,
            Some("not eligible"),
            "agency:anna",
        )
        .await
        .unwrap();
    // Offline, the clerk cancels: locally allowed from dispatched.
    device
        .ws
        .advance(&receipts[0], Action::Cancel, Some("citizen withdrew"), None)
        .unwrap();
    let report = device.sync().await.unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let conflicts = device.ws.outbox(Some(OutboxState::Conflict), 10).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert!(
        conflicts[0].reason.as_deref().unwrap().contains("rejected"),
        "{:?}",
        conflicts[0].reason
    );
    // The agency's decision was pulled too: the request shows as rejected, with its reason.
    let here = device.ws.request(&receipts[0]).unwrap();
    assert_eq!(here.summary.status, RequestStatus::Rejected);
    assert!(
        here.changes
            .iter()
            .any(|c| c.state == OutboxState::Conflict)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_told_so_and_keeps_its_changes() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    device.offline_work(1);
    let device_code = device.ws.config().unwrap().device_code;
    server
        .office
        .revoke_device(&device_code, false)
        .await
        .unwrap();
    let err = device.sync().await.unwrap_err();
    assert!(matches!(err, SyncError::Revoked(_)), "{err}");
    assert!(
        err.to_string().contains("revoked") || err.to_string().contains("refused"),
        "{err}"
    );
    assert!(!device.ws.pending_push(10).unwrap().is_empty());
    let point = device.ws.sync_point().unwrap().unwrap();
    assert!(point.last_error.is_some());
    assert_eq!(
        device
            .ws
            .list_requests(&RequestFilter::default())
            .unwrap()
            .len(),
        1
    );
    server.shutdown().await;
}

/// Revoked with a wipe: the background task delivers what waits and stops, saying so; the
/// device then delivers what came since, erases its data (nothing of it is left but a note
/// without anything personal) and tells the back office, which forgets its recovery key and
/// closes it for good. A decision made after the revocation is not sent to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_revoked_with_a_wipe_delivers_what_waits_then_erases_its_data() {
    use guichet_workstation::Workstation;
    use guichet_workstation::store::{ERASED_FILE, erased_note};
    use guichet_workstation::sync::{self, BackOffice, Phase, SyncHandle, SyncOptions};
    use std::time::Duration;

    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let synced = device.offline_work(1);
    device.sync().await.unwrap();
    let mut receipts = device.offline_work(3);
    let code = device.ws.config().unwrap().device_code;
    let revoked = server.office.revoke_device(&code, true).await.unwrap();
    assert!(revoked.wipe_pending());
    server
        .office
        .agency_decide(&synced[0], Action::TakeInProcessing, None, "agency:anna")
        .await
        .unwrap();

    let office = BackOffice::new(
        &server.url,
        Some(device.token.clone()),
        Duration::from_secs(5),
    )
    .unwrap();
    let options = SyncOptions {
        debounce: Duration::from_millis(50),
        ..SyncOptions::default()
    };
    let handle = SyncHandle::spawn(&device.ws, office, options).unwrap();
    let mut status = handle.status();
    handle.sync_now();
    let wipe = tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|s| s.phase == Phase::Wipe),
    )
    .await
    .expect("the task heard of the wipe within 20 s")
    .unwrap()
    .clone();
    assert_eq!(wipe.waiting, 0, "{wipe:?}");
    tokio::time::timeout(Duration::from_secs(10), handle.stop())
        .await
        .expect("the task has stopped");

    // Work done after the task's last exchange is delivered before anything is erased.
    receipts.extend(device.offline_work(1));
    assert!(!device.ws.pending_push(10).unwrap().is_empty());
    let decided = device.ws.request(&synced[0]).unwrap();
    assert_eq!(
        decided.summary.status,
        RequestStatus::Dispatched,
        "sent nothing"
    );
    let erased = sync::complete_wipe(&mut device.ws, &device.office)
        .await
        .unwrap()
        .expect("the back office asked for the wipe");
    assert!(erased.confirmed);
    assert_eq!(erased.device_code, code);

    let storage = server.office.storage();
    for receipt in &receipts {
        let on_server = storage.request_by_receipt(&canonical(receipt)).await;
        assert!(on_server.is_ok(), "{receipt} reached the back office");
    }
    let mut files: Vec<String> = std::fs::read_dir(device.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [ERASED_FILE, "keys.lock", "setup.lock"],
        "nothing but the note and the empty lock files is left"
    );
    for lock in ["keys.lock", "setup.lock"] {
        assert_eq!(
            std::fs::metadata(device.dir.path().join(lock))
                .unwrap()
                .len(),
            0
        );
    }
    let note: serde_json::Value =
        serde_json::from_slice(&std::fs::read(device.dir.path().join(ERASED_FILE)).unwrap())
            .unwrap();
    let mut fields: Vec<_> = note.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(fields, ["at", "center_code", "confirmed", "device_code"]);
    assert!(device.ws.list_requests(&RequestFilter::default()).is_err());
    let fresh = Workstation::open_dir(device.dir.path()).unwrap();
    assert!(!fresh.is_set_up().unwrap());
    assert_eq!(erased_note(device.dir.path()), Some(erased));

    let gone = &server.office.devices(Some(CENTER)).await.unwrap()[0];
    assert_eq!(gone.standing(), "wiped");
    assert_eq!(storage.recovery_key(&code).await.unwrap(), None);
    let err = device.office.confirm_wiped().await.unwrap_err();
    assert!(matches!(err, SyncError::Revoked(_)), "{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_back_office_means_offline_and_nothing_lost() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    server.shutdown().await;
    device.offline_work(2);
    let waiting = device.ws.pending_push(100).unwrap().len();
    let err = device.sync().await.unwrap_err();
    assert!(matches!(err, SyncError::Offline(_)), "{err}");
    assert!(err.is_transient());
    assert_eq!(device.ws.pending_push(100).unwrap().len(), waiting);
}

/// The background task: a local change wakes it, it syncs, and the status it publishes goes
/// from changes waiting to online with nothing waiting; with the back office gone it says
/// offline in words; it stops when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_syncs_after_a_change_and_reports_its_state() {
    use guichet_workstation::sync::{BackOffice, Phase, SyncHandle, SyncOptions};
    use std::time::Duration;

    let mut server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    device.offline_work(3);
    let office = BackOffice::new(
        &server.url,
        Some(device.token.clone()),
        Duration::from_secs(2),
    )
    .unwrap();
    let options = SyncOptions {
        debounce: Duration::from_millis(50),
        interval: Duration::from_secs(3600),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
    };
    let handle = SyncHandle::spawn(&device.ws, office, options).unwrap();
    let mut status = handle.status();
    assert!(status.borrow().waiting > 0, "{:?}", *status.borrow());
    handle.notify_change();
    let online = tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|s| s.phase == Phase::Online && s.waiting == 0),
    )
    .await
    .expect("the task synced within 20 s")
    .unwrap()
    .clone();
    assert!(online.last_success.is_some());
    assert!(online.progress.pushed > 0);

    // The link goes: the next run says offline, in words, and keeps retrying.
    server.crash().await;
    offline_work_more(&mut device);
    handle.sync_now();
    let offline = tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|s| s.phase == Phase::Offline),
    )
    .await
    .expect("the task noticed within 20 s")
    .unwrap()
    .clone();
    assert!(offline.message.unwrap().contains("cannot be reached"));
    assert!(offline.waiting > 0);

    // Back online: the backoff retry sends what waited.
    server.restart().await;
    tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|s| s.phase == Phase::Online && s.waiting == 0),
    )
    .await
    .expect("the task recovered within 20 s")
    .unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle.stop())
        .await
        .expect("the task stops when asked");
    server.shutdown().await;
}

fn offline_work_more(device: &mut Device) {
    let who = device.ws.register_citizen(&citizen(900)).unwrap();
    assert!(!who.national_id.is_empty());
}

/// The citizen withdraws at the counter while the agency, unseen, marks the request ready: the
/// cancellation still wins on the back office, and the workstation, pulling the older decisions
/// in the same exchange, keeps the request cancelled like the back office and shows each
/// superseded decision as a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_accepted_after_an_unseen_decision_keeps_its_status() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let receipts = device.offline_work(1);
    device.sync().await.unwrap();
    for action in [Action::TakeInProcessing, Action::MarkReady] {
        server
            .office
            .agency_decide(&receipts[0], action, None, "agency:anna")
            .await
            .unwrap();
    }
    device
        .ws
        .advance(&receipts[0], Action::Cancel, Some("citizen withdrew"), None)
        .unwrap();
    let report = device.sync().await.unwrap();
    assert_eq!(
        (report.applied, report.conflicts, report.pulled),
        (1, 2, 2),
        "{report:?}"
    );
    let superseded = device.ws.outbox(Some(OutboxState::Conflict), 10).unwrap();
    assert_eq!(superseded.len(), 2);
    assert!(
        superseded
            .iter()
            .all(|c| c.reason.as_deref().unwrap().contains("stays cancelled")),
        "{superseded:?}"
    );
    let there = server
        .office
        .storage()
        .request_by_receipt(&canonical(&receipts[0]))
        .await
        .unwrap();
    assert_eq!(there.status, RequestStatus::Cancelled);
    let here = device.ws.request(&receipts[0]).unwrap();
    assert_eq!(here.summary.status, RequestStatus::Cancelled);
    let agency_lines = here
        .timeline
        .iter()
        .filter(|e| e.actor == "agency:anna")
        .count();
    assert_eq!(agency_lines, 2, "the decisions stay in the timeline");
    server.shutdown().await;
}

/// An agency's own credential moves its requests only, and the centre's timeline names the
/// agency whatever the caller calls itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_credential_moves_only_its_requests() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let receipts = device.offline_work(1);
    device.sync().await.unwrap();
    let agency = server
        .office
        .storage()
        .request_by_receipt(&canonical(&receipts[0]))
        .await
        .unwrap()
        .agency;
    let week = chrono::Duration::days(7);
    let own = server
        .office
        .issue_agency_token(&agency, week)
        .await
        .unwrap()
        .token;
    let catalogue = server.office.latest_catalogue().await.unwrap().unwrap();
    let another = catalogue
        .agencies
        .iter()
        .map(|a| a.code.as_str())
        .find(|code| *code != agency)
        .unwrap();
    let other = server
        .office
        .issue_agency_token(another, week)
        .await
        .unwrap()
        .token;
    let http = reqwest::Client::new();
    let take = |token: String| {
        http.post(format!(
            "{}/agency/v1/requests/{}/take",
            server.url, receipts[0]
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({"actor": "anna"}))
        .send()
    };
    // Another agency's request answers as a receipt that does not exist: the same status and
    // the same words, so a credential cannot tell which receipts exist.
    let refused = take(other.clone()).await.unwrap();
    assert_eq!(refused.status().as_u16(), 404);
    let said = refused.json::<serde_json::Value>().await.unwrap();
    let missing = http
        .post(format!(
            "{}/agency/v1/requests/K7XA-0000-042E/take",
            server.url
        ))
        .bearer_auth(other)
        .json(&serde_json::json!({"actor": "anna"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let missing = missing.json::<serde_json::Value>().await.unwrap();
    assert_eq!(
        said["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&receipts[0], "RECEIPT"),
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .replace("K7XA-0000-042E", "RECEIPT")
    );
    let taken = take(own).await.unwrap();
    assert_eq!(taken.status().as_u16(), 200);
    device.sync().await.unwrap();
    let here = device.ws.request(&receipts[0]).unwrap();
    assert_eq!(here.summary.status, RequestStatus::InProcessing);
    assert_eq!(
        here.timeline.last().unwrap().actor,
        format!("{agency}:anna")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_rotates_its_credential_and_the_old_one_is_refused_once_the_new_is_used() {
    use guichet_workstation::sync::{rotate_credential, sync_once};
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let mut credential = device.ws.credential().unwrap().expect("enrolled");
    assert_eq!(credential.token, device.token);
    let mut office = credential
        .back_office(std::time::Duration::from_secs(10))
        .unwrap();
    rotate_credential(&mut device.ws, &mut credential, &mut office)
        .await
        .unwrap();
    assert_ne!(credential.token, device.token);
    assert_eq!(device.ws.credential().unwrap(), Some(credential.clone()));

    // Until the new credential is used, the old one still syncs (a lost answer costs nothing).
    device.sync().await.unwrap();
    sync_once(&mut device.ws, &office, &|_| {}).await.unwrap();
    assert!(matches!(
        device.sync().await,
        Err(SyncError::Unauthorized(_))
    ));
    sync_once(&mut device.ws, &office, &|_| {}).await.unwrap();
}

/// The command line on a device rotates its credential while the window's background task
/// holds the old one: once the new one is used the back office refuses the old, and the task
/// takes the one the database holds and goes on syncing, never saying to enrol again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_follows_a_credential_rotated_by_another_program() {
    use guichet_workstation::sync::{Phase, SyncHandle, SyncOptions, rotate_credential, sync_once};
    use std::time::Duration;

    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let held = device.ws.credential().unwrap().expect("enrolled");
    let options = SyncOptions {
        debounce: Duration::from_millis(50),
        interval: Duration::from_secs(3600),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
    };
    let handle = SyncHandle::spawn(
        &device.ws,
        held.back_office(Duration::from_secs(10)).unwrap(),
        options,
    )
    .unwrap();
    let mut status = handle.status();
    // The task's first run, with nothing to send.
    tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|s| s.phase == Phase::Online),
    )
    .await
    .expect("the task synced within 20 s")
    .unwrap();

    // Another program rotates the credential and uses the new one: the old one is refused.
    let mut credential = held.clone();
    let mut office = credential.back_office(Duration::from_secs(10)).unwrap();
    rotate_credential(&mut device.ws, &mut credential, &mut office)
        .await
        .unwrap();
    sync_once(&mut device.ws, &office, &|_| {}).await.unwrap();
    let old = held.back_office(Duration::from_secs(10)).unwrap();
    assert!(matches!(
        sync_once(&mut device.ws, &old, &|_| {}).await,
        Err(SyncError::Unauthorized(_))
    ));

    device.offline_work(2);
    handle.notify_change();
    let online = tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(|s| s.phase == Phase::Online && s.progress.pushed > 0 && s.waiting == 0),
    )
    .await
    .expect("the task synced within 20 s")
    .unwrap()
    .clone();
    assert!(online.message.is_none(), "{online:?}");
    tokio::time::timeout(Duration::from_secs(10), handle.stop())
        .await
        .expect("the task stops when asked");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_at_a_device_are_counted_in_the_fleets_health() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    assert_eq!(server.office.health().await.unwrap().failed_logins, 0);
    let clerk = guichet_tests::clerk_of(CENTER);
    assert!(device.ws.login(&clerk, "not the password at all").is_err());
    let report = device.sync().await.unwrap();
    assert_eq!(report.refused, 0, "{report:?}");
    let health = server.office.health().await.unwrap();
    assert_eq!(health.failed_logins, 1);
    // A later sync does not count it again.
    device.sync().await.unwrap();
    assert_eq!(server.office.health().await.unwrap().failed_logins, 1);
}

/// The fleet at a glance: what each device reported at its last exchange (its release, what
/// waits and what was refused, its clock's offset), and the device that never synced. A report
/// that cannot be true is refused, and the push it came with is not applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_exchange_reports_the_device_for_the_fleet_view() {
    let server = Server::start(CENTER).await;
    let two_hours_ahead = Arc::new(SkewedClock {
        offset: chrono::Duration::hours(2),
    });
    let mut bus = Device::enroll(&server, CENTER, two_hours_ahead).await;
    let quiet = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    bus.sync().await.unwrap();
    bus.offline_work(2);
    bus.sync().await.unwrap();

    let fleet = server.office.fleet(Some(CENTER)).await.unwrap();
    assert_eq!(fleet.len(), 2);
    let line = |code: &str| {
        fleet
            .iter()
            .find(|l| l.device.code == code)
            .unwrap()
            .clone()
    };
    let seen = line(&bus.ws.config().unwrap().device_code)
        .last_contact
        .expect("the bus reported at its exchange");
    assert_eq!(seen.app_version, guichet_workstation::VERSION);
    assert_eq!((seen.waiting, seen.refused), (0, 0));
    let offset_s = seen.clock_offset_ms / 1000;
    assert!((7_100..=7_300).contains(&offset_s), "{seen:?}");
    assert_eq!(
        line(&quiet.ws.config().unwrap().device_code).last_contact,
        None
    );
    assert_eq!(
        line(&quiet.ws.config().unwrap().device_code).standing,
        "active"
    );

    // Reports that cannot be true: refused, and the entries with them are not applied.
    let receipts = bus.offline_work(1);
    let report = |app_version: &str, waiting: u64| guichet_protocol::DeviceState {
        app_version: app_version.to_owned(),
        waiting,
        refused: 0,
        clock: chrono::Utc::now(),
    };
    for (state, says) in [
        (
            report(&"9".repeat(41), 0),
            "the reported app version has 41 characters; it must have 1 to 40",
        ),
        (
            report("0.1.0", u64::MAX),
            "the report says 18446744073709551615 changes waiting: a device holds at most \
             1000000000",
        ),
        (
            report("0.1.0\u{202E}", 0),
            "the reported app version holds control characters",
        ),
    ] {
        let request = guichet_protocol::ExchangeRequest {
            audit: bus.ws.audit_claim(None).unwrap(),
            push: bus.ws.pending_push(100).unwrap(),
            cursor: bus.ws.sync_point().unwrap().unwrap().cursor,
            limit: 100,
            recovery_key: None,
            state: Some(state),
        };
        let refused = bus.office.exchange(&request).await.unwrap_err();
        assert!(refused.to_string().contains(says), "{refused}");
    }
    assert!(
        server
            .office
            .storage()
            .request_by_receipt(&canonical(&receipts[0]))
            .await
            .is_err(),
        "the request pushed with the refused report is not on the back office"
    );
    assert_eq!(
        server.office.fleet(Some(CENTER)).await.unwrap(),
        fleet,
        "a refused exchange changes nothing"
    );
}

/// A device enrolled at a centre outside the eurozone counts in its currency and its waiting
/// target, and checks national ids with the back office's scheme, as the back office does.
#[tokio::test(flavor = "multi_thread")]
async fn an_enrolled_device_takes_its_centres_currency_target_and_id_scheme() {
    let server = Server::start(CENTER).await;
    server
        .office
        .add_center(&guichet_backoffice::NewCenter {
            code: "BAK-01",
            name: "Baku Bus",
            kind: guichet_domain::catalogue::CenterKind::Mobile,
            time_zone: "Asia/Baku",
            currency: "AZN",
            waiting_target_min: 20,
        })
        .await
        .unwrap();
    let device = Device::enroll(&server, "BAK-01", Arc::new(SystemClock)).await;
    let config = device.ws.config().unwrap();
    assert_eq!(config.currency.code(), "AZN");
    assert_eq!(config.waiting_target_min, 20);
    assert_eq!(config.time_zone.name(), "Asia/Baku");
    assert_eq!(
        config.national_id_scheme,
        server.office.national_id_scheme().name()
    );
}

/// An operator corrects a centre's name, time zone and waiting target after its devices
/// enrolled: a device takes them at its next sync (not before), keeps them in its key file for
/// the login screen, and records once what they were; its currency stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_takes_its_centres_new_terms_at_its_next_sync() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let before = device.ws.config().unwrap();
    assert_eq!(before.time_zone.name(), "Europe/Athens");
    server
        .office
        .update_center(
            CENTER,
            &guichet_backoffice::CenterChange {
                name: Some("Athens, Kypseli"),
                time_zone: Some("Europe/Nicosia"),
                waiting_target_min: Some(25),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        device.ws.config().unwrap(),
        before,
        "nothing changes before a sync"
    );
    device.sync().await.unwrap();
    let after = device.ws.config().unwrap();
    assert_eq!(
        (
            after.center_name.as_str(),
            after.time_zone.name(),
            after.waiting_target_min
        ),
        ("Athens, Kypseli", "Europe/Nicosia", 25)
    );
    assert_eq!(
        (&after.currency, &after.center_code, &after.device_code),
        (&before.currency, &before.center_code, &before.device_code)
    );
    assert_eq!(device.ws.label().unwrap().unwrap().config, after);
    device.sync().await.unwrap();
    let recorded: Vec<String> = device
        .raw()
        .prepare("SELECT change FROM audit_events WHERE action = 'workstation.center_terms'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recorded.len(), 1, "recorded once: {recorded:?}");
    let change: serde_json::Value = serde_json::from_str(&recorded[0]).unwrap();
    assert_eq!(change["from"]["time_zone"], "Europe/Athens");
    assert_eq!(change["to"]["time_zone"], "Europe/Nicosia");
    assert_eq!(change["kept"], serde_json::json!([]));
}

/// After a failed run, the clerk's changes wait for the backoff instead of each trying the
/// failing back office again; the clerk's "sync now" does not wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failure_changes_wait_for_the_backoff_and_sync_now_does_not() {
    use guichet_workstation::sync::{BackOffice, SyncHandle, SyncOptions};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    let server = Server::start(CENTER).await;
    let device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    // A back office that takes each connection and drops it: every run fails as offline.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let office = BackOffice::new(&url, Some(device.token.clone()), Duration::from_secs(2)).unwrap();
    let options = SyncOptions {
        debounce: Duration::from_millis(10),
        interval: Duration::from_secs(600),
        min_backoff: Duration::from_secs(600),
        max_backoff: Duration::from_secs(600),
    };
    let handle = SyncHandle::spawn(&device.ws, office, options).unwrap();
    let settled = |at_least: usize| {
        let calls = calls.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(10), async {
                while calls.load(Ordering::SeqCst) < at_least {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await
            .expect("the task tried the back office");
            // The run ends and the task goes back to waiting.
            tokio::time::sleep(Duration::from_millis(500)).await;
            calls.load(Ordering::SeqCst)
        }
    };
    handle.sync_now();
    let first = settled(1).await;
    for _ in 0..5 {
        handle.notify_change();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        first,
        "a change tried again during the backoff"
    );
    handle.sync_now();
    assert!(settled(first + 1).await > first);
    tokio::time::timeout(Duration::from_secs(10), handle.stop())
        .await
        .expect("the task has stopped");
}

/// An enrolment that fails says what it means before the device has a credential or anything
/// to send: a code the back office does not take, a back office out of reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_enrolment_says_what_to_do() {
    let server = Server::start(CENTER).await;
    let timeout = std::time::Duration::from_secs(10);
    let anonymous = guichet_workstation::sync::BackOffice::new(&server.url, None, timeout).unwrap();
    let wrong = guichet_workstation::sync::enroll(&anonymous, "WRONG-CODE", None)
        .await
        .unwrap_err();
    assert!(matches!(wrong, SyncError::EnrolmentCode(_)), "{wrong:?}");
    assert!(
        wrong
            .to_string()
            .contains("it may be mistyped, used already or expired; ask an administrator"),
        "{wrong}"
    );
    // A code used already (the back office answers 409) is said as the code's too.
    let code = server
        .office
        .issue_enrolment_code(CENTER, chrono::Duration::hours(1))
        .await
        .unwrap();
    guichet_workstation::sync::enroll(&anonymous, &code.code, None)
        .await
        .unwrap();
    let again = guichet_workstation::sync::enroll(&anonymous, &code.code, None)
        .await
        .unwrap_err();
    assert!(matches!(again, SyncError::EnrolmentCode(_)), "{again:?}");
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let away = guichet_workstation::sync::BackOffice::new(&url, None, timeout).unwrap();
    let unreachable = guichet_workstation::sync::enroll(&away, "WRONG-CODE", None)
        .await
        .unwrap_err();
    assert!(
        matches!(unreachable, SyncError::EnrolOffline(_)),
        "{unreachable:?}"
    );
    assert!(
        unreachable
            .to_string()
            .contains("check its address and the link, then enrol again"),
        "{unreachable}"
    );
}

/// A proxy in front of the back office answers with its own page while the back office cannot
/// (nginx's 502 while replicas restart): the device says the back office is busy, in words it
/// translates, never the page, waits as long as it was asked to, and keeps trying by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxys_error_page_is_said_as_busy_and_its_pause_is_kept() {
    use guichet_workstation::sync::BackOffice;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let proxy = tokio::spawn(async move {
        let (mut peer, _) = listener.accept().await.unwrap();
        let mut asked = [0u8; 8192];
        let _ = peer.read(&mut asked).await.unwrap();
        let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
        let answer = format!(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nRetry-After: 7\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        peer.write_all(answer.as_bytes()).await.unwrap();
    });
    let office = BackOffice::new(&url, Some("a-token".into()), Duration::from_secs(5)).unwrap();
    let err = office.confirm_wiped().await.unwrap_err();
    proxy.await.unwrap();

    assert!(
        matches!(err, SyncError::Busy { status: 502, .. }),
        "{err:?}"
    );
    assert!(err.is_transient() && err.too_slow(), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(!err.to_string().contains("<html>"), "{err}");
    assert_eq!(err.message().unwrap().key, "error.sync.busy");
}
