//! Four eyes and refunds: a waiver, a cancellation after payment, the recall of a no-show and
//! a refund take a supervisor's name and password; without them nothing changes, with them
//! both names are in the audit trail and in the change that travels.

mod common;

use common::{citizen, demo, service_where, supervisor, valid_form};
use guichet_domain::DomainError;
use guichet_domain::account::Role;
use guichet_domain::approval::{ApprovalProblem, ApprovedAct, RefundProblem};
use guichet_domain::catalogue::{Fee, Service};
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::queue::{Counter, CounterScope, TicketStatus};
use guichet_domain::request::{Action, RequestStatus};
use guichet_fixtures::{DEMO_PASSWORD, clerk};
use guichet_workstation::error::Access;
use guichet_workstation::store::{Approval, NewRefund, NewRequest};
use guichet_workstation::{Error, Workstation};
use rusqlite::Connection;

/// What a refused act must leave as it was: the trail, the outbox and the request.
fn footprint(b: &common::Bench, receipt: &str) -> (u64, usize, String) {
    let events = b.ws.verify_audit().unwrap().result.unwrap().events;
    let outbox = b.ws.outbox(None, 10_000).unwrap().len();
    let request = serde_json::to_string(&b.ws.request(receipt).unwrap()).unwrap();
    (events, outbox, request)
}

