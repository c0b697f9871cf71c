//! A day at a centre built by hand through the clerk's real actions, on a manual clock, with
//! every edge the report must get right: a no-show then recalled, a transfer to another
//! counter, a waived fee (approved by the supervisor), a refused change, agency decisions with reasons, an old overdue
//! request, a visit that spans midnight, a ticket never served, changes left unsent.
//!
//! Each test file uses part of it.
#![allow(dead_code)]

use guichet_domain::keyslot::RecoveryKey;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use guichet_domain::account::Role;
use guichet_domain::catalogue::{CenterKind, Channel};
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::hlc::HlcStamp;
use guichet_domain::queue::{Counter, CounterScope, QueueTarget};
use guichet_domain::request::{Action, RequestStatus};
use guichet_fixtures::history::{citizen, valid_form};
use guichet_protocol::{
    EnrollResponse, ExchangeResponse, Outcome, Pulled, PulledChange, PushResult, RefusalCode,
};
use guichet_workstation::Workstation;
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::{Approval, NewRequest, NewTicket, Setup, Transfer};

/// The day of the fixture: Monday 30 November 2026.
pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

pub struct Day {
    pub clock: Arc<ManualClock>,
    pub ws: Workstation,
    /// The old request, overdue on the day.
    pub overdue_receipt: String,
    pub returned_receipt: String,
    pub rejected_receipt: String,
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day().and_hms_opt(h, m, 0).unwrap())
}

impl Day {
    fn to(&self, when: DateTime<Utc>) {
        let now = self.ws.now().wall;
        assert!(when >= now, "the fixture only moves forward");
        self.clock.advance(when - now);
    }
}

/// A workstation set up for centre ATH-01 with the demo catalogue, two counters serving
/// everything, enrolled with a back office, on a manual clock at `start`.
pub fn centre(start: DateTime<Utc>) -> (Arc<ManualClock>, Workstation) {
    let clock = Arc::new(ManualClock::at(start));
    let mut ws = Workstation::open_in_memory(clock.clone()).unwrap();
    let counter = |code: &str| Counter {
        code: code.into(),
        name: format!("Window {code}"),
        scope: CounterScope::All,
    };
    ws.setup_with(
        Setup {
            center_code: "ATH-01".into(),
            center_name: "Athens Central".into(),
            center_kind: CenterKind::Stationary,
            device_code: "ATH-01-D1".into(),
            receipt_prefix: Some("K7XA".into()),
            national_id_scheme: "ee-isikukood".into(),
            currency: "EUR".into(),
            waiting_target_min: 15,
            time_zone: "UTC".into(),
            administrator: guichet_fixtures::administrator("eleni"),
        },
        Some(&guichet_fixtures::demo_catalogue()),
        &[counter("W1"), counter("W2")],
    )
    .unwrap();
    ws.add_clerk(&guichet_fixtures::clerk("nikos", Role::Clerk))
        .unwrap();
    ws.add_clerk(&guichet_fixtures::clerk("sofia", Role::Supervisor))
        .unwrap();
    ws.enroll(
        &EnrollResponse {
            center_code: "ATH-01".into(),
            national_id_scheme: "ee-isikukood".into(),
            currency: "EUR".into(),
            waiting_target_min: 15,
            center_name: "Athens Central".into(),
            center_kind: CenterKind::Stationary,
            time_zone: "UTC".into(),
            device_code: "ATH-01-D1".into(),
            receipt_prefix: "K7XB".parse().unwrap(),
            token: "secret".into(),
            accounts: vec![],
        },
        "http://127.0.0.1:1",
        &[],
        &RecoveryKey::from_bytes([7; 20]),
    )
    .unwrap();
    (clock, ws)
}

/// A request of citizen `who` for `service`, taken by `clerk` (in the visit of `ticket`, if
/// any), submitted.
pub fn request(
    ws: &mut Workstation,
    clerk: &str,
    who: u32,
    service: &str,
    ticket: Option<&str>,
) -> String {
    let citizen = by(ws, clerk).register_citizen(&citizen(who)).unwrap();
    let service = ws.service(service).unwrap();
    let visit = ticket.map(|t| ws.open_visit(t).unwrap());
    let today = ws.today();
    ws.create_request(&NewRequest {
        citizen: citizen.national_id,
        service: service.code.clone(),
        form: valid_form(&service, today),
        documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
        visit,
        submit: true,
    })
    .unwrap()
    .summary
    .receipt
}

/// The workstation with `clerk` logged in: the day's two clerks take turns at one device, as
/// at a shared counter.
pub fn by<'a>(ws: &'a mut Workstation, clerk: &str) -> &'a mut Workstation {
    if ws.session().is_none_or(|s| s.username != clerk) {
        ws.login(clerk, guichet_fixtures::DEMO_PASSWORD).unwrap();
    }
    ws
}

