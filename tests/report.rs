//! The report of one device of a centre with several: what another counter of the centre did
//! in a period that has ended counts in it as of when that counter did it, not as of when it
//! reached this device.

use std::sync::Arc;

use chrono::Duration;
use guichet_domain::account::Role;
use guichet_domain::feedback::PaymentMethod;
use guichet_report::{ReportOptions, daily_report};
use guichet_tests::{Device, Server};
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::{Approval, NewRefund};

const CENTER: &str = "ATH-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_counters_payments_and_waiver_count_in_the_period_they_were_made_in() {
    let server = Server::start(CENTER).await;
    let supervisor = "sup-ath-01";
    server
        .add_clerk(CENTER, supervisor, "Supervisor of ATH-01", Role::Supervisor)
        .await;
    let approval = Approval {
        username: supervisor.into(),
        password: guichet_fixtures::DEMO_PASSWORD.into(),
    };
    // Both counters' clocks stand an hour ahead of the back office's, so that what they do
    // is stamped by their own clocks, on their own day, whatever the time of the test.
    let start = chrono::Utc::now() + Duration::hours(1);
    let clock_a = Arc::new(ManualClock::at(start));
    let clock_b = Arc::new(ManualClock::at(start));
    let mut a = Device::enroll(&server, CENTER, clock_a.clone()).await;
    let mut b = Device::enroll(&server, CENTER, clock_b.clone()).await;
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let day = b.ws.today();
    let zone = b.ws.config().unwrap().time_zone;
    let after_the_end = zone.end_of(day) + Duration::minutes(30);

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
            Some(&approval),
        )
        .unwrap();
    }
    b.ws.waive(&waived.summary.receipt, &ground, Some(&approval))
        .unwrap();
    clock_b.set_wall(after_the_end);
    let late = paid_later.summary.fee.as_ref().unwrap();
    b.ws.pay(
        &paid_later.summary.receipt,
        &late.decimal(),
        PaymentMethod::Card,
    )
    .unwrap();
    let pushed = b.sync().await.unwrap();
    assert_eq!(pushed.refused + pushed.conflicts, 0, "{pushed:?}");
    let period = ReportOptions::day(day);
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
    clock_a.set_wall(after_the_end + Duration::minutes(30));
    let pulled = a.sync().await.unwrap();
    assert!(pulled.pulled > 0, "{pulled:?}");
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
