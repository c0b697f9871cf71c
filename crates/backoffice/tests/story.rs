//! One conformance story, run against every storage backend: centres, catalogue, clerk
//! accounts and their log entries, enrolment, exactly-once pushes, scope, the actor of each
//! change, session events, agency decisions pulled once, peers, the conflict rule, and
//! revocation.

mod common;

use std::sync::Arc;

use common::{CLERK, exchange};
use guichet_backoffice::model::NewClerk;
use guichet_backoffice::storage::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use guichet_backoffice::{BackOffice, CenterChange, Error, Storage};
use guichet_domain::account::{Role, SessionEvent, UNKNOWN_CLERK};
use guichet_domain::catalogue::CenterKind;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::request::{Action, RequestStatus};
use guichet_fixtures::history::{citizen, valid_form};
use guichet_protocol::{
    Change, EnrollRequest, ExchangeRequest, Outcome, Pulled, PushEntry, RefusalCode,
};
use guichet_workstation::store::{Approval, NewRefund, NewRequest};
use tempfile::TempDir;

fn refusal(outcome: &Outcome) -> Option<RefusalCode> {
    match outcome {
        Outcome::Refused { code, .. } => Some(*code),
        _ => None,
    }
}

/// A hand-made entry, the way a (possibly faulty or hostile) device could send it.
fn crafted(id: &str, seq: u64, change: Change) -> PushEntry {
    crafted_by(CLERK, id, seq, change)
}

fn crafted_by(actor: &str, id: &str, seq: u64, change: Change) -> PushEntry {
    PushEntry {
        id: id.into(),
        seq,
        hlc: "001773133200000-000099-crafted".parse().unwrap(),
        actor: actor.into(),
        change,
    }
}

/// The accounts in a page of pulled changes, in log order: user name, active, role.
fn pulled_accounts(changes: &[guichet_protocol::PulledChange]) -> Vec<(String, bool, Role)> {
    changes
        .iter()
        .filter_map(|c| match &c.body {
            Pulled::Account { account } => {
                Some((account.username.clone(), account.active, account.role))
            }
            _ => None,
        })
        .collect()
}

/// The back office's status of the request with the receipt number `receipt`.
async fn status_of(
    office: &BackOffice,
    receipt: &guichet_domain::receipt::ReceiptNumber,
) -> RequestStatus {
    office
        .storage()
        .request_by_receipt(receipt.as_str())
        .await
        .unwrap()
        .status
}

