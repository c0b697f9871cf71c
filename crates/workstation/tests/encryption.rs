//! Citizens' data at rest: the database, its WAL and its shared memory hold nothing readable
//! without a key; the key opens only with a clerk's password, a session's token or the
//! recovery key; a plain database of an earlier release is encrypted at the first login with
//! nothing lost.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{citizen, demo, service_where, valid_form};
use guichet_domain::account::Role;
use guichet_fixtures::{DEMO_PASSWORD, clerk};
use guichet_workstation::clock::SystemClock;
use guichet_workstation::error::Access;
use guichet_workstation::store::{DATABASE_FILE, KEYS_FILE, NewRequest, open_with_recovery_key};
use guichet_workstation::{Error, Workstation};
use rusqlite::Connection;

/// A day of work at the counter: citizens registered, requests taken and paid.
fn a_day_of_work(b: &mut common::Bench, citizens: u32) {
    let service = service_where(&b.ws, |s| s.documents.is_empty());
    for serial in 1..=citizens {
        let who = b.ws.register_citizen(&citizen(serial)).unwrap();
        b.ws.create_request(&NewRequest {
            citizen: who.national_id,
            service: service.code.clone(),
            form: valid_form(&service, b.ws.today()),
            documents_received: vec![],
            visit: None,
            submit: true,
        })
        .unwrap();
    }
}

/// Every file of the data directory, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn the_files_of_a_day_of_work_show_no_citizen_and_open_with_no_key() {
    let mut b = demo();
    a_day_of_work(&mut b, 20);
    let mari = citizen(7);
    // While the clerk works, the WAL and the shared memory exist beside the database.
    let working = files(b.dir.path());
    let names: Vec<&str> = working.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"guichet.sqlite3-wal"), "{names:?}");
    for (name, bytes) in &working {
        for needle in [
            mari.family_name.as_str(),
            mari.national_id.as_str(),
            mari.birth_date.as_str(),
        ] {
            assert!(!holds(bytes, needle), "{name} holds '{needle}' in clear");
        }
    }
    // The data is there, for whoever has the key.
    let conn = b.raw();
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM citizens WHERE family_name = ?1",
            [&mari.family_name],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 1);
    drop(conn);
    b.ws.logout().unwrap();

    // Without a key, SQLite sees no database; with a wrong one, neither.
    let path = b.dir.path().join(DATABASE_FILE);
    let plain = Connection::open(&path).unwrap();
    assert!(
        plain
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
                .get::<_, i64>(0))
            .is_err()
    );
    let wrong = Connection::open(&path).unwrap();
    wrong
        .pragma_update(None, "key", format!("x'{}'", "ab".repeat(32)))
        .unwrap();
    assert!(
        wrong
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
                .get::<_, i64>(0))
            .is_err()
    );
    // A wrong recovery key opens nothing either.
    let forged = guichet_domain::keyslot::RecoveryKey::from_bytes([1; 20]);
    assert!(matches!(
        open_with_recovery_key(b.dir.path(), &forged),
        Err(Error::Access(Access::RecoveryRefused))
    ));
}

