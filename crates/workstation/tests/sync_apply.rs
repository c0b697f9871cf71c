//! Applying a back office's answer on the workstation: outcomes per entry, pulled decisions and
//! other devices' changes, the cursor, all in one transaction. (The exchange against a real
//! back office is tested in the cross-crate tests.)

mod common;

use common::{citizen, demo, service_where};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::request::{Action, Party, RequestStatus};
use guichet_fixtures::history::valid_form;
use guichet_protocol::{
    Change, ExchangeResponse, Outcome, Pulled, PulledChange, PushResult, RefusalCode,
};
use guichet_workstation::store::{NewRequest, OutboxState};

fn server_stamp(ms: u64) -> HlcStamp {
    HlcStamp {
        wall_ms: ms,
        counter: 0,
        node: "server".into(),
    }
}

#[test]
fn outcomes_decisions_and_cursor_land_together() {
    let mut b = demo();
    common::enrolled(&mut b);
    let mari = b.ws.register_citizen(&citizen(1)).unwrap();
    let service = service_where(&b.ws, |s| s.fee == guichet_domain::catalogue::Fee::Free);
    let request =
        b.ws.create_request(&NewRequest {
            citizen: mari.national_id.clone(),
            service: service.code.clone(),
            form: valid_form(&service, b.ws.today()),
            documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
            visit: None,
            submit: true,
        })
        .unwrap();
    let receipt = request.summary.receipt.clone();
    b.ws.advance(&receipt, Action::Dispatch, None, None)
        .unwrap();
    let push = b.ws.pending_push(100).unwrap();
    assert_eq!(push.len(), 4, "citizen, created, submitted, dispatched");
    assert!(push.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(matches!(push[1].change, Change::RequestCreated { .. }));

    // Answers out of step with what was pushed are refused whole.
    let short = ExchangeResponse {
        audit_anchor: None,
        wipe: false,
        results: vec![],
        changes: vec![],
        cursor: 9,
        more: false,
        server_hlc: server_stamp(1),
    };
    assert!(b.ws.apply_exchange(&push, &short).is_err());
    assert_eq!(b.ws.sync_point().unwrap().unwrap().cursor, 0);
    assert_eq!(b.ws.pending_push(100).unwrap().len(), 4);

    let ahead = b.ws.now().wall.timestamp_millis() as u64 + 6 * 3_600_000;
    let answer = ExchangeResponse {
        audit_anchor: None,
        wipe: false,
        results: vec![
            PushResult {
                id: push[0].id.clone(),
                outcome: Outcome::Duplicate { seq: None },
            },
            PushResult {
                id: push[1].id.clone(),
                outcome: Outcome::Applied { seq: 40 },
            },
            // Applied by an earlier exchange whose answer was lost.
            PushResult {
                id: push[2].id.clone(),
                outcome: Outcome::Duplicate { seq: None },
            },
            PushResult {
                id: push[3].id.clone(),
                outcome: Outcome::Refused {
                    code: RefusalCode::Transition,
                    message: "dispatch is not possible".into(),
                },
            },
        ],
        changes: vec![
            PulledChange {
                seq: 41,
                hlc: server_stamp(ahead),
                body: Pulled::Decision {
                    request: request.summary.id.clone(),
                    receipt: receipt.parse().unwrap(),
                    action: Action::TakeInProcessing,
                    from: RequestStatus::Dispatched,
                    to: RequestStatus::InProcessing,
                    reason: None,
                    actor: "civil-registry:anna".into(),
                },
            },
            PulledChange {
                seq: 42,
                hlc: server_stamp(ahead),
                body: Pulled::Peer {
                    device: "ATH-01-W2".into(),
                    change: Change::CitizenRegistered {
                        citizen: guichet_domain::citizen::Citizen {
                            national_id: common::personal_code(
                                chrono::NaiveDate::from_ymd_opt(1980, 2, 2).unwrap(),
                                7,
                            ),
                            given_name: "Nikos".into(),
                            family_name: "Papadopoulos".into(),
                            birth_date: chrono::NaiveDate::from_ymd_opt(1980, 2, 2).unwrap(),
                            phone: None,
                            email: None,
                            address: None,
                        },
                    },
                },
            },
        ],
        cursor: 42,
        more: false,
        server_hlc: server_stamp(ahead),
    };
    let done = b.ws.apply_exchange(&push, &answer).unwrap();
    assert_eq!(
        (done.applied, done.duplicates, done.refused, done.pulled),
        (1, 2, 1, 2)
    );

    assert!(b.ws.pending_push(100).unwrap().is_empty());
    let refused = b.ws.outbox(Some(OutboxState::Refused), 10).unwrap();
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("dispatch is not possible")
    );
    assert_eq!(b.ws.sync_point().unwrap().unwrap().cursor, 42);

    let detail = b.ws.request(&receipt).unwrap();
    assert_eq!(detail.summary.status, RequestStatus::InProcessing);
    let last = detail.timeline.last().unwrap();
    assert_eq!(last.party, Party::Agency);
    assert_eq!(last.actor, "civil-registry:anna");
    assert!(
        detail
            .changes
            .iter()
            .any(|c| c.state == OutboxState::Refused)
    );
    assert_eq!(
        b.ws.find_citizens(&guichet_workstation::store::CitizenQuery::Name {
            name: "papadopoulos".into(),
            birth_date: "1980-02-02".into(),
        })
        .unwrap()
        .len(),
        1
    );
    // The device's clock now orders after the back office's, though its wall clock is behind.
    let next = b.ws.register_citizen(&citizen(2)).unwrap();
    let stamp =
        b.ws.outbox(None, 100)
            .unwrap()
            .into_iter()
            .find(|e| e.entity_id == next.national_id)
            .unwrap()
            .hlc
            .parse::<HlcStamp>()
            .unwrap();
    assert!(stamp > server_stamp(ahead));
    assert!(b.ws.verify_audit().unwrap().result.is_ok());
}

#[test]
fn the_device_credential_is_kept_encrypted_with_the_data() {
    let mut b = common::demo();
    common::enrolled(&mut b);
    let credential = b.ws.credential().unwrap().expect("enrolled");
    assert_eq!(credential.token, "secret");
    assert_eq!(credential.device_code, "ATH-01-W1");
    // Nothing beside the database holds it, and the database's bytes do not show it.
    drop(b.ws);
    let files: Vec<_> = std::fs::read_dir(b.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!files.iter().any(|f| f.contains("credential")), "{files:?}");
    for file in &files {
        let bytes = std::fs::read(b.dir.path().join(file)).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"secret"),
            "{file} holds the token in clear"
        );
    }
}