async fn story(storage: Arc<dyn Storage>) {
    let office = BackOffice::new(storage);

    // Centres and the catalogue; a version must go up.
    office
        .add_center(&guichet_backoffice::NewCenter {
            code: "ATH-01",
            name: "Athens Central",
            kind: CenterKind::Stationary,
            time_zone: "Europe/Athens",
            currency: "EUR",
            waiting_target_min: 15,
        })
        .await
        .unwrap();
    office
        .add_center(&guichet_backoffice::NewCenter {
            code: "THE-01",
            name: "Thessaloniki",
            kind: CenterKind::Stationary,
            time_zone: "Europe/Athens",
            currency: "EUR",
            waiting_target_min: 15,
        })
        .await
        .unwrap();
    assert!(matches!(
        office
            .add_center(&guichet_backoffice::NewCenter {
                code: "ATH-01",
                name: "Again",
                kind: CenterKind::Mobile,
                time_zone: "Europe/Athens",
                currency: "EUR",
                waiting_target_min: 15
            })
            .await,
        Err(Error::Conflict(_))
    ));
    let catalogue = guichet_fixtures::demo_catalogue();
    office.publish_catalogue(&catalogue).await.unwrap();
    assert!(matches!(
        office.publish_catalogue(&catalogue).await,
        Err(Error::Conflict(_))
    ));

    // Accounts: a clerk belongs to one centre, a supervisor may have several. Refusals
    // change nothing.
    common::add_clerk(&office, CLERK, Role::Clerk, &["ATH-01"]).await;
    let kostas =
        common::add_clerk(&office, "kostas", Role::Supervisor, &["THE-01", "ATH-01"]).await;
    assert_eq!(kostas.centers, ["ATH-01", "THE-01"]);
    common::add_clerk(&office, "nikos", Role::Clerk, &["THE-01"]).await;
    let new_clerk = |username: &str, centers: &[&str]| NewClerk {
        username: username.into(),
        display_name: "Someone".into(),
        role: Role::Clerk,
        centers: centers.iter().map(|c| (*c).to_owned()).collect(),
        password: guichet_fixtures::DEMO_PASSWORD.into(),
    };
    assert!(matches!(
        office.add_clerk(&new_clerk("nikos", &["ATH-01"])).await,
        Err(Error::ClerkExists { .. })
    ));
    assert!(matches!(
        office.add_clerk(&new_clerk("zoe", &["NOPE-01"])).await,
        Err(Error::UnknownCentre { .. })
    ));
    assert!(matches!(
        office
            .add_clerk(&new_clerk("zoe", &["ATH-01", "THE-01"]))
            .await,
        Err(Error::ClerkOfManyCentres { count: 2, .. })
    ));
    assert!(matches!(
        office.change_clerk_role("kostas", Role::Clerk).await,
        Err(Error::ClerkOfManyCentres { count: 2, .. })
    ));
    assert!(matches!(
        office.disable_clerk("zoe").await,
        Err(Error::UnknownClerk { .. })
    ));
    let names = |clerks: Vec<guichet_backoffice::model::Clerk>| {
        clerks.into_iter().map(|c| c.username).collect::<Vec<_>>()
    };
    assert_eq!(
        names(office.clerks(Some("ATH-01")).await.unwrap()),
        [CLERK, "kostas"]
    );
    assert_eq!(
        names(office.clerks(None).await.unwrap()),
        [CLERK, "kostas", "nikos"]
    );

    // Enrolment: one-time codes, unique prefixes.
    let code = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let a = office
        .enroll(&EnrollRequest {
            code: code.code.to_lowercase(),
            label: Some("Desk 1".into()),
            recovery_key: None,
        })
        .await
        .unwrap();
    assert!(matches!(
        office
            .enroll(&EnrollRequest {
                code: code.code.clone(),
                label: None,
                recovery_key: None,
            })
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        office
            .enroll(&EnrollRequest {
                code: "NOPE-NOPE-NOPE".into(),
                label: None,
                recovery_key: None,
            })
            .await,
        Err(Error::Unauthorized(_))
    ));
    let device_a = office.authenticate(&a.token).await.unwrap();
    assert_eq!(device_a.center, "ATH-01");

    // The enrolment answer carries the centre's accounts, with the verifiers the device checks
    // logins against; the first pull brings the catalogue and the same accounts, in log order.
    let enrolled: Vec<&str> = a.accounts.iter().map(|c| c.username.as_str()).collect();
    assert_eq!(enrolled, [CLERK, "kostas"]);
    assert!(
        a.accounts[0]
            .verifier
            .matches(guichet_fixtures::DEMO_PASSWORD)
    );
    let first_pull = office
        .exchange(&device_a, &exchange(Vec::new(), 0))
        .await
        .unwrap();
    assert!(
        matches!(first_pull.changes[0].body, Pulled::Catalogue { .. }),
        "the first pull brings the catalogue"
    );
    assert_eq!(
        pulled_accounts(&first_pull.changes),
        [
            (CLERK.to_owned(), true, Role::Clerk),
            ("kostas".to_owned(), true, Role::Supervisor)
        ]
    );

    // The clerk logs in and works offline on a real workstation.
    let dir = TempDir::new().unwrap();
    let mut ws = common::workstation(&dir, &a);
    ws.apply_exchange(&[], &first_pull).unwrap();
    let service = common::paid_service("ATH-01");
    let person = ws.register_citizen(&citizen(1)).unwrap();
    let today = ws.today();
    let request = ws
        .create_request(&NewRequest {
            citizen: person.national_id.clone(),
            service: service.code.clone(),
            form: valid_form(&service, today),
            documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
            visit: None,
            submit: true,
        })
        .unwrap();
    let receipt = request.summary.receipt.clone();
    let fee = service.fee.amount().unwrap().decimal();
    ws.pay(&receipt, &fee, PaymentMethod::Cash).unwrap();
    ws.advance(&receipt, Action::Dispatch, None, None).unwrap();
    let batch = common::pending(&ws, 0);
    assert!(batch.len() >= 5, "{batch:?}");
    assert!(batch.iter().all(|e| e.actor == CLERK), "{batch:?}");
    let is_session = |e: &PushEntry| matches!(e.change, Change::ClerkSession { .. });
    assert!(batch.iter().any(is_session), "the login travels too");

    // Applied once, then every retry is a duplicate. A session event is not in the log: it
    // gets the log's place it was applied at.
    let first = office
        .exchange(&device_a, &exchange(batch.clone(), first_pull.cursor))
        .await
        .unwrap();
    let mut last_seq = first_pull.cursor;
    for (entry, result) in batch.iter().zip(&first.results) {
        let Outcome::Applied { seq } = result.outcome else {
            panic!("{result:?}");
        };
        if is_session(entry) {
            assert_eq!(seq, last_seq, "{entry:?}");
        } else {
            assert!(seq > last_seq, "the log orders applied entries as pushed");
        }
        last_seq = seq;
    }
    assert!(
        first.changes.is_empty(),
        "a device's own changes are not echoed back: {:?}",
        first.changes
    );
    let mut cursor_a = first.cursor;
    let again = office
        .exchange(&device_a, &exchange(batch.clone(), cursor_a))
        .await
        .unwrap();
    common::assert_every_outcome(&again, |o| matches!(o, Outcome::Duplicate { seq: Some(_) }));
    assert!(again.changes.is_empty());
    cursor_a = again.cursor;

    // The same id with other content is refused.
    let mut reused = batch
        .iter()
        .find(|e| matches!(e.change, Change::CitizenRegistered { .. }))
        .unwrap()
        .clone();
    if let Change::CitizenRegistered { citizen } = &mut reused.change {
        citizen.given_name = "Someone Else".into();
    }
    let answer = office
        .exchange(&device_a, &exchange(vec![reused], cursor_a))
        .await
        .unwrap();
    assert_eq!(
        refusal(&answer.results[0].outcome),
        Some(RefusalCode::IdReused)
    );

    // Four eyes: a refund made at the workstation with a supervisor's approval applies, the
    // back office keeps both names; the same refund naming a forged approver (no account, a
    // clerk of another centre, the clerk themself) is refused and changes nothing.
    let approval = Approval {
        username: "kostas".into(),
        password: guichet_fixtures::DEMO_PASSWORD.into(),
    };
    let payment = ws.request(&receipt).unwrap().payments[0].receipt.clone();
    let pushed_up_to = batch.iter().map(|e| e.seq).max().unwrap();
    ws.refund(
        &receipt,
        &NewRefund {
            payment,
            amount: "0.01".into(),
            reason: "one cent too many".into(),
        },
        Some(&approval),
    )
    .unwrap();
    let refund = common::pending(&ws, pushed_up_to);
    assert_eq!(refund.len(), 1, "{refund:?}");
    let answer = office
        .exchange(&device_a, &exchange(refund.clone(), cursor_a))
        .await
        .unwrap();
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0]
    );
    cursor_a = answer.cursor;
    for (forged, why) in [
        ("ghost", "not a supervisor of centre ATH-01"),
        ("nikos", "not a supervisor of centre ATH-01"),
        (CLERK, "their own act"),
    ] {
        let mut entry = refund[0].clone();
        entry.id = format!("forged-refund-{forged}");
        if let Change::PaymentRefunded { id, approver, .. } = &mut entry.change {
            *id = format!("refund-{forged}");
            *approver = forged.into();
        }
        let answer = office
            .exchange(&device_a, &exchange(vec![entry], cursor_a))
            .await
            .unwrap();
        match &answer.results[0].outcome {
            Outcome::Refused {
                code: RefusalCode::OutOfScope,
                message,
            } => assert!(message.contains(why), "{forged}: {message}"),
            other => panic!("{forged}: {other:?}"),
        }
    }
    let held = office
        .storage()
        .request_by_receipt(
            guichet_domain::receipt::ReceiptNumber::parse(&receipt)
                .unwrap()
                .as_str(),
        )
        .await
        .unwrap();
    assert_eq!(held.paid_minor, service.fee.amount().unwrap().minor - 1);

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
            recovery_key: None,
        })
        .await
        .unwrap();
    assert_ne!(t.receipt_prefix, a.receipt_prefix);
    let device_t = office.authenticate(&t.token).await.unwrap();
    let meddle = crafted_by(
        "nikos",
        "meddle-1",
        1,
        Change::RequestTransition {
            id: request.summary.id.clone(),
            action: Action::Cancel,
            from: RequestStatus::Dispatched,
            to: RequestStatus::Cancelled,
            reason: None,
            approver: None,
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
    // An actor or a reason of megabytes would travel to every device of the centre: refused,
    // and nothing changes.
    for (reason, actor) in [
        (Some("x".repeat(7 << 20)), "clerk@agency".to_owned()),
        (None, "a".repeat(7 << 20)),
        (
            Some("bad\u{202E}reason\u{7}".to_owned()),
            "clerk@agency".to_owned(),
        ),
    ] {
        assert!(matches!(
            office
                .agency_decide(
                    &receipt,
                    Action::TakeInProcessing,
                    reason.as_deref(),
                    &actor
                )
                .await,
            Err(Error::Invalid(_))
        ));
    }
    assert_eq!(
        status_of(&office, &canonical).await,
        RequestStatus::Dispatched
    );
    office
        .agency_decide(&receipt, Action::TakeInProcessing, None, "clerk@agency")
        .await
        .unwrap();
    // Who decided is kept trimmed, as the centre's timeline shows it.
    let ready = office
        .agency_decide(&receipt, Action::MarkReady, None, "  clerk@agency \n")
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
            Pulled::Decision {
                action, to, actor, ..
            } => Some((*action, *to, actor.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            (
                Action::TakeInProcessing,
                RequestStatus::InProcessing,
                "clerk@agency"
            ),
            (Action::MarkReady, RequestStatus::Ready, "clerk@agency")
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

    // An account added and disabled after enrolment. Changes pushed under an actor that is not
    // an active clerk of the centre (unknown, disabled, of another centre) are refused and
    // change nothing.
    assert!(
        common::add_clerk(&office, "maria", Role::Clerk, &["ATH-01"])
            .await
            .active
    );
    assert!(!office.disable_clerk("maria").await.unwrap().active);
    assert!(matches!(
        office.disable_clerk("maria").await,
        Err(Error::AccountUnchanged { .. })
    ));
    for (actor, why) in [
        ("ghost", "no account has this user name"),
        ("maria", "enable the account"),
        ("nikos", "belongs to other centres"),
    ] {
        let cancel = crafted_by(
            actor,
            &format!("cancel-as-{actor}"),
            50,
            Change::RequestTransition {
                id: request.summary.id.clone(),
                action: Action::Cancel,
                from: RequestStatus::Ready,
                to: RequestStatus::Cancelled,
                reason: Some("the citizen withdrew".into()),
                approver: None,
            },
        );
        let answer = office
            .exchange(&device_a, &exchange(vec![cancel], cursor_a))
            .await
            .unwrap();
        match &answer.results[0].outcome {
            Outcome::Refused {
                code: RefusalCode::OutOfScope,
                message,
            } => assert!(
                message.starts_with(&format!(
                    "'{actor}' is not an active clerk of centre ATH-01"
                )) && message.contains(why),
                "{message}"
            ),
            other => panic!("{actor}: {other:?}"),
        }
    }
    assert_eq!(status_of(&office, &canonical).await, RequestStatus::Ready);

    // Every change to the account reaches the device in its next pull, in log order.
    office.enable_clerk("maria").await.unwrap();
    office
        .change_clerk_role("maria", Role::Supervisor)
        .await
        .unwrap();
    office
        .reset_clerk_password("maria", "another long passphrase")
        .await
        .unwrap();
    office.disable_clerk("maria").await.unwrap();
    let pulled = office
        .exchange(&device_a, &exchange(Vec::new(), cursor_a))
        .await
        .unwrap();
    let maria = |active, role| ("maria".to_owned(), active, role);
    assert_eq!(
        pulled_accounts(&pulled.changes),
        [
            maria(true, Role::Clerk),
            maria(false, Role::Clerk),
            maria(true, Role::Clerk),
            maria(true, Role::Supervisor),
            maria(true, Role::Supervisor),
            maria(false, Role::Supervisor),
        ]
    );
    assert_eq!(pulled.changes.len(), 6, "{:?}", pulled.changes);
    let verifiers: Vec<String> = pulled
        .changes
        .iter()
        .filter_map(|c| match &c.body {
            Pulled::Account { account } => Some(account.verifier.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(verifiers[0], verifiers[3]);
    assert_ne!(
        verifiers[3], verifiers[4],
        "the reset brings a new verifier"
    );
    cursor_a = pulled.cursor;

    // A failed login under a name that is no account is accepted whatever its actor, kept
    // once, and not in the log.
    let failed = crafted_by(
        UNKNOWN_CLERK,
        "failed-login-1",
        60,
        Change::ClerkSession {
            clerk: UNKNOWN_CLERK.into(),
            event: SessionEvent::LoginFailed,
        },
    );
    let answer = office
        .exchange(&device_a, &exchange(vec![failed.clone()], cursor_a))
        .await
        .unwrap();
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Applied { seq: cursor_a },
        "a session event gets the log's head"
    );
    assert_eq!(answer.cursor, cursor_a);
    let retry = office
        .exchange(&device_a, &exchange(vec![failed], cursor_a))
        .await
        .unwrap();
    assert_eq!(
        retry.results[0].outcome,
        Outcome::Duplicate {
            seq: Some(cursor_a)
        }
    );

    // A second device of the centre sees the first's changes as peers, in pages.
    let code_b = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let b = office
        .enroll(&EnrollRequest {
            code: code_b.code,
            label: Some("Desk 2".into()),
            recovery_key: None,
        })
        .await
        .unwrap();
    let device_b = office.authenticate(&b.token).await.unwrap();
    let disabled: Vec<_> = b
        .accounts
        .iter()
        .filter(|c| !c.active)
        .map(|c| (c.username.as_str(), c.role))
        .collect();
    assert_eq!(
        disabled,
        [("maria", Role::Supervisor)],
        "disabled accounts are enrolled too"
    );
    let mut seen = Vec::new();
    let mut cursor_b = 0;
    loop {
        let page = office
            .exchange(
                &device_b,
                &ExchangeRequest {
                    audit: None,
                    push: Vec::new(),
                    cursor: cursor_b,
                    limit: 2,
                    recovery_key: None,
                    state: None,
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
    assert_eq!(
        peers.len(),
        batch.iter().filter(|e| !is_session(e)).count() + refund.len(),
        "session events and refused changes do not reach the peers: {peers:?}"
    );
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
            // The request is paid: its cancellation names the supervisor who approved it.
            approver: Some("kostas".into()),
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
            approver: None,
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
        .create_request(&NewRequest {
            citizen: person.national_id.clone(),
            service: service.code.clone(),
            form: valid_form(&service, today),
            documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
            visit: None,
            submit: true,
        })
        .unwrap();
    let receipt2 = second.summary.receipt.clone();
    ws.pay(&receipt2, &fee, PaymentMethod::Card).unwrap();
    ws.advance(&receipt2, Action::Dispatch, None, None).unwrap();
    let last_seq = refund.last().unwrap().seq;
    let batch2 = common::pending(&ws, last_seq);
    let answer = office
        .exchange(&device_a, &exchange(batch2.clone(), cursor_a))
        .await
        .unwrap();
    common::assert_every_outcome(&answer, |o| matches!(o, Outcome::Applied { .. }));
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
            approver: None,
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
    office.revoke_device(&device_b.code, false).await.unwrap();
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
    // A device that does not exist is named as such, whatever is asked of it.
    let storage = office.storage();
    let at = "2026-03-10T09:00:00+00:00";
    for refused in [
        storage.revoke_device("ATH-01-NOPE", Some(at)).await.err(),
        storage.device_wiped("ATH-01-NOPE", at).await.err(),
        storage
            .rotate_device_token("ATH-01-NOPE", "hash")
            .await
            .err(),
    ] {
        assert!(
            matches!(
                refused,
                Some(Error::NotFound {
                    what: guichet_backoffice::error::Missing::Device,
                    ..
                })
            ),
            "{refused:?}"
        );
    }
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

/// A centre outside the eurozone keeps its currency and waiting target, and its devices get
/// them at enrolment with the back office's national id scheme.
async fn centre_terms(storage: Arc<dyn Storage>) {
    let office = BackOffice::new(storage).with_national_ids("plain").unwrap();
    office
        .add_center(&guichet_backoffice::NewCenter {
            code: "BAK-01",
            name: "Baku Bus",
            kind: CenterKind::Mobile,
            time_zone: "Asia/Baku",
            currency: "AZN",
            waiting_target_min: 20,
        })
        .await
        .unwrap();
    let baku = &office.centers().await.unwrap()[0];
    assert_eq!((baku.currency.code(), baku.waiting_target_min), ("AZN", 20));
    let enrolled = common::enrol(&office, "BAK-01").await;
    assert_eq!(
        (
            enrolled.currency.as_str(),
            enrolled.waiting_target_min,
            enrolled.national_id_scheme.as_str(),
            enrolled.time_zone.as_str()
        ),
        ("AZN", 20, "plain", "Asia/Baku")
    );

    // Its operator corrects its terms later; bad ones are refused whole, changing nothing.
    let long_name = "B".repeat(121);
    let change = |name, time_zone, waiting_target_min| CenterChange {
        name,
        time_zone,
        waiting_target_min,
    };
    for (bad, says) in [
        (change(None, None, None), "nothing to change"),
        (
            change(Some("Baku Bus 2"), Some("Asia/Bakou"), Some(25)),
            "'Asia/Bakou' is not a time zone",
        ),
        (
            change(Some(" "), Some("Asia/Tbilisi"), None),
            "needs a name",
        ),
        (
            change(Some("Baku\u{7}Bus"), None, None),
            "holds the invisible character U+0007",
        ),
        (
            change(Some(&long_name), None, None),
            "has 121 characters: give at most 120",
        ),
        (
            change(None, Some("Asia/Tbilisi"), Some(0)),
            "a waiting-time target of 0 minutes is not valid",
        ),
    ] {
        let refused = office.update_center("BAK-01", &bad).await.unwrap_err();
        assert!(refused.to_string().contains(says), "{says}: {refused}");
        assert_eq!(&office.centers().await.unwrap()[0], baku, "{says}");
    }
    assert!(matches!(
        office
            .update_center("BAK-02", &change(None, None, Some(25)))
            .await,
        Err(Error::UnknownCentre { .. })
    ));
    let changed = office
        .update_center("BAK-01", &change(None, Some("Asia/Tbilisi"), Some(25)))
        .await
        .unwrap();
    assert_eq!(&office.centers().await.unwrap()[0], &changed);
    assert_eq!(
        (
            changed.name.as_str(),
            changed.time_zone.name(),
            changed.currency.code(),
            changed.waiting_target_min
        ),
        ("Baku Bus", "Asia/Tbilisi", "AZN", 25)
    );
}

#[tokio::test]
async fn centre_terms_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    centre_terms(storage).await;
}

#[tokio::test]
async fn centre_terms_on_postgres() {
    let db = common::PgDatabase::create().await;
    centre_terms(db.storage().await).await;
}

#[tokio::test]
async fn sqlite_migrations_apply_once_and_data_survives_reopen() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nested").join("bo.sqlite3");
    let office = BackOffice::new(Arc::new(
        guichet_backoffice::storage::SqliteStorage::open(&path).unwrap(),
    ));
    office
        .add_center(&guichet_backoffice::NewCenter {
            code: "ATH-01",
            name: "Athens",
            kind: CenterKind::Kiosk,
            time_zone: "Europe/Athens",
            currency: "EUR",
            waiting_target_min: 15,
        })
        .await
        .unwrap();
    drop(office);
    let reopened = BackOffice::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(reopened.centers().await.unwrap().len(), 1);
}

/// What a database of the release before clerk accounts holds: a centre.
const BEFORE_ACCOUNTS: usize = 3;
const CENTRE_OF_BEFORE: &str = "INSERT INTO centers (code, name, kind, created_at)
    VALUES ('ATH-01', 'Athens', 'stationary', '2026-01-05T08:00:00+00:00')";

/// Its centre survives the migration, and accounts can be added to it.
async fn migrated_from_before_accounts(office: BackOffice) {
    let centers = office.centers().await.unwrap();
    assert_eq!(centers.len(), 1);
    assert_eq!(centers[0].name, "Athens");
    assert!(office.clerks(None).await.unwrap().is_empty());
    common::add_clerk(&office, CLERK, Role::Clerk, &["ATH-01"]).await;
    assert_eq!(office.clerks(Some("ATH-01")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_database_of_the_previous_release_migrates_with_its_data() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("bo.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &SQLITE_MIGRATIONS[..BEFORE_ACCOUNTS] {
            conn.execute_batch(migration.sql).unwrap();
            conn.pragma_update(None, "user_version", migration.version as i64)
                .unwrap();
        }
        conn.execute(CENTRE_OF_BEFORE, []).unwrap();
    }
    let office = BackOffice::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    migrated_from_before_accounts(office).await;
}

#[tokio::test]
async fn postgres_database_of_the_previous_release_migrates_with_its_data() {
    let db = common::PgDatabase::create().await;
    {
        let client = common::pg_client(&db.url).await;
        client
            .batch_execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
            .await
            .unwrap();
        for migration in &POSTGRES_MIGRATIONS[..BEFORE_ACCOUNTS] {
            client.batch_execute(migration.sql).await.unwrap();
            client
                .execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[&(migration.version as i64)],
                )
                .await
                .unwrap();
        }
        client.batch_execute(CENTRE_OF_BEFORE).await.unwrap();
    }
    migrated_from_before_accounts(BackOffice::new(db.storage().await)).await;
}

/// A database a newer release migrated is refused, with the version it records and the
/// number this build knows.
#[tokio::test]
async fn sqlite_database_of_a_newer_release_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("bo.sqlite3");
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = BackOffice::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { found: 99, known } if known == SQLITE_MIGRATIONS.len()),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the database holds schema version 99, newer than this build knows ({})",
            SQLITE_MIGRATIONS.len()
        )
    );
}

#[tokio::test]
async fn postgres_database_of_a_newer_release_is_refused() {
    let db = common::PgDatabase::create().await;
    {
        let client = common::pg_client(&db.url).await;
        client
            .batch_execute(
                "CREATE TABLE schema_version (version BIGINT NOT NULL);
                 INSERT INTO schema_version (version) VALUES (99);",
            )
            .await
            .unwrap();
    }
    let err = BackOffice::open(&db.url).await.unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { found: 99, known } if known == POSTGRES_MIGRATIONS.len()),
        "{err}"
    );
}

/// A device cannot poison its centre's log with oversized texts: a change larger than
/// `MAX_CHANGE_BYTES` (here a counter's name), a reason over `MAX_REASON_CHARS` and a lane
/// over `MAX_LANE_CHARS` are refused as invalid, and nothing of them is logged for the others.
async fn oversized_texts_are_refused(storage: Arc<dyn Storage>) {
    use guichet_domain::queue::{Counter, CounterScope, QueueTarget};
    let office = common::athens(storage).await;
    let enrolled = common::enrol(&office, "ATH-01").await;
    let device = office.authenticate(&enrolled.token).await.unwrap();
    let first = office
        .exchange(&device, &exchange(Vec::new(), 0))
        .await
        .unwrap();
    let push = vec![
        crafted(
            "big-counter",
            1,
            Change::CounterAdded {
                counter: Counter {
                    code: "W9".into(),
                    name: "W".repeat(guichet_protocol::MAX_CHANGE_BYTES),
                    scope: CounterScope::All,
                },
            },
        ),
        crafted(
            "long-reason",
            2,
            Change::RequestTransition {
                id: "no-such-request".into(),
                action: Action::Cancel,
                from: RequestStatus::Submitted,
                to: RequestStatus::Cancelled,
                reason: Some("r".repeat(guichet_protocol::MAX_REASON_CHARS + 1)),
                approver: None,
            },
        ),
        crafted(
            "long-lane",
            3,
            Change::TicketIssued {
                id: "t-1".into(),
                code: "A001".into(),
                target: QueueTarget::Category("counter-services".into()),
                lane: "l".repeat(guichet_protocol::MAX_LANE_CHARS + 1),
            },
        ),
    ];
    let answer = office
        .exchange(&device, &exchange(push, first.cursor))
        .await
        .unwrap();
    let said: Vec<_> = answer
        .results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Refused {
                code: RefusalCode::Invalid,
                message,
            } => message.clone(),
            other => panic!("{}: {other:?}", r.id),
        })
        .collect();
    assert!(said[0].contains("at most 65536 bytes"), "{}", said[0]);
    assert!(
        said[1].contains("reason has 1001 characters"),
        "{}",
        said[1]
    );
    assert!(said[2].contains("lane has 81 characters"), "{}", said[2]);
    assert_eq!(answer.cursor, first.cursor, "nothing was logged");
}

