//! The store itself: migrations, the one-transaction rule, and the audit chain on disk.

mod common;

use std::sync::Arc;

use common::{citizen, demo, service_where, valid_form};
use guichet_workstation::clock::SystemClock;
use guichet_workstation::store::{MIGRATIONS, NewRequest, RequestFilter, SearchQuery, apply_up_to};
use guichet_workstation::{Error, Workstation};
use rusqlite::Connection;

fn raw(b: &common::Bench) -> Connection {
    b.raw()
}

#[test]
fn migrations_build_a_consistent_schema() {
    let b = demo();
    let path = b.dir.path().join("guichet.sqlite3");
    let conn = raw(&b);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, MIGRATIONS.len());
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let fk_problems: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk_problems, 0);
    // Opening again applies nothing and changes nothing.
    drop(Workstation::open(&path, Arc::new(SystemClock)).unwrap());
    let again: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(again, version);
    for migration in MIGRATIONS {
        let (name, sql) = (migration.name, migration.sql);
        assert!(!sql.trim().is_empty(), "{name}");
        assert!(
            !sql.to_uppercase().contains("BEGIN TRANSACTION"),
            "{name} must not manage its own transaction"
        );
    }
}

#[test]
fn data_written_under_the_first_schema_survives_the_latest() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let mut conn = Connection::open(&path).unwrap();
        apply_up_to(&mut conn, "old", 1).unwrap();
        let service = guichet_fixtures::demo_catalogue()
            .services
            .into_iter()
            .find(|s| s.availability.offered_at("OLD-01"))
            .unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO workstation (id, center_code, center_name, center_kind, device_code,
                receipt_prefix, channel, national_id_scheme, currency, waiting_target_min,
                created_at, next_receipt_seq, hlc_last)
             VALUES (1, 'OLD-01', 'Old centre', 'stationary', 'OLD-01-A', 'K7XA',
                'stationary_center', 'ee-isikukood', 'EUR', 20, '2025-01-01T08:00:00+00:00', 1,
                '000001735718400000-000003-OLD-01-A');
             INSERT INTO catalogue_version VALUES (1, 1, '2025-01-01T08:00:00+00:00', 1, 0);
             INSERT INTO categories VALUES ('{cat}', '{{\"en\":\"C\",\"fr\":\"C\"}}', 'C');
             INSERT INTO agencies VALUES ('{agency}', '{{\"en\":\"A\",\"fr\":\"A\"}}');
             INSERT INTO services (id, code, category, agency, title, title_sort, processing_days, definition)
             VALUES (1, '{code}', '{cat}', '{agency}', '{title}', 'x', 5, '{definition}');
             INSERT INTO citizens VALUES ('37605030299', 'Mari', 'Tamm', 'tamm mari', '1976-05-03',
                NULL, NULL, NULL, '2025-01-01T08:00:00+00:00', '000001735718400000-000001-OLD-01-A');
             INSERT INTO requests (id, receipt, service_code, service_title, category, agency,
                catalogue_version, citizen_id, center_code, device_code, clerk, form, fee_minor,
                fee_currency, fee_tier, fee_exemptions, status, intake_date, due_date, created_at,
                created_hlc, updated_hlc)
             VALUES ('r-1', '{receipt}', '{code}', '{title}', '{cat}', '{agency}', 1, '37605030299',
                'OLD-01', 'OLD-01-A', 'eleni', '{{}}', 1500, 'EUR', 'standard', '[]', 'submitted',
                '2025-01-01', '2025-01-08', '2025-01-01T08:00:00+00:00',
                '000001735718400000-000002-OLD-01-A', '000001735718400000-000002-OLD-01-A');",
            cat = service.category,
            agency = service.agency,
            code = service.code,
            title = serde_json::to_string(&service.title).unwrap().replace('\'', "''"),
            definition = serde_json::to_string(&service).unwrap().replace('\'', "''"),
            receipt = guichet_domain::receipt::ReceiptNumber::issue(
                &guichet_domain::receipt::ReceiptPrefix::parse("K7XA").unwrap(),
                1
            )
            .unwrap()
            .as_str(),
        ))
        .unwrap();
    }
    let ws = Workstation::open(&path, Arc::new(SystemClock)).unwrap();
    assert_eq!(ws.config().unwrap().center_code, "OLD-01");
    assert_eq!(ws.citizen("37605030299").unwrap().family_name, "Tamm");
    let requests = ws.list_requests(&RequestFilter::default()).unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].fee.as_ref().unwrap().minor, 1500);
    // The search index added later covers the catalogue that was already there.
    let code = requests[0].service_code.clone();
    let title = ws.service(&code).unwrap().title.get("fr").to_owned();
    let hits = ws
        .search(&SearchQuery {
            text: Some(title),
            ..SearchQuery::default()
        })
        .unwrap();
    assert!(hits.iter().any(|h| h.code == code));
}

#[test]
fn a_database_from_a_newer_release_is_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("new.sqlite3");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Workstation::open(&path, Arc::new(SystemClock)).unwrap_err();
    assert!(matches!(err, Error::NewerSchema { found: 99, .. }), "{err}");
}

