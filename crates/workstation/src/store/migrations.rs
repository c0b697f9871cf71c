//! Schema migrations, embedded at compile time from `schema/workstation/`.
//!
//! The schema version lives in `PRAGMA user_version`. All pending migrations are applied in one
//! transaction, so a database is always at some released version, never between two. A
//! database made by a newer release is refused rather than guessed at.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Every migration in order. Only ever append: a released migration is never edited.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../../../schema/workstation/0001_initial.sql"),
    ),
    (
        "0002_catalogue_search",
        include_str!("../../../../schema/workstation/0002_catalogue_search.sql"),
    ),
    (
        "0003_sync",
        include_str!("../../../../schema/workstation/0003_sync.sql"),
    ),
    (
        "0004_conflict_resolution",
        include_str!("../../../../schema/workstation/0004_conflict_resolution.sql"),
    ),
    (
        "0005_clerks",
        include_str!("../../../../schema/workstation/0005_clerks.sql"),
    ),
    (
        "0006_sealed",
        include_str!("../../../../schema/workstation/0006_sealed.sql"),
    ),
    (
        "0007_refunds",
        include_str!("../../../../schema/workstation/0007_refunds.sql"),
    ),
    (
        "0008_time_zone",
        include_str!("../../../../schema/workstation/0008_time_zone.sql"),
    ),
    (
        "0009_report_indexes",
        include_str!("../../../../schema/workstation/0009_report_indexes.sql"),
    ),
    (
        "0010_report_days",
        include_str!("../../../../schema/workstation/0010_report_days.sql"),
    ),
];

/// Brings the database to the latest version.
pub(crate) fn apply(conn: &mut Connection, label: &str) -> Result<()> {
    apply_up_to(conn, label, MIGRATIONS.len())
}

/// Brings the database to version `target` (tests use it to build an older database).
pub fn apply_up_to(conn: &mut Connection, label: &str, target: usize) -> Result<()> {
    // Read the version inside the write transaction, so that two processes opening a new
    // database at once cannot both apply the same migration.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let current = usize::try_from(found).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(Error::NewerSchema {
            path: label.to_owned(),
            found,
            known: MIGRATIONS.len(),
        });
    }
    if current >= target {
        return Ok(());
    }
    for (_, sql) in &MIGRATIONS[current..target] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", target as i64)?;
    tx.commit()?;
    Ok(())
}