#[tokio::test]
async fn oversized_texts_are_refused_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    oversized_texts_are_refused(storage).await;
}

#[tokio::test]
async fn oversized_texts_are_refused_on_postgres() {
    let database = common::PgDatabase::create().await;
    oversized_texts_are_refused(database.storage().await).await;
}

/// One bad entry is refused alone, as `invalid`, and the rest of its push goes on: a new
/// request under a receipt number another request holds, a payment or a refund under an id
/// that exists, a sequence the back office cannot keep, an id or a clock stamp's node too long
/// to keep in the log.
async fn a_bad_entry_is_refused_alone(storage: Arc<dyn Storage>) {
    use guichet_domain::queue::{Counter, CounterScope};
    let office = common::athens(storage).await;
    common::add_clerk(&office, "kostas", Role::Supervisor, &["ATH-01"]).await;
    let enrolled = common::enrol(&office, "ATH-01").await;
    let device = office.authenticate(&enrolled.token).await.unwrap();
    let first = office
        .exchange(&device, &exchange(Vec::new(), 0))
        .await
        .unwrap();
    let dir = TempDir::new().unwrap();
    let mut ws = common::workstation(&dir, &enrolled);
    ws.apply_exchange(&[], &first).unwrap();
    let service = common::paid_service("ATH-01");
    let person = ws.register_citizen(&citizen(1)).unwrap();
    let today = ws.today();
    let request = ws
        .create_request(&NewRequest {
            citizen: person.national_id.clone(),
            service: service.code.clone(),
            form: valid_form(&service, today),
            documents_received: Vec::new(),
            visit: None,
            submit: false,
        })
        .unwrap();
    let receipt = request.summary.receipt.clone();
    ws.pay(&receipt, "0.02", PaymentMethod::Cash).unwrap();
    let payment = ws.request(&receipt).unwrap().payments[0].receipt.clone();
    ws.refund(
        &receipt,
        &NewRefund {
            payment,
            amount: "0.01".into(),
            reason: "one cent too many".into(),
        },
        Some(&Approval {
            username: "kostas".into(),
            password: guichet_fixtures::DEMO_PASSWORD.into(),
        }),
    )
    .unwrap();
    let batch = common::pending(&ws, 0);
    let applied = office
        .exchange(&device, &exchange(batch.clone(), first.cursor))
        .await
        .unwrap();
    common::assert_every_outcome(&applied, |o| matches!(o, Outcome::Applied { .. }));
    let again = |kind: fn(&Change) -> bool, id: &str| {
        let mut entry = batch.iter().find(|e| kind(&e.change)).unwrap().clone();
        entry.id = id.into();
        entry
    };
    let mut copy = again(
        |c| matches!(c, Change::RequestCreated { .. }),
        "same-receipt",
    );
    if let Change::RequestCreated { id, .. } = &mut copy.change {
        *id = "another-request".into();
    }
    let counter = |id: &str, seq: u64| {
        crafted(
            id,
            seq,
            Change::CounterAdded {
                counter: Counter {
                    code: format!("C{seq}"),
                    name: "Counter".into(),
                    scope: CounterScope::All,
                },
            },
        )
    };
    let mut far_node = counter("far-node", 104);
    far_node.hlc = format!("001773133200000-000001-{}", "n".repeat(81))
        .parse()
        .unwrap();
    let push = vec![
        copy,
        again(
            |c| matches!(c, Change::PaymentRecorded { .. }),
            "same-payment",
        ),
        counter("good-counter", 101),
        counter("seq-too-high", u64::MAX),
        counter(&"i".repeat(65), 103),
        far_node,
    ];
    let answer = office
        .exchange(&device, &exchange(push, applied.cursor))
        .await
        .unwrap();
    let outcome = |id: &str| {
        &answer
            .results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no answer for {id}"))
            .outcome
    };
    assert!(
        matches!(outcome("good-counter"), Outcome::Applied { .. }),
        "{:?}",
        answer.results
    );
    for (id, said) in [
        ("same-receipt", "is the number of another request already"),
        ("same-payment", "exists already"),
        ("seq-too-high", "sequence 18446744073709551615 is above"),
        (&"i".repeat(65), "id has 65 characters"),
        ("far-node", "node of 81 characters"),
    ] {
        match outcome(id) {
            Outcome::Refused {
                code: RefusalCode::Invalid,
                message,
            } => assert!(message.contains(said), "{id}: {message}"),
            other => panic!("{id}: {other:?}"),
        }
    }
    let refund = again(
        |c| matches!(c, Change::PaymentRefunded { .. }),
        "same-refund",
    );
    let answer = office
        .exchange(&device, &exchange(vec![refund], answer.cursor))
        .await
        .unwrap();
    match &answer.results[0].outcome {
        Outcome::Refused {
            code: RefusalCode::Invalid,
            message,
        } => assert!(message.contains("exists already"), "{message}"),
        other => panic!("{other:?}"),
    }
    let held = office
        .storage()
        .request_by_receipt(
            guichet_domain::receipt::ReceiptNumber::parse(&receipt)
                .unwrap()
                .as_str(),
        )
        .await
        .unwrap();
    assert_eq!(
        held.paid_minor, 1,
        "the refused payment and refund changed nothing"
    );
}

