//! A database that can no longer be read is said to be damaged (not "the key does not open
//! it", not a failure in general), and is kept aside whole with its key's slots: the data
//! directory is then as on a new machine, and the file kept aside still opens with the
//! recovery key.

mod common;

use std::io::{Seek, SeekFrom, Write};

use chrono::{TimeZone, Utc};
use common::{citizen, demo, enrolled};
use guichet_fixtures::DEMO_PASSWORD;
use guichet_workstation::store::{
    DATABASE_FILE, KEYS_FILE, keep_aside_damaged, kept_aside, open_with_recovery_key,
};
use guichet_workstation::{Error, Workstation};

/// Overwrites part of the database's first page, as a failing disk would.
fn damage(path: &std::path::Path) {
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(200)).unwrap();
    file.write_all(&[0x5a; 512]).unwrap();
    file.sync_all().unwrap();
}

#[test]
fn a_damaged_database_is_said_so_and_kept_aside_whole() {
    let mut b = demo();
    enrolled(&mut b);
    b.ws.register_citizen(&citizen(1)).unwrap();
    b.ws.logout().unwrap();
    let dir = b.dir.path().to_owned();
    let database = dir.join(DATABASE_FILE);
    drop(b.ws);
    let before = std::fs::read(&database).unwrap();
    damage(&database);

    let mut ws = Workstation::open_dir(&dir).unwrap();
    let refused = ws.login("eleni", DEMO_PASSWORD).unwrap_err();
    assert!(matches!(refused, Error::Damaged { .. }), "{refused:?}");
    assert!(
        refused
            .to_string()
            .starts_with("the local database is damaged and cannot be read"),
        "{refused}"
    );
    drop(ws);

    // Nothing to keep aside in an empty directory: refused, nothing made.
    let empty = tempfile::TempDir::new().unwrap();
    assert!(keep_aside_damaged(empty.path(), Utc::now()).is_err());
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);

    let at = Utc.with_ymd_and_hms(2026, 3, 10, 11, 30, 0).unwrap();
    let kept = keep_aside_damaged(&dir, at).unwrap();
    assert_eq!(kept.file, "guichet.sqlite3.damaged-20260310T113000Z");
    assert_eq!(kept.owner.center_code.as_deref(), Some("ATH-01"));
    assert_eq!(kept.owner.device_code.as_deref(), Some("ATH-01-W1"));
    assert!(
        kept.owner.server.is_some(),
        "an enrolled device says its back office"
    );
    assert!(!database.exists() && !dir.join(KEYS_FILE).exists());
    let aside = std::fs::read(dir.join(&kept.file)).unwrap();
    assert_eq!(
        aside.len(),
        before.len(),
        "the file is renamed whole, not cut"
    );
    assert!(
        dir.join(format!("{KEYS_FILE}.damaged-20260310T113000Z"))
            .exists()
    );
    assert_eq!(kept_aside(&dir), vec![kept]);

    // The data directory is as on a new machine: the first screen offers to set it up.
    let fresh = Workstation::open_dir(&dir).unwrap();
    assert!(!fresh.is_set_up().unwrap());
}

#[test]
fn a_database_kept_aside_before_it_was_damaged_still_opens_with_the_recovery_key() {
    let mut b = demo();
    b.ws.register_citizen(&citizen(1)).unwrap();
    b.ws.logout().unwrap();
    let dir = b.dir.path().to_owned();
    drop(b.ws);
    // Kept aside by mistake (it was not damaged): nothing in it is lost.
    let kept = keep_aside_damaged(&dir, Utc::now()).unwrap();
    assert_eq!(kept.owner.server, None);
    let stamp = kept.file.trim_start_matches("guichet.sqlite3");
    let restore = tempfile::TempDir::new().unwrap();
    std::fs::copy(dir.join(&kept.file), restore.path().join(DATABASE_FILE)).unwrap();
    std::fs::copy(
        dir.join(format!("{KEYS_FILE}{stamp}")),
        restore.path().join(KEYS_FILE),
    )
    .unwrap();
    let conn = open_with_recovery_key(restore.path(), &b.recovery).unwrap();
    let citizens: i64 = conn
        .query_row("SELECT count(*) FROM citizens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(citizens, 1);
}
