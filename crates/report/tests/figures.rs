//! The report's figures, checked exactly against the day built by hand in `common`.

mod common;

use std::cell::RefCell;

use guichet_domain::request::RequestStatus;
use guichet_report::{Error, Locale, ReportOptions, Stage, daily_report, dashboard};

fn options(locale: Locale) -> ReportOptions<'static> {
    ReportOptions {
        locale,
        cash_counted_minor: Some(8500),
        ..ReportOptions::day(common::day())
    }
}

#[test]
fn the_queue_of_the_day() {
    let d = common::busy_day();
    let r = daily_report(&d.ws, &options(Locale::En)).unwrap();
    assert!(!r.empty);
    assert_eq!(r.header.center_code, "ATH-01");
    assert_eq!(r.header.device_code, "ATH-01-D1");
    assert_eq!(r.header.made_at.to_rfc3339(), "2026-12-01T00:30:00+00:00");
    assert!(r.header.catalogue_version.is_some());
    let q = &r.queue;
    assert_eq!(
        (
            q.issued,
            q.served,
            q.no_shows,
            q.served_after_no_show,
            q.transferred,
            q.not_served
        ),
        (5, 4, 0, 1, 1, 1)
    );
    // Waits: 300 s (identity card), 360 s (passport), 1800 s (no-show, recalled, transferred:
    // from issue to the last call), 300 s (the late visit across midnight).
    assert_eq!(q.waiting.count, 4);
    assert_eq!(q.waiting.median_s, Some(300));
    assert_eq!(q.waiting.p90_s, Some(1800));
    assert_eq!(q.waiting.max_s, Some(1800));
    assert_eq!(q.waiting.above_target, 1);
    assert_eq!(q.waiting.share_above_target, Some(0.25));

    let hours: Vec<_> = q
        .by_hour
        .iter()
        .map(|h| {
            (
                h.hour,
                h.issued,
                h.served,
                h.waiting.median_s,
                h.waiting.p90_s,
            )
        })
        .collect();
    assert_eq!(
        hours,
        vec![
            (8, 3, 3, Some(360), Some(1800)),
            (23, 2, 1, Some(300), Some(300))
        ]
    );
    let targets: Vec<_> = q
        .by_target
        .iter()
        .map(|g| {
            (
                g.kind.as_str(),
                g.code.as_str(),
                g.issued,
                g.served,
                g.transferred,
            )
        })
        .collect();
    assert_eq!(
        targets,
        vec![
            ("category", "taxes", 1, 0, 0),
            ("service", "birth-certificate", 2, 2, 1),
            ("service", "identity-card", 1, 1, 0),
            ("service", "passport", 1, 1, 0),
        ]
    );
    let birth = &q.by_target[1].waiting;
    assert_eq!(
        (birth.median_s, birth.p90_s, birth.above_target),
        (Some(300), Some(1800), 1)
    );
    let categories: Vec<_> = q
        .by_category
        .iter()
        .map(|g| (g.code.as_str(), g.issued))
        .collect();
    assert_eq!(
        categories,
        vec![("civil-status", 2), ("identity-travel", 2), ("taxes", 1)]
    );
    let lanes: Vec<_> = q
        .by_lane
        .iter()
        .map(|g| (g.code.as_str(), g.issued, g.waiting.median_s))
        .collect();
    assert_eq!(
        lanes,
        vec![("elderly", 1, Some(300)), ("standard", 4, Some(360))]
    );
}