#[tokio::test]
async fn a_bad_entry_is_refused_alone_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    a_bad_entry_is_refused_alone(storage).await;
}

#[tokio::test]
async fn a_bad_entry_is_refused_alone_on_postgres() {
    let database = common::PgDatabase::create().await;
    a_bad_entry_is_refused_alone(database.storage().await).await;
}

/// An enrolment or an exchange refused for what the device sent changes nothing: a
/// malformed recovery key leaves the enrolment code unused, and the device's audit head as
/// the back office held it.
async fn a_refused_enrolment_or_exchange_changes_nothing(storage: Arc<dyn Storage>) {
    use guichet_domain::keyslot::RecoveryKey;
    use guichet_protocol::{AuditClaim, AuditPoint};
    let office = common::athens(storage).await;
    let code = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let enrol = |recovery_key: &str| EnrollRequest {
        code: code.code.clone(),
        label: Some("Desk 1".into()),
        recovery_key: Some(recovery_key.into()),
    };
    match office.enroll(&enrol("not-a-key")).await {
        Err(Error::Invalid(said)) => {
            assert!(said.contains("the enrolment code was not used"), "{said}");
        }
        other => panic!("{other:?}"),
    }
    assert!(office.devices(None).await.unwrap().is_empty());
    let key = RecoveryKey::from_bytes([7; 20]);
    let enrolled = office.enroll(&enrol(&key.written())).await.unwrap();
    assert_eq!(
        office
            .storage()
            .recovery_key(&enrolled.device_code)
            .await
            .unwrap(),
        Some(key.written().to_string())
    );

    let device = office.authenticate(&enrolled.token).await.unwrap();
    let mut request = exchange(Vec::new(), 0);
    request.audit = Some(AuditClaim {
        head: AuditPoint {
            seq: 3,
            hash: "a".repeat(64),
        },
        anchor: None,
    });
    request.recovery_key = Some("not-a-key".into());
    match office.exchange(&device, &request).await {
        Err(Error::Invalid(said)) => {
            assert!(
                said.contains("nothing of the exchange was applied"),
                "{said}"
            );
        }
        other => panic!("{other:?}"),
    }
    let health = office.health().await.unwrap();
    assert_eq!(
        health.devices[0].audit_seq, None,
        "the refused exchange anchored no audit head"
    );
}

