//! Intake to delivery on a real database file: the rules the clerk meets at the counter.

mod common;

use common::{citizen, demo, service_where, supervisor, valid_form};
use guichet_domain::DomainError;
use guichet_domain::catalogue::Fee;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::request::{Action, Refusal, RequestStatus};
use guichet_workstation::Error;
use guichet_workstation::store::{NewRequest, OutboxState, RequestFilter};

fn request_for(
    ws: &guichet_workstation::Workstation,
    service: &guichet_domain::catalogue::Service,
    who: &str,
) -> NewRequest {
    NewRequest {
        citizen: who.to_owned(),
        service: service.code.clone(),
        form: valid_form(service, ws.today()),
        documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
        visit: None,
        submit: false,
    }
}

#[test]
fn a_paid_request_goes_from_intake_to_delivery() {
    let mut b = demo();
    let ws = &mut b.ws;
    let mari = ws.register_citizen(&citizen(1)).unwrap();
    let service = service_where(ws, |s| {
        matches!(s.fee, Fee::Charged { .. }) && !s.documents.is_empty() && !s.form.is_empty()
    });
    let fee = service.fee.amount().unwrap().clone();

    let created = ws
        .create_request(&request_for(ws, &service, &mari.national_id))
        .unwrap();
    let receipt = created.summary.receipt.clone();
    assert_eq!(created.summary.status, RequestStatus::Draft);
    assert_eq!(created.summary.fee.as_ref(), Some(&fee));
    assert!(created.summary.due_date >= ws.today());
    assert!(created.documents.iter().all(|d| d.received));

    let submitted = ws.advance(&receipt, Action::Submit, None, None).unwrap();
    assert_eq!(submitted.summary.status, RequestStatus::Submitted);

    // Dispatch waits for the fee.
    let err = ws
        .advance(&receipt, Action::Dispatch, None, None)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Domain(DomainError::Transition {
                refusal: Refusal::FeeUnpaid,
                ..
            })
        ),
        "{err}"
    );
    let payment = ws
        .pay(&receipt, &fee.decimal(), PaymentMethod::Cash)
        .unwrap();
    assert_eq!(payment.outstanding_minor, 0);
    assert_ne!(
        payment.receipt, receipt,
        "a payment has its own receipt number"
    );

    ws.advance(&receipt, Action::Dispatch, None, None).unwrap();
    // The agency's moves are not the centre's to make.
    let err = ws
        .advance(&receipt, Action::MarkReady, None, None)
        .unwrap_err();
    assert!(err.to_string().contains("only the agency"), "{err}");

    let detail = ws.request(&receipt).unwrap();
    assert_eq!(detail.summary.status, RequestStatus::Dispatched);
    let actions: Vec<_> = detail.timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "submit", "dispatch"]);
    assert_eq!(detail.payments.len(), 1);
    assert_eq!(detail.next_actions, [Action::Cancel]);
    assert!(
        detail
            .changes
            .iter()
            .all(|c| c.state == OutboxState::Pending)
    );
    // create, submit, payment, dispatch: each left the device as one change.
    assert_eq!(detail.changes.len(), 4);
}

#[test]
fn missing_documents_block_submission_until_received() {
    let mut b = demo();
    let ws = &mut b.ws;
    let mari = ws.register_citizen(&citizen(2)).unwrap();
    let service = service_where(ws, |s| s.fee == Fee::Free && !s.documents.is_empty());
    let mut new = request_for(ws, &service, &mari.national_id);
    new.documents_received.clear();
    new.submit = true;
    let err = ws.create_request(&new).unwrap_err();
    // The refusal names each document missing, for the clerk to mark it.
    for doc in &service.documents {
        assert!(err.to_string().contains(doc.name.get("en")), "{err}");
    }
    assert!(
        ws.list_requests(&RequestFilter::default())
            .unwrap()
            .is_empty()
    );

    new.submit = false;
    let draft = ws.create_request(&new).unwrap();
    let receipt = draft.summary.receipt;
    let (first, rest) = service.documents.split_first().unwrap();
    ws.mark_document(&receipt, &first.code, true).unwrap();
    for doc in rest {
        let err = ws
            .advance(&receipt, Action::Submit, None, None)
            .unwrap_err();
        let said = err.to_string();
        assert!(said.contains(doc.name.get("en")), "{said}");
        assert!(!said.contains(first.name.get("en")), "{said}");
        ws.mark_document(&receipt, &doc.code, true).unwrap();
    }
    let submitted = ws.advance(&receipt, Action::Submit, None, None).unwrap();
    assert_eq!(submitted.summary.status, RequestStatus::Submitted);
    // Free: dispatch needs no payment.
    ws.advance(&receipt, Action::Dispatch, None, None).unwrap();
    let err = ws.mark_document(&receipt, &service.documents[0].code, false);
    assert!(err.is_err(), "documents are frozen once dispatched");
}