#[test]
fn requests_money_feedback_clerks_and_sync() {
    let d = common::busy_day();
    let r = daily_report(&d.ws, &options(Locale::En)).unwrap();
    let q = &r.requests;
    assert_eq!(q.taken, 3);
    let statuses: Vec<_> = q.by_status.iter().map(|s| (s.status, s.count)).collect();
    assert_eq!(
        statuses,
        vec![
            (RequestStatus::Dispatched, 1),
            (RequestStatus::ReturnedForCorrection, 1),
            (RequestStatus::Rejected, 1),
        ]
    );
    let agencies: Vec<_> = q
        .by_agency
        .iter()
        .map(|g| (g.code.as_str(), g.taken, g.fees_due_minor))
        .collect();
    assert_eq!(
        agencies,
        vec![("interior", 2, 11_100), ("civil-registry", 1, 0)]
    );
    assert_eq!(q.overdue_count, 1);
    assert_eq!(q.overdue[0].receipt, d.overdue_receipt);
    assert_eq!(q.overdue[0].due_date.to_string(), "2026-11-03");
    // Working days from Wednesday 4 to Monday 30 November.
    assert_eq!(q.overdue[0].days_overdue, 19);
    assert_eq!((q.returned_for_correction, q.rejected), (1, 1));
    let decisions: Vec<_> = q
        .decisions
        .iter()
        .map(|x| (x.receipt.as_str(), x.status, x.reason.as_str()))
        .collect();
    assert_eq!(
        decisions,
        vec![
            (
                d.returned_receipt.as_str(),
                RequestStatus::ReturnedForCorrection,
                "Photo not compliant"
            ),
            (
                d.rejected_receipt.as_str(),
                RequestStatus::Rejected,
                "Not born in this municipality"
            ),
        ]
    );

    let m = &r.money;
    assert_eq!((m.fees_due_minor, m.requests_with_fee), (11_100, 2));
    assert_eq!(m.collected_minor, 8600);
    let methods: Vec<_> = m
        .by_method
        .iter()
        .map(|x| (x.method.as_str(), x.payments, x.amount_minor))
        .collect();
    assert_eq!(methods, vec![("cash", 1, 8600)]);
    assert_eq!(m.waived_minor, 2500);
    assert_eq!(
        (
            m.waivers[0].ground.as_str(),
            m.waivers[0].name.as_str(),
            m.waivers[0].requests
        ),
        ("older-people", "Older people", 1)
    );
    assert_eq!(m.outstanding_minor, 0);
    assert_eq!(m.cash_expected_minor, 8600);
    assert_eq!(m.cash_difference_minor, Some(-100));

    let f = &r.feedback;
    assert_eq!(
        (f.count, f.average, f.distribution),
        (2, Some(3.5), [0, 1, 0, 0, 1])
    );
    let by_clerk: Vec<_> = f
        .by_clerk
        .iter()
        .map(|g| (g.code.as_str(), g.average))
        .collect();
    assert_eq!(by_clerk, vec![("eleni", Some(5.0)), ("nikos", Some(2.0))]);
    let by_service: Vec<_> = f
        .by_service
        .iter()
        .map(|g| (g.code.as_str(), g.count))
        .collect();
    assert_eq!(by_service, vec![("birth-certificate", 1), ("passport", 1)]);
    assert_eq!(f.comments.len(), 2);
    assert_eq!(f.comments[1].comment, "Très bien, merci");

    let clerks: Vec<_> = r
        .clerks
        .iter()
        .map(|c| {
            (
                c.clerk.as_str(),
                c.counter.as_deref(),
                c.served,
                c.avg_service_s,
                c.requests_taken,
                c.open_s,
                c.busy_s,
            )
        })
        .collect();
    assert_eq!(
        clerks,
        vec![
            // 08:05 to 08:40 open; two services of ten minutes.
            ("eleni", Some("W1"), 2, Some(600.0), 2, 2100, 1200),
            // 08:08 to 00:10 the next morning: the late visit ends after midnight.
            ("nikos", Some("W2"), 2, Some(810.0), 1, 57_720, 1620),
        ]
    );
    let idle = r.clerks[0].idle_share.unwrap();
    assert!((idle - 900.0 / 2100.0).abs() < 1e-9);

    let s = &r.sync;
    assert!(s.enrolled);
    assert!(!s.clean);
    // The late visit and the last ticket happened after the last sync: five changes wait,
    // and the six session events of the two clerks taking turns at the device.
    assert_eq!((s.unsent, s.refused, s.conflicts), (11, 1, 0));
    assert_eq!(s.oldest_unsent_age_s, Some(40 * 60));
    assert_eq!(
        s.last_success.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-30T13:00:00+00:00")
    );
    assert!(
        s.statement
            .starts_with("NOT CLEAN: 11 changes not yet sent"),
        "{}",
        s.statement
    );
    assert!(s.statement.contains("1 change refused by the back office"));
    assert!(
        s.problems[0]
            .reason
            .contains("the payment receipt was already used")
    );
}

