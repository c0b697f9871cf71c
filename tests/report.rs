//! The report of one device of a centre with several: what another counter of the centre did
//! in a period that has ended counts in it as of when that counter did it, not as of when it
//! reached this device.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guichet_domain::account::Role;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::request::Action;
use guichet_report::{ReportOptions, daily_report};
use guichet_tests::{Device, Server};
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::{Approval, NewRefund};

const CENTER: &str = "ATH-01";

/// A centre with a back office and two counters, A and B, both enrolled and synced once.
struct Centre {
    /// For the devices to reach, and the agency to decide on.
    server: Server,
    a: Device,
    b: Device,
    clock_a: Arc<ManualClock>,
    clock_b: Arc<ManualClock>,
    /// A supervisor's approval, for the acts that need four eyes.
    approval: Approval,
    /// The counters' day, and half an hour after its end.
    day: NaiveDate,
    after_the_end: DateTime<Utc>,
}

impl Centre {
    async fn open() -> Centre {
        let server = Server::start(CENTER).await;
        let supervisor = "sup-ath-01";
        server
            .add_clerk(CENTER, supervisor, "Supervisor of ATH-01", Role::Supervisor)
            .await;
        let approval = Approval {
            username: supervisor.into(),
            password: guichet_fixtures::DEMO_PASSWORD.into(),
        };
        // Both counters' clocks stand an hour ahead of the back office's, so that what they
        // do is stamped by their own clocks, on their own day, whatever the time of the test.
        let start = Utc::now() + Duration::hours(1);
        let clock_a = Arc::new(ManualClock::at(start));
        let clock_b = Arc::new(ManualClock::at(start));
        let mut a = Device::enroll(&server, CENTER, clock_a.clone()).await;
        let mut b = Device::enroll(&server, CENTER, clock_b.clone()).await;
        a.sync().await.unwrap();
        b.sync().await.unwrap();
        let day = b.ws.today();
        let zone = b.ws.config().unwrap().time_zone;
        let after_the_end = zone.end_of(day) + Duration::minutes(30);
        Centre {
            server,
            a,
            b,
            clock_a,
            clock_b,
            approval,
            day,
            after_the_end,
        }
    }

    /// B pushes what it did; A hears of it, and of nothing before, an hour after the end of
    /// the day.
    async fn a_hears_of_b_after_the_end(&mut self) {
        let pushed = self.b.sync().await.unwrap();
        assert_eq!(pushed.refused + pushed.conflicts, 0, "{pushed:?}");
        self.clock_a
            .set_wall(self.after_the_end + Duration::minutes(30));
        let pulled = self.a.sync().await.unwrap();
        assert!(pulled.pulled > 0, "{pulled:?}");
    }