/// The last audit event of `action`: its actor and its change.
fn last_event(b: &common::Bench, action: &str) -> (String, serde_json::Value) {
    let conn = b.raw();
    let (actor, change): (String, String) = conn
        .query_row(
            "SELECT actor, change FROM audit_events WHERE action = ?1 ORDER BY seq DESC LIMIT 1",
            [action],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (actor, serde_json::from_str(&change).unwrap())
}

fn approval_problem(result: Result<impl std::fmt::Debug, Error>) -> ApprovalProblem {
    match result {
        Err(Error::Domain(DomainError::Approval { problem, .. })) => problem,
        other => panic!("expected an approval refusal, got {other:?}"),
    }
}

fn charged(ws: &Workstation, pick: impl Fn(&Service) -> bool) -> Service {
    service_where(ws, |s| matches!(s.fee, Fee::Charged { .. }) && pick(s))
}

fn take(ws: &mut Workstation, service: &Service, serial: u32) -> String {
    let citizen = ws.register_citizen(&citizen(serial)).unwrap();
    ws.create_request(&NewRequest {
        citizen: citizen.national_id,
        service: service.code.clone(),
        form: valid_form(service, ws.today()),
        documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
        visit: None,
        submit: false,
    })
    .unwrap()
    .summary
    .receipt
}

fn wrong(name: &str) -> Approval {
    Approval {
        username: name.into(),
        password: "not the password".into(),
    }
}

fn approval(username: &str) -> Approval {
    Approval {
        username: username.into(),
        password: DEMO_PASSWORD.into(),
    }
}

/// The bench with kostas (supervisor), sofia (a disabled supervisor) and maria (a clerk), and
/// nikos, a clerk, logged in.
fn counter_staff() -> common::Bench {
    let mut b = demo();
    supervisor(&mut b.ws);
    b.ws.add_clerk(&clerk("nikos", Role::Clerk)).unwrap();
    b.ws.add_clerk(&clerk("maria", Role::Clerk)).unwrap();
    b.ws.add_clerk(&clerk("sofia", Role::Supervisor)).unwrap();
    b.ws.set_clerk_active("sofia", false).unwrap();
    b.ws.login("nikos", DEMO_PASSWORD).unwrap();
    b
}

#[test]
fn a_waiver_needs_another_active_supervisor_and_names_both() {
    let mut b = counter_staff();
    let service = charged(&b.ws, |s| !s.exemptions.is_empty());
    let ground = service.exemptions[0].clone();
    let receipt = take(&mut b.ws, &service, 1);

    let before = footprint(&b, &receipt);
    let missing = b.ws.waive(&receipt, &ground, None).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "a supervisor must approve a waiver: ask one to enter their name and password"
    );
    assert_eq!(
        approval_problem(b.ws.waive(&receipt, &ground, Some(&approval("nikos")))),
        ApprovalProblem::OwnAct
    );
    assert!(matches!(
        approval_problem(b.ws.waive(&receipt, &ground, Some(&approval("maria")))),
        ApprovalProblem::Role {
            role: Role::Clerk,
            ..
        }
    ));
    assert!(matches!(
        approval_problem(b.ws.waive(&receipt, &ground, Some(&approval("sofia")))),
        ApprovalProblem::Disabled { .. }
    ));
    assert_eq!(footprint(&b, &receipt), before, "a refusal changes nothing");

    // A wrong password and an unknown approver get the same answer; nothing is written but
    // the failed logins, which travel like a login's.
    for attempt in [wrong("kostas"), wrong("nobody")] {
        let err = b.ws.waive(&receipt, &ground, Some(&attempt)).unwrap_err();
        assert!(
            matches!(err, Error::Access(Access::ApprovalFailed)),
            "{err}"
        );
    }
    let after = footprint(&b, &receipt);
    assert_eq!(
        (after.0, after.1, &after.2),
        (before.0 + 2, before.1 + 2, &before.2)
    );
    let failed: Vec<_> = b.ws.outbox(None, 10_000).unwrap()[before.1..]
        .iter()
        .map(|e| {
            (
                e.kind.clone(),
                e.payload["clerk"].clone(),
                e.payload["event"].clone(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (
                "clerk.session".into(),
                "kostas".into(),
                "login_failed".into()
            ),
            (
                "clerk.session".into(),
                "(unknown)".into(),
                "login_failed".into()
            ),
        ]
    );

    let waived =
        b.ws.waive(&receipt, &ground, Some(&approval("kostas")))
            .unwrap();
    assert_eq!(
        waived.summary.waiver_ground.as_deref(),
        Some(ground.as_str())
    );
    assert_eq!(b.ws.session().unwrap().username, "nikos", "the clerk stays");
    let (actor, change) = last_event(&b, "fee.waived");
    assert_eq!(
        (actor.as_str(), &change["approver"]),
        ("nikos", &"kostas".into())
    );
    let sent = b.ws.outbox(None, 10_000).unwrap().pop().unwrap();
    assert_eq!(
        (sent.actor.as_str(), sent.payload["approver"].as_str()),
        ("nikos", Some("kostas"))
    );
}

#[test]
fn wrong_approver_passwords_count_as_failed_logins_of_that_name() {
    let mut b = counter_staff();
    let service = charged(&b.ws, |s| !s.exemptions.is_empty());
    let ground = service.exemptions[0].clone();
    let receipt = take(&mut b.ws, &service, 2);
    for _ in 0..guichet_domain::account::FREE_FAILURES {
        assert!(
            b.ws.waive(&receipt, &ground, Some(&wrong("kostas")))
                .is_err()
        );
    }
    // Now even the right password waits, as a login under that name would.
    let err =
        b.ws.waive(&receipt, &ground, Some(&approval("kostas")))
            .unwrap_err();
    assert!(matches!(err, Error::Access(Access::Wait { .. })), "{err}");
    b.ws.logout().unwrap();
    assert!(matches!(
        b.ws.login("kostas", DEMO_PASSWORD),
        Err(Error::Access(Access::Wait { .. }))
    ));
}

#[test]
fn a_cancellation_after_payment_needs_a_supervisor() {
    let mut b = counter_staff();
    let service = charged(&b.ws, |_| true);
    let unpaid = take(&mut b.ws, &service, 3);
    let cancelled =
        b.ws.advance(&unpaid, Action::Cancel, Some("withdrew"), None)
            .unwrap();
    assert_eq!(cancelled.summary.status, RequestStatus::Cancelled);
    let (_, change) = last_event(&b, "request.transition");
    assert!(change.get("approver").is_none(), "{change}");

    let paid = take(&mut b.ws, &service, 4);
    b.ws.pay(&paid, "1", PaymentMethod::Cash).unwrap();
    let detail = b.ws.request(&paid).unwrap();
    assert_eq!(detail.approval_needed, [Action::Cancel]);
    let before = footprint(&b, &paid);
    // The reason comes first: without one nothing is written and no supervisor is asked.
    for blank in [None, Some("  ")] {
        let err =
            b.ws.advance(&paid, Action::Cancel, blank, Some(&approval("kostas")))
                .unwrap_err();
        assert!(err.to_string().contains("cancel needs a reason"), "{err}");
        assert_eq!(footprint(&b, &paid), before);
    }
    // A reason that would rewrite a terminal, or read backwards, is no reason.
    for hidden in ["withdrew\u{1b}[2J", "withdrew \u{202E}werdhtiw"] {
        let err =
            b.ws.advance(
                &paid,
                Action::Cancel,
                Some(hidden),
                Some(&approval("kostas")),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("the reason holds a character that is not shown as it is"),
            "{err}"
        );
        assert_eq!(footprint(&b, &paid), before);
    }
    let err =
        b.ws.advance(&paid, Action::Cancel, Some("withdrew"), None)
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a supervisor must approve a cancellation after payment: ask one to enter their name and password"
    );
    assert_eq!(footprint(&b, &paid), before);
    let cancelled =
        b.ws.advance(
            &paid,
            Action::Cancel,
            Some("withdrew"),
            Some(&approval("kostas")),
        )
        .unwrap();
    assert_eq!(cancelled.summary.status, RequestStatus::Cancelled);
    let (actor, change) = last_event(&b, "request.transition");
    assert_eq!(
        (actor.as_str(), &change["approver"]),
        ("nikos", &"kostas".into())
    );
}

#[test]
fn recalling_a_no_show_needs_a_supervisor() {
    let mut b = counter_staff();
    b.ws.login("eleni", DEMO_PASSWORD).unwrap();
    b.ws.add_counter(&Counter {
        code: "W1".into(),
        name: "Window 1".into(),
        scope: CounterScope::All,
    })
    .unwrap();
    b.ws.login("nikos", DEMO_PASSWORD).unwrap();
    let ticket = common::any_ticket(&mut b.ws);
    b.ws.call_next("W1").unwrap();
    // Calling again a citizen still called is the counter's everyday work.
    b.ws.recall(&ticket.code, None).unwrap();
    b.ws.no_show(&ticket.code).unwrap();
    let conn = b.raw();
    let status = |conn: &Connection| -> String {
        conn.query_row(
            "SELECT status FROM tickets WHERE code = ?1",
            [&ticket.code],
            |r| r.get(0),
        )
        .unwrap()
    };
    let events = b.ws.verify_audit().unwrap().result.unwrap().events;
    let err = b.ws.recall(&ticket.code, None).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Domain(DomainError::Approval {
                act: ApprovedAct::NoShowRecall,
                problem: ApprovalProblem::Missing
            })
        ),
        "{err}"
    );
    assert_eq!(status(&conn), "no_show");
    assert_eq!(b.ws.verify_audit().unwrap().result.unwrap().events, events);
    let recalled =
        b.ws.recall(&ticket.code, Some(&approval("kostas")))
            .unwrap();
    assert_eq!(recalled.status, TicketStatus::Called);
    let (actor, change) = last_event(&b, "ticket.step");
    assert_eq!(
        (actor.as_str(), &change["action"], &change["approver"]),
        ("nikos", &"recall".into(), &"kostas".into())
    );
}

