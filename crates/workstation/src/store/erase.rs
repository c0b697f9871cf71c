//! Erasing a device's data, when its back office revoked it with a wipe (a laptop lost or
//! stolen, a bus taken out of service).
//!
//! The erasure is cryptographic first: the slots file, the only place the database's key
//! exists on this machine, is overwritten and removed, so whatever blocks of the database the
//! disk still holds can no longer be read (the back office forgets the device's recovery key
//! when the device confirms). Then the database and its companions go: its WAL and shared
//! memory, files set aside after an interrupted set-up, the credential file of an older
//! release. What remains is a note without anything personal, so that the next start can say
//! what happened; set-up and enrolment work again as on a new machine.

use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::vault::{KEYS_FILE, KEYS_LOCK, LEGACY_CREDENTIAL_FILE, lock_beside, remove_stale};
use super::{DATABASE_FILE, Disk, Workstation};
use crate::error::{Error, Result};

/// The note an erasure leaves in the data directory.
pub const ERASED_FILE: &str = "erased.json";

/// What was erased, and when: shown on screen, and kept for the next start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Erased {
    pub at: DateTime<Utc>,
    pub center_code: String,
    pub device_code: String,
    /// Whether the back office heard that the erasure was done.
    pub confirmed: bool,
}

impl Workstation {
    /// Erases this workstation's data for good: its key's slots, then its database and every
    /// file beside it that came from it. The workstation is closed afterwards; open the data
    /// directory again to set it up anew. Only the caller knows that nothing waits to be
    /// delivered: `sync::complete_wipe` checks it first.
    pub fn erase(&mut self) -> Result<Erased> {
        let path = match (&self.path, self.disk) {
            (Some(path), Disk::Encrypted | Disk::Plain) => path.clone(),
            _ => return Err(self.closed()),
        };
        let config = self.config()?;
        let at = self.now().wall;
        self.conn = None;
        self.key = None;
        self.session = None;
        self.disk = Disk::Unsaved;
        let dir = path.parent().unwrap_or(Path::new("."));
        // Under the key file's lock: a program that read it just before (a failed login on
        // the command line) would otherwise write its slots back after the erasure.
        let keys = dir.join(KEYS_FILE);
        let held = lock_beside(&keys, KEYS_LOCK)?;
        shred(&keys)?;
        drop(held);
        let entries = std::fs::read_dir(dir).map_err(|source| Error::DataDir {
            path: dir.to_owned(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::DataDir {
                path: dir.to_owned(),
                source,
            })?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Databases kept aside as damaged go too, with their slots files. The lock files
            // stay: they hold nothing, and a program waiting on one removed would take it
            // beside a newcomer on a new one.
            if name.starts_with(DATABASE_FILE)
                || name.starts_with(KEYS_FILE)
                || name.starts_with(LEGACY_CREDENTIAL_FILE)
            {
                shred(&entry.path())?;
            }
        }
        let erased = Erased {
            at,
            center_code: config.center_code,
            device_code: config.device_code,
            confirmed: false,
        };
        note_erased(dir, &erased)?;
        Ok(erased)
    }
}

/// Keeps the note of an erasure (again, once the back office heard of it).
pub fn note_erased(data_dir: &Path, erased: &Erased) -> Result<()> {
    let path = data_dir.join(ERASED_FILE);
    let bytes = serde_json::to_vec_pretty(erased)?;
    crate::files::write_private(&path, &bytes).map_err(|source| Error::DataDir { path, source })
}

/// The note of an erasure in this data directory, if its data was erased and it was not set up
/// again since.
pub fn erased_note(data_dir: &Path) -> Option<Erased> {
    let bytes = std::fs::read(data_dir.join(ERASED_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Forgets the note of an erasure: the data directory is set up again.
pub(crate) fn forget_erasure(data_dir: &Path) -> Result<()> {
    remove_stale(&data_dir.join(ERASED_FILE))
}

/// Overwrites a file with zeros, then removes it. On a disk that writes in place the old
/// bytes are gone; on one that does not (flash), the key's slots are what matters, and the
/// database without them is ciphertext.
fn shred(path: &Path) -> Result<()> {
    let fail = |source| Error::DataDir {
        path: path.to_owned(),
        source,
    };
    let len = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(fail(e)),
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(fail)?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n]).map_err(fail)?;
        left -= n as u64;
    }
    file.sync_all().map_err(fail)?;
    drop(file);
    std::fs::remove_file(path).map_err(fail)
}