/// If any of the three writes of an action fails, none of them stays: the change, its audit
/// event, and its outbox entry (and the receipt number it drew) all roll back together.
#[test]
fn a_failed_write_leaves_nothing_behind() {
    let mut b = demo();
    let mari = b.ws.register_citizen(&citizen(1)).unwrap();
    let service = service_where(&b.ws, |_| true);
    let new = NewRequest {
        citizen: mari.national_id,
        service: service.code.clone(),
        form: valid_form(&service, b.ws.today()),
        documents_received: vec![],
        visit: None,
        submit: false,
    };
    let count = |conn: &Connection, table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let conn = raw(&b);
    let tables = [
        "requests",
        "request_documents",
        "request_events",
        "audit_events",
        "outbox",
    ];
    let before: Vec<i64> = tables.iter().map(|t| count(&conn, t)).collect();
    let seq_before: i64 = conn
        .query_row("SELECT next_receipt_seq FROM workstation", [], |r| r.get(0))
        .unwrap();
    for table in ["outbox", "audit_events", "request_events"] {
        conn.execute_batch(&format!(
            "CREATE TRIGGER fail BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
        ))
        .unwrap();
        let err = b.ws.create_request(&new).unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        conn.execute_batch("DROP TRIGGER fail").unwrap();
        let after: Vec<i64> = tables.iter().map(|t| count(&conn, t)).collect();
        assert_eq!(before, after, "failure at {table}");
        let seq: i64 = conn
            .query_row("SELECT next_receipt_seq FROM workstation", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seq, seq_before);
    }
    let ok = b.ws.create_request(&new).unwrap();
    assert_eq!(ok.changes.len(), 1);
}

#[test]
fn audit_verify_names_the_first_broken_link() {
    let mut b = demo();
    for serial in 1..=4 {
        b.ws.register_citizen(&citizen(serial)).unwrap();
    }
    let intact = b.ws.verify_audit().unwrap().result.unwrap();
    assert!(intact.events >= 6);
    let conn = raw(&b);
    conn.execute(
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 4",
        [],
    )
    .unwrap();
    let broken = b.ws.verify_audit().unwrap().result.unwrap_err();
    assert_eq!(broken.seq, 4);
    assert!(broken.to_string().contains("edited"), "{broken}");
    conn.execute("UPDATE audit_events SET actor = 'eleni' WHERE seq = 4", [])
        .unwrap();
    assert!(b.ws.verify_audit().unwrap().result.is_ok());
    conn.execute("DELETE FROM audit_events WHERE seq = 3", [])
        .unwrap();
    assert_eq!(b.ws.verify_audit().unwrap().result.unwrap_err().seq, 3);
}

#[test]
fn receipts_are_unique_and_survive_reopening() {
    let mut b = demo();
    let mari = b.ws.register_citizen(&citizen(1)).unwrap();
    let service = service_where(&b.ws, |_| true);
    let new = NewRequest {
        citizen: mari.national_id,
        service: service.code.clone(),
        form: valid_form(&service, b.ws.today()),
        documents_received: vec![],
        visit: None,
        submit: false,
    };
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        assert!(seen.insert(b.ws.create_request(&new).unwrap().summary.receipt));
    }
    let path = b.dir.path().join("guichet.sqlite3");
    let mut reopened = Workstation::open(&path, b.clock.clone()).unwrap();
    reopened
        .login("eleni", guichet_fixtures::DEMO_PASSWORD)
        .unwrap();
    let r = reopened.create_request(&new).unwrap();
    assert!(r.summary.receipt.starts_with("K7XA"));
    assert!(seen.insert(r.summary.receipt));
    let stamps: Vec<String> = raw(&b)
        .prepare("SELECT hlc FROM audit_events ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort();
    assert_eq!(stamps, sorted, "clock stamps follow the order of events");
}

/// A device set up by its enrolment takes its centre's terms from the back office's answer:
/// the national id scheme, the currency, the waiting target and the time zone.
#[test]
fn an_enrolment_sets_the_device_up_with_its_centres_terms() {
    let mut ws = Workstation::open_in_memory(Arc::new(SystemClock)).unwrap();
    ws.enroll(
        &guichet_protocol::EnrollResponse {
            center_code: "BAK-01".into(),
            center_name: "Baku Bus".into(),
            center_kind: guichet_domain::catalogue::CenterKind::Mobile,
            time_zone: "Asia/Baku".into(),
            national_id_scheme: "plain".into(),
            currency: "AZN".into(),
            waiting_target_min: 20,
            device_code: "BAK-01-0001".into(),
            receipt_prefix: "K7XC".parse().unwrap(),
            token: "secret".into(),
            accounts: vec![],
        },
        "http://127.0.0.1:1",
        &[],
        &guichet_domain::keyslot::RecoveryKey::from_bytes([7; 20]),
    )
    .unwrap();
    let config = ws.config().unwrap();
    assert_eq!(
        (
            config.national_id_scheme.as_str(),
            config.currency.code(),
            config.waiting_target_min,
            config.time_zone.name()
        ),
        ("plain", "AZN", 20, "Asia/Baku")
    );
}

