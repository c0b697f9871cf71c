//! Two devices of one centre and the agency change the same requests while the devices are
//! offline; then everyone syncs. The rule of `schema/sync-protocol.md` ("Conflicts") decides:
//! the back office judges each move against its current status, in the order moves reach it;
//! a cancellation at the counter still wins over an agency's undelivered decision; between two
//! devices, the first move to reach the back office wins. Every losing change is a conflict on
//! a workstation, and both devices end with the back office's statuses. The same holds with
//! the devices' clocks six hours ahead and six hours behind: wall clocks decide nothing, and
//! each request's history is in causal order (hybrid logical clocks), not in the order of the
//! devices' wall times.

use std::collections::BTreeMap;
use std::sync::Arc;

use guichet_domain::hlc::HlcStamp;
use guichet_domain::request::{Action, RequestStatus};
use guichet_protocol::{Change, ExchangeRequest, Outcome};
use guichet_tests::{Device, Server};
use guichet_workstation::clock::{Clock, SkewedClock, SystemClock};
use guichet_workstation::store::{OutboxEntry, OutboxState};

const CENTER: &str = "ATH-01";
const AGENCY: &str = "agency:anna";

fn canonical(receipt: &str) -> String {
    guichet_domain::receipt::ReceiptNumber::parse(receipt)
        .unwrap()
        .as_str()
        .to_owned()
}

async fn decide(server: &Server, receipt: &str, action: Action, reason: Option<&str>) {
    server
        .office
        .agency_decide(receipt, action, reason, AGENCY)
        .await
        .unwrap();
}

fn status(device: &Device, receipt: &str) -> RequestStatus {
    device.ws.request(receipt).unwrap().summary.status
}

/// The device's conflicts, by receipt: (kind, action, reason) of each.
fn conflicts(device: &Device, receipts: &[String]) -> BTreeMap<String, Vec<(String, String)>> {
    let by_id: BTreeMap<String, String> = receipts
        .iter()
        .map(|r| (device.ws.request(r).unwrap().summary.id, r.clone()))
        .collect();
    let mut found: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for entry in device.ws.outbox(Some(OutboxState::Conflict), 100).unwrap() {
        let OutboxEntry {
            entity_id,
            payload,
            reason,
            ..
        } = entry;
        let change: Change = serde_json::from_value(payload).unwrap();
        let Change::RequestTransition { action, .. } = change else {
            panic!("only request moves conflict here: {change:?}");
        };
        found
            .entry(by_id[&entity_id].clone())
            .or_default()
            .push((action.as_str().to_owned(), reason.unwrap_or_default()));
    }
    found
}

/// Which device reaches the back office first after the offline spell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum First {
    A,
    B,
}

/// A clock `hours` off the true time.
fn skewed(hours: i64) -> Arc<dyn Clock> {
    Arc::new(SkewedClock {
        offset: chrono::Duration::hours(hours),
    })
}

/// In `device`'s history of `receipt`: the clock stamp of the first event of `action`.
fn event(device: &Device, receipt: &str, action: &str) -> HlcStamp {
    let detail = device.ws.request(receipt).unwrap();
    let found = detail
        .timeline
        .iter()
        .find(|e| e.action == action)
        .unwrap_or_else(|| panic!("no {action} in {:?}", detail.timeline));
    found.hlc.parse().unwrap()
}

