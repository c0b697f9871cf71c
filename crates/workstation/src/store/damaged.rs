//! A database that can no longer be read (a disk that failed, a laptop switched off in the
//! middle of a write on a disk that lies about flushing): it is kept aside, never deleted, and
//! the workstation is set up again, an enrolled one getting the centre's data back from its
//! back office at its first sync.
//!
//! Keeping aside renames the database, its WAL and shared memory, and the slots file that
//! holds its key (so the file kept aside can still be opened by a clerk's password or the
//! recovery key, for an IT officer to read what had not been sent). Nothing is lost and
//! nothing is in clear: the files stay encrypted, readable by their user alone. A wipe from
//! the back office erases them with the rest.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::DATABASE_FILE;
use super::vault::{KEYS_FILE, LEGACY_CREDENTIAL_FILE, Vault};
use crate::error::{Error, Result};

/// What the names of files kept aside carry after their own name, before the time stamp.
const DAMAGED: &str = ".damaged-";
/// The time stamp in those names: sortable, and without characters a file system refuses.
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// A database kept aside: shown on the first screen until the workstation is set up again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeptAside {
    /// The name of the database file kept aside, in the data directory.
    pub file: String,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub owner: Owner,
}

/// The workstation a database belongs to, as its slots file says in clear (nothing secret):
/// what a clerk is told when the database itself cannot be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Owner {
    pub center_code: Option<String>,
    pub device_code: Option<String>,
    /// Its back office, when it was enrolled: enrolling again brings the centre's data back.
    pub server: Option<String>,
}

/// The workstation whose database is in `data_dir`, as far as its slots file says.
pub fn owner(data_dir: &Path) -> Owner {
    owner_in(data_dir, KEYS_FILE)
}

fn owner_in(data_dir: &Path, keys: &str) -> Owner {
    let label = Vault::File(data_dir.join(keys)).label().ok().flatten();
    Owner {
        center_code: label.as_ref().map(|l| l.config.center_code.clone()),
        device_code: label.as_ref().map(|l| l.config.device_code.clone()),
        server: label.and_then(|l| l.server_url),
    }
}

/// The database files of a workstation: the file itself and what SQLite keeps beside it.
const DATABASE_SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

/// Keeps the damaged database of `data_dir` aside, with its slots file, under names stamped
/// with `at`; the data directory is then as on a new machine. Refused when there is no
/// database to keep aside.
pub fn keep_aside_damaged(data_dir: &Path, at: DateTime<Utc>) -> Result<KeptAside> {
    let database = data_dir.join(DATABASE_FILE);
    if !database.exists() {
        return Err(Error::Invalid(format!(
            "there is no database in {} to keep aside: nothing was changed",
            data_dir.display()
        )));
    }
    let stamp = at.format(STAMP).to_string();
    let kept = described(
        data_dir,
        &format!("{DATABASE_FILE}{DAMAGED}{stamp}"),
        at,
        KEYS_FILE,
    );
    let aside = |name: &str, suffix: &str| -> Result<()> {
        let from = data_dir.join(format!("{name}{suffix}"));
        if !from.exists() {
            return Ok(());
        }
        let to = data_dir.join(format!("{name}{DAMAGED}{stamp}{suffix}"));
        std::fs::rename(&from, &to).map_err(|source| Error::DataDir { path: from, source })
    };
    // The database first: once it is gone, the next start sees a new machine whatever else
    // a failure here leaves behind.
    for suffix in DATABASE_SUFFIXES {
        aside(DATABASE_FILE, suffix)?;
    }
    aside(KEYS_FILE, "")?;
    aside(LEGACY_CREDENTIAL_FILE, "")?;
    Ok(kept)
}

impl super::Workstation {
    /// Reads every page of the database as SQLite's quick check does: `Error::Damaged` when a
    /// page cannot be read (one the disk spoiled, one no longer under this device's key) or
    /// the tables do not hold together. Needs the database open (a clerk logged in).
    pub fn check_readable(&self) -> Result<()> {
        let said: Vec<String> = self
            .conn()?
            .prepare("PRAGMA quick_check")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if said == ["ok"] {
            return Ok(());
        }
        Err(Error::Damaged {
            detail: said.into_iter().take(3).collect::<Vec<_>>().join("; "),
        })
    }
}

/// The databases kept aside in `data_dir`, the latest first.
pub fn kept_aside(data_dir: &Path) -> Vec<KeptAside> {
    let prefix = format!("{DATABASE_FILE}{DAMAGED}");
    let mut out: Vec<KeptAside> = std::fs::read_dir(data_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stamp = name.strip_prefix(&prefix)?;
            let at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
            let keys = format!("{KEYS_FILE}{DAMAGED}{stamp}");
            Some(described(data_dir, &name, at, &keys))
        })
        .collect();
    out.sort_by_key(|kept| std::cmp::Reverse(kept.at));
    out
}

/// `file`, kept aside at `at`, with what the slots file `keys` (in `data_dir`) says of it.
fn described(data_dir: &Path, file: &str, at: DateTime<Utc>, keys: &str) -> KeptAside {
    KeptAside {
        file: file.to_owned(),
        at,
        owner: owner_in(data_dir, keys),
    }
}
