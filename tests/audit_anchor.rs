//! The audit trail anchored at the back office, with a real workstation over HTTP. Each sync
//! carries the device's audit chain head; the back office keeps the last one it accepted. A
//! trail cut short or rewritten by hand in the device's SQLite file, even sealed again so that
//! it verifies on the device, is refused at the back office (`audit_rewritten`), the device is
//! flagged in the fleet's health, and nothing it pushes is applied. An answer lost on the way
//! is no tampering: the device shows the event the back office asks for, and goes on.

use std::sync::Arc;

use guichet_backoffice::model::DeviceHealth;
use guichet_domain::audit::AuditEvent;
use guichet_protocol::{ErrorCode, ExchangeRequest};
use guichet_tests::{Device, Server};
use guichet_workstation::clock::SystemClock;
use guichet_workstation::store::OutboxState;
use guichet_workstation::sync::SyncError;
use rusqlite::{Connection, params};

const CENTER: &str = "ATH-01";

/// A device that synced twice, work in between: the back office holds its audit head. Its
/// requests are left for later (`offline_work` may run once per device).
async fn synced(server: &Server) -> Device {
    let mut device = Device::enroll(server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    device
        .ws
        .register_citizen(&guichet_fixtures::history::citizen(90))
        .unwrap();
    device.sync().await.unwrap();
    device
}

async fn standing(server: &Server, device: &Device) -> DeviceHealth {
    let code = device.ws.config().unwrap().device_code;
    server
        .office
        .health()
        .await
        .unwrap()
        .devices
        .into_iter()
        .find(|d| d.device == code)
        .unwrap()
}

/// The device's database, opened by hand as someone with the laptop could.
fn by_hand(device: &Device) -> Connection {
    device.raw()
}

fn head(conn: &Connection) -> u64 {
    conn.query_row("SELECT max(seq) FROM audit_events", [], |r| r.get(0))
        .unwrap()
}

/// Rewrites event `seq` (another actor) and seals it and every later event again, so that the
/// chain verifies on the device.
fn rewrite_and_reseal(conn: &Connection, seq: u64) {
    let mut stmt = conn
        .prepare(
            "SELECT seq, at, hlc, actor, action, entity_kind, entity_id, change, prev_hash, hash
             FROM audit_events WHERE seq >= ?1 ORDER BY seq",
        )
        .unwrap();
    let events: Vec<AuditEvent> = stmt
        .query_map([seq], |r| {
            Ok(AuditEvent {
                seq: r.get(0)?,
                at: r.get(1)?,
                hlc: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                entity_kind: r.get(5)?,
                entity_id: r.get(6)?,
                change: serde_json::from_str(&r.get::<_, String>(7)?).unwrap(),
                prev_hash: r.get(8)?,
                hash: r.get(9)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = events[0].prev_hash.clone();
    for (i, mut event) in events.into_iter().enumerate() {
        if i == 0 {
            event.actor = "somebody-else".into();
        }
        event.prev_hash = prev;
        event.hash = event.compute_hash();
        conn.execute(
            "UPDATE audit_events SET actor = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
            params![event.seq, event.actor, event.prev_hash, event.hash],
        )
        .unwrap();
        prev = event.hash;
    }
}

fn assert_refused_as_rewritten(result: Result<guichet_workstation::sync::SyncReport, SyncError>) {
    match result {
        Err(SyncError::Refused {
            status: 409,
            code: ErrorCode::AuditRewritten,
            message,
        }) => assert!(message.contains("flagged"), "{message}"),
        other => panic!("expected audit_rewritten, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_trail_is_caught_even_after_it_grew_again() {
    let server = Server::start(CENTER).await;
    let mut device = synced(&server).await;
    let held = standing(&server, &device).await.audit_seq.unwrap();
    assert_eq!(standing(&server, &device).await.flag, None);

    // The last events cut off: what is left is a consistent chain, as the device checks it.
    let conn = by_hand(&device);
    conn.execute("DELETE FROM audit_events WHERE seq > ?1", [held - 3])
        .unwrap();
    assert!(device.ws.verify_audit().unwrap().result.is_ok());
    assert_refused_as_rewritten(device.sync().await);
    let flagged = standing(&server, &device).await;
    assert!(
        flagged.flag.as_deref().unwrap().contains("cut short"),
        "{flagged:?}"
    );
    assert_eq!(flagged.audit_seq, Some(held));

    // Work done afterwards takes the chain past the place the back office holds: the event
    // there is not the one it saw. Still refused, and nothing of that work applied.
    let receipts = device.offline_work(2);
    assert!(head(&conn) > held);
    assert_refused_as_rewritten(device.sync().await);
    assert!(device.ws.outbox_count(OutboxState::Pending).unwrap() > 0);
    for receipt in &receipts {
        let canonical = guichet_domain::receipt::ReceiptNumber::parse(receipt).unwrap();
        assert!(
            server
                .office
                .storage()
                .request_by_receipt(canonical.as_str())
                .await
                .is_err(),
            "{receipt} reached the back office"
        );
    }
    let health = server.office.health().await.unwrap();
    let counted = health
        .refusals
        .iter()
        .find(|r| r.kind == "audit_rewritten")
        .unwrap();
    assert_eq!(counted.count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_trail_sealed_again_is_caught() {
    let server = Server::start(CENTER).await;
    let mut device = synced(&server).await;
    let held = standing(&server, &device).await.audit_seq.unwrap();

    let conn = by_hand(&device);
    rewrite_and_reseal(&conn, held / 2);
    assert!(
        device.ws.verify_audit().unwrap().result.is_ok(),
        "sealed again, the trail verifies on the device"
    );
    assert!(head(&conn) >= held);
    assert_refused_as_rewritten(device.sync().await);
    let flagged = standing(&server, &device).await;
    assert!(
        flagged.flag.as_deref().unwrap().contains("rewritten"),
        "{flagged:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_lost_on_the_way_is_no_tampering() {
    let server = Server::start(CENTER).await;
    let mut device = synced(&server).await;

    // An exchange the back office answered but the device never heard of: it now holds a
    // head the device does not know it acknowledged.
    let lost = ExchangeRequest {
        push: Vec::new(),
        cursor: device.ws.sync_point().unwrap().unwrap().cursor,
        limit: 1,
        recovery_key: None,
        audit: device.ws.audit_claim(None).unwrap(),
        state: None,
    };
    let answer = device.office.exchange(&lost).await.unwrap();
    let held = answer.audit_anchor.unwrap();
    device.offline_work(1);

    // The next sync is asked for the event at that place, shows it, and goes through.
    let report = device.sync().await.unwrap();
    assert_eq!(report.refused, 0, "{report:?}");
    assert_eq!(device.ws.outbox_count(OutboxState::Pending).unwrap(), 0);
    let after = standing(&server, &device).await;
    assert_eq!(after.flag, None);
    assert!(after.audit_seq.unwrap() > held);
}
