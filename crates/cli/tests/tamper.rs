//! A database edited behind the workstation's back: `audit verify` exits 1 and names the
//! first event whose content no longer matches its hash.

mod common;

use common::{Guichet, register_mari};

#[test]
fn an_edited_audit_event_is_named() {
    let g = Guichet::demo();
    register_mari(&g);
    let intact = g.ok(&["audit", "verify"]);
    assert!(
        intact.stdout.starts_with("audit chain intact: "),
        "{}",
        intact.stdout
    );
    let events = g.json(&["audit", "verify"])["events"]
        .as_u64()
        .expect("an event count");
    assert!(events >= 3);

    let conn = g.raw();
    let changed = conn
        .execute(
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
            [],
        )
        .expect("edit one event");
    assert_eq!(changed, 1);
    drop(conn);

    let run = g.run(&["audit", "verify"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.starts_with(
            "error: audit chain broken at event 2: its content does not match its hash"
        ),
        "{}",
        run.stderr
    );
    let run = g.run(&["--json", "audit", "verify"]);
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "audit_broken");
    assert_eq!(doc["error"]["details"]["seq"], 2);
}

#[test]
fn a_removed_audit_event_is_named() {
    let g = Guichet::demo();
    register_mari(&g);
    let conn = g.raw();
    conn.execute("DELETE FROM audit_events WHERE seq = 3", [])
        .expect("remove one event");
    drop(conn);
    let run = g.run(&["audit", "verify"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("event 3 is missing"), "{}", run.stderr);
}

/// `keep-aside` takes a damaged database out of the way, never a sound one: a workstation
/// whose database opens, lets its clerk in and reads whole stays in service.
#[test]
fn only_a_damaged_database_is_kept_aside() {
    let g = Guichet::demo();
    // The administrator set-up left logged in: the database reads whole.
    g.refused(&["keep-aside"], 2, "it is not damaged");
    g.ok(&["logout"]);
    g.refused_saying(&["keep-aside"], 2, "run keep-aside with --user NAME");
    let as_eleni = ["--user", "eleni", "--password-stdin", "keep-aside"];
    g.refused_saying(&as_eleni, 2, "it is not damaged");
    let status = g.ok(&["--user", "eleni", "--password-stdin", "status"]);
    assert!(status.stdout.contains("ATH-01"), "{}", status.stdout);

    // Pages the disk spoiled (what the WAL held goes with them).
    let database = g.data_dir().join(guichet_workstation::store::DATABASE_FILE);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    let mut bytes = std::fs::read(&database).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 8192].fill(0xA5);
    std::fs::write(&database, bytes).unwrap();
    let kept = g.ok(&as_eleni);
    assert!(
        kept.stdout
            .contains("kept aside as guichet.sqlite3.damaged-"),
        "{}",
        kept.stdout
    );
    g.refused_saying(&["status"], 1, "not set up");
}
