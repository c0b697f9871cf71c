//! Schema migrations, embedded at compile time from `schema/workstation/`.
//!
//! The schema version lives in `PRAGMA user_version`. All pending migrations are applied in one
//! transaction, so a database is always at some released version, never between two. A
//! database made by a newer release is refused rather than guessed at. What to apply is decided
//! by `guichet_migrations`, as for the back office's databases.

use guichet_migrations::Migration;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Every migration in order. Only ever append: a released migration is never edited.
pub const MIGRATIONS: &[Migration] = &guichet_migrations::embed!(
    "../../../../schema/workstation",
    [
        "0001_initial.sql",
        "0002_catalogue_search.sql",
        "0003_sync.sql",
        "0004_conflict_resolution.sql",
        "0005_clerks.sql",
        "0006_sealed.sql",
        "0007_refunds.sql",
        "0008_time_zone.sql",
        "0009_report_indexes.sql",
        "0010_report_days.sql",
        "0011_monotonic_limits.sql",
        "0012_change_reasons.sql",
        "0013_printers.sql",
        "0014_overtaken.sql",
        "0015_money_by_time.sql",
        "0016_moves_made_elsewhere.sql",
        "0017_arrived_late.sql",
    ]
);

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
    let pending = guichet_migrations::pending_up_to(MIGRATIONS, found, target).map_err(|e| {
        Error::NewerSchema {
            path: label.to_owned(),
            found: e.found,
            known: e.known,
        }
    })?;
    let Some(last) = pending.last() else {
        return Ok(());
    };
    for migration in pending {
        tx.execute_batch(migration.sql)?;
    }
    tx.pragma_update(None, "user_version", last.version as i64)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::MIGRATIONS;

    #[test]
    fn every_file_of_the_schema_folder_is_listed_in_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/workstation");
        guichet_migrations::check_folder(&dir, MIGRATIONS).unwrap();
    }
}
