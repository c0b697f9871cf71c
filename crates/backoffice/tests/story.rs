//! One conformance story, run against every storage backend: centres, catalogue, enrolment,
//! exactly-once pushes, scope, agency decisions pulled once, peers, the conflict rule, and
//! revocation.

mod common;

use std::sync::Arc;

use guichet_backoffice::{BackOffice, Error, Storage};
use guichet_domain::catalogue::CenterKind;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::request::{Action, RequestStatus};
use guichet_fixtures::history::{citizen, valid_form};
use guichet_protocol::{
    Change, EnrollRequest, ExchangeRequest, Outcome, Pulled, PushEntry, RefusalCode,
};
use guichet_workstation::store::NewRequest;
use tempfile::TempDir;

fn exchange(push: Vec<PushEntry>, cursor: u64) -> ExchangeRequest {
    ExchangeRequest {
        push,
        cursor,
        limit: 100,
    }
}

fn refusal(outcome: &Outcome) -> Option<RefusalCode> {
    match outcome {
        Outcome::Refused { code, .. } => Some(*code),
        _ => None,
    }
}

/// A hand-made entry, the way a (possibly faulty or hostile) device could send it.
fn crafted(id: &str, seq: u64, change: Change) -> PushEntry {
    PushEntry {
        id: id.into(),
        seq,
        hlc: "001773133200000-000099-crafted".parse().unwrap(),
        change,
    }
}

