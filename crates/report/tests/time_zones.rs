//! The centre's local days and hours: a ticket or a request belongs to the day it happened on
//! where the centre is, around midnight and on both days the clocks change, and in a zone
//! without daylight saving.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use guichet_domain::catalogue::CenterKind;
use guichet_domain::queue::{Counter, CounterScope, QueueTarget};
use guichet_fixtures::history::{citizen, valid_form};
use guichet_report::{Locale, Report, ReportOptions, daily_report};
use guichet_workstation::Workstation;
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::{NewRequest, NewTicket, Setup};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn setup(zone: &str) -> Setup {
    Setup {
        center_code: "ZON-01".into(),
        center_name: "Zone centre".into(),
        center_kind: CenterKind::Stationary,
        device_code: "ZON-01-D1".into(),
        receipt_prefix: None,
        national_id_scheme: "ee-isikukood".into(),
        currency: "EUR".into(),
        waiting_target_min: 15,
        time_zone: zone.into(),
        administrator: guichet_fixtures::administrator("eleni"),
    }
}

/// A centre in `zone` with the demo catalogue, its clock at `start`.
fn centre(zone: &str, start: &str) -> (Arc<ManualClock>, Workstation) {
    let clock = Arc::new(ManualClock::at(at(start)));
    let mut ws = Workstation::open_in_memory(clock.clone()).unwrap();
    ws.setup_with(
        setup(zone),
        Some(&guichet_fixtures::demo_catalogue()),
        &[Counter {
            code: "W1".into(),
            name: "Window 1".into(),
            scope: CounterScope::All,
        }],
    )
    .unwrap();
    (clock, ws)
}

/// Issues a ticket at `when` (the clock only moves forward); returns its code and day.
fn ticket_at(clock: &ManualClock, ws: &mut Workstation, when: &str) -> (String, String) {
    clock.advance(at(when) - ws.now().wall);
    let t = ws
        .issue_ticket(&NewTicket {
            target: QueueTarget::Category("civil-status".into()),
            lane: "standard".into(),
        })
        .unwrap();
    (t.code, t.day)
}

fn report(ws: &Workstation, d: NaiveDate) -> Report {
    daily_report(
        ws,
        &ReportOptions {
            locale: Locale::En,
            ..ReportOptions::day(d)
        },
    )
    .unwrap()
}

fn hours(r: &Report) -> Vec<(u8, u64)> {
    r.queue.by_hour.iter().map(|h| (h.hour, h.issued)).collect()
}

#[test]
fn an_evening_in_baku_is_counted_on_its_own_day() {
    // Baku is UTC+4 all year. 23:30 there on 10 March is 19:30 UTC; 00:30 on the 11th is
    // 20:30 UTC on the 10th.
    let (clock, mut ws) = centre("Asia/Baku", "2026-03-10T04:00:00Z");
    let late = ticket_at(&clock, &mut ws, "2026-03-10T19:30:00Z");
    assert_eq!(late.1, "2026-03-10");
    assert_eq!(ws.today(), day(2026, 3, 10));
    let early = ticket_at(&clock, &mut ws, "2026-03-10T20:30:00Z");
    assert_eq!(ws.today(), day(2026, 3, 11));
    // A new local day starts the numbering again.
    assert_eq!(early, (late.0.clone(), "2026-03-11".to_owned()));

    let tenth = report(&ws, day(2026, 3, 10));
    assert_eq!(tenth.queue.issued, 1);
    assert_eq!(hours(&tenth), [(23, 1)]);
    assert_eq!(tenth.header.time_zone.name(), "Asia/Baku");
    let eleventh = report(&ws, day(2026, 3, 11));
    assert_eq!(eleventh.queue.issued, 1);
    assert_eq!(hours(&eleventh), [(0, 1)]);
}

