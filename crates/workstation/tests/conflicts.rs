//! A change the back office decided otherwise stays on the device as a conflict until a clerk
//! resolves it with a note; resolving changes no status and needs a note.

mod common;

use common::{citizen, demo, service_where};
use guichet_domain::request::{Action, RequestStatus};
use guichet_fixtures::history::valid_form;
use guichet_protocol::{ExchangeResponse, Outcome, PushResult};
use guichet_workstation::store::{NewRequest, OutboxState};

#[test]
fn a_conflict_is_resolved_with_a_note_and_nothing_else_moves() {
    let mut b = demo();
    common::enrolled(&mut b);
    let mari = b.ws.register_citizen(&citizen(3)).unwrap();
    let service = service_where(&b.ws, |s| s.fee == guichet_domain::catalogue::Fee::Free);
    let receipt =
        b.ws.create_request(&NewRequest {
            citizen: mari.national_id,
            service: service.code.clone(),
            form: valid_form(&service, b.ws.today()),
            documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
            visit: None,
            submit: true,
        })
        .unwrap()
        .summary
        .receipt;
    b.ws.advance(
        &receipt,
        Action::Cancel,
        Some("the citizen changed their mind"),
        None,
    )
    .unwrap();

    // Nothing to resolve yet.
    let none = b.ws.resolve_conflicts(&receipt, "called the citizen");
    assert!(
        none.unwrap_err().to_string().contains("no open conflict"),
        "refused when there is no conflict"
    );

    // The back office had the request ready first: the cancellation is a conflict.
    let push = b.ws.pending_push(100).unwrap();
    let last = push.len() - 1;
    let results = push
        .iter()
        .enumerate()
        .map(|(i, p)| PushResult {
            id: p.id.clone(),
            outcome: if i == last {
                Outcome::Conflict {
                    message: "the agency marked it ready first".into(),
                    server_status: Some(RequestStatus::Ready),
                }
            } else {
                Outcome::Applied { seq: i as u64 + 1 }
            },
        })
        .collect();
    b.ws.apply_exchange(
        &push,
        &ExchangeResponse {
            audit_anchor: None,
            wipe: false,
            center: None,
            results,
            changes: vec![],
            cursor: last as u64 + 1,
            more: false,
            server_hlc: common::server_stamp(),
        },
    )
    .unwrap();
    assert_eq!(b.ws.open_conflicts().unwrap(), 1);
    let before = b.ws.request(&receipt).unwrap();
    let audit_before = b.ws.verify_audit().unwrap().result.unwrap().events;

    // A note is required: a blank one changes nothing.
    let blank = b.ws.resolve_conflicts(&receipt, "   ");
    assert!(blank.unwrap_err().to_string().contains("say how"));
    assert_eq!(b.ws.open_conflicts().unwrap(), 1);
    // A pasted page is no note: refused, nothing written.
    let long = b.ws.resolve_conflicts(&receipt, &"settled ".repeat(200));
    assert!(
        long.unwrap_err()
            .to_string()
            .contains("the note has 1599 characters: at most 1000"),
    );
    assert_eq!(b.ws.open_conflicts().unwrap(), 1);

    let after =
        b.ws.resolve_conflicts(&receipt, "citizen will collect the ready document")
            .unwrap();
    assert_eq!(b.ws.open_conflicts().unwrap(), 0);
    assert_eq!(after.summary.status, before.summary.status);
    let conflict = after
        .changes
        .iter()
        .find(|c| c.state == OutboxState::Conflict)
        .expect("the change stays, as a conflict");
    assert_eq!(
        conflict.resolution.as_deref(),
        Some("citizen will collect the ready document")
    );
    // The window says why in the clerk's language, from the status the back office holds.
    assert_eq!(
        (conflict.server_status, conflict.refusal_code),
        (Some(RequestStatus::Ready), None)
    );
    // Resolved once: a second time there is nothing open.
    assert!(b.ws.resolve_conflicts(&receipt, "again").is_err());
    // The resolution is in the audit trail, which still verifies.
    let audit = b.ws.verify_audit().unwrap().result.unwrap();
    assert_eq!(audit.events, audit_before + 1);
    // It is local: nothing new goes to the back office.
    assert!(b.ws.pending_push(100).unwrap().is_empty());
}