#[test]
fn a_range_adds_the_days_up_and_reports_progress() {
    let d = common::busy_day();
    let stages = RefCell::new(Vec::new());
    let progress = |p: guichet_report::Progress| stages.borrow_mut().push(p.stage);
    let r = daily_report(
        &d.ws,
        &ReportOptions {
            from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            progress: Some(&progress),
            ..options(Locale::Fr)
        },
    )
    .unwrap();
    assert_eq!(r.requests.taken, 4);
    assert_eq!(r.money.collected_minor, 8900);
    assert_eq!(r.requests.overdue_count, 1);
    assert!(
        r.sync
            .statement
            .starts_with("JOURNÉE NON PROPRE : 11 modifications non envoyées"),
        "{}",
        r.sync.statement
    );
    assert!(
        r.sync
            .statement
            .contains("1 modification refusée par le back-office"),
        "{}",
        r.sync.statement
    );
    assert_eq!(r.requests.by_status[0].name, "transmise");
    let stages = stages.into_inner();
    assert_eq!(stages.first(), Some(&Stage::Queue));
    assert_eq!(stages.last(), Some(&Stage::Done));
}

#[test]
fn the_day_before_the_last_event_uses_statuses_at_its_end() {
    let mut d = common::busy_day();
    // Cancelled today: before today it was still dispatched, and overdue.
    common::by(&mut d.ws, "eleni")
        .advance(
            &d.overdue_receipt,
            guichet_domain::request::Action::Cancel,
            Some("the citizen moved away"),
            Some(&common::sofia()),
        )
        .unwrap();
    let november = ReportOptions {
        from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        ..ReportOptions::day(common::day())
    };
    let r = daily_report(&d.ws, &november).unwrap();
    assert_eq!(r.requests.overdue_count, 1);
    assert_eq!(r.requests.overdue[0].status, RequestStatus::Dispatched);
    assert_eq!(r.requests.overdue[0].days_overdue, 18);
    // Read again from the days it kept, whose statuses are the current ones: the same.
    let kept = daily_report(&d.ws, &november).unwrap();
    assert_eq!(json(&kept.requests), json(&r.requests));
    assert_eq!(json(&kept.queue), json(&r.queue));
    let today = daily_report(
        &d.ws,
        &ReportOptions::day(common::day() + chrono::Days::new(1)),
    );
    assert_eq!(today.unwrap().requests.overdue_count, 0);
    let before = ReportOptions::day(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
    let r = daily_report(&d.ws, &before).unwrap();
    assert_eq!(r.requests.taken, 1);
    assert_eq!(r.requests.by_status[0].status, RequestStatus::Dispatched);
    // Due on the 3rd: not late yet at the end of the 2nd.
    assert_eq!(r.requests.overdue_count, 0);
    assert_eq!(r.money.by_method[0].method, "card");
}

#[test]
fn a_refund_under_four_eyes_counts_in_the_cash_figures() {
    let mut d = common::busy_day();
    let returned = d.ws.request(&d.returned_receipt).unwrap();
    let payment = returned.payments[0].receipt.clone();
    // The next morning, 10.00 of the passport's cash payment is given back.
    common::by(&mut d.ws, "nikos")
        .refund(
            &d.returned_receipt,
            &guichet_workstation::store::NewRefund {
                payment: payment.clone(),
                amount: "10.00".into(),
                reason: "charged the express rate by mistake".into(),
            },
            Some(&common::sofia()),
        )
        .unwrap();
    let next = ReportOptions::day(common::day() + chrono::Days::new(1));
    let m = daily_report(&d.ws, &next).unwrap().money;
    assert_eq!(
        (
            m.collected_minor,
            m.refunded_minor,
            m.net_collected_minor,
            m.cash_expected_minor
        ),
        (0, 1000, -1000, -1000)
    );
    // That morning's dashboard shows the money kept, net of the refund.
    let live = dashboard(&d.ws, Locale::En).unwrap();
    assert_eq!(live.day, common::day() + chrono::Days::new(1));
    assert_eq!(
        (
            live.collected_minor,
            live.refunded_minor,
            live.net_collected_minor
        ),
        (0, 1000, -1000)
    );
    let line = &m.refunds[0];
    assert_eq!(
        (
            line.payment_receipt.as_str(),
            line.request_receipt.as_str(),
            line.amount_minor,
            line.clerk.as_str(),
            line.approver.as_str(),
            line.method.as_str()
        ),
        (
            payment.as_str(),
            d.returned_receipt.as_str(),
            1000,
            "nikos",
            "sofia",
            "cash"
        )
    );
    // The day of the payment keeps its figures; a period over both nets them.
    let day = daily_report(&d.ws, &options(Locale::En)).unwrap().money;
    assert_eq!((day.collected_minor, day.refunded_minor), (8600, 0));
    assert_eq!(day.cash_difference_minor, Some(-100));
    let both = ReportOptions {
        from: common::day(),
        ..next
    };
    let m = daily_report(&d.ws, &both).unwrap().money;
    assert_eq!((m.collected_minor, m.net_collected_minor), (8600, 7600));
    assert_eq!(m.cash_expected_minor, 7600);
}

#[test]
fn an_empty_day_is_a_valid_report_that_says_so() {
    let d = common::busy_day();
    let sunday = ReportOptions::day(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
    let r = daily_report(&d.ws, &sunday).unwrap();
    assert!(r.empty);
    assert_eq!(r.queue.issued, 0);
    assert_eq!(r.queue.waiting.median_s, None);
    assert!(r.queue.by_hour.is_empty());
    assert_eq!(r.requests.taken, 0);
    assert_eq!(r.money.collected_minor, 0);
    assert_eq!(r.feedback.average, None);
    // Overdue requests are still overdue on an empty day.
    assert_eq!(r.requests.overdue_count, 1);
}

#[test]
fn a_period_that_ends_before_it_starts_is_refused() {
    let d = common::busy_day();
    let e = daily_report(
        &d.ws,
        &ReportOptions {
            to: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            ..options(Locale::En)
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::Period { .. }));
    assert!(e.to_string().contains("give --to on or after --date"));
}

#[test]
fn the_dashboard_shows_today_live() {
    let d = common::busy_day();
    let yesterday = dashboard(&d.ws, Locale::En).unwrap();
    // Just after midnight: a new day with nothing yet, one ticket still waiting from before.
    assert_eq!(yesterday.day.to_string(), "2026-12-01");
    assert_eq!(yesterday.waiting_now, 1);
    assert_eq!(yesterday.longest_wait_now_s, Some(32 * 60));
    assert!(yesterday.waiting_by_hour.is_empty());
    assert_eq!(yesterday.overdue_count, 1);
    let statuses: Vec<_> = yesterday
        .requests_by_status
        .iter()
        .map(|s| (s.status, s.count))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (RequestStatus::Dispatched, 2),
            (RequestStatus::ReturnedForCorrection, 1),
            (RequestStatus::Rejected, 1),
        ]
    );
    assert!(!yesterday.sync.clean);
    let json = serde_json::to_value(&yesterday).unwrap();
    assert_eq!(json["waiting_target_min"], 15);
}

