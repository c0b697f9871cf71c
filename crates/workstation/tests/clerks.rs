//! Who is at the keyboard: logging in, failures and their growing wait, locking, switching
//! clerk, roles, accounts sent by the back office, and the command line's sessions.

mod common;

use chrono::Duration;
use guichet_domain::account::{Account, FREE_FAILURES, Role, Verifier};
use guichet_domain::queue::QueueTarget;
use guichet_fixtures::{DEMO_PASSWORD, clerk};
use guichet_protocol::{Pulled, PulledChange};
use guichet_workstation::clock::Clock;
use guichet_workstation::error::Access;
use guichet_workstation::store::{NewTicket, OutboxState};
use guichet_workstation::{Error, Workstation};
use rusqlite::Connection;

fn raw(b: &common::Bench) -> Connection {
    b.raw()
}

fn count(b: &common::Bench, table: &str) -> i64 {
    raw(b)
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn access(result: Result<impl std::fmt::Debug, Error>) -> Access {
    match result {
        Err(Error::Access(a)) => a,
        other => panic!("expected an access refusal, got {other:?}"),
    }
}

fn ticket() -> NewTicket {
    NewTicket {
        target: QueueTarget::Service("birth-certificate".into()),
        lane: "standard".into(),
    }
}

/// The session events in the outbox, oldest first: (clerk, event).
fn session_events(ws: &Workstation) -> Vec<(String, String)> {
    ws.outbox(None, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "clerk.session")
        .map(|e| (e.actor, e.payload["event"].as_str().unwrap().to_owned()))
        .collect()
}

/// The bench opened again from its file: nobody is logged in.
fn reopened(b: &common::Bench) -> Workstation {
    Workstation::open(&b.dir.path().join("guichet.sqlite3"), b.clock.clone()).unwrap()
}

#[test]
fn every_act_names_the_clerk_logged_in_and_nobody_acts_without_one() {
    let mut b = common::demo();
    // Set-up logged its administrator in.
    assert_eq!(b.ws.session().unwrap().username, "eleni");
    b.ws.add_clerk(&clerk("nikos", Role::Clerk)).unwrap();
    b.ws.logout().unwrap();
    let before = (count(&b, "audit_events"), count(&b, "outbox"));
    assert!(matches!(
        access(b.ws.issue_ticket(&ticket())),
        Access::NoSession
    ));
    assert_eq!((count(&b, "audit_events"), count(&b, "outbox")), before);

    b.ws.login("nikos", DEMO_PASSWORD).unwrap();
    b.ws.issue_ticket(&ticket()).unwrap();
    let last = b.ws.outbox(None, 100).unwrap().pop().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.actor.as_str()),
        ("ticket.issued", "nikos")
    );
    let actor: String = raw(&b)
        .query_row(
            "SELECT actor FROM audit_events ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actor, "nikos");
    // Logins and logouts travel like any change, under the clerk's name.
    let sessions = session_events(&b.ws);
    assert_eq!(
        sessions,
        [
            ("eleni".to_owned(), "logout".to_owned()),
            ("nikos".to_owned(), "login".to_owned())
        ]
    );
    // A new process starts with nobody logged in.
    let mut other = reopened(&b);
    assert!(other.session().is_none());
    assert!(matches!(
        access(other.issue_ticket(&ticket())),
        Access::NoSession
    ));
}