#[test]
fn the_spring_day_in_paris_has_twenty_three_hours() {
    // 29 March 2026: Paris goes from 02:00 CET to 03:00 CEST; the day runs from 23:00 UTC
    // on the 28th to 22:00 UTC on the 29th.
    let (clock, mut ws) = centre("Europe/Paris", "2026-03-28T08:00:00Z");
    for (when, local_day) in [
        ("2026-03-28T22:30:00Z", "2026-03-28"), // 23:30 CET
        ("2026-03-28T23:30:00Z", "2026-03-29"), // 00:30 CET
        ("2026-03-29T01:30:00Z", "2026-03-29"), // 03:30 CEST: 02:xx never happened
        ("2026-03-29T21:30:00Z", "2026-03-29"), // 23:30 CEST
        ("2026-03-29T22:30:00Z", "2026-03-30"), // 00:30 CEST
    ] {
        assert_eq!(ticket_at(&clock, &mut ws, when).1, local_day, "{when}");
    }
    let r = report(&ws, day(2026, 3, 29));
    assert_eq!(r.queue.issued, 3);
    assert_eq!(hours(&r), [(0, 1), (3, 1), (23, 1)]);
}

#[test]
fn the_autumn_day_in_paris_has_twenty_five_hours_and_two_half_past_twos() {
    // 25 October 2026: Paris goes from 03:00 CEST back to 02:00 CET; the day runs from 22:00
    // UTC on the 24th to 23:00 UTC on the 25th.
    let (clock, mut ws) = centre("Europe/Paris", "2026-10-24T08:00:00Z");
    for (when, local_day) in [
        ("2026-10-24T21:30:00Z", "2026-10-24"), // 23:30 CEST
        ("2026-10-24T22:30:00Z", "2026-10-25"), // 00:30 CEST
        ("2026-10-25T00:30:00Z", "2026-10-25"), // 02:30 CEST
        ("2026-10-25T01:30:00Z", "2026-10-25"), // 02:30 CET, the second time
        ("2026-10-25T22:30:00Z", "2026-10-25"), // 23:30 CET
        ("2026-10-25T23:30:00Z", "2026-10-26"), // 00:30 CET
    ] {
        assert_eq!(ticket_at(&clock, &mut ws, when).1, local_day, "{when}");
    }
    let r = report(&ws, day(2026, 10, 25));
    assert_eq!(r.queue.issued, 4);
    assert_eq!(hours(&r), [(0, 1), (2, 2), (23, 1)]);
    // The whole weekend, as a range, holds every ticket once.
    let weekend = daily_report(
        &ws,
        &ReportOptions {
            to: day(2026, 10, 26),
            ..ReportOptions::day(day(2026, 10, 24))
        },
    )
    .unwrap();
    assert_eq!(weekend.queue.issued, 6);
}

#[test]
fn a_request_taken_late_in_the_evening_is_due_from_the_local_day() {
    // 23:30 in Paris on Friday 27 November is 22:30 UTC; a 5-day service is due counting
    // from Friday, and the payment is in Friday's cash.
    let (clock, mut ws) = centre("Europe/Paris", "2026-11-27T08:00:00Z");
    clock.advance(at("2026-11-27T22:30:00Z") - ws.now().wall);
    let who = ws.register_citizen(&citizen(7)).unwrap();
    let service = ws.service("sole-trader-registration").unwrap();
    let request = ws
        .create_request(&NewRequest {
            citizen: who.national_id,
            service: service.code.clone(),
            form: valid_form(&service, ws.today()),
            documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
            visit: None,
            submit: true,
        })
        .unwrap();
    assert_eq!(request.summary.intake_date, day(2026, 11, 27));
    assert_eq!(
        request.summary.due_date,
        ws.holidays()
            .unwrap()
            .due_date(day(2026, 11, 27), service.processing_days)
    );
    assert_eq!(report(&ws, day(2026, 11, 27)).requests.taken, 1);
    assert_eq!(report(&ws, day(2026, 11, 28)).requests.taken, 0);
    // Half an hour later it is Saturday in Paris, though still Friday in UTC.
    clock.advance(chrono::Duration::minutes(45));
    assert_eq!(ws.today(), day(2026, 11, 28));
}

#[test]
fn an_unknown_time_zone_is_refused_at_set_up() {
    let clock = Arc::new(ManualClock::at(at("2026-03-10T08:00:00Z")));
    let mut ws = Workstation::open_in_memory(clock).unwrap();
    let err = ws.setup(setup("Europe/Atlantis")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "'Europe/Atlantis' is not a time zone: give its IANA name, such as Europe/Paris, Africa/Dakar or Asia/Baku"
    );
    assert!(!ws.is_set_up().unwrap());
}