#[test]
fn lock_and_logout_close_the_database_and_a_password_opens_it_again() {
    let mut b = demo();
    b.ws.add_clerk(&clerk("nikos", Role::Clerk)).unwrap();
    a_day_of_work(&mut b, 2);
    b.ws.lock().unwrap();
    assert!(!b.ws.is_open());
    // The set-up is still known, for the lock screen; the data is not.
    assert_eq!(b.ws.config().unwrap().center_code, "ATH-01");
    assert!(matches!(
        b.ws.citizen(&citizen(1).national_id),
        Err(Error::Access(Access::Locked))
    ));
    // Another clerk takes over: their own password opens the database.
    b.ws.unlock("nikos", DEMO_PASSWORD).unwrap();
    assert!(b.ws.is_open());
    assert_eq!(
        b.ws.citizen(&citizen(1).national_id).unwrap().family_name,
        citizen(1).family_name
    );
    b.ws.logout().unwrap();
    assert!(!b.ws.is_open());
    // A new process finds it closed, and a password opens it.
    let mut again = Workstation::open(&b.dir.path().join(DATABASE_FILE), b.clock.clone()).unwrap();
    assert!(!again.is_open());
    assert!(again.is_set_up().unwrap());
    again.login("eleni", DEMO_PASSWORD).unwrap();
    assert_eq!(again.list_requests(&Default::default()).unwrap().len(), 2);
    // Opened again after every encrypted connection had closed, still through the store's
    // page cipher (SQLCipher falls back to OpenSSL's unless it is registered again).
    let provider: String = again
        .inspect(|conn| -> Result<String, Error> {
            Ok(conn.query_row("PRAGMA cipher_provider", [], |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(provider, guichet_workstation::store::PROVIDER_NAME);
}

/// The window's first-run screen open on a data directory while the command line sets it up:
/// the window's set-up, made in memory since, must not write its slots and database over the
/// one on disk (the administrator of the first would find a key file that opens neither).
#[test]
fn a_set_up_over_one_made_meanwhile_by_another_process_is_refused_and_keeps_it() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let clock = Arc::new(guichet_workstation::clock::ManualClock::at(
        common::morning(),
    ));
    let mut window = Workstation::open(&path, clock.clone()).unwrap();
    let mut terminal = Workstation::open(&path, clock.clone()).unwrap();
    terminal.setup(common::setup()).unwrap();
    let recovery = terminal.take_recovery_key().unwrap();
    drop(terminal);
    // Asked before an enrolment code is sent, the window already sees it.
    assert!(matches!(
        window.refuse_if_set_up(),
        Err(Error::AlreadySetUp { center, .. }) if center == "ATH-01"
    ));

    let mut other = common::setup();
    other.center_code = "THE-01".into();
    other.device_code = "THE-01-W1".into();
    other.receipt_prefix = None;
    other.administrator = guichet_fixtures::administrator("kostas");
    let refused = window.setup(other).unwrap_err();
    assert!(
        matches!(&refused, Error::AlreadySetUp { center, device }
            if center == "ATH-01" && device == "ATH-01-W1"),
        "{refused:?}"
    );
    // The window now holds the workstation on disk, closed until a clerk logs in.
    assert!(!window.is_open());
    assert_eq!(window.config().unwrap().center_code, "ATH-01");
    window.login("eleni", DEMO_PASSWORD).unwrap();
    assert!(matches!(
        window.login("kostas", DEMO_PASSWORD),
        Err(Error::Access(_))
    ));
    open_with_recovery_key(dir.path(), &recovery).unwrap();
}

/// A set-up that the disk refused half-way (here the key file cannot be written) leaves
/// nothing behind, in memory either: once the disk is mended, the next attempt sets it up.
#[test]
fn a_set_up_the_disk_refused_can_be_made_again() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let clock = Arc::new(guichet_workstation::clock::ManualClock::at(
        common::morning(),
    ));
    let mut ws = Workstation::open(&path, clock).unwrap();
    let in_the_way = dir.path().join(KEYS_FILE);
    std::fs::create_dir(&in_the_way).unwrap();
    assert!(matches!(
        ws.setup(common::setup()),
        Err(Error::DataDir { .. })
    ));
    std::fs::remove_dir(&in_the_way).unwrap();
    ws.setup(common::setup()).unwrap();
    assert!(ws.take_recovery_key().is_some());
}

#[test]
fn a_standalone_device_whose_administrators_forgot_is_opened_with_its_recovery_key() {
    let mut b = demo();
    a_day_of_work(&mut b, 1);
    b.ws.add_clerk(&guichet_fixtures::clerk(
        "sofia",
        guichet_domain::account::Role::Administrator,
    ))
    .unwrap();
    b.ws.set_clerk_active("sofia", false).unwrap();
    b.ws.logout().unwrap();
    // A disabled account is refused, and keeps its password: nothing is written.
    assert!(matches!(
        b.ws.recover(&b.recovery.clone(), "sofia", "a brand new passphrase"),
        Err(Error::Access(Access::Disabled))
    ));
    assert!(!b.ws.is_open());
    let forged = guichet_domain::keyslot::RecoveryKey::from_bytes([2; 20]);
    assert!(matches!(
        b.ws.recover(&forged, "eleni", "a brand new passphrase"),
        Err(Error::Access(Access::RecoveryRefused))
    ));
    assert!(!b.ws.is_open());
    let recovery = b.recovery.clone();
    b.ws.recover(&recovery, "eleni", "a brand new passphrase")
        .unwrap();
    assert_eq!(b.ws.session().unwrap().username, "eleni");
    b.ws.logout().unwrap();
    // The old password opens nothing any more; the new one does.
    assert!(matches!(
        b.ws.login("eleni", DEMO_PASSWORD),
        Err(Error::Access(Access::LoginFailed))
    ));
    b.ws.login("eleni", "a brand new passphrase").unwrap();
    assert!(b.ws.verify_audit().unwrap().result.is_ok());
    // The refusal for sofia wrote nothing: her password was not changed.
    let sofia: i64 =
        b.ws.inspect(|conn| -> Result<i64, Error> {
            Ok(conn.query_row(
                "SELECT count(*) FROM audit_events WHERE action = 'clerk.recovered'
                 AND entity_id = 'sofia'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(sofia, 0);
}

/// The tables whose rows must all survive the encryption of a plain database.
const TABLES: [&str; 8] = [
    "citizens",
    "requests",
    "request_events",
    "request_documents",
    "clerks",
    "audit_events",
    "outbox",
    "services",
];

fn counts(conn: &Connection) -> Vec<i64> {
    TABLES
        .iter()
        .map(|t| {
            conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        })
        .collect()
}

#[test]
fn a_plain_database_of_an_earlier_release_is_encrypted_at_the_first_login_with_nothing_lost() {
    // A plain copy of a day's work: what a release before encryption left on disk.
    let mut b = demo();
    b.ws.add_clerk(&clerk("nikos", Role::Clerk)).unwrap();
    a_day_of_work(&mut b, 5);
    b.ws.logout().unwrap();
    let old = tempfile::TempDir::new().unwrap();
    let path = old.path().join(DATABASE_FILE);
    let source = b.raw();
    let version: i64 = source
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    source
        .execute(
            "ATTACH DATABASE ?1 AS plain KEY ''",
            [path.to_string_lossy()],
        )
        .unwrap();
    source
        .query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
        .unwrap();
    source
        .pragma_update(Some("plain"), "user_version", version)
        .unwrap();
    source.execute("DETACH DATABASE plain", []).unwrap();
    let before = counts(&source);
    drop(source);
    assert_eq!(&std::fs::read(&path).unwrap()[..16], b"SQLite format 3\0");
    let chain_before = {
        let ws = Workstation::open(&path, Arc::new(SystemClock)).unwrap();
        ws.verify_audit().unwrap().result.unwrap()
    };

    // The first login checks the password against the account and encrypts the file.
    let mut ws = Workstation::open(&path, b.clock.clone()).unwrap();
    assert!(matches!(
        ws.login("eleni", "not the password"),
        Err(Error::Access(Access::LoginFailed))
    ));
    assert_eq!(&std::fs::read(&path).unwrap()[..16], b"SQLite format 3\0");
    ws.login("eleni", DEMO_PASSWORD).unwrap();
    let recovery = ws
        .take_recovery_key()
        .expect("a standalone device gets a recovery key to write down");
    assert_ne!(&std::fs::read(&path).unwrap()[..16], b"SQLite format 3\0");
    assert!(old.path().join(KEYS_FILE).exists());
    let chain_after = ws.verify_audit().unwrap().result.unwrap();
    assert!(chain_after.events > chain_before.events);
    let after = counts(&open_with_recovery_key(old.path(), &recovery).unwrap());
    for ((table, was), is) in TABLES.iter().zip(&before).zip(&after) {
        match *table {
            // The login (and the failure before it) add their session events.
            "audit_events" | "outbox" => assert!(is > was, "{table}: {was} then {is}"),
            _ => assert_eq!(was, is, "{table}"),
        }
    }
    // The same chain, extended: its first events are the ones the plain file had.
    ws.logout().unwrap();
    let reopened = Workstation::open(&path, b.clock.clone()).unwrap();
    assert!(
        !reopened.is_open(),
        "the encrypted file stays closed until a login"
    );
    drop(reopened);

    // Other clerks have no slot yet: a supervisor logged in lets them in, offline.
    ws.login("eleni", DEMO_PASSWORD).unwrap();
    ws.logout().unwrap();
    assert!(matches!(
        ws.login("nikos", DEMO_PASSWORD),
        Err(Error::Access(Access::LoginFailed))
    ));
    ws.login("eleni", DEMO_PASSWORD).unwrap();
    assert!(matches!(
        ws.admit_clerk("nikos", "not his password"),
        Err(Error::Access(Access::LoginFailed))
    ));
    ws.admit_clerk("nikos", DEMO_PASSWORD).unwrap();
    ws.logout().unwrap();
    ws.login("nikos", DEMO_PASSWORD).unwrap();
    assert!(ws.verify_audit().unwrap().result.is_ok());
}
