//! Applying a back office's answer on the workstation: outcomes per entry, pulled decisions and
//! other devices' changes, the cursor, all in one transaction. (The exchange against a real
//! back office is tested in the cross-crate tests.)

mod common;

use common::{citizen, demo, service_where};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::queue::{Counter, CounterScope};
use guichet_domain::request::{Action, Party, RequestStatus};
use guichet_fixtures::history::valid_form;
use guichet_protocol::{
    CenterTerms, Change, ExchangeResponse, Outcome, Pulled, PulledChange, PushResult, RefusalCode,
};
use guichet_workstation::store::{NewRequest, OutboxState, RequestDetail};

fn server_stamp(ms: u64) -> HlcStamp {
    HlcStamp {
        wall_ms: ms,
        counter: 0,
        node: "server".into(),
    }
}

/// An enrolled workstation's free request, taken, submitted and dispatched at the counter;
/// its receipt beside it.
fn dispatched(b: &mut common::Bench) -> (RequestDetail, String) {
    common::enrolled(b);
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
    (request, receipt)
}

/// The agency's taking `request` in processing, pulled at `seq`, stamped at `ms`.
fn taken_in_processing(request: &RequestDetail, seq: u64, ms: u64) -> PulledChange {
    PulledChange {
        seq,
        hlc: server_stamp(ms),
        body: Pulled::Decision {
            request: request.summary.id.clone(),
            receipt: request.summary.receipt.parse().unwrap(),
            action: Action::TakeInProcessing,
            from: RequestStatus::Dispatched,
            to: RequestStatus::InProcessing,
            reason: None,
            actor: "civil-registry:anna".into(),
        },
    }
}