#[test]
fn a_wrong_password_and_an_unknown_name_get_the_same_answer_and_a_growing_wait() {
    let mut b = common::demo();
    b.ws.logout().unwrap();
    let outbox = count(&b, "outbox");
    assert!(matches!(
        access(b.ws.login("eleni", "not the password")),
        Access::LoginFailed
    ));
    assert!(matches!(
        access(b.ws.login("nobody", DEMO_PASSWORD)),
        Access::LoginFailed
    ));
    // Something typed into the name field that is no account is not kept.
    assert!(matches!(
        access(b.ws.login("my secret words", DEMO_PASSWORD)),
        Access::LoginFailed
    ));
    // The database stays closed: the failures are counted beside it, and their events go into
    // the trail at the next login.
    assert_eq!(count(&b, "outbox"), outbox);
    for _ in 1..FREE_FAILURES {
        access(b.ws.login("eleni", "still not it")).to_string();
    }
    // The failures in a row now make the next attempt wait, even with the right password,
    // and an attempt during the wait writes nothing.
    let written = count(&b, "audit_events");
    let wait = access(b.ws.login("eleni", DEMO_PASSWORD));
    assert!(
        matches!(wait, Access::Wait { seconds } if (1..=30).contains(&seconds)),
        "{wait:?}"
    );
    assert_eq!(count(&b, "audit_events"), written);
    // Moving the clock on does not end the wait, and putting it back does not lengthen it.
    let now = b.clock.now().wall;
    b.clock.set_wall(now + Duration::hours(1));
    assert!(matches!(
        access(b.ws.login("eleni", DEMO_PASSWORD)),
        Access::Wait { .. }
    ));
    b.clock.set_wall(now - Duration::hours(1));
    let back = access(b.ws.login("eleni", DEMO_PASSWORD));
    assert!(
        matches!(back, Access::Wait { seconds } if seconds <= 30),
        "{back:?}"
    );
    b.clock.set_wall(now);
    b.clock.advance(Duration::seconds(31));
    assert!(matches!(
        access(b.ws.login("eleni", "wrong again")),
        Access::LoginFailed
    ));
    let longer = access(b.ws.login("eleni", DEMO_PASSWORD));
    assert!(
        matches!(longer, Access::Wait { seconds } if seconds > 30),
        "{longer:?}"
    );
    b.clock.advance(Duration::seconds(61));
    b.ws.login("eleni", DEMO_PASSWORD).unwrap();
    let failed = |clerk: &str| {
        session_events(&b.ws)
            .iter()
            .filter(|(c, e)| c == clerk && e == "login_failed")
            .count()
    };
    assert_eq!(failed("eleni"), FREE_FAILURES as usize + 1);
    assert_eq!(failed("(unknown)"), 2);
    let kept: i64 = raw(&b)
        .query_row(
            "SELECT count(*) FROM audit_events WHERE change LIKE '%secret words%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 0);
    // A success clears the count: one more mistake is let through without a wait.
    b.ws.logout().unwrap();
    assert!(matches!(
        access(b.ws.login("eleni", "oops")),
        Access::LoginFailed
    ));
    b.ws.login("eleni", DEMO_PASSWORD).unwrap();
}

#[test]
fn a_locked_screen_refuses_everything_until_a_clerk_unlocks_it() {
    let mut b = common::demo();
    b.ws.add_clerk(&clerk("nikos", Role::Clerk)).unwrap();
    b.ws.lock().unwrap();
    assert!(b.ws.session().unwrap().locked);
    assert!(matches!(
        access(b.ws.issue_ticket(&ticket())),
        Access::Locked
    ));
    assert!(matches!(access(b.ws.lock()), Access::Locked));
    // A wrong password leaves it locked, for the same clerk.
    assert!(matches!(
        access(b.ws.unlock("eleni", "nope nope nope")),
        Access::LoginFailed
    ));
    assert!(b.ws.session().unwrap().locked);
    let back = b.ws.unlock("eleni", DEMO_PASSWORD).unwrap();
    assert_eq!((back.username.as_str(), back.locked), ("eleni", false));
    b.ws.issue_ticket(&ticket()).unwrap();

    // Another clerk at the shared counter: unlocking with their password switches to them.
    b.ws.lock().unwrap();
    let now = b.ws.unlock("nikos", DEMO_PASSWORD).unwrap();
    assert_eq!((now.username.as_str(), now.role), ("nikos", Role::Clerk));
    let events = session_events(&b.ws);
    let expected = [
        ("eleni", "lock"),
        ("eleni", "login_failed"),
        ("eleni", "unlock"),
        ("eleni", "lock"),
        ("eleni", "logout"),
        ("nikos", "login"),
    ]
    .map(|(a, e)| (a.to_owned(), e.to_owned()));
    assert_eq!(events[events.len() - expected.len()..], expected);
}

#[test]
fn roles_gate_acts_and_accounts_are_an_administrators() {
    let mut b = common::demo();
    b.ws.add_clerk(&clerk("nikos", Role::Clerk)).unwrap();
    b.ws.add_clerk(&clerk("sofia", Role::Supervisor)).unwrap();
    assert!(matches!(
        b.ws.add_clerk(&clerk("nikos", Role::Clerk)),
        Err(Error::Duplicate { .. })
    ));
    // A password that breaks the rule, a bad user name: refused, nothing added.
    let mut weak = clerk("maria", Role::Clerk);
    weak.password = "short".into();
    assert!(b.ws.add_clerk(&weak).is_err());
    assert!(b.ws.add_clerk(&clerk("Maria Z", Role::Clerk)).is_err());
    assert_eq!(b.ws.clerks().unwrap().len(), 3);

    b.ws.logout().unwrap();
    b.ws.login("nikos", DEMO_PASSWORD).unwrap();
    b.ws.issue_ticket(&ticket()).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
    let needed = access(b.ws.add_holiday(day, "Christmas"));
    assert!(
        matches!(
            needed,
            Access::Role {
                needed: Role::Supervisor,
                ..
            }
        ),
        "{needed:?}"
    );
    assert!(matches!(
        access(b.ws.add_clerk(&clerk("maria", Role::Clerk))),
        Access::Role {
            needed: Role::Administrator,
            ..
        }
    ));
    b.ws.logout().unwrap();
    b.ws.login("sofia", DEMO_PASSWORD).unwrap();
    b.ws.add_holiday(day, "Christmas").unwrap();
    assert!(matches!(
        access(b.ws.set_clerk_active("nikos", false)),
        Access::Role {
            needed: Role::Administrator,
            ..
        }
    ));

    // The administrator disables nikos: his key slot goes, and his password opens this
    // device no more.
    b.ws.logout().unwrap();
    b.ws.login("eleni", DEMO_PASSWORD).unwrap();
    b.ws.set_clerk_active("nikos", false).unwrap();
    b.ws.logout().unwrap();
    assert!(matches!(
        access(b.ws.login("nikos", DEMO_PASSWORD)),
        Access::LoginFailed
    ));
    // The last active administrator cannot be disabled or demoted.
    b.ws.login("eleni", DEMO_PASSWORD).unwrap();
    assert!(matches!(
        access(b.ws.set_clerk_active("eleni", false)),
        Access::LastAdministrator
    ));
    assert!(matches!(
        access(b.ws.set_clerk_role("eleni", Role::Clerk)),
        Access::LastAdministrator
    ));
    b.ws.set_clerk_role("sofia", Role::Administrator).unwrap();
    b.ws.set_clerk_role("eleni", Role::Supervisor).unwrap();
    // A new password replaces the old one.
    b.ws.logout().unwrap();
    b.ws.login("sofia", DEMO_PASSWORD).unwrap();
    b.ws.set_clerk_active("nikos", true).unwrap();
    b.ws.reset_clerk_password("nikos", "a brand new passphrase")
        .unwrap();
    b.ws.logout().unwrap();
    assert!(matches!(
        access(b.ws.login("nikos", DEMO_PASSWORD)),
        Access::LoginFailed
    ));
    b.ws.login("nikos", "a brand new passphrase").unwrap();
}

#[test]
fn a_clerk_disabled_while_logged_in_acts_no_more() {
    let mut b = common::demo();
    b.ws.add_clerk(&clerk("nikos", Role::Clerk)).unwrap();
    let mut counter = reopened(&b);
    counter.login("nikos", DEMO_PASSWORD).unwrap();
    counter.issue_ticket(&ticket()).unwrap();
    b.ws.set_clerk_active("nikos", false).unwrap();
    assert!(matches!(
        access(counter.issue_ticket(&ticket())),
        Access::Disabled
    ));
    assert!(counter.session().is_none());
}

fn account(name: &str, role: Role, active: bool) -> Account {
    Account {
        username: name.into(),
        display_name: name.into(),
        role,
        active,
        verifier: Verifier::new(DEMO_PASSWORD, [3; 16]).unwrap(),
    }
}

#[test]
fn an_enrolled_device_takes_its_accounts_from_the_back_office() {
    let mut b = common::demo();
    common::enrolled(&mut b);
    // Accounts are managed at the back office now.
    assert!(matches!(
        access(b.ws.add_clerk(&clerk("nikos", Role::Clerk))),
        Access::ManagedByBackOffice
    ));
    let pulled = |seq, account| PulledChange {
        seq,
        hlc: common::server_stamp(),
        body: Pulled::Account { account },
    };
    b.ws.apply_exchange(
        &[],
        &common::answer(vec![pulled(1, account("nikos", Role::Clerk, true))], 1),
    )
    .unwrap();
    b.ws.logout().unwrap();
    // His first login here: this device has no slot for him yet, and the back office (played
    // here with the recovery key the enrolment left with it) vouches for him.
    assert!(matches!(
        access(b.ws.login("nikos", DEMO_PASSWORD)),
        Access::LoginFailed
    ));
    let nikos = account("nikos", Role::Clerk, true);
    b.ws.login_vouched(DEMO_PASSWORD, &nikos, &common::ENROLLED_RECOVERY)
        .unwrap();
    b.ws.issue_ticket(&ticket()).unwrap();
    b.ws.logout().unwrap();
    // From now on he logs in offline.
    b.ws.login("nikos", DEMO_PASSWORD).unwrap();
    b.ws.logout().unwrap();
    // The back office disables him (the sync runs while a colleague works): his slot goes,
    // and he is refused at the next login on this device.
    b.ws.login("eleni", DEMO_PASSWORD).unwrap();
    b.ws.apply_exchange(
        &[],
        &common::answer(vec![pulled(2, account("nikos", Role::Clerk, false))], 2),
    )
    .unwrap();
    b.ws.logout().unwrap();
    assert!(matches!(
        access(b.ws.login("nikos", DEMO_PASSWORD)),
        Access::LoginFailed
    ));
    let source: String = raw(&b)
        .query_row(
            "SELECT source FROM clerks WHERE username = 'nikos'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(source, "backoffice");

    // A device kept offline longer than the configured days takes no more logins.
    let days = b.ws.config().unwrap().max_offline_days;
    b.clock
        .advance(Duration::days(i64::from(days)) + Duration::minutes(1));
    assert!(matches!(
        access(b.ws.login("eleni", DEMO_PASSWORD)),
        Access::Stale { days: d } if d == days
    ));
}

#[test]
fn a_command_line_session_lasts_a_working_day_and_ends_at_logout() {
    let mut b = common::demo();
    let token = b.ws.open_cli_session().unwrap();
    let stored: String = raw(&b)
        .query_row("SELECT token_digest FROM cli_sessions", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, token, "only a digest of the token is kept");
    let mut next = reopened(&b);
    assert_eq!(next.resume_cli_session(&token).unwrap().username, "eleni");
    next.issue_ticket(&ticket()).unwrap();
    assert!(matches!(
        access(reopened(&b).resume_cli_session("forged")),
        Access::SessionExpired
    ));
    b.clock.advance(Duration::hours(10) + Duration::seconds(1));
    assert!(matches!(
        access(reopened(&b).resume_cli_session(&token)),
        Access::SessionExpired
    ));
    let fresh = b.ws.open_cli_session().unwrap();
    assert_eq!(
        b.ws.close_cli_session(&fresh).unwrap().as_deref(),
        Some("eleni")
    );
    assert!(b.ws.session().is_none());
    assert!(matches!(
        access(reopened(&b).resume_cli_session(&fresh)),
        Access::SessionExpired
    ));
}

#[test]
fn a_clock_set_back_or_a_restart_does_not_stretch_a_command_line_session() {
    let mut b = common::demo();
    let opened = b.clock.now().wall;
    let token = b.ws.open_cli_session().unwrap();
    // Its ten hours pass, and someone sets the clock back to when it was opened.
    b.clock.advance(Duration::hours(10) + Duration::seconds(1));
    b.clock.set_wall(opened);
    assert!(matches!(
        access(reopened(&b).resume_cli_session(&token)),
        Access::SessionExpired
    ));
    // A restart of the machine ends a session however young.
    let young = b.ws.open_cli_session().unwrap();
    assert_eq!(
        reopened(&b).resume_cli_session(&young).unwrap().username,
        "eleni"
    );
    b.clock.restart();
    assert!(matches!(
        access(reopened(&b).resume_cli_session(&young)),
        Access::SessionExpired
    ));
}

#[test]
fn an_unlock_refused_after_the_password_leaves_the_data_closed() {
    let mut b = common::demo();
    common::enrolled(&mut b);
    b.ws.apply_exchange(&[], &common::answer(vec![], 0))
        .unwrap();
    b.ws.calling_board(5).unwrap();
    let days = b.ws.config().unwrap().max_offline_days;
    b.ws.lock().unwrap();
    assert!(
        b.ws.calling_board(5).is_err(),
        "locked, the database is closed"
    );
    // Past the days a device may stay offline, the right password opens the clerk's slot,
    // and the unlock is refused all the same: the database is closed again.
    b.clock
        .advance(Duration::days(i64::from(days)) + Duration::minutes(1));
    assert!(matches!(
        access(b.ws.unlock("eleni", DEMO_PASSWORD)),
        Access::Stale { days: d } if d == days
    ));
    assert!(
        b.ws.calling_board(5).is_err(),
        "the refused unlock left the database open behind the locked screen"
    );
    assert!(b.ws.session().unwrap().locked);
}

#[test]
fn a_clock_set_back_does_not_give_an_offline_device_its_days_back() {
    let mut b = common::demo();
    common::enrolled(&mut b);
    let reached = b.clock.now().wall;
    b.ws.apply_exchange(&[], &common::answer(vec![], 0))
        .unwrap();
    let days = b.ws.config().unwrap().max_offline_days;
    let past_limit = reached + Duration::days(i64::from(days)) + Duration::hours(1);
    // The days pass and the clock is set back to the last exchange: without a restart, the
    // monotonic clock counts them.
    b.clock.advance(past_limit - reached);
    b.clock.set_wall(reached);
    assert!(matches!(
        access(reopened(&b).login("eleni", DEMO_PASSWORD)),
        Access::Stale { days: d } if d == days
    ));
    // The session opened before goes on, and writes a change.
    b.clock.set_wall(past_limit);
    b.ws.issue_ticket(&ticket()).unwrap();
    b.ws.logout().unwrap();
    // After a restart the wall clock counts, but not from before the last change written.
    b.clock.restart();
    b.clock.set_wall(reached + Duration::days(1));
    assert!(matches!(
        access(b.ws.login("eleni", DEMO_PASSWORD)),
        Access::Stale { days: d } if d == days
    ));
}

/// A bus's clock ran a year ahead while a change was written, and was set right: once the back
/// office is reached again, a restart does not count the year as days offline.
#[test]
fn a_clock_that_ran_ahead_and_was_set_right_locks_nobody_out_after_the_next_sync() {
    let mut b = common::demo();
    common::enrolled(&mut b);
    let right = b.clock.now().wall;
    b.ws.apply_exchange(&[], &common::answer(vec![], 0))
        .unwrap();
    b.clock.set_wall(right + Duration::days(365));
    b.ws.issue_ticket(&ticket()).unwrap();
    b.clock.set_wall(right + Duration::minutes(5));
    b.ws.apply_exchange(&[], &common::answer(vec![], 0))
        .unwrap();
    b.ws.logout().unwrap();
    b.clock.restart();
    b.clock.set_wall(right + Duration::hours(1));
    b.ws.login("eleni", DEMO_PASSWORD).unwrap();
}

#[test]
fn a_database_of_the_previous_release_keeps_every_change_and_its_author() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("guichet.sqlite3");
    let mut conn = Connection::open(&path).unwrap();
    guichet_workstation::store::apply_up_to(&mut conn, "old", 4).unwrap();
    conn.execute_batch(
        "INSERT INTO workstation (id, center_code, center_name, center_kind, device_code,
            receipt_prefix, channel, national_id_scheme, currency, waiting_target_min,
            default_clerk, created_at)
         VALUES (1, 'ATH-01', 'Athens', 'stationary', 'W1', 'K7XA', 'stationary_center',
            'ee-isikukood', 'EUR', 15, 'eleni', '2026-03-10T09:00:00+00:00');
         INSERT INTO outbox (seq, id, hlc, kind, entity_id, payload, created_at)
         VALUES (1, 'c1', '1-0-W1', 'counter.added', 'W9', '{}', '2026-03-10T09:00:00+00:00');",
    )
    .unwrap();
    drop(conn);
    let clock = std::sync::Arc::new(guichet_workstation::clock::ManualClock::at(
        common::morning(),
    ));
    let ws = Workstation::open(&path, clock).unwrap();
    let entries = ws.outbox(Some(OutboxState::Pending), 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, "eleni");
    assert_eq!(ws.config().unwrap().max_offline_days, 14);
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_its_database_are_their_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::TempDir::new().unwrap();
    let dir = tmp.path().join("data");
    let ws = Workstation::open_dir(&dir).unwrap();
    drop(ws);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}