async fn offline_collisions(first: First, clock_a: Arc<dyn Clock>, clock_b: Arc<dyn Clock>) {
    use RequestStatus::*;
    let b_behind = clock_b.now().wall < SystemClock.now().wall - chrono::Duration::hours(1);
    let b_clock = clock_b.clone();
    let server = Server::start(CENTER).await;
    let mut a = Device::enroll(&server, CENTER, clock_a).await;
    let mut b = Device::enroll(&server, CENTER, clock_b).await;
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    // Three requests taken at device A, seen by B; the agency takes them in processing and
    // marks the second ready; both devices know it.
    let r = a.offline_work(3);
    a.sync().await.unwrap();
    for receipt in &r {
        decide(&server, receipt, Action::TakeInProcessing, None).await;
    }
    decide(&server, &r[1], Action::MarkReady, None).await;
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    for device in [&a, &b] {
        let seen: Vec<_> = r.iter().map(|x| status(device, x)).collect();
        assert_eq!(seen, [InProcessing, Ready, InProcessing]);
    }

    // Offline spell. The agency marks r0 ready and returns r2 for correction.
    decide(&server, &r[0], Action::MarkReady, None).await;
    decide(
        &server,
        &r[2],
        Action::ReturnForCorrection,
        Some("photo missing"),
    )
    .await;
    // Device A: the citizen of r0 withdraws; the citizen of r1 collects the result.
    a.ws.advance(&r[0], Action::Cancel, Some("citizen withdrew"), None)
        .unwrap();
    a.ws.advance(&r[1], Action::Deliver, None, None).unwrap();
    // Device B: the same citizen of r1 withdraws at another counter; r2 is cancelled too.
    b.ws.advance(&r[1], Action::Cancel, Some("changed their mind"), None)
        .unwrap();
    b.ws.advance(&r[2], Action::Cancel, Some("moved abroad"), None)
        .unwrap();

    // Everyone syncs, the first device first; then once more each, to pull the other's moves.
    let (first_dev, second_dev) = match first {
        First::A => (&mut a, &mut b),
        First::B => (&mut b, &mut a),
    };
    let first_report = first_dev.sync().await.unwrap();
    let second_report = second_dev.sync().await.unwrap();
    assert_eq!(first_report.refused + second_report.refused, 0);
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    // The rule: r0, the cancellation wins over the undelivered ready; r1, the device that
    // reached the back office first wins; r2, the cancellation wins over the return.
    let r1 = match first {
        First::A => Delivered,
        First::B => Cancelled,
    };
    let expected = [Cancelled, r1, Cancelled];
    let storage = server.office.storage();
    for (receipt, want) in r.iter().zip(expected) {
        let there = storage
            .request_by_receipt(&canonical(receipt))
            .await
            .unwrap();
        assert_eq!(there.status, want, "back office, {receipt}");
        for (name, device) in [("A", &a), ("B", &b)] {
            assert_eq!(status(device, receipt), want, "device {name}, {receipt}");
        }
    }

    // Every losing change is a conflict on a workstation, with words for the clerk.
    let (on_a, on_b) = (conflicts(&a, &r), conflicts(&b, &r));
    // r0: the agency's ready lost to A's cancellation; A, which moved it, shows it.
    assert_eq!(on_a[&r[0]].len(), 1, "{on_a:?}");
    assert_eq!(on_a[&r[0]][0].0, "mark_ready");
    assert!(on_a[&r[0]][0].1.contains("stays cancelled"), "{on_a:?}");
    // r2: the agency's return lost to B's cancellation; B shows it.
    assert_eq!(on_b[&r[2]].len(), 1, "{on_b:?}");
    assert_eq!(on_b[&r[2]][0].0, "return_for_correction");
    // r1: the second device's move lost, with the back office's status in the reason.
    let (loser, lost, won_as) = match first {
        First::A => (&on_b, "cancel", "delivered"),
        First::B => (&on_a, "deliver", "cancelled"),
    };
    assert_eq!(loser[&r[1]].len(), 1, "{loser:?}");
    assert_eq!(loser[&r[1]][0].0, lost);
    assert!(loser[&r[1]][0].1.contains(won_as), "{loser:?}");
    // Nothing else conflicts: the winner of r1 has no conflict about it.
    let winner = if first == First::A { &on_a } else { &on_b };
    assert!(!winner.contains_key(&r[1]), "{winner:?}");
    assert_eq!(
        on_a.values().map(Vec::len).sum::<usize>() + on_b.values().map(Vec::len).sum::<usize>(),
        3
    );
    // The request detail shows the conflict among its changes, for the clerk to resolve.
    let detail = b.ws.request(&r[2]).unwrap();
    assert!(
        detail
            .changes
            .iter()
            .any(|c| c.state == OutboxState::Conflict)
    );
    assert_eq!(a.ws.pending_push(10).unwrap().len(), 0);
    assert_eq!(b.ws.pending_push(10).unwrap().len(), 0);

    // Each history is in causal order whatever the clocks said: A submitted r2, the agency
    // took it in processing, then B, having seen both, cancelled it; in that order of clock
    // stamps, even when A's clock ran twelve hours ahead of B's. B's stamps then run ahead of
    // its own wall clock, past what it has seen.
    let created = event(&b, &r[2], "submit");
    let taken = event(&b, &r[2], "take_in_processing");
    let cancelled = event(&b, &r[2], "cancel");
    assert!(
        created < taken && taken < cancelled,
        "{created} then {taken} then {cancelled}"
    );
    if b_behind {
        let b_wall = u64::try_from(b_clock.now().wall.timestamp_millis()).unwrap();
        assert!(
            created.wall_ms > b_wall + 11 * 3_600_000,
            "A's clock is twelve hours ahead of B's: {created}"
        );
        assert!(cancelled.wall_ms > created.wall_ms, "{cancelled}");
    }
    for (device, receipt) in [(&a, &r[0]), (&a, &r[1]), (&b, &r[1]), (&b, &r[2])] {
        let stamps: Vec<HlcStamp> = device
            .ws
            .request(receipt)
            .unwrap()
            .timeline
            .iter()
            .map(|e| e.hlc.parse().unwrap())
            .collect();
        assert!(stamps.is_sorted(), "{receipt}: {stamps:?}");
    }

    // Once the centre's cancellation is in, the agency is told at once.
    let late = server
        .office
        .agency_decide(&r[2], Action::TakeInProcessing, None, AGENCY)
        .await
        .unwrap_err();
    assert!(late.to_string().contains("cancel"), "{late}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_and_the_agency_device_a_first() {
    offline_collisions(First::A, Arc::new(SystemClock), Arc::new(SystemClock)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_and_the_agency_device_b_first() {
    offline_collisions(First::B, Arc::new(SystemClock), Arc::new(SystemClock)).await;
}

/// Device A's clock six hours ahead, B's six hours behind: the same outcome, A first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_twelve_hours_apart_device_a_first() {
    offline_collisions(First::A, skewed(6), skewed(-6)).await;
}

/// The same, B first: the device behind wins r1 because it reached the back office first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_twelve_hours_apart_device_b_first() {
    offline_collisions(First::B, skewed(6), skewed(-6)).await;
}

/// The back office accepts a cancellation after two agency decisions the device had not seen,
/// and the device pulls those decisions one page at a time, in exchanges after the one that
/// pushed: the older decisions must not move the request, which stays cancelled as on the back
/// office, and each shows as a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_pulled_pages_after_an_accepted_move_do_not_overwrite_it() {
    pages_after_an_accepted_move(false).await;
}