    /// B cancels a request, the supervisor approving.
    fn b_cancels(&mut self, receipt: &str) {
        self.b
            .ws
            .advance(
                receipt,
                Action::Cancel,
                Some("citizen withdrew"),
                Some(&self.approval),
            )
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_counters_payments_and_waiver_count_in_the_period_they_were_made_in() {
    let mut centre = Centre::open().await;
    let (b, approval) = (&mut centre.b, &centre.approval);

    // On its day, counter B takes requests, each paid there and then. Of two with a fee, it
    // gives the payment back: one is then waived there and then, the other paid again only
    // the next morning.
    let receipts = b.offline_work(24);
    let charged: Vec<_> = receipts
        .iter()
        .map(|r| b.ws.request(r).unwrap())
        .filter(|r| r.summary.fee.is_some())
        .collect();
    let exempt = |r: &&guichet_workstation::store::RequestDetail| {
        let service = b.ws.service(&r.summary.service_code).unwrap();
        service.exemptions.first().cloned()
    };
    let waived = charged.iter().find(|r| exempt(r).is_some()).unwrap();
    let ground = exempt(&waived).unwrap();
    let paid_later = charged.iter().find(|r| exempt(r).is_none()).unwrap();
    for request in [waived, paid_later] {
        b.ws.refund(
            &request.summary.receipt,
            &NewRefund {
                payment: request.payments[0].receipt.clone(),
                amount: request.payments[0].amount.decimal(),
                reason: "taken by mistake".into(),
            },
            Some(approval),
        )
        .unwrap();
    }
    b.ws.waive(&waived.summary.receipt, &ground, Some(approval))
        .unwrap();
    centre.clock_b.set_wall(centre.after_the_end);
    let late = paid_later.summary.fee.as_ref().unwrap();
    b.ws.pay(
        &paid_later.summary.receipt,
        &late.decimal(),
        PaymentMethod::Card,
    )
    .unwrap();
    let period = ReportOptions::day(centre.day);
    let at_b = daily_report(&b.ws, &period).unwrap().money;
    let fee = |r: &guichet_workstation::store::RequestDetail| r.summary.fee.as_ref().unwrap().minor;
    assert_eq!(
        (
            at_b.fees_due_minor,
            at_b.waived_minor,
            at_b.outstanding_minor
        ),
        (charged.iter().map(fee).sum(), fee(waived), fee(paid_later))
    );

    // Counter A hears of all of it only after the end of that day, and says the same.
    centre.a_hears_of_b_after_the_end().await;
    let a = &centre.a;
    let at_a = daily_report(&a.ws, &period).unwrap().money;
    assert_eq!(
        (
            at_a.fees_due_minor,
            at_a.waived_minor,
            at_a.outstanding_minor
        ),
        (
            at_b.fees_due_minor,
            at_b.waived_minor,
            at_b.outstanding_minor
        )
    );
    assert_eq!(at_a.waivers.len(), 1, "{:?}", at_a.waivers);
    assert_eq!(at_a.waivers[0].ground, ground);
    assert!(a.ws.verify_audit().unwrap().result.is_ok());
}

/// The cash a supervisor closing the day counts is the centre's drawer of that day: another
/// counter's payments and refunds count in what was collected and in the cash expected of the
/// day they were made, not of the day they reached this device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_counters_payments_and_refunds_are_collected_on_the_day_they_were_made() {
    let mut centre = Centre::open().await;
    let period = ReportOptions::day(centre.day);

    // On their day, both counters take requests, each paid in cash there and then; B gives
    // one payment back, in cash. The next morning B takes more, paid there and then.
    centre.a.offline_work(6);
    let own = daily_report(&centre.a.ws, &period).unwrap().money;
    let receipts = centre.b.offline_work(12);
    let paid = receipts
        .iter()
        .map(|r| centre.b.ws.request(r).unwrap())
        .find(|r| !r.payments.is_empty())
        .unwrap();
    centre
        .b
        .ws
        .refund(
            &paid.summary.receipt,
            &NewRefund {
                payment: paid.payments[0].receipt.clone(),
                amount: paid.payments[0].amount.decimal(),
                reason: "taken by mistake".into(),
            },
            Some(&centre.approval),
        )
        .unwrap();
    centre.clock_b.set_wall(centre.after_the_end);
    centre.b.offline_work(6);
    let next_day = ReportOptions::day(centre.b.ws.today());
    let at_b = daily_report(&centre.b.ws, &period).unwrap().money;
    let next_at_b = daily_report(&centre.b.ws, &next_day).unwrap().money;
    assert!(own.collected_minor > 0 && at_b.cash_expected_minor > 0);
    assert_eq!(at_b.refunded_minor, paid.payments[0].amount.minor);
    assert!(next_at_b.collected_minor > 0, "{next_at_b:?}");

    // A's report of the day made after its end, before B's work reached it, says that nothing
    // made on the day came late.
    centre.clock_a.set_wall(centre.after_the_end);
    let before = daily_report(&centre.a.ws, &period).unwrap().late;
    assert!(!before.arrived.any(), "{before:?}");
    assert_eq!(
        before.statement.as_deref(),
        Some("Nothing made in the period reached this device after it ended.")
    );

    // A hears of it the next morning: its day holds its own cash and B's of that day, and
    // what B took the next morning is the next day's.
    centre.a_hears_of_b_after_the_end().await;
    let report_a = daily_report(&centre.a.ws, &period).unwrap();
    let at_a = report_a.money;
    let money = |m: &guichet_report::MoneySection| {
        (
            m.collected_minor,
            m.refunded_minor,
            m.net_collected_minor,
            m.cash_expected_minor,
        )
    };
    assert_eq!(
        money(&at_a),
        (
            own.collected_minor + at_b.collected_minor,
            at_b.refunded_minor,
            own.collected_minor + at_b.net_collected_minor,
            own.cash_expected_minor + at_b.cash_expected_minor,
        )
    );
    assert_eq!(at_a.refunds.len(), 1, "{:?}", at_a.refunds);
    // And it says which of them came after the day had ended, for a supervisor who made the
    // day's report before then.
    let late = report_a.late;
    let arrived = late.arrived;
    let b_payments: u64 = at_b.by_method.iter().map(|m| m.payments).sum();
    assert_eq!(
        (
            arrived.payments,
            arrived.paid_minor,
            arrived.refunds,
            arrived.refunded_minor
        ),
        (b_payments, at_b.collected_minor, 1, at_b.refunded_minor)
    );
    assert!(late.last_at.unwrap() >= centre.after_the_end, "{late:?}");
    let said = late.statement.unwrap();
    assert!(
        said.contains(&format!("; {b_payments} payments (")),
        "{said}"
    );
    assert!(said.contains("; 1 refund ("), "{said}");
    let next_at_a = daily_report(&centre.a.ws, &next_day).unwrap().money;
    assert_eq!(money(&next_at_a), money(&next_at_b));
}

/// The statuses at the end of a day are the statuses then at the counter that moved the
/// requests, however late their moves reached this device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_counters_moves_count_in_the_statuses_at_the_end_of_the_day_they_were_made_in() {
    let mut centre = Centre::open().await;
    let period = ReportOptions::day(centre.day);

