//! The queue on a manual clock: who is called next, and how waiting and service times are
//! measured when calls are missed, tickets move and the wall clock is reset.

mod common;

use chrono::Duration;
use common::{citizen, demo, service_where, supervisor, valid_form};
use guichet_domain::catalogue::Channel;
use guichet_domain::queue::{Counter, CounterScope, QueueTarget, TicketStatus};
use guichet_workstation::store::{NewRequest, NewTicket, RequestFilter, Transfer};

fn ticket(service: &str, lane: &str) -> NewTicket {
    NewTicket {
        target: QueueTarget::Service(service.to_owned()),
        lane: lane.to_owned(),
    }
}

#[test]
fn priority_lanes_first_then_arrival_and_only_what_the_counter_serves() {
    let mut b = demo();
    let ws = &mut b.ws;
    let a = service_where(ws, |_| true);
    let other = service_where(ws, |s| s.category != a.category);
    ws.add_counter(&Counter {
        code: "W1".into(),
        name: "Window 1".into(),
        scope: CounterScope::All,
    })
    .unwrap();
    ws.add_counter(&Counter {
        code: "W2".into(),
        name: "Window 2".into(),
        scope: CounterScope::Listed {
            services: vec![],
            categories: vec![other.category.clone()],
        },
    })
    .unwrap();
    let first = ws.issue_ticket(&ticket(&a.code, "standard")).unwrap();
    let second = ws.issue_ticket(&ticket(&other.code, "standard")).unwrap();
    let elderly = ws.issue_ticket(&ticket(&a.code, "elderly")).unwrap();
    assert!(first.code.ends_with("001"), "{}", first.code);
    assert_ne!(first.code, second.code);
    assert!(
        ws.tickets_at_counters().unwrap().is_empty(),
        "nobody called yet"
    );

    // W2 serves only the other category: it skips the earlier and the priority tickets.
    let w2 = ws.call_next("W2").unwrap().unwrap();
    assert_eq!(w2.code, second.code);
    let w1 = ws.call_next("W1").unwrap().unwrap();
    assert_eq!(w1.code, elderly.code, "priority lane first");
    let mut at_counters = vec![second.code.clone(), elderly.code.clone()];
    at_counters.sort();
    assert_eq!(ws.tickets_at_counters().unwrap(), at_counters);
    let err = ws.call_next("W1").unwrap_err();
    assert!(err.to_string().contains("busy"), "{err}");
    ws.no_show(&w1.code).unwrap();
    let w1 = ws.call_next("W1").unwrap().unwrap();
    assert_eq!(w1.code, first.code);
    ws.start_service(&w1.code).unwrap();
    ws.finish_service(&w1.code).unwrap();
    assert_eq!(
        ws.tickets_at_counters().unwrap(),
        [second.code.as_str()],
        "W2's citizen is still called; W1's visit is over"
    );
    assert!(ws.call_next("W1").unwrap().is_none(), "nobody else waits");
    assert!(ws.call_next("W9").is_err(), "unknown counter");
    assert!(
        ws.issue_ticket(&ticket(&a.code, "vip")).is_err(),
        "unknown lane"
    );
}