#[test]
fn a_standalone_workstation_says_its_changes_stay_here() {
    let clock = std::sync::Arc::new(guichet_workstation::clock::ManualClock::at(
        chrono::DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
            .unwrap()
            .to_utc(),
    ));
    let mut ws = guichet_workstation::Workstation::open_in_memory(clock).unwrap();
    ws.setup(guichet_workstation::store::Setup {
        center_code: "BUS-01".into(),
        center_name: "Bus 1".into(),
        center_kind: guichet_domain::catalogue::CenterKind::Mobile,
        device_code: "BUS-01-D1".into(),
        receipt_prefix: None,
        national_id_scheme: "ee-isikukood".into(),
        currency: "EUR".into(),
        waiting_target_min: 15,
        time_zone: "UTC".into(),
        administrator: guichet_fixtures::administrator("nikos"),
    })
    .unwrap();
    ws.register_citizen(&guichet_fixtures::history::citizen(1))
        .unwrap();
    let r = daily_report(&ws, &options(Locale::En)).unwrap();
    assert!(!r.sync.enrolled);
    assert!(r.sync.unsent > 0, "the citizen is a change kept here");
    assert!(r.sync.clean, "nothing can be sent: the day is complete");
    assert!(
        r.sync
            .statement
            .starts_with("Standalone workstation, no back office"),
        "{}",
        r.sync.statement
    );
    // One change kept: the singular, in both languages.
    assert_eq!(r.sync.unsent, 1);
    assert_eq!(
        r.sync.statement,
        "Standalone workstation, no back office: 1 change kept on this device only."
    );
    let fr = daily_report(&ws, &options(Locale::Fr)).unwrap();
    assert_eq!(
        fr.sync.statement,
        "Poste autonome, sans back-office : 1 modification conservée sur ce poste seulement."
    );
}