/// sofia, the centre's supervisor, approving an act of a clerk at the counter.
pub fn sofia() -> Approval {
    Approval {
        username: "sofia".into(),
        password: guichet_fixtures::DEMO_PASSWORD.into(),
    }
}

/// Issues a ticket and returns its id (its code names it only on the day it was issued).
fn ticket(ws: &mut Workstation, target: QueueTarget, lane: &str) -> String {
    by(ws, "eleni")
        .issue_ticket(&NewTicket {
            target,
            lane: lane.into(),
        })
        .unwrap()
        .id
}

fn service(code: &str) -> QueueTarget {
    QueueTarget::Service(code.into())
}

/// The day, as the module header tells it. The clock ends at 00:30 the next day.
pub fn busy_day() -> Day {
    let (clock, ws) = centre(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let mut d = Day {
        clock,
        ws,
        overdue_receipt: String::new(),
        returned_receipt: String::new(),
        rejected_receipt: String::new(),
    };
    // Four weeks earlier: a one-day certificate, paid by card and dispatched, never answered.
    let ws = &mut d.ws;
    let r0 = request(ws, "eleni", 1, "tax-clearance-certificate", None);
    by(ws, "eleni")
        .pay(&r0, "3.00", PaymentMethod::Card)
        .unwrap();
    by(ws, "eleni")
        .advance(&r0, Action::Dispatch, None, None)
        .unwrap();
    d.overdue_receipt = r0;

    d.to(at(8, 0));
    // The device reached its back office this morning, so its clerks may log in.
    d.ws.apply_exchange(
        &[],
        &ExchangeResponse {
            audit_anchor: None,
            wipe: false,
            center: None,
            results: vec![],
            changes: vec![],
            cursor: 0,
            more: false,
            server_hlc: HlcStamp {
                wall_ms: u64::try_from(at(8, 0).timestamp_millis()).unwrap(),
                counter: 0,
                node: "server".into(),
            },
        },
    )
    .unwrap();
    let t1 = ticket(&mut d.ws, service("birth-certificate"), "standard");
    let t2 = ticket(&mut d.ws, service("identity-card"), "elderly");
    d.to(at(8, 2));
    let t3 = ticket(&mut d.ws, service("passport"), "standard");

    // 08:05 eleni at W1 calls the elderly lane first: a waived identity card.
    d.to(at(8, 5));
    let called = by(&mut d.ws, "eleni").call_next("W1").unwrap().unwrap();
    assert_eq!(called.id, t2);
    by(&mut d.ws, "eleni").start_service(&t2).unwrap();
    let r1 = request(&mut d.ws, "eleni", 2, "identity-card", Some(&t2));
    by(&mut d.ws, "eleni")
        .waive(&r1, "older-people", Some(&sofia()))
        .unwrap();
    by(&mut d.ws, "eleni")
        .advance(&r1, Action::Dispatch, None, None)
        .unwrap();

    // 08:06 nikos at W2 calls the first standard ticket; nobody comes.
    d.to(at(8, 6));
    assert_eq!(
        by(&mut d.ws, "nikos").call_next("W2").unwrap().unwrap().id,
        t1
    );
    d.to(at(8, 8));
    by(&mut d.ws, "nikos").no_show(&t1).unwrap();
    assert_eq!(
        by(&mut d.ws, "nikos").call_next("W2").unwrap().unwrap().id,
        t3
    );
    by(&mut d.ws, "nikos").start_service(&t3).unwrap();
    let r2 = request(&mut d.ws, "nikos", 3, "passport", Some(&t3));
    by(&mut d.ws, "nikos")
        .pay(&r2, "86.00", PaymentMethod::Cash)
        .unwrap();
    by(&mut d.ws, "nikos")
        .advance(&r2, Action::Dispatch, None, None)
        .unwrap();

    d.to(at(8, 15));
    by(&mut d.ws, "eleni").finish_service(&t2).unwrap();
    d.to(at(8, 20));
    by(&mut d.ws, "nikos").finish_service(&t3).unwrap();
    by(&mut d.ws, "nikos")
        .record_feedback(&t3, 2, Some("Trop long"), Channel::StationaryCenter)
        .unwrap();

    // The citizen of the no-show comes back: recalled, started, then sent to W1.
    by(&mut d.ws, "nikos").recall(&t1, Some(&sofia())).unwrap();
    d.to(at(8, 21));
    by(&mut d.ws, "nikos").start_service(&t1).unwrap();
    d.to(at(8, 25));
    by(&mut d.ws, "nikos")
        .transfer(&t1, &Transfer::Counter("W1".into()))
        .unwrap();
    d.to(at(8, 30));
    assert_eq!(
        by(&mut d.ws, "eleni").call_next("W1").unwrap().unwrap().id,
        t1
    );
    by(&mut d.ws, "eleni").start_service(&t1).unwrap();
    let r3 = request(&mut d.ws, "eleni", 4, "birth-certificate", Some(&t1));
    by(&mut d.ws, "eleni")
        .advance(&r3, Action::Dispatch, None, None)
        .unwrap();
    d.to(at(8, 40));
    by(&mut d.ws, "eleni").finish_service(&t1).unwrap();
    by(&mut d.ws, "eleni")
        .record_feedback(&t1, 5, Some("Très bien, merci"), Channel::StationaryCenter)
        .unwrap();

    // 12:00 sync: the back office refuses the passport's payment and applies the rest.
    d.to(at(12, 0));
    let pushed = d.ws.pending_push(1000).unwrap();
    let refused = pushed
        .iter()
        .rposition(|e| e.change.kind() == "payment.recorded")
        .unwrap();
    let results = pushed
        .iter()
        .enumerate()
        .map(|(i, e)| PushResult {
            id: e.id.clone(),
            outcome: if i == refused {
                Outcome::Refused {
                    code: RefusalCode::Invalid,
                    message: "the payment receipt was already used".into(),
                }
            } else {
                Outcome::Applied { seq: i as u64 + 1 }
            },
        })
        .collect();
    let stamp = |ms: i64| HlcStamp {
        wall_ms: u64::try_from(ms).unwrap(),
        counter: 0,
        node: "server".into(),
    };
    let noon = at(12, 0).timestamp_millis();
    d.ws.apply_exchange(
        &pushed,
        &ExchangeResponse {
            audit_anchor: None,
            wipe: false,
            center: None,
            results,
            changes: vec![],
            cursor: pushed.len() as u64,
            more: false,
            server_hlc: stamp(noon),
        },
    )
    .unwrap();

    // 13:00 sync: the agencies answer: the passport goes back for a new photo, the birth
    // certificate is rejected.
    d.to(at(13, 0));
    let base = pushed.len() as u64;
    let decision =
        |seq: u64, id: &str, receipt: &str, action, from, to, reason: Option<&str>| PulledChange {
            seq,
            hlc: stamp(noon + 3_600_000),
            body: Pulled::Decision {
                request: id.to_owned(),
                receipt: receipt.parse().unwrap(),
                action,
                from,
                to,
                reason: reason.map(str::to_owned),
                actor: "agency:anna".into(),
            },
        };
    let id2 = d.ws.request(&r2).unwrap().summary.id;
    let id3 = d.ws.request(&r3).unwrap().summary.id;
    use RequestStatus as S;
    d.ws.apply_exchange(
        &[],
        &ExchangeResponse {
            audit_anchor: None,
            wipe: false,
            center: None,
            results: vec![],
            changes: vec![
                decision(
                    base + 1,
                    &id2,
                    &r2,
                    Action::TakeInProcessing,
                    S::Dispatched,
                    S::InProcessing,
                    None,
                ),
                decision(
                    base + 2,
                    &id2,
                    &r2,
                    Action::ReturnForCorrection,
                    S::InProcessing,
                    S::ReturnedForCorrection,
                    Some("Photo not compliant"),
                ),
                decision(
                    base + 3,
                    &id3,
                    &r3,
                    Action::TakeInProcessing,
                    S::Dispatched,
                    S::InProcessing,
                    None,
                ),
                decision(
                    base + 4,
                    &id3,
                    &r3,
                    Action::Reject,
                    S::InProcessing,
                    S::Rejected,
                    Some("Not born in this municipality"),
                ),
            ],
            cursor: base + 4,
            more: false,
            server_hlc: stamp(noon + 3_600_000),
        },
    )
    .unwrap();
    d.returned_receipt = r2;
    d.rejected_receipt = r3;

    // 23:50 a late citizen, served across midnight; 23:58 one more who is never called.
    d.to(at(23, 50));
    let t4 = ticket(&mut d.ws, service("birth-certificate"), "standard");
    d.to(at(23, 55));
    assert_eq!(
        by(&mut d.ws, "nikos").call_next("W2").unwrap().unwrap().id,
        t4
    );
    by(&mut d.ws, "nikos").start_service(&t4).unwrap();
    d.to(at(23, 58));
    ticket(&mut d.ws, QueueTarget::Category("taxes".into()), "standard");
    d.to(at(23, 59) + Duration::minutes(11));
    by(&mut d.ws, "nikos").finish_service(&t4).unwrap();
    d.to(at(23, 59) + Duration::minutes(31));
    d
}