#[test]
fn waiting_and_service_times_use_the_monotonic_clock() {
    let mut b = demo();
    let service = service_where(&b.ws, |_| true);
    b.ws.add_counter(&Counter {
        code: "W1".into(),
        name: "Window 1".into(),
        scope: CounterScope::All,
    })
    .unwrap();
    let t =
        b.ws.issue_ticket(&ticket(&service.code, "standard"))
            .unwrap();
    b.clock.advance(Duration::minutes(12));
    b.ws.call_next("W1").unwrap();
    // Someone sets the wall clock back an hour while the citizen is away.
    let wall = b.ws.now().wall;
    b.clock.set_wall(wall - Duration::hours(1));
    b.ws.no_show(&t.code).unwrap();
    b.clock.advance(Duration::minutes(5));
    let kostas = supervisor(&mut b.ws);
    b.ws.recall(&t.code, Some(&kostas)).unwrap();
    let serving = b.ws.start_service(&t.code).unwrap();
    // After a no-show, waiting runs to the last call: 12 + 5 minutes.
    assert_eq!(serving.waiting_ms, Some(17 * 60_000));
    assert_eq!(serving.calls, 2);
    assert_eq!(serving.no_shows, 1);
    let visit = serving.visit.clone().unwrap();

    // A request taken during the visit is linked to it.
    let mari = b.ws.register_citizen(&citizen(9)).unwrap();
    let new = NewRequest {
        citizen: mari.national_id.clone(),
        service: service.code.clone(),
        form: valid_form(&service, b.ws.today()),
        documents_received: vec![],
        visit: Some(b.ws.open_visit(&t.code).unwrap()),
        submit: false,
    };
    let r = b.ws.create_request(&new).unwrap();
    assert_eq!(r.visit_id.as_deref(), Some(visit.as_str()));
    // A walk-in's request, taken meanwhile, is not the visit's: the window finds the visit's
    // requests again after a restart by the ticket's visit.
    b.ws.create_request(&NewRequest {
        visit: None,
        ..new.clone()
    })
    .unwrap();
    let of_visit = |visit: &str| {
        b.ws.list_requests(&RequestFilter {
            visit: Some(visit.to_owned()),
            ..RequestFilter::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.receipt)
        .collect::<Vec<_>>()
    };
    assert_eq!(of_visit(&visit), std::slice::from_ref(&r.summary.receipt));
    assert!(of_visit("another visit").is_empty());

    b.clock.advance(Duration::seconds(400));
    let done = b.ws.finish_service(&t.code).unwrap();
    assert_eq!(done.service_ms, Some(400_000));
    assert_eq!(done.status, TicketStatus::Done);
    assert!(b.ws.create_request(&new).is_err(), "the visit has ended");
    // An escape that would rewrite a terminal showing the report is refused; lines are not.
    let refused = b.ws.record_feedback(
        &t.code,
        5,
        Some("Quick\u{1b}[31m and kind"),
        Channel::StationaryCenter,
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("the comment holds a character that is not shown as it is (U+001B)")
    );
    b.ws.record_feedback(
        &t.code,
        5,
        Some("Quick\r\nand kind"),
        Channel::StationaryCenter,
    )
    .unwrap();
    assert!(
        b.ws.record_feedback(&t.code, 4, None, Channel::StationaryCenter)
            .is_err(),
        "one rating per visit"
    );
    assert!(
        b.ws.record_feedback(&t.code, 6, None, Channel::StationaryCenter)
            .is_err()
    );
    assert_eq!(
        b.ws.list_requests(&RequestFilter::default()).unwrap().len(),
        2
    );
}

#[test]
fn transfers_keep_arrival_order_and_can_target_a_counter() {
    let mut b = demo();
    let ws = &mut b.ws;
    let service = service_where(ws, |_| true);
    for code in ["W1", "W2"] {
        ws.add_counter(&Counter {
            code: code.into(),
            name: code.into(),
            scope: CounterScope::All,
        })
        .unwrap();
    }
    let t1 = ws.issue_ticket(&ticket(&service.code, "standard")).unwrap();
    let t2 = ws.issue_ticket(&ticket(&service.code, "standard")).unwrap();
    let called = ws.call_next("W1").unwrap().unwrap();
    assert_eq!(called.code, t1.code);
    ws.transfer(&t1.code, &Transfer::Counter("W2".into()))
        .unwrap();
    // W1 is free again and takes t2; t1 waits for W2 only.
    assert_eq!(ws.call_next("W1").unwrap().unwrap().code, t2.code);
    assert_eq!(ws.call_next("W2").unwrap().unwrap().code, t1.code);
    assert!(
        ws.transfer(&t1.code, &Transfer::Counter("W9".into()))
            .is_err()
    );
    let list = ws.waiting_list().unwrap();
    assert_eq!(list.len(), 2, "both are called, neither served yet");
    assert!(list.iter().all(|e| e.status == TicketStatus::Called));
}

#[test]
fn lanes_are_configurable() {
    let mut b = demo();
    let ws = &mut b.ws;
    let service = service_where(ws, |_| true);
    ws.add_counter(&Counter {
        code: "W1".into(),
        name: "Window 1".into(),
        scope: CounterScope::All,
    })
    .unwrap();
    let lane = guichet_domain::queue::Lane {
        code: "urgent".into(),
        name: guichet_domain::text::Text::en_fr("Urgent", "Urgent"),
        rank: 0,
    };
    ws.set_lane(&lane).unwrap();
    assert_eq!(ws.lanes().unwrap()[0], lane);
    let elderly = ws.issue_ticket(&ticket(&service.code, "elderly")).unwrap();
    let urgent = ws.issue_ticket(&ticket(&service.code, "urgent")).unwrap();
    assert_eq!(ws.call_next("W1").unwrap().unwrap().code, urgent.code);
    // Service cannot finish before it started.
    assert!(ws.finish_service(&urgent.code).is_err());
    // A lane is named in both languages.
    let mut nameless = lane.clone();
    nameless.name.0.remove("fr");
    assert!(ws.set_lane(&nameless).is_err());
    // Its names are said on screens and tickets: bounded, and shown as they are stored.
    for (bad, said) in [
        ("U\u{202E}rgent", "invisible character U+202E"),
        ("Urgent\u{1b}[2J", "invisible character U+001B"),
        (&"U".repeat(81), "81 characters: at most 80"),
    ] {
        let mut named = lane.clone();
        named.name.0.insert("fr".into(), bad.to_owned());
        let refused = ws.set_lane(&named).unwrap_err().to_string();
        assert!(refused.contains(said), "{refused}");
    }
    assert_eq!(ws.lanes().unwrap()[0], lane);
    assert_eq!(
        ws.waiting_list().unwrap().last().unwrap().code,
        elderly.code
    );
}

/// The waiting room's display: the day's calls, newest first, to which counter, which one the
/// citizen is expected at now, a recall counted as a new call; yesterday's calls gone.
#[test]
fn the_calling_board_shows_the_days_calls_newest_first() {
    let mut b = demo();
    let service = service_where(&b.ws, |_| true);
    for (code, name) in [("W1", "Window 1"), ("W2", "Window 2")] {
        b.ws.add_counter(&Counter {
            code: code.into(),
            name: name.into(),
            scope: CounterScope::All,
        })
        .unwrap();
    }
    let empty = b.ws.calling_board(5).unwrap();
    assert!(empty.calls.is_empty());
    assert_eq!(empty.day, b.ws.today().to_string());
    assert!(!empty.center_name.is_empty());
    let tickets: Vec<_> = (0..3)
        .map(|_| {
            b.ws.issue_ticket(&ticket(&service.code, "standard"))
                .unwrap()
        })
        .collect();
    let first = b.ws.call_next("W1").unwrap().unwrap();
    b.clock.advance(Duration::seconds(30));
    let second = b.ws.call_next("W2").unwrap().unwrap();
    b.clock.advance(Duration::seconds(30));
    b.ws.start_service(&first.code).unwrap();
    let board = b.ws.calling_board(5).unwrap();
    assert_eq!(board.waiting, 1);
    let shown: Vec<_> = board
        .calls
        .iter()
        .map(|c| (c.code.as_str(), c.counter_name.as_str(), c.expected))
        .collect();
    assert_eq!(
        shown,
        [
            (second.code.as_str(), "Window 2", true),
            (first.code.as_str(), "Window 1", false),
        ]
    );
    assert_eq!(first.code, tickets[0].code);

    // Called again: first on the board once more, as a second call.
    b.clock.advance(Duration::seconds(30));
    b.ws.start_service(&second.code).unwrap();
    b.ws.finish_service(&first.code).unwrap();
    b.ws.call_next("W1").unwrap().unwrap();
    b.clock.advance(Duration::seconds(30));
    let third = b.ws.recall(&tickets[2].code, None).unwrap();
    let board = b.ws.calling_board(1).unwrap();
    assert_eq!(board.calls.len(), 1, "at most the calls asked for");
    assert_eq!(board.calls[0].code, third.code);
    assert_eq!(board.calls[0].calls, 2);

    // The next day starts with an empty board.
    b.clock.advance(Duration::days(1));
    assert!(b.ws.calling_board(5).unwrap().calls.is_empty());
}