#[test]
fn waivers_follow_the_exemptions_copied_at_intake() {
    let mut b = demo();
    let ws = &mut b.ws;
    let mari = ws.register_citizen(&citizen(3)).unwrap();
    let service = service_where(ws, |s| !s.exemptions.is_empty());
    let exempt = service.exemptions[0].clone();
    let receipt = ws
        .create_request(&request_for(ws, &service, &mari.national_id))
        .unwrap()
        .summary
        .receipt;
    let kostas = supervisor(ws);
    // The ground is checked before a supervisor is asked for.
    let err = ws.waive(&receipt, "not-a-group", None).unwrap_err();
    assert!(err.to_string().contains("exempt groups"), "{err}");
    let waived = ws.waive(&receipt, &exempt, Some(&kostas)).unwrap();
    assert_eq!(
        waived.summary.waiver_ground.as_deref(),
        Some(exempt.as_str())
    );
    let err = ws.pay(&receipt, "1", PaymentMethod::Card).unwrap_err();
    assert!(err.to_string().contains("waived"), "{err}");
    ws.advance(&receipt, Action::Submit, None, None).unwrap();
    ws.advance(&receipt, Action::Dispatch, None, None).unwrap();
}

#[test]
fn bad_input_changes_nothing() {
    let mut b = demo();
    let ws = &mut b.ws;
    let mari = ws.register_citizen(&citizen(4)).unwrap();
    let service = service_where(ws, |s| {
        matches!(s.fee, Fee::Charged { .. }) && s.form.iter().any(|f| f.required)
    });
    let before = ws.outbox(None, 10_000).unwrap().len();
    let audit_before = ws.verify_audit().unwrap().result.unwrap().events;

    let mut bad_form = request_for(ws, &service, &mari.national_id);
    let required = service.form.iter().find(|f| f.required).unwrap();
    bad_form.form.remove(&required.code);
    let err = ws.create_request(&bad_form).unwrap_err();
    assert!(err.to_string().contains(&required.code), "{err}");

    let mut unknown = request_for(ws, &service, &mari.national_id);
    unknown.service = "no-such-service".into();
    assert!(matches!(
        ws.create_request(&unknown),
        Err(Error::NotFound { .. })
    ));
    let mut stranger = request_for(ws, &service, "49403136515");
    stranger.documents_received.clear();
    assert!(ws.create_request(&stranger).is_err());
    assert!(
        ws.register_citizen(&citizen(4)).is_err(),
        "registered twice"
    );

    let receipt = ws
        .create_request(&request_for(ws, &service, &mari.national_id))
        .unwrap()
        .summary
        .receipt;
    let after_create = ws.outbox(None, 10_000).unwrap().len();
    assert_eq!(after_create, before + 1);
    let fee = service.fee.amount().unwrap();
    for amount in ["abc", "-1", "0", "1.234"] {
        assert!(
            ws.pay(&receipt, amount, PaymentMethod::Cash).is_err(),
            "{amount}"
        );
    }
    let too_much = format!("{}", fee.minor / 100 + 1000);
    assert!(ws.pay(&receipt, &too_much, PaymentMethod::Cash).is_err());
    assert!(ws.advance(&receipt, Action::Deliver, None, None).is_err());
    let long = "r".repeat(guichet_protocol::MAX_REASON_CHARS + 1);
    let err = ws
        .advance(&receipt, Action::Cancel, Some(&long), None)
        .unwrap_err();
    assert!(
        err.to_string().contains("1001 characters: at most 1000"),
        "{err}"
    );
    assert!(
        ws.advance(&receipt, Action::Cancel, Some("  "), None)
            .is_ok()
    );
    assert!(
        ws.advance(&receipt, Action::Cancel, None, None).is_err(),
        "already cancelled"
    );
    let mut typo = receipt.clone().into_bytes();
    typo.swap(0, 1);
    let typo = String::from_utf8(typo).unwrap();
    if typo != receipt {
        assert!(ws.request(&typo).is_err());
    }

    // Only the create and the cancel were written.
    assert_eq!(ws.outbox(None, 10_000).unwrap().len(), before + 2);
    let audit_after = ws.verify_audit().unwrap().result.unwrap().events;
    assert_eq!(audit_after, audit_before + 2);
}