#[test]
fn outcomes_decisions_and_cursor_land_together() {
    let mut b = demo();
    let (request, receipt) = dispatched(&mut b);
    let push = b.ws.pending_push(100).unwrap();
    assert_eq!(push.len(), 4, "citizen, created, submitted, dispatched");
    assert!(push.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(matches!(push[1].change, Change::RequestCreated { .. }));

    // Answers out of step with what was pushed are refused whole.
    let short = ExchangeResponse {
        audit_anchor: None,
        wipe: false,
        center: None,
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
        center: None,
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
            taken_in_processing(&request, 41, ahead),
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
    // The refusal's code is kept beside the back office's sentence, for the window to say it
    // in the clerk's language.
    let codes: Vec<_> = detail
        .changes
        .iter()
        .filter(|c| c.state == OutboxState::Refused)
        .map(|c| (c.refusal_code, c.server_status))
        .collect();
    assert_eq!(codes, vec![(Some(RefusalCode::Transition), None)]);
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

/// A request taken on another device of the centre, pulled here, reads as it does there: its
/// service, form, checklist with the documents marked since, fee, payment and status. Both
/// devices write its rows through the same functions.
#[test]
fn a_request_of_another_device_reads_here_as_it_does_there() {
    let mut there = demo();
    let mut here = demo();
    common::enrolled(&mut here);
    let mari = there.ws.register_citizen(&citizen(1)).unwrap();
    let service = service_where(&there.ws, |s| {
        s.fee.amount().is_some() && s.documents.len() >= 2
    });
    let request = there
        .ws
        .create_request(&NewRequest {
            citizen: mari.national_id.clone(),
            service: service.code.clone(),
            form: valid_form(&service, there.ws.today()),
            documents_received: vec![service.documents[0].code.clone()],
            visit: None,
            submit: false,
        })
        .unwrap();
    let receipt = request.summary.receipt.clone();
    for later in &service.documents[1..] {
        there.ws.mark_document(&receipt, &later.code, true).unwrap();
    }
    let fee = service.fee.amount().unwrap().decimal();
    there
        .ws
        .pay(
            &receipt,
            &fee,
            guichet_domain::feedback::PaymentMethod::Card,
        )
        .unwrap();
    there
        .ws
        .advance(&receipt, Action::Submit, None, None)
        .unwrap();
    let made = there.ws.pending_push(100).unwrap();
    assert_eq!(
        made.len(),
        service.documents.len() + 3,
        "citizen, created, each document marked, paid, submitted"
    );

    let changes: Vec<PulledChange> = made
        .iter()
        .zip(1..)
        .map(|(entry, seq)| PulledChange {
            seq,
            hlc: server_stamp(1_000 + seq),
            body: Pulled::Peer {
                device: "ATH-01-W2".into(),
                change: entry.change.clone(),
            },
        })
        .collect();
    let answer = ExchangeResponse {
        audit_anchor: None,
        wipe: false,
        center: None,
        results: vec![],
        cursor: changes.len() as u64,
        changes,
        more: false,
        server_hlc: server_stamp(2_000),
    };
    assert_eq!(
        here.ws.apply_exchange(&[], &answer).unwrap().pulled,
        made.len() as u32
    );
    // The same answer delivered twice: the cursor has passed its changes, nothing doubles.
    assert_eq!(here.ws.apply_exchange(&[], &answer).unwrap().pulled, 0);

    let (a, b) = (
        there.ws.request(&receipt).unwrap(),
        here.ws.request(&receipt).unwrap(),
    );
    assert_eq!(b.summary.status, RequestStatus::Submitted);
    assert_eq!(b.summary.service_title, a.summary.service_title);
    assert_eq!(b.summary.fee, a.summary.fee);
    assert_eq!(b.summary.paid_minor, a.summary.paid_minor);
    assert_eq!((&b.category, &b.agency), (&a.category, &a.agency));
    assert_eq!(b.form, a.form);
    assert_eq!(b.fee_exemptions, a.fee_exemptions);
    assert_eq!(b.documents, a.documents);
    assert_eq!(b.documents.len(), service.documents.len());
    assert!(b.documents.iter().all(|d| d.received), "{:?}", b.documents);
    assert_eq!(b.payments.len(), 1);
    assert_eq!(b.payments[0].amount, a.payments[0].amount);
    assert_eq!(b.payments[0].receipt, a.payments[0].receipt);
    assert_eq!(
        b.timeline.iter().map(|e| e.to).collect::<Vec<_>>(),
        a.timeline.iter().map(|e| e.to).collect::<Vec<_>>()
    );
}

/// Terms this device cannot use are not taken (a time zone its zone database does not know,
/// an empty name, a target of no minutes) while the others are; an answer without terms (a
/// back office of an earlier release) leaves the device's as they are.
#[test]
fn centre_terms_it_cannot_use_are_kept_and_the_others_taken() {
    let mut b = demo();
    common::enrolled(&mut b);
    let before = b.ws.config().unwrap();
    let answer = |center: Option<CenterTerms>| ExchangeResponse {
        audit_anchor: None,
        wipe: false,
        center,
        results: vec![],
        changes: vec![],
        cursor: 0,
        more: false,
        server_hlc: server_stamp(1),
    };
    b.ws.apply_exchange(&[], &answer(None)).unwrap();
    assert_eq!(b.ws.config().unwrap(), before);

    let sent = CenterTerms {
        name: "  ".into(),
        time_zone: "Mars/Olympus_Mons".into(),
        waiting_target_min: 30,
    };
    b.ws.apply_exchange(&[], &answer(Some(sent))).unwrap();
    let after = b.ws.config().unwrap();
    assert_eq!(after.waiting_target_min, 30);
    assert_eq!(
        (&after.center_name, after.time_zone.name()),
        (&before.center_name, before.time_zone.name()),
        "the name and zone it cannot use are kept"
    );
    assert_eq!(b.ws.label().unwrap().unwrap().config, after);

    let unusable = CenterTerms {
        name: after.center_name.clone(),
        time_zone: "Mars/Olympus_Mons".into(),
        waiting_target_min: 0,
    };
    b.ws.apply_exchange(&[], &answer(Some(unusable))).unwrap();
    assert_eq!(
        b.ws.config().unwrap(),
        after,
        "nothing it can use: nothing changes"
    );
}

/// A new time zone waits while a ticket of the local day is open: tickets are kept by their
/// local day, which the zone decides. The waiting target is taken at once; the zone at the
/// first answer after the last ticket is done.
#[test]
fn a_new_time_zone_waits_until_no_ticket_is_open() {
    let mut b = demo();
    common::enrolled(&mut b);
    let before = b.ws.config().unwrap();
    let far = if before.time_zone.name() == "Pacific/Kiritimati" {
        "Pacific/Pago_Pago"
    } else {
        "Pacific/Kiritimati"
    };
    b.ws.add_counter(&Counter {
        code: "W1".into(),
        name: "Window 1".into(),
        scope: CounterScope::All,
    })
    .unwrap();
    let ticket = common::any_ticket(&mut b.ws);
    let answer = ExchangeResponse {
        audit_anchor: None,
        wipe: false,
        center: Some(CenterTerms {
            name: before.center_name.clone(),
            time_zone: far.into(),
            waiting_target_min: 40,
        }),
        results: vec![],
        changes: vec![],
        cursor: 0,
        more: false,
        server_hlc: server_stamp(1),
    };
    b.ws.apply_exchange(&[], &answer).unwrap();
    let during = b.ws.config().unwrap();
    assert_eq!(during.waiting_target_min, 40);
    assert_eq!(during.time_zone, before.time_zone, "a ticket waits");

    let called = b.ws.call_next("W1").unwrap().unwrap();
    assert_eq!(called.code, ticket.code);
    b.ws.start_service(&called.code).unwrap();
    b.ws.apply_exchange(&[], &answer).unwrap();
    assert_eq!(
        b.ws.config().unwrap().time_zone,
        before.time_zone,
        "being served"
    );
    b.ws.finish_service(&called.code).unwrap();
    b.ws.apply_exchange(&[], &answer).unwrap();
    assert_eq!(b.ws.config().unwrap().time_zone.name(), far);
}

#[test]
fn a_pulled_move_does_not_undo_a_move_of_this_centre_not_sent_yet() {
    let mut b = demo();
    let (request, receipt) = dispatched(&mut b);
    let push = b.ws.pending_push(100).unwrap();
    let results = push
        .iter()
        .zip(1..)
        .map(|(p, seq)| PushResult {
            id: p.id.clone(),
            outcome: Outcome::Applied { seq },
        })
        .collect();
    let mut answer = common::answer(vec![], push.len() as u64);
    answer.results = results;
    b.ws.apply_exchange(&push, &answer).unwrap();

    // The citizen withdraws at the counter while the next exchange is on its way; that
    // exchange brings the agency's taking the request in processing.
    b.ws.advance(&receipt, Action::Cancel, Some("the citizen withdrew"), None)
        .unwrap();
    let pulled = taken_in_processing(&request, 10, 1);
    b.ws.apply_exchange(&[], &common::answer(vec![pulled], 10))
        .unwrap();

    // The request stays as the clerk left it, the agency's move is in its timeline, the
    // cancellation still goes to the back office, and the clerk sees the crossing.
    let detail = b.ws.request(&receipt).unwrap();
    assert_eq!(detail.summary.status, RequestStatus::Cancelled);
    assert!(
        detail
            .timeline
            .iter()
            .any(|e| e.party == Party::Agency && e.actor == "civil-registry:anna")
    );
    // Who moved it first, and to what, for the window to say in the clerk's language.
    let overtaken: Vec<_> = detail
        .changes
        .iter()
        .filter(|c| c.state == OutboxState::Conflict)
        .map(|c| (c.overtaken_by.as_deref(), c.server_status))
        .collect();
    assert_eq!(
        overtaken,
        vec![(
            Some("civil-registry:anna"),
            Some(RequestStatus::InProcessing)
        )]
    );
    let waiting = b.ws.pending_push(100).unwrap();
    assert!(
        waiting.iter().any(|p| matches!(
            p.change,
            Change::RequestTransition {
                action: Action::Cancel,
                ..
            }
        )),
        "{waiting:?}"
    );
    let conflicts = b.ws.outbox(Some(OutboxState::Conflict), 10).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert!(
        conflicts[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("had not reached the back office"),
        "{:?}",
        conflicts[0].reason
    );
    assert!(b.ws.verify_audit().unwrap().result.is_ok());
}
