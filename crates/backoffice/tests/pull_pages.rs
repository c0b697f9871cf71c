//! A pull page is capped in bytes as well as in changes, on both backends: one device's large
//! changes cannot make its centre's pulls grow without end, and paging on from the cursor
//! still brings every change once, in order.

mod common;

use std::sync::Arc;

use guichet_backoffice::Storage;
use guichet_fixtures::history::citizen;
use guichet_protocol::{ExchangeRequest, MAX_PULL_BYTES, Pulled};
use tempfile::TempDir;

/// Citizens whose address is this long: a few fill a page.
const BIG: usize = 1024 * 1024;
const CITIZENS: u32 = 9;

fn exchange(push: Vec<guichet_protocol::PushEntry>, cursor: u64) -> ExchangeRequest {
    ExchangeRequest {
        audit: None,
        push,
        cursor,
        limit: 1000,
        recovery_key: None,
    }
}

/// What waits in the workstation's outbox, as it goes on the wire.
fn waiting(ws: &guichet_workstation::Workstation) -> Vec<guichet_protocol::PushEntry> {
    let pending: Vec<_> = ws
        .outbox(None, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.state == guichet_workstation::store::OutboxState::Pending)
        .collect();
    common::push_entries(&pending)
}

async fn pages_stop_at_their_bytes(storage: Arc<dyn Storage>) {
    let office = common::athens(storage).await;
    let a = common::enrol(&office, "ATH-01").await;
    let b = common::enrol(&office, "ATH-01").await;
    let device_a = office.authenticate(&a.token).await.unwrap();
    let device_b = office.authenticate(&b.token).await.unwrap();

    // Device A registers citizens with a 1 MiB address each, one push apiece.
    let dir = TempDir::new().unwrap();
    let mut ws = common::workstation(&dir, &a);
    let first = office
        .exchange(&device_a, &exchange(Vec::new(), 0))
        .await
        .unwrap();
    ws.apply_exchange(&[], &first).unwrap();
    let mut cursor = first.cursor;
    for n in 1..=CITIZENS {
        let mut who = citizen(n);
        who.address = Some("x".repeat(BIG));
        ws.register_citizen(&who).unwrap();
        let batch = waiting(&ws);
        let answer = office
            .exchange(&device_a, &exchange(batch.clone(), cursor))
            .await
            .unwrap();
        ws.apply_exchange(&batch, &answer).unwrap();
        cursor = answer.cursor;
    }

    // Device B pages through the centre's log: no page passes the cap (but for a page of one
    // change), every citizen comes once, in order.
    let mut cursor = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = office
            .exchange(&device_b, &exchange(Vec::new(), cursor))
            .await
            .unwrap();
        pages += 1;
        let bytes: usize = page
            .changes
            .iter()
            .map(|c| serde_json::to_string(&c.body).unwrap().len())
            .sum();
        assert!(
            page.changes.len() == 1 || bytes <= MAX_PULL_BYTES + 1024,
            "a page of {} changes holds {bytes} bytes",
            page.changes.len()
        );
        for change in &page.changes {
            if let Pulled::Peer { change, .. } = &change.body
                && let guichet_protocol::Change::CitizenRegistered { citizen } = change
            {
                seen.push(citizen.national_id.clone());
            }
        }
        assert!(
            page.changes.windows(2).all(|w| w[0].seq < w[1].seq),
            "in log order"
        );
        cursor = page.cursor;
        if !page.more {
            break;
        }
        assert!(pages < 50, "paging does not end");
    }
    let expected: Vec<String> = (1..=CITIZENS).map(|n| citizen(n).national_id).collect();
    assert_eq!(seen, expected, "every citizen once, in order");
    assert!(pages >= 3, "{CITIZENS} MiB came in {pages} pages");
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_pages_are_capped_in_bytes_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    pages_stop_at_their_bytes(storage).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_pages_are_capped_in_bytes_on_postgres() {
    let db = common::PgDatabase::create().await;
    pages_stop_at_their_bytes(db.storage().await).await;
}