/// A standalone centre is held to the rules the back office holds a centre to: a name of 1 to
/// 120 characters without control characters, a waiting target of 1 to 600 minutes. A set-up
/// refused for either leaves the directory not set up; the name is kept trimmed. Each refusal
/// has its key, for the first screen to say it in the clerk's language.
#[test]
fn a_set_up_refuses_a_centre_the_back_office_would_refuse() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut ws =
        Workstation::open(&dir.path().join("guichet.sqlite3"), Arc::new(SystemClock)).unwrap();
    let long = "A".repeat(121);
    for (name, target, zone, says, key) in [
        (
            "  ",
            15,
            "UTC",
            "the centre needs a name",
            "error.center_name_empty",
        ),
        (
            long.as_str(),
            15,
            "UTC",
            "has 121 characters: give at most 120",
            "error.center_name_long",
        ),
        (
            "Athens\nCentral",
            15,
            "UTC",
            "holds the invisible character U+000A",
            "error.center_name_hidden",
        ),
        (
            "Athens\u{2067}Central",
            15,
            "UTC",
            "holds the invisible character U+2067",
            "error.center_name_hidden",
        ),
        (
            "Athens Central",
            0,
            "UTC",
            "give 1 to 600",
            "error.waiting_target",
        ),
        (
            "Athens Central",
            601,
            "UTC",
            "a waiting-time target of 601 minutes is not valid",
            "error.waiting_target",
        ),
        (
            "Athens Central",
            15,
            "Europe/Atlantis",
            "'Europe/Atlantis' is not a time zone",
            "error.time_zone",
        ),
    ] {
        let refused = ws
            .setup(guichet_workstation::store::Setup {
                center_name: name.into(),
                waiting_target_min: target,
                time_zone: zone.into(),
                ..common::setup()
            })
            .unwrap_err();
        assert!(refused.to_string().contains(says), "{says}: {refused}");
        assert_eq!(
            refused.message().map(|m| m.key),
            Some(key.to_owned()),
            "{says}"
        );
        assert!(!ws.is_set_up().unwrap(), "{says}");
    }
    let config = ws
        .setup(guichet_workstation::store::Setup {
            center_name: " Athens Central ".into(),
            ..common::setup()
        })
        .unwrap();
    assert_eq!(config.center_name, "Athens Central");
}

/// The slips go to the printers named as the printing system names them, or to its default:
/// a name `lp` would read as an option, or that no printer can have, is refused and changes
/// nothing, the other rules asked beside it included.
#[test]
fn printers_are_named_as_the_printing_system_names_them_or_left_to_its_default() {
    use guichet_workstation::store::{Printers, Rules};
    let mut b = demo();
    assert_eq!(b.ws.printers().unwrap(), Printers::default());
    // The kiosk's printer alone is refused; with the counter's, it is taken.
    let kiosk_alone = b.ws.set_rules(&Rules {
        kiosk_printer: Some("Kiosk-80mm@entrance".into()),
        ..Rules::default()
    });
    assert!(kiosk_alone.is_err());
    b.ws.set_rules(&Rules {
        counter_printer: Some(" Counter_Roll ".into()),
        kiosk_printer: Some("Kiosk-80mm@entrance".into()),
        ..Rules::default()
    })
    .unwrap();
    let named = Printers {
        counter: "Counter_Roll".into(),
        kiosk: "Kiosk-80mm@entrance".into(),
    };
    assert_eq!(b.ws.printers().unwrap(), named);
    let long = "p".repeat(128);
    for bad in ["-oraw", "Kiosk roll", "a/b", "q#1", long.as_str()] {
        let refused =
            b.ws.set_rules(&Rules {
                kiosk_printer: Some(bad.into()),
                idle_lock_minutes: Some(9),
                ..Rules::default()
            })
            .unwrap_err();
        assert!(
            refused.to_string().contains("is not a printer's name"),
            "{bad}: {refused}"
        );
    }
    assert_eq!(b.ws.printers().unwrap(), named);
    assert_eq!(b.ws.config().unwrap().idle_lock_minutes, 5);
    // A receipt never comes out at the kiosk: the kiosk's printer is not the counter's, nor
    // the counter's left to the default (which may be the kiosk's).
    for (counter, kiosk) in [
        ("Kiosk-80mm@entrance", None),
        ("", None),
        ("Roll", Some("Roll")),
    ] {
        let refused =
            b.ws.set_rules(&Rules {
                counter_printer: Some(counter.into()),
                kiosk_printer: kiosk.map(str::to_owned),
                ..Rules::default()
            })
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("name the counter's printer too"),
            "{counter}: {refused}"
        );
    }
    assert_eq!(b.ws.printers().unwrap(), named);
    // Empty: the default printer again.
    b.ws.set_rules(&Rules {
        kiosk_printer: Some(String::new()),
        ..Rules::default()
    })
    .unwrap();
    assert_eq!(b.ws.printers().unwrap().kiosk, "");
}