#[test]
fn filters_and_overdue() {
    let mut b = demo();
    let mari = b.ws.register_citizen(&citizen(5)).unwrap();
    let quick = service_where(&b.ws, |s| s.processing_days >= 1 && s.fee == Fee::Free);
    let receipt =
        b.ws.create_request(&request_for(&b.ws, &quick, &mari.national_id))
            .unwrap()
            .summary
            .receipt;
    b.ws.advance(&receipt, Action::Submit, None, None).unwrap();
    let overdue = RequestFilter {
        overdue: true,
        ..RequestFilter::default()
    };
    assert!(b.ws.list_requests(&overdue).unwrap().is_empty());
    // Thirty days later it is overdue, by working days.
    b.clock.advance(chrono::Duration::days(
        30 + i64::from(quick.processing_days),
    ));
    let late = b.ws.list_requests(&overdue).unwrap();
    assert_eq!(late.len(), 1);
    assert!(late[0].days_overdue >= 20, "{}", late[0].days_overdue);
    let by_status = RequestFilter {
        status: Some(RequestStatus::Submitted),
        service: Some(quick.code.clone()),
        ..RequestFilter::default()
    };
    assert_eq!(b.ws.list_requests(&by_status).unwrap().len(), 1);
    let other = RequestFilter {
        status: Some(RequestStatus::Draft),
        ..RequestFilter::default()
    };
    assert!(b.ws.list_requests(&other).unwrap().is_empty());
    // A pasted page is no search: refused, as the catalogue's is.
    let pasted = RequestFilter {
        text: Some("permit ".repeat(40)),
        ..RequestFilter::default()
    };
    assert!(
        b.ws.list_requests(&pasted)
            .unwrap_err()
            .to_string()
            .contains("the search is 279 characters long: type at most 200"),
    );
}

#[test]
fn a_request_is_found_by_receipt_citizen_or_service_name() {
    let mut b = demo();
    let ws = &mut b.ws;
    let mari = ws.register_citizen(&citizen(4)).unwrap();
    let mut juri = citizen(5);
    juri.given_name = "Jüri".into();
    let juri = ws.register_citizen(&juri).unwrap();
    let parking = service_where(ws, |s| s.code == "resident-parking-permit");
    let copy = service_where(ws, |s| s.code == "certified-copy");
    let mut take = |service, who: &str| {
        ws.create_request(&request_for(ws, service, who))
            .unwrap()
            .summary
            .receipt
    };
    let maris_permit = take(&parking, &mari.national_id);
    let maris_copy = take(&copy, &mari.national_id);
    let juris_permit = take(&parking, &juri.national_id);
    let found = |text: &str| {
        let mut receipts: Vec<String> = ws
            .list_requests(&RequestFilter {
                text: Some(text.to_owned()),
                ..RequestFilter::default()
            })
            .unwrap()
            .into_iter()
            .map(|r| r.receipt)
            .collect();
        receipts.sort();
        receipts
    };
    let sorted = |mut r: Vec<&String>| {
        r.sort();
        r.into_iter().cloned().collect::<Vec<_>>()
    };
    // The receipt number as read aloud: lower case, without dashes.
    let spoken = maris_copy.replace('-', "").to_lowercase();
    assert_eq!(found(&spoken), sorted(vec![&maris_copy]));
    assert_eq!(
        found(&mari.national_id),
        sorted(vec![&maris_permit, &maris_copy])
    );
    // Names in any order, any case, without their accents.
    assert_eq!(found("tamm-5 juri"), sorted(vec![&juris_permit]));
    assert_eq!(found("mari"), sorted(vec![&maris_permit, &maris_copy]));
    // A service by words of its title, in English or French.
    assert_eq!(found("parking"), sorted(vec![&maris_permit, &juris_permit]));
    assert_eq!(found("copie certifiée"), sorted(vec![&maris_copy]));
    assert!(found("nobody here").is_empty());
    assert!(found("--").is_empty());
}

/// A request taken one second before midnight belongs to that day, one taken a second after
/// to the next, and each is due that many working days after its own intake day: Thursday
/// 23:59:59 is due on Friday for a one-day service, Friday 00:00:01 on Monday. (Days are UTC
/// days until centres have a time zone of their own.)
#[test]
fn due_dates_follow_the_intake_day_on_either_side_of_midnight() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let mut b = demo();
    let quick = service_where(&b.ws, |s| s.processing_days >= 1 && s.fee == Fee::Free);
    let days = quick.processing_days;
    let take = |b: &mut common::Bench, serial: u32| {
        let who = b.ws.register_citizen(&citizen(serial)).unwrap();
        b.ws.create_request(&request_for(&b.ws, &quick, &who.national_id))
            .unwrap()
            .summary
    };
    b.clock
        .set_wall(Utc.with_ymd_and_hms(2026, 3, 12, 23, 59, 59).unwrap());
    let before = take(&mut b, 6);
    b.clock
        .set_wall(Utc.with_ymd_and_hms(2026, 3, 13, 0, 0, 1).unwrap());
    let after = take(&mut b, 7);
    let thursday = NaiveDate::from_ymd_opt(2026, 3, 12).unwrap();
    let friday = NaiveDate::from_ymd_opt(2026, 3, 13).unwrap();
    assert_eq!((before.intake_date, after.intake_date), (thursday, friday));
    let calendar = guichet_domain::calendar::Holidays::default();
    assert_eq!(before.due_date, calendar.due_date(thursday, days));
    assert_eq!(after.due_date, calendar.due_date(friday, days));
    assert!(after.due_date > before.due_date);
    if days == 1 {
        assert_eq!(before.due_date, friday);
        assert_eq!(
            after.due_date,
            NaiveDate::from_ymd_opt(2026, 3, 16).unwrap()
        );
    }
}