    // On its day, B takes requests and dispatches them; the next morning it cancels one.
    let receipts = centre.b.offline_work(6);
    let moved_on_the_day = receipts
        .iter()
        .flat_map(|r| centre.b.ws.request(r).unwrap().timeline)
        .filter(|line| line.from.is_some())
        .count();
    centre.clock_b.set_wall(centre.after_the_end);
    centre.b_cancels(&receipts[0]);
    let at_b = statuses(&period, &centre.b);
    assert_eq!(at_b, [("dispatched".to_owned(), 6)]);

    // A hears of all of it after the end of the day: the day ended with the six dispatched,
    // and the moves made on it came late, the cancel made after it not among them.
    centre.a_hears_of_b_after_the_end().await;
    assert_eq!(statuses(&period, &centre.a), at_b);
    let late = daily_report(&centre.a.ws, &period).unwrap().late;
    assert_eq!(
        (late.arrived.requests, late.arrived.moves),
        (6, moved_on_the_day as u64),
        "{late:?}"
    );
    let said = late.statement.unwrap();
    assert!(
        said.starts_with("Made in the period, received after it ended: 6 requests taken; "),
        "{said}"
    );
    assert!(
        said.contains(&format!("; {moved_on_the_day} status changes.")),
        "{said}"
    );
    let today = ReportOptions {
        to: centre.a.ws.today(),
        ..period
    };
    assert_eq!(
        statuses(&today, &centre.a),
        [("dispatched".to_owned(), 5), ("cancelled".to_owned(), 1)]
    );
}

/// A move another counter made before the end of the day counts in the statuses at its end
/// even when it reached this device only after a move made here since: the day ended as it
/// was last moved before its end, wherever it was moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_counters_move_made_on_the_day_counts_at_its_end_after_a_later_move_made_here() {
    let mut centre = Centre::open().await;
    let period = ReportOptions::day(centre.day);

    // On the day, B takes a request, the agency makes it ready, and both counters know it.
    let receipt = centre.b.offline_work(1).remove(0);
    centre.b.sync().await.unwrap();
    for action in [Action::TakeInProcessing, Action::MarkReady] {
        centre
            .server
            .office
            .agency_decide(&receipt, action, None, "agency:anna")
            .await
            .unwrap();
    }
    centre.a.sync().await.unwrap();
    centre.b.sync().await.unwrap();
    // Still on the day, B cancels it: the day ends with it cancelled.
    centre.b_cancels(&receipt);
    let at_b = statuses(&period, &centre.b);
    assert_eq!(at_b, [("cancelled".to_owned(), 1)]);

    // After the end, A, not knowing of it, hands the request over; then it hears of B's
    // cancellation, after its own move: the day still ended with the request cancelled.
    centre.clock_a.set_wall(centre.after_the_end);
    centre
        .a
        .ws
        .advance(&receipt, Action::Deliver, None, None)
        .unwrap();
    centre.a_hears_of_b_after_the_end().await;
    assert_eq!(statuses(&period, &centre.a), at_b);
    // The same request by request, as a report reads it when too many requests moved since.
    let end = centre.a.ws.config().unwrap().time_zone.end_of(centre.day);
    let mut then = Vec::new();
    centre
        .a
        .ws
        .report_read(|read| {
            read.statuses_then((centre.day, centre.day), end, |r| {
                then.push(r.status_then.map(str::to_owned));
                Ok::<_, guichet_workstation::Error>(())
            })
        })
        .unwrap();
    assert_eq!(then, [Some("cancelled".to_owned())]);
}

/// The requests taken in the period, by their status at its end, as `device` reports them.
fn statuses(options: &ReportOptions<'_>, device: &Device) -> Vec<(String, u64)> {
    let report = daily_report(&device.ws, options).unwrap();
    report
        .requests
        .by_status
        .iter()
        .map(|s| (s.status.as_str().to_owned(), s.count))
        .collect()
}