/// A long period that has ended reads its requests and the overdue ones in one pass: the same
/// figures as the two reads of a shorter period with the same requests and the same end.
#[test]
fn a_long_past_period_reads_requests_and_overdue_in_one_pass() {
    let d = common::busy_day();
    assert!(d.ws.today() > common::day(), "the period has ended");
    let from = |days| common::day() - chrono::Days::new(days);
    let long = daily_report(
        &d.ws,
        &ReportOptions {
            from: from(120),
            ..options(Locale::En)
        },
    )
    .unwrap();
    let short = daily_report(
        &d.ws,
        &ReportOptions {
            from: from(30),
            ..options(Locale::En)
        },
    )
    .unwrap();
    assert_eq!(long.requests.overdue_count, 1);
    assert_eq!(long.requests.overdue[0].receipt, d.overdue_receipt);
    assert_eq!(json(&long.requests), json(&short.requests));
    assert_eq!(json(&long.clerks), json(&short.clerks));
    assert_eq!(json(&long.money), json(&short.money));
}

/// A request taken long before a long past period and still overdue at its end: counted
/// overdue, not taken, in the one pass as in the two reads of a short period.
#[test]
fn a_long_past_period_counts_a_request_overdue_since_before_it() {
    use chrono::TimeZone;
    let (clock, mut ws) =
        common::centre(chrono::Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap());
    let old = common::request(&mut ws, "eleni", 1, "tax-clearance-certificate", None);
    common::by(&mut ws, "eleni")
        .pay(&old, "3.00", guichet_domain::feedback::PaymentMethod::Card)
        .unwrap();
    common::by(&mut ws, "eleni")
        .advance(&old, guichet_domain::request::Action::Dispatch, None, None)
        .unwrap();
    clock.advance(chrono::Duration::days(220));
    let end = common::day();
    let report = |days| {
        daily_report(
            &ws,
            &ReportOptions {
                from: end - chrono::Days::new(days),
                ..options(Locale::En)
            },
        )
        .unwrap()
    };
    let (long, short) = (report(120), report(30));
    for r in [&long, &short] {
        assert_eq!(r.requests.taken, 0);
        assert_eq!(r.requests.overdue_count, 1);
        assert_eq!(r.requests.overdue[0].receipt, old);
    }
    assert_eq!(json(&long.requests), json(&short.requests));
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}