#[tokio::test]
async fn a_refused_enrolment_or_exchange_changes_nothing_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    a_refused_enrolment_or_exchange_changes_nothing(storage).await;
}

#[tokio::test]
async fn a_refused_enrolment_or_exchange_changes_nothing_on_postgres() {
    let database = common::PgDatabase::create().await;
    a_refused_enrolment_or_exchange_changes_nothing(database.storage().await).await;
}

/// A bus whose clock is set years ahead has its changes taken, but the back office's clock,
/// and through it every other device's, keeps to its own time.
#[tokio::test]
async fn a_device_clock_years_ahead_does_not_carry_the_back_office_clock() {
    use guichet_domain::queue::{Counter, CounterScope};
    let (storage, _dir) = common::sqlite();
    let office = common::athens(storage).await;
    let bus = common::enrol(&office, "ATH-01").await;
    let bus = office.authenticate(&bus.token).await.unwrap();
    let other = common::enrol(&office, "ATH-01").await;
    let other = office.authenticate(&other.token).await.unwrap();
    let mut entry = crafted(
        "from-the-future",
        1,
        Change::CounterAdded {
            counter: Counter {
                code: "C9".into(),
                name: "Counter 9".into(),
                scope: CounterScope::All,
            },
        },
    );
    entry.hlc = "004102444800000-000000-bus".parse().unwrap();
    let answer = office
        .exchange(&bus, &exchange(vec![entry], 0))
        .await
        .unwrap();
    common::assert_every_outcome(&answer, |o| matches!(o, Outcome::Applied { .. }));
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap();
    let limit = now_ms + guichet_backoffice::MAX_CLOCK_AHEAD_MS;
    assert!(answer.server_hlc.wall_ms <= limit, "{}", answer.server_hlc);
    let seen = office
        .exchange(&other, &exchange(Vec::new(), 0))
        .await
        .unwrap();
    assert!(seen.server_hlc.wall_ms <= limit, "{}", seen.server_hlc);
    assert!(seen.server_hlc > answer.server_hlc);
}