async fn story(storage: Arc<dyn Storage>) {
    let office = BackOffice::new(storage);

    // Centres and the catalogue; a version must go up.
    office
        .add_center("ATH-01", "Athens Central", CenterKind::Stationary)
        .await
        .unwrap();
    office
        .add_center("THE-01", "Thessaloniki", CenterKind::Stationary)
        .await
        .unwrap();
    assert!(matches!(
        office
            .add_center("ATH-01", "Again", CenterKind::Mobile)
            .await,
        Err(Error::Conflict(_))
    ));
    let catalogue = guichet_fixtures::demo_catalogue();
    office.publish_catalogue(&catalogue).await.unwrap();
    assert!(matches!(
        office.publish_catalogue(&catalogue).await,
        Err(Error::Conflict(_))
    ));

    // Enrolment: one-time codes, unique prefixes.
    let code = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let a = office
        .enroll(&EnrollRequest {
            code: code.code.to_lowercase(),
            label: Some("Desk 1".into()),
        })
        .await
        .unwrap();
    assert!(matches!(
        office
            .enroll(&EnrollRequest {
                code: code.code.clone(),
                label: None
            })
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        office
            .enroll(&EnrollRequest {
                code: "NOPE-NOPE-NOPE".into(),
                label: None
            })
            .await,
        Err(Error::Unauthorized(_))
    ));
    let device_a = office.authenticate(&a.token).await.unwrap();
    assert_eq!(device_a.center, "ATH-01");

    // The clerk works offline on a real workstation.
    let dir = TempDir::new().unwrap();
    let mut ws = common::workstation(&dir, &a);
    let service = common::paid_service("ATH-01");
    let person = ws.register_citizen("eleni", &citizen(1)).unwrap();
    let today = ws.today();
    let request = ws
        .create_request(
            "eleni",
            &NewRequest {
                citizen: person.national_id.clone(),
                service: service.code.clone(),
                form: valid_form(&service, today),
                documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
                visit: None,
                submit: true,
            },
        )
        .unwrap();
    let receipt = request.summary.receipt.clone();
    let fee = service.fee.amount().unwrap().decimal();
    ws.pay("eleni", &receipt, &fee, PaymentMethod::Cash)
        .unwrap();
    ws.advance("eleni", &receipt, Action::Dispatch, None)
        .unwrap();
    let batch = common::pending(&ws, 0);
    assert!(batch.len() >= 5, "{batch:?}");

    // Applied once, then every retry is a duplicate.
    let first = office
        .exchange(&device_a, &exchange(batch.clone(), 0))
        .await
        .unwrap();
    let mut last_seq = 0;
    for result in &first.results {
        let Outcome::Applied { seq } = result.outcome else {
            panic!("{result:?}");
        };
        assert!(seq > last_seq, "the log orders applied entries as pushed");
        last_seq = seq;
    }
    assert!(
        first
            .changes
            .iter()
            .any(|c| matches!(c.body, Pulled::Catalogue { .. })),
        "the first pull brings the catalogue"
    );
    assert!(
        first
            .changes
            .iter()
            .all(|c| !matches!(c.body, Pulled::Peer { .. })),
        "a device's own changes are not echoed back"
    );
    let mut cursor_a = first.cursor;
    let again = office
        .exchange(&device_a, &exchange(batch.clone(), cursor_a))
        .await
        .unwrap();
    assert!(
        again
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Duplicate { seq: Some(_) }))
    );
    assert!(again.changes.is_empty());
    cursor_a = again.cursor;

    // The same id with other content is refused.
    let mut reused = batch[0].clone();
    if let Change::CitizenRegistered { citizen } = &mut reused.change {
        citizen.given_name = "Someone Else".into();
    } else {
        panic!("the first change is the citizen: {reused:?}");
    }
    let answer = office
        .exchange(&device_a, &exchange(vec![reused], cursor_a))
        .await
        .unwrap();
    assert_eq!(
        refusal(&answer.results[0].outcome),
        Some(RefusalCode::IdReused)
    );

    // A change claiming another centre, then another centre's device touching this request.
    let mut foreign = batch
        .iter()
        .find(|e| matches!(e.change, Change::RequestCreated { .. }))
        .unwrap()
        .clone();
    foreign.id = "foreign-1".into();
    if let Change::RequestCreated { id, center, .. } = &mut foreign.change {
        *id = "foreign-request".into();
        *center = "THE-01".into();
    }
    let answer = office
        .exchange(&device_a, &exchange(vec![foreign], cursor_a))
        .await
        .unwrap();
    assert_eq!(
        refusal(&answer.results[0].outcome),
        Some(RefusalCode::OutOfScope)
    );
    let code_t = office
        .issue_enrolment_code("THE-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let t = office
        .enroll(&EnrollRequest {
            code: code_t.code,
            label: None,
        })
        .await
        .unwrap();
    assert_ne!(t.receipt_prefix, a.receipt_prefix);
    let device_t = office.authenticate(&t.token).await.unwrap();
    let meddle = crafted(
        "meddle-1",
        1,
        Change::RequestTransition {
            id: request.summary.id.clone(),
            action: Action::Cancel,
            from: RequestStatus::Dispatched,
            to: RequestStatus::Cancelled,
            reason: None,
        },
    );
    let answer = office
        .exchange(&device_t, &exchange(vec![meddle], 0))
        .await
        .unwrap();
    assert_eq!(
        refusal(&answer.results[0].outcome),
        Some(RefusalCode::OutOfScope)
    );
    assert!(
        answer
            .changes
            .iter()
            .all(|c| !matches!(c.body, Pulled::Peer { .. })),
        "another centre sees none of ATH-01's changes"
    );

    // The agency takes the request in processing and marks it ready.
    let listed = office.agency_requests(&service.agency).await.unwrap();
    let canonical = guichet_domain::receipt::ReceiptNumber::parse(&receipt).unwrap();
    assert!(listed.iter().any(|r| r.receipt == canonical.as_str()));
    office
        .agency_decide(&receipt, Action::TakeInProcessing, None, "clerk@agency")
        .await
        .unwrap();
    let ready = office
        .agency_decide(&receipt, Action::MarkReady, None, "clerk@agency")
        .await
        .unwrap();
    assert_eq!(ready.status, RequestStatus::Ready);

    // The device pulls both decisions exactly once.
    let pulled = office
        .exchange(&device_a, &exchange(Vec::new(), cursor_a))
        .await
        .unwrap();
    let decisions: Vec<_> = pulled
        .changes
        .iter()
        .filter_map(|c| match &c.body {
            Pulled::Decision { action, to, .. } => Some((*action, *to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            (Action::TakeInProcessing, RequestStatus::InProcessing),
            (Action::MarkReady, RequestStatus::Ready)
        ]
    );
    assert!(!pulled.more);
    cursor_a = pulled.cursor;
    let nothing = office
        .exchange(&device_a, &exchange(Vec::new(), cursor_a))
        .await
        .unwrap();
    assert!(nothing.changes.is_empty());
    assert_eq!(nothing.cursor, cursor_a);

    // A second device of the centre sees the first's changes as peers, in pages.
    let code_b = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let b = office
        .enroll(&EnrollRequest {
            code: code_b.code,
            label: Some("Desk 2".into()),
        })
        .await
        .unwrap();
    let device_b = office.authenticate(&b.token).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor_b = 0;
    loop {
        let page = office
            .exchange(
                &device_b,
                &ExchangeRequest {
                    push: Vec::new(),
                    cursor: cursor_b,
                    limit: 2,
                },
            )
            .await
            .unwrap();
        assert!(page.changes.len() <= 2);
        seen.extend(page.changes);
        cursor_b = page.cursor;
        if !page.more {
            break;
        }
    }
    let peers: Vec<_> = seen
        .iter()
        .filter_map(|c| match &c.body {
            Pulled::Peer { device, change } => Some((device.clone(), change.kind())),
            _ => None,
        })
        .collect();
    assert_eq!(peers.len(), batch.len(), "{peers:?}");
    assert!(peers.iter().all(|(d, _)| *d == a.device_code));
    assert_eq!(
        seen.iter()
            .filter(|c| matches!(c.body, Pulled::Decision { .. }))
            .count(),
        2
    );
    let seqs: Vec<u64> = seen.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // Cancel at the counter wins over an undelivered ready; the agency then learns at once.
    let cancel = crafted(
        "cancel-1",
        100,
        Change::RequestTransition {
            id: request.summary.id.clone(),
            action: Action::Cancel,
            from: RequestStatus::InProcessing,
            to: RequestStatus::Cancelled,
            reason: Some("the citizen withdrew".into()),
        },
    );
    let deliver_after = crafted(
        "deliver-1",
        101,
        Change::RequestTransition {
            id: request.summary.id.clone(),
            action: Action::Deliver,
            from: RequestStatus::Ready,
            to: RequestStatus::Delivered,
            reason: None,
        },
    );
    let answer = office
        .exchange(&device_b, &exchange(vec![cancel, deliver_after], cursor_b))
        .await
        .unwrap();
    assert!(matches!(answer.results[0].outcome, Outcome::Applied { .. }));
    assert!(
        matches!(
            answer.results[1].outcome,
            Outcome::Conflict {
                server_status: Some(RequestStatus::Cancelled),
                ..
            }
        ),
        "{:?}",
        answer.results[1]
    );
    assert!(matches!(
        office
            .agency_decide(&receipt, Action::Reject, Some("too late"), "clerk@agency")
            .await,
        Err(Error::CancelledAtCenter { .. })
    ));

    // A second request: the agency rejects it while the centre, offline, delivers it.
    let second = ws
        .create_request(
            "eleni",
            &NewRequest {
                citizen: person.national_id.clone(),
                service: service.code.clone(),
                form: valid_form(&service, today),
                documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
                visit: None,
                submit: true,
            },
        )
        .unwrap();
    let receipt2 = second.summary.receipt.clone();
    ws.pay("eleni", &receipt2, &fee, PaymentMethod::Card)
        .unwrap();
    ws.advance("eleni", &receipt2, Action::Dispatch, None)
        .unwrap();
    let last_seq = batch.last().unwrap().seq;
    let batch2 = common::pending(&ws, last_seq);
    let answer = office
        .exchange(&device_a, &exchange(batch2.clone(), cursor_a))
        .await
        .unwrap();
    assert!(
        answer
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Applied { .. })),
        "{:?}",
        answer.results
    );
    cursor_a = answer.cursor;
    office
        .agency_decide(&receipt2, Action::TakeInProcessing, None, "clerk@agency")
        .await
        .unwrap();
    office
        .agency_decide(
            &receipt2,
            Action::Reject,
            Some("forged document"),
            "clerk@agency",
        )
        .await
        .unwrap();
    let deliver = crafted(
        "deliver-2",
        last_seq + 100,
        Change::RequestTransition {
            id: second.summary.id.clone(),
            action: Action::Deliver,
            from: RequestStatus::Ready,
            to: RequestStatus::Delivered,
            reason: None,
        },
    );
    let feedback_on_it = crafted(
        "doc-2",
        last_seq + 101,
        Change::DocumentMarked {
            id: second.summary.id.clone(),
            document: "anything".into(),
            received: true,
        },
    );
    let answer = office
        .exchange(
            &device_a,
            &exchange(vec![deliver, feedback_on_it], cursor_a),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            answer.results[0].outcome,
            Outcome::Conflict {
                server_status: Some(RequestStatus::Rejected),
                ..
            }
        ),
        "{:?}",
        answer.results[0]
    );
    assert_eq!(
        refusal(&answer.results[1].outcome),
        Some(RefusalCode::Blocked)
    );
    let decisions: Vec<_> = answer
        .changes
        .iter()
        .filter_map(|c| match &c.body {
            Pulled::Decision { receipt, to, .. } => Some((receipt.to_string(), *to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            (receipt2.clone(), RequestStatus::InProcessing),
            (receipt2.clone(), RequestStatus::Rejected)
        ]
    );

    // Revocation: the device is refused with a message saying so.
    office.revoke_device(&device_b.code).await.unwrap();
    match office.authenticate(&b.token).await {
        Err(e @ Error::Revoked { .. }) => assert!(e.to_string().contains("revoked")),
        other => panic!("expected revoked, got {other:?}"),
    }
    assert!(matches!(
        office.authenticate("not-a-token").await,
        Err(Error::Unauthorized(_))
    ));
    let devices = office.devices(Some("ATH-01")).await.unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().any(|d| d.code == device_b.code && d.revoked));
}

#[tokio::test]
async fn story_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    story(storage).await;
}

#[tokio::test]
async fn story_on_postgres() {
    let db = common::PgDatabase::create().await;
    story(db.storage().await).await;
}

#[tokio::test]
async fn sqlite_migrations_apply_once_and_data_survives_reopen() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nested").join("bo.sqlite3");
    let office = BackOffice::new(Arc::new(
        guichet_backoffice::storage::SqliteStorage::open(&path).unwrap(),
    ));
    office
        .add_center("ATH-01", "Athens", CenterKind::Kiosk)
        .await
        .unwrap();
    drop(office);
    let reopened = BackOffice::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(reopened.centers().await.unwrap().len(), 1);
}