/// The figures of the day as kept: its basis, mark and figures.
fn kept(ws: &guichet_workstation::Workstation) -> Vec<(String, i64, String)> {
    ws.inspect(|conn| -> Result<_, guichet_workstation::Error> {
        let mut stmt = conn
            .prepare("SELECT basis, mark, figures FROM report_days WHERE day = ?1")
            .unwrap();
        let rows = stmt
            .query_map([common::day().to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        Ok(rows.map(Result::unwrap).collect())
    })
    .unwrap()
}

/// A finished day's figures are kept by the first report that reads it and read back by the
/// next; a change to the day makes the next report read its rows again; and figures read
/// before a change are not kept after it.
#[test]
fn kept_figures_are_used_only_while_their_day_is_unchanged() {
    let mut d = common::busy_day();
    assert!(kept(&d.ws).is_empty());
    let first = daily_report(&d.ws, &options(Locale::En)).unwrap();
    let [(basis, mark, figures)] = <[_; 1]>::try_from(kept(&d.ws)).unwrap();
    assert_eq!(basis, "UTC 900000");
    let again = daily_report(&d.ws, &options(Locale::Fr)).unwrap();
    assert_eq!(json(&again.queue.by_hour), json(&first.queue.by_hour));
    assert_eq!(json(&again.clerks), json(&first.clerks));
    assert_eq!(again.requests.taken, first.requests.taken);
    assert!(
        again
            .queue
            .by_target
            .iter()
            .any(|g| g.name == "Acte de naissance"),
        "names come in the report's language"
    );

    // Figures kept at the day's mark are what the report shows: it reads them, not the rows.
    let mut doctored: serde_json::Value = serde_json::from_str(&figures).unwrap();
    doctored["queue"]["issued"] = 999.into();
    let keep = |mark, figures: &serde_json::Value| guichet_workstation::store::KeptDay {
        day: common::day(),
        basis: basis.clone(),
        mark,
        figures: figures.to_string(),
    };
    assert_eq!(d.ws.keep_report_days(&[keep(mark, &doctored)]).unwrap(), 1);
    assert_eq!(
        daily_report(&d.ws, &options(Locale::En))
            .unwrap()
            .queue
            .issued,
        999
    );

    // A request of the day moves: the day's rows are read again, and kept again.
    common::by(&mut d.ws, "eleni")
        .advance(
            &d.returned_receipt,
            guichet_domain::request::Action::Cancel,
            Some("the citizen gave up"),
            Some(&common::sofia()),
        )
        .unwrap();
    let after = daily_report(&d.ws, &options(Locale::En)).unwrap();
    assert_eq!(after.queue.issued, first.queue.issued);
    let [(_, moved, _)] = <[_; 1]>::try_from(kept(&d.ws)).unwrap();
    assert!(moved > mark, "the day's mark moved: {mark} then {moved}");
    // Figures read at the old mark are not kept over the new one.
    assert_eq!(d.ws.keep_report_days(&[keep(mark, &doctored)]).unwrap(), 0);
    assert_eq!(
        daily_report(&d.ws, &options(Locale::En))
            .unwrap()
            .queue
            .issued,
        first.queue.issued
    );
}

/// Today's figures are kept too (the report at closing time keeps the day), and the next
/// ticket of the day is counted all the same.
#[test]
fn a_day_kept_before_it_ends_still_counts_what_comes_after() {
    let mut d = common::busy_day();
    let today = ReportOptions::day(d.ws.today());
    let before = daily_report(&d.ws, &today).unwrap().queue.issued;
    let days = |ws: &guichet_workstation::Workstation| -> Vec<String> {
        ws.inspect(|conn| -> Result<_, guichet_workstation::Error> {
            let mut stmt = conn.prepare("SELECT day FROM report_days").unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            Ok(rows.map(Result::unwrap).collect())
        })
        .unwrap()
    };
    assert_eq!(days(&d.ws), vec![d.ws.today().to_string()]);
    common::by(&mut d.ws, "eleni")
        .issue_ticket(&guichet_workstation::store::NewTicket {
            target: guichet_domain::queue::QueueTarget::Service("passport".into()),
            lane: "standard".into(),
        })
        .unwrap();
    assert_eq!(
        daily_report(&d.ws, &today).unwrap().queue.issued,
        before + 1
    );
}

/// A period that has ended shows the money of its requests as it stood at its end: a request
/// paid after it is still owed in it, a fee waived after it is not waived in it, a payment
/// refunded after it is paid in it; and the report made again later says the same. A period
/// not ended yet shows them as they are.
#[test]
fn a_past_period_shows_what_was_owed_at_its_end() {
    use guichet_domain::feedback::PaymentMethod;

    let mut d = common::busy_day();
    let monday = d.ws.today();
    let ws = &mut d.ws;
    let paid_later = common::request(ws, "eleni", 11, "passport", None);
    let waived_later = common::request(ws, "eleni", 12, "identity-card", None);
    let refunded_later = common::request(ws, "eleni", 13, "tax-clearance-certificate", None);
    let payment = common::by(ws, "eleni")
        .pay(&refunded_later, "3.00", PaymentMethod::Card)
        .unwrap();
    let period = ReportOptions::day(monday);

    // The next morning, before anything else: the day as it ended.
    d.clock.advance(chrono::Duration::hours(32));
    let at_close = daily_report(&d.ws, &period).unwrap();
    let m = &at_close.money;
    assert_eq!((m.fees_due_minor, m.requests_with_fee), (11_400, 3));
    assert_eq!((m.collected_minor, m.waived_minor), (300, 0));
    assert!(m.waivers.is_empty());
    assert_eq!(m.outstanding_minor, 11_100);

    // That morning the passport is paid, the identity card's fee waived and the certificate's
    // payment given back.
    let ws = &mut d.ws;
    common::by(ws, "eleni")
        .pay(&paid_later, "86.00", PaymentMethod::Cash)
        .unwrap();
    common::by(ws, "eleni")
        .waive(&waived_later, "older-people", Some(&common::sofia()))
        .unwrap();
    common::by(ws, "eleni")
        .refund(
            &refunded_later,
            &guichet_workstation::store::NewRefund {
                payment: payment.receipt,
                amount: "3.00".into(),
                reason: "the citizen needed no certificate".into(),
            },
            Some(&common::sofia()),
        )
        .unwrap();
    let later = daily_report(&d.ws, &period).unwrap();
    assert_eq!(json(&later.money), json(&at_close.money));
    // A week on, from the figures that report kept: the same again.
    d.clock.advance(chrono::Duration::days(7));
    let week_on = daily_report(&d.ws, &period).unwrap();
    assert_eq!(json(&week_on.money), json(&at_close.money));

    // The row of what is still owed keeps its label whatever the period, and the next row
    // says the day its figures are as at, as a date.
    let label = |text: &str| guichet_report::Cell::Text(text.to_owned());
    let owed = |report: &guichet_report::Report, as_at: &str| {
        let rows = &guichet_report::tables(report)[0].rows;
        let at = rows.iter().position(|r| r[0] == label(as_at)).unwrap();
        (rows[at - 1][0].clone(), rows[at][1].clone())
    };
    assert_eq!(
        owed(&week_on, "As at"),
        (
            label("Still owed at the end of the period (requests taken in the period)"),
            guichet_report::Cell::Date(monday)
        )
    );
    let french = ReportOptions {
        locale: Locale::Fr,
        ..period
    };
    assert_eq!(
        owed(&daily_report(&d.ws, &french).unwrap(), "Arrêté au"),
        (
            label("Reste dû à la fin de la période (demandes prises sur la période)"),
            guichet_report::Cell::Date(monday)
        )
    );

    // A period that reaches today shows the money as it is now.
    let to_today = ReportOptions {
        to: d.ws.today(),
        ..period
    };
    let now = daily_report(&d.ws, &to_today).unwrap();
    let m = &now.money;
    assert_eq!((m.waived_minor, m.outstanding_minor), (2500, 300));
    assert_eq!(m.waivers[0].ground, "older-people");
    assert_eq!(
        owed(&now, "As at"),
        (
            label("Still owed today (requests taken in the period)"),
            guichet_report::Cell::Date(d.ws.today())
        )
    );
}