/// The same when the answer that accepted the cancellation is lost: the retried push is a
/// duplicate, which carries the same place in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_after_a_lost_answer_and_a_duplicate() {
    pages_after_an_accepted_move(true).await;
}

async fn pages_after_an_accepted_move(lose_first_answer: bool) {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let r = device.offline_work(1);
    device.sync().await.unwrap();
    decide(&server, &r[0], Action::TakeInProcessing, None).await;
    decide(&server, &r[0], Action::MarkReady, None).await;
    device
        .ws
        .advance(&r[0], Action::Cancel, Some("citizen withdrew"), None)
        .unwrap();

    // Pages of one change: the push and the first decision, then the second decision alone.
    let mut push = device.ws.pending_push(10).unwrap();
    assert_eq!(push.len(), 1);
    if lose_first_answer {
        let cursor = device.ws.sync_point().unwrap().unwrap().cursor;
        device
            .office
            .exchange(&ExchangeRequest {
                audit: device.ws.audit_claim(None).unwrap(),
                push: push.clone(),
                cursor,
                limit: 1,
                recovery_key: None,
                state: None,
            })
            .await
            .unwrap();
    }
    for page in 0.. {
        let cursor = device.ws.sync_point().unwrap().unwrap().cursor;
        let answer = device
            .office
            .exchange(&ExchangeRequest {
                audit: device.ws.audit_claim(None).unwrap(),
                push: push.clone(),
                cursor,
                limit: 1,
                recovery_key: None,
                state: None,
            })
            .await
            .unwrap();
        assert!(answer.changes.len() <= 1);
        if page == 0 {
            assert!(matches!(
                (lose_first_answer, &answer.results[0].outcome),
                (false, Outcome::Applied { .. }) | (true, Outcome::Duplicate { seq: Some(_) })
            ));
        }
        device.ws.apply_exchange(&push, &answer).unwrap();
        push.clear();
        assert_eq!(
            status(&device, &r[0]),
            RequestStatus::Cancelled,
            "after page {page}"
        );
        if !answer.more {
            break;
        }
    }
    let there = server
        .office
        .storage()
        .request_by_receipt(&canonical(&r[0]))
        .await
        .unwrap();
    assert_eq!(there.status, RequestStatus::Cancelled);
    let lost = conflicts(&device, &r);
    let actions: Vec<&str> = lost[&r[0]].iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["take_in_processing", "mark_ready"]);
    let here = device.ws.request(&r[0]).unwrap();
    assert_eq!(
        here.timeline.iter().filter(|e| e.actor == AGENCY).count(),
        2,
        "the decisions stay in the timeline"
    );
    server.shutdown().await;
}