#[test]
fn a_payment_recorded_by_mistake_is_refunded_never_edited() {
    let mut b = counter_staff();
    let service = charged(&b.ws, |s| !s.exemptions.is_empty());
    let fee = service.fee.amount().unwrap().clone();
    assert!(fee.minor >= 200, "a fee that can be paid in two parts");
    let receipt = take(&mut b.ws, &service, 5);
    let half = format!("{}.{:02}", fee.minor / 200, (fee.minor / 2) % 100);
    let payment = b.ws.pay(&receipt, &half, PaymentMethod::Cash).unwrap();
    // Partly paid: a waiver says to refund first.
    let ground = service.exemptions[0].clone();
    let err =
        b.ws.waive(&receipt, &ground, Some(&approval("kostas")))
            .unwrap_err();
    assert!(err.to_string().contains("refund first"), "{err}");

    let refund = |amount: &str| NewRefund {
        payment: payment.receipt.clone(),
        amount: amount.into(),
        reason: "recorded on the wrong request".into(),
    };
    let before = footprint(&b, &receipt);
    assert!(matches!(
        approval_problem(b.ws.refund(&receipt, &refund("0.01"), None)),
        ApprovalProblem::Missing
    ));
    // The rules of the refund are checked before a supervisor is asked for.
    let too_much = format!("{}", fee.minor);
    match b.ws.refund(&receipt, &refund(&too_much), None) {
        Err(Error::Domain(DomainError::Refund {
            problem: RefundProblem::TooMuch { .. },
            ..
        })) => {}
        other => panic!("{other:?}"),
    }
    let no_reason = NewRefund {
        reason: " ".into(),
        ..refund("0.01")
    };
    assert!(
        b.ws.refund(&receipt, &no_reason, Some(&approval("kostas")))
            .is_err()
    );
    let hidden = NewRefund {
        reason: "printed twice\u{1b}]0;".into(),
        ..refund("0.01")
    };
    assert!(
        b.ws.refund(&receipt, &hidden, Some(&approval("kostas")))
            .unwrap_err()
            .to_string()
            .contains("the refund's reason holds a character that is not shown as it is (U+001B)")
    );
    let other_payment = NewRefund {
        payment: receipt.clone(),
        ..refund("0.01")
    };
    assert!(matches!(
        b.ws.refund(&receipt, &other_payment, Some(&approval("kostas"))),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(footprint(&b, &receipt), before);

    let given =
        b.ws.refund(&receipt, &refund("0.01"), Some(&approval("kostas")))
            .unwrap();
    assert_eq!(given.amount.minor, 1);
    assert_eq!(
        (given.clerk.as_str(), given.approver.as_str()),
        ("nikos", "kostas")
    );
    assert_ne!(given.receipt, payment.receipt);
    let rest = payment.amount.minor - 1;
    let rest_text = format!("{}.{:02}", rest / 100, rest % 100);
    b.ws.refund(&receipt, &refund(&rest_text), Some(&approval("kostas")))
        .unwrap();
    let detail = b.ws.request(&receipt).unwrap();
    assert_eq!(detail.summary.paid_minor, 0);
    assert_eq!(detail.payments[0].refunded_minor, payment.amount.minor);
    assert_eq!(detail.refunds.len(), 2);
    assert!(matches!(
        b.ws.refund(&receipt, &refund("0.01"), Some(&approval("kostas"))),
        Err(Error::Domain(DomainError::Refund {
            problem: RefundProblem::RefundedInFull,
            ..
        }))
    ));
    let (actor, change) = last_event(&b, "payment.refunded");
    assert_eq!(
        (actor.as_str(), &change["approver"]),
        ("nikos", &"kostas".into())
    );
    // Refunded in full, the fee can now be waived.
    b.ws.waive(&receipt, &ground, Some(&approval("kostas")))
        .unwrap();
}

#[test]
fn a_refund_made_on_another_device_of_the_centre_reaches_this_one() {
    let mut a = counter_staff();
    let service = charged(&a.ws, |_| true);
    let receipt = take(&mut a.ws, &service, 6);
    let payment = a.ws.pay(&receipt, "1", PaymentMethod::Cash).unwrap();
    a.ws.refund(
        &receipt,
        &NewRefund {
            payment: payment.receipt.clone(),
            amount: "0.40".into(),
            reason: "rounded the wrong way".into(),
        },
        Some(&approval("kostas")),
    )
    .unwrap();
    let made: Vec<_> =
        a.ws.outbox(None, 10_000)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind != "clerk.session")
            .map(|e| serde_json::from_value::<guichet_protocol::Change>(e.payload).unwrap())
            .collect();
    assert!(made.iter().any(|c| c.kind() == "payment.refunded"));

    let mut b = demo();
    common::enrolled(&mut b);
    let changes = made
        .into_iter()
        .enumerate()
        .map(|(i, change)| guichet_protocol::PulledChange {
            seq: i as u64 + 1,
            hlc: guichet_domain::hlc::HlcStamp {
                wall_ms: b.ws.now().wall.timestamp_millis() as u64,
                counter: i as u32,
                node: "server".into(),
            },
            body: guichet_protocol::Pulled::Peer {
                device: "ATH-01-W2".into(),
                change,
            },
        })
        .collect::<Vec<_>>();
    b.ws.apply_exchange(
        &[],
        &guichet_protocol::ExchangeResponse {
            results: vec![],
            cursor: changes.len() as u64,
            changes,
            more: false,
            audit_anchor: None,
            wipe: false,
            center: None,
            server_hlc: guichet_domain::hlc::HlcStamp {
                wall_ms: b.ws.now().wall.timestamp_millis() as u64,
                counter: 99,
                node: "server".into(),
            },
        },
    )
    .unwrap();
    let seen = b.ws.request(&receipt).unwrap();
    assert_eq!(seen.summary.paid_minor, 60);
    assert_eq!(seen.payments[0].refunded_minor, 40);
    assert_eq!(
        (
            seen.refunds[0].approver.as_str(),
            seen.refunds[0].reason.as_str()
        ),
        ("kostas", "rounded the wrong way")
    );
}

#[test]
fn a_locked_screen_answers_nothing_about_the_act_before_its_rules() {
    let mut b = counter_staff();
    let service = charged(&b.ws, |s| !s.exemptions.is_empty());
    let receipt = take(&mut b.ws, &service, 7);
    b.ws.lock().unwrap();
    let kostas = approval("kostas");
    let refund = NewRefund {
        payment: receipt.clone(),
        amount: "1".into(),
        reason: "any".into(),
    };
    for err in [
        b.ws.waive(&receipt, "not-a-group", Some(&kostas))
            .unwrap_err(),
        b.ws.refund(&receipt, &refund, Some(&kostas)).unwrap_err(),
        b.ws.advance(&receipt, Action::Deliver, None, Some(&kostas))
            .unwrap_err(),
        b.ws.recall("A001", Some(&kostas)).unwrap_err(),
    ] {
        assert!(matches!(err, Error::Access(Access::Locked)), "{err}");
    }
}
