//! The database's key, and who may open it: citizens' data at rest is encrypted.
//!
//! A workstation's database file (and with it its WAL and shared-memory files) is encrypted
//! with SQLCipher under a random 256-bit key. The key is kept nowhere in clear: the file
//! `keys.json` beside the database holds it sealed in slots (`guichet_domain::keyslot`):
//! - `clerk:<digest of the user name>`: under a clerk's password, for their logins;
//! - `session:<digest of the token>`: under a command line session's token, until it expires;
//! - `recovery`: under the device's recovery key, which an administrator keeps on paper (a
//!   standalone device) or the back office holds (an enrolled one).
//!
//! Invariants:
//! - The key is in memory only while a clerk is logged in and the screen unlocked; lock and
//!   logout close the database and drop the key, which wipes itself.
//! - The slots file says nothing about citizens. It holds, in clear, the centre and device the
//!   login screen names, the back office's address, digests of user names, and the failed
//!   logins in a row per typed name (they must be counted while the database is closed; the
//!   audit trail gets their events at the next login).
//! - The file is read afresh before every change to it, so the background sync's connection
//!   and the clerk's (and another process) do not undo each other's slots.
//! - A database file that exists without any slot to open it can only be one whose set-up was
//!   interrupted before its first commit: it is moved aside, never deleted, and set-up starts
//!   again.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use guichet_domain::account::Verifier;
use guichet_domain::keyslot::{DataKey, RecoveryKey, SealedKey, Secret};
use guichet_domain::queue::Moment;
use guichet_domain::sha256_hex as digest;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Config, Disk, Workstation, path_label, prepared};
use crate::error::{Error, Result};
use crate::sync::Link;

/// The file beside the database that holds its key's slots.
pub const KEYS_FILE: &str = "keys.json";

/// The lock file held while the key file is read and written back (`Vault::update`); not
/// named after the key file, which an erasure removes with every file whose name it begins.
pub(crate) const KEYS_LOCK: &str = "keys.lock";

/// The lock file held while a data directory is taken by a set-up or an enrolment, from the
/// check that it holds no workstation to the encrypted database in place
/// (`Workstation::claim_data_dir`), and while a set-up's leftovers are cleared at open.
pub(crate) const SETUP_LOCK: &str = "setup.lock";

/// The slot of the recovery key.
pub(crate) const RECOVERY_SLOT: &str = "recovery";

/// What the slots file tells in clear: the workstation's set-up (centre, device, local rules:
/// what the login screen shows), and the back office to ask to vouch for a clerk whose first
/// login on this device this is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub config: Config,
    /// The back office of an enrolled device.
    #[serde(default)]
    pub server_url: Option<String>,
    /// How the device reaches it beyond the URL, as the operator said at enrolment (nothing
    /// secret: a choice, and a public CA certificate).
    #[serde(default)]
    pub link: Link,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slot {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
    /// A clerk's slot: the digest of the verifier their password matched when it was sealed.
    /// When the account's verifier changes (a reset at the back office), the slot goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verifier: Option<String>,
    key: SealedKey,
}

/// Failed logins in a row under one typed name (kept as its digest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Failures {
    name: String,
    pub count: u32,
    pub last_failed_at: DateTime<Utc>,
    /// The boot and monotonic reading of the last failure, which measure the wait while the
    /// machine has not restarted (absent from files written before they were kept).
    #[serde(default)]
    pub boot: String,
    #[serde(default)]
    pub mono_ms: u64,
    /// Failures whose event is not in the audit trail yet (it was closed when they happened).
    pub unrecorded: u32,
}

impl Failures {
    /// When the last failure happened.
    pub fn last_failure(&self) -> Moment {
        Moment {
            wall: self.last_failed_at,
            mono_ms: self.mono_ms,
            boot: self.boot.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct KeysFile {
    #[serde(default)]
    label: Option<Label>,
    #[serde(default)]
    slots: Vec<Slot>,
    #[serde(default)]
    failures: Vec<Failures>,
}

impl KeysFile {
    /// The slot `name`, if it is there and has not expired.
    fn live_slot(&self, name: &str, now: DateTime<Utc>) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|s| s.name == name && s.expires_at.is_none_or(|at| at > now))
    }
}

/// The slots of one workstation: in its data directory, or in memory for a workstation in
/// memory.
#[derive(Debug)]
pub(crate) enum Vault {
    File(PathBuf),
    Memory(Box<KeysFile>),
}

/// What a slot is sealed with besides its secret.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotTerms<'a> {
    pub expires_at: Option<DateTime<Utc>>,
    /// The verifier of the clerk whose password seals the slot.
    pub verifier: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// The slot of a clerk's password.
pub(crate) fn clerk_slot(username: &str) -> String {
    format!("clerk:{}", digest(username.as_bytes()))
}

/// The slot of a command line session's token.
pub(crate) fn session_slot(token: &str) -> String {
    format!("session:{}", digest(token.as_bytes()))
}

impl Vault {
    /// The slots of a workstation in memory.
    pub fn memory() -> Vault {
        Vault::Memory(Box::default())
    }

    fn read(&self) -> Result<KeysFile> {
        match self {
            Vault::Memory(file) => Ok((**file).clone()),
            Vault::File(path) => match std::fs::read(path) {
                Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Invalid(format!(
                        "the key file {} is damaged ({e}): restore it from a backup, or recover \
                         the device with its recovery key",
                        path.display()
                    ))
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeysFile::default()),
                Err(source) => Err(Error::DataDir {
                    path: path.clone(),
                    source,
                }),
            },
        }
    }

    /// Reads the key file, changes it and writes it back, holding `KEYS_LOCK` from the read to
    /// the write: a login in the window and another on the command line would otherwise each
    /// write back what it read, and the one written last would drop the other's slot or
    /// failed login.
    fn update<T>(&mut self, change: impl FnOnce(&mut KeysFile) -> T) -> Result<T> {
        let _held = match self {
            Vault::Memory(_) => None,
            Vault::File(path) => Some(lock_beside(path, KEYS_LOCK)?),
        };
        let mut file = self.read()?;
        let out = change(&mut file);
        match self {
            Vault::Memory(held) => **held = file,
            Vault::File(path) => {
                let bytes = serde_json::to_vec_pretty(&file)?;
                crate::files::write_private(path, &bytes).map_err(|source| Error::DataDir {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        Ok(out)
    }

    pub fn label(&self) -> Result<Option<Label>> {
        Ok(self.read()?.label)
    }

    /// Changes the label as the key file holds it now, read and written back under its lock:
    /// another program on the same directory may have changed the file since it was read.
    /// `None` when the directory has no label (it is not set up).
    pub fn change_label<T>(&mut self, change: impl FnOnce(&mut Label) -> T) -> Result<Option<T>> {
        self.update(|file| file.label.as_mut().map(change))
    }

    pub fn set_label(&mut self, label: Label) -> Result<()> {
        self.update(|file| file.label = Some(label))
    }

    /// Whether any slot could open the database.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.read()?.slots.is_empty())
    }

    pub fn has(&self, name: &str) -> Result<bool> {
        Ok(self.read()?.slots.iter().any(|s| s.name == name))
    }

    /// The key from the slot `name`, if it is there, has not expired, and opens with `secret`.
    pub fn open(
        &self,
        name: &str,
        secret: Secret<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<DataKey>> {
        Ok(self
            .read()?
            .live_slot(name, now)
            .and_then(|s| s.key.open(secret, name)))
    }

    /// The key from the clerk's slot `name`, as [`Vault::open`] gives it under their
    /// password. A slot an earlier release sealed over fewer lanes is sealed anew, with the
    /// same password, verifier and expiry, while the key and the password are in hand: this
    /// login pays one derivation more, and the next ones cost what a new slot's (and an
    /// unknown name's) do.
    pub fn open_clerk(
        &mut self,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DataKey>> {
        let file = self.read()?;
        let Some(slot) = file.live_slot(name, now) else {
            return Ok(None);
        };
        let Some(key) = slot.key.open(Secret::Password(password), name) else {
            return Ok(None);
        };
        if slot.key.is_outdated() {
            let opened = slot.key.clone();
            // Only a speed-up: a slot that cannot be sealed anew (a full or read-only disk)
            // still let the clerk in, and is tried again at the next login.
            let renewed = SealedKey::seal(
                &key,
                Secret::Password(password),
                name,
                rand::random(),
                rand::random(),
            )
            .map_err(Error::from)
            .and_then(|renewed| {
                // The file is read afresh: only the slot that was opened is replaced, not one
                // sealed meanwhile by another connection (under a new password, say).
                self.update(|file| {
                    if let Some(s) = file
                        .slots
                        .iter_mut()
                        .find(|s| s.name == name && s.key == opened)
                    {
                        s.key = renewed;
                    }
                })
            });
            if let Err(e) = renewed {
                tracing::warn!(
                    "a key slot sealed by an earlier release could not be sealed anew: {e}"
                );
            }
        }
        Ok(Some(key))
    }

    /// Seals `key` into the slot `name` (replacing it), and drops the expired slots.
    pub fn seal(
        &mut self,
        name: &str,
        key: &DataKey,
        secret: Secret<'_>,
        with: SlotTerms,
    ) -> Result<()> {
        let SlotTerms {
            expires_at,
            verifier,
            now,
        } = with;
        let sealed = SealedKey::seal(key, secret, name, rand::random(), rand::random())?;
        self.update(|file| {
            file.slots
                .retain(|s| s.name != name && s.expires_at.is_none_or(|at| at > now));
            file.slots.push(Slot {
                name: name.to_owned(),
                expires_at,
                verifier: verifier.map(|v| digest(v.as_bytes())),
                key: sealed,
            });
        })
    }

    /// Drops the clerks' slots `keep` refuses, given the slot's name and the digest of the
    /// verifier it was sealed with.
    pub fn prune(&mut self, keep: impl Fn(&str, Option<&str>) -> bool) -> Result<()> {
        let file = self.read()?;
        let gone = |s: &Slot| s.name.starts_with("clerk:") && !keep(&s.name, s.verifier.as_deref());
        if file.slots.iter().any(gone) {
            self.update(|file| file.slots.retain(|s| !gone(s)))?;
        }
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<()> {
        if self.has(name)? {
            self.update(|file| file.slots.retain(|s| s.name != name))?;
        }
        Ok(())
    }

    /// Forgets every slot and failure: for a database made anew.
    pub fn clear(&mut self) -> Result<()> {
        self.update(|file| *file = KeysFile::default())
    }

    /// The failed logins in a row under the typed name `name`.
    pub fn failures(&self, name: &str) -> Result<Option<Failures>> {
        let key = digest(name.as_bytes());
        Ok(self.read()?.failures.into_iter().find(|f| f.name == key))
    }

    /// Counts one more failed login under `name`; its event is written at the next login.
    pub fn count_failure(&mut self, name: &str, at: &Moment) -> Result<()> {
        let key = digest(name.as_bytes());
        self.update(|file| {
            let (count, unrecorded) = file
                .failures
                .iter()
                .find(|f| f.name == key)
                .map_or((0, 0), |f| (f.count, f.unrecorded));
            file.failures.retain(|f| f.name != key);
            file.failures.push(Failures {
                name: key,
                count: count + 1,
                last_failed_at: at.wall,
                boot: at.boot.clone(),
                mono_ms: at.mono_ms,
                unrecorded: unrecorded + 1,
            });
        })
    }

    /// The last failure counted under `name` was not one: the back office vouched for the
    /// password this device could not check.
    pub fn withdraw_failure(&mut self, name: &str) -> Result<()> {
        let key = digest(name.as_bytes());
        if self.read()?.failures.iter().any(|f| f.name == key) {
            self.update(|file| {
                for f in file.failures.iter_mut().filter(|f| f.name == key) {
                    f.count = f.count.saturating_sub(1);
                    f.unrecorded = f.unrecorded.saturating_sub(1);
                }
                file.failures.retain(|f| f.count > 0 || f.unrecorded > 0);
            })?;
        }
        Ok(())
    }

    /// A login under `name` succeeded: its run of failures ends.
    pub fn clear_failures(&mut self, name: &str) -> Result<()> {
        let key = digest(name.as_bytes());
        if self.read()?.failures.iter().any(|f| f.name == key) {
            self.update(|file| {
                for f in file.failures.iter_mut().filter(|f| f.name == key) {
                    f.count = 0;
                }
                file.failures.retain(|f| f.count > 0 || f.unrecorded > 0);
            })?;
        }
        Ok(())
    }

    /// The failed logins not yet in the audit trail, by the digest of the typed name.
    pub fn unrecorded(&self) -> Result<Vec<(String, u32)>> {
        Ok(self
            .read()?
            .failures
            .into_iter()
            .filter(|f| f.unrecorded > 0)
            .map(|f| (f.name, f.unrecorded))
            .collect())
    }

    /// Those failures are in the audit trail now.
    pub fn recorded(&mut self) -> Result<()> {
        self.update(|file| {
            for f in &mut file.failures {
                f.unrecorded = 0;
            }
            file.failures.retain(|f| f.count > 0);
        })
    }
}

/// What a database file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileState {
    /// No file, or an empty one.
    Absent,
    /// A plain SQLite database: made by a release before encryption.
    Plain,
    /// Anything else: encrypted (SQLCipher's first page is random to whoever has no key).
    Encrypted,
}

pub(crate) fn file_state(path: &Path) -> Result<FileState> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let read = match std::fs::File::open(path) {
        Ok(mut file) => file.read(&mut head),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::Absent),
        Err(e) => Err(e),
    }
    .map_err(|source| Error::DataDir {
        path: path.to_owned(),
        source,
    })?;
    Ok(match read {
        0 => FileState::Absent,
        _ if &head == b"SQLite format 3\0" => FileState::Plain,
        _ => FileState::Encrypted,
    })
}

/// A connection of its own to the encrypted database in `data_dir`, opened with the device's
/// recovery key: for an administrator who inspects or copies the data outside the counter's
/// rules (whoever holds the recovery key can open the device anyway), and for tests. What is
/// written through it bypasses the audit trail.
pub fn open_with_recovery_key(data_dir: &Path, recovery: &RecoveryKey) -> Result<Connection> {
    let vault = Vault::File(data_dir.join(KEYS_FILE));
    let key = vault
        .open(RECOVERY_SLOT, recovery.secret(), Utc::now())?
        .ok_or(crate::error::Access::RecoveryRefused)?;
    let conn = open_encrypted(&data_dir.join(super::DATABASE_FILE), &key)?;
    super::configure(&conn)?;
    Ok(conn)
}

/// SQLCipher's page layout for every encrypted database here, set as the process's default (so
/// an attached database gets it too) and on the connection. Pages of 1 KiB: a clerk's action
/// changes a few rows in some thirty pages, and each changed page is encrypted and
/// authenticated whole, so smaller pages cost less per action; HMAC-SHA256, which the
/// processor computes in hardware (SHA-NI), rather than SQLCipher's default HMAC-SHA512.
/// `docs/benchmarks.md` has the figures. Every connection must agree: these are not stored in
/// the file.
const CIPHER_PAGE_SIZE: i64 = 1024;
const CIPHER_HMAC: &str = "HMAC_SHA256";

fn cipher_layout(conn: &Connection, keyed: bool) -> Result<()> {
    // SQLCipher's own log goes to standard error, where a CLI user sees it mixed with the
    // answer: a page that fails its check is said as `Error::Damaged` instead.
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
        .optional()?;
    conn.pragma_update(None, "cipher_default_page_size", CIPHER_PAGE_SIZE)?;
    conn.pragma_update(None, "cipher_default_hmac_algorithm", CIPHER_HMAC)?;
    if keyed {
        conn.pragma_update(None, "cipher_page_size", CIPHER_PAGE_SIZE)?;
        conn.pragma_update(None, "cipher_hmac_algorithm", CIPHER_HMAC)?;
    }
    Ok(())
}

/// Opens the encrypted database at `path` with `key`, checking that the key is the right one.
pub(crate) fn open_encrypted(path: &Path, key: &DataKey) -> Result<Connection> {
    super::page_cipher::register();
    let conn = Connection::open(path)?;
    cipher_layout(&conn, false)?;
    conn.pragma_update(None, "key", &*key.sqlcipher_pragma())?;
    cipher_layout(&conn, true)?;
    // The key came from a slot that opened with the clerk's secret: it is the database's
    // own, so a database it does not open is damaged (or not this workstation's any more).
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|e| Error::Damaged {
            detail: e.to_string(),
        })?;
    Ok(conn)
}

/// Writes everything `conn` holds into a new encrypted database at `dest` under `key`.
pub(crate) fn export_encrypted(conn: &Connection, dest: &Path, key: &DataKey) -> Result<()> {
    remove_stale(dest)?;
    remove_stale(&sidecar(dest, "-journal"))?;
    crate::files::private_file(dest).map_err(|source| Error::DataDir {
        path: dest.to_owned(),
        source,
    })?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    super::page_cipher::register();
    cipher_layout(conn, false)?;
    conn.execute(
        "ATTACH DATABASE ?1 AS sealed KEY ?2",
        params![dest.to_string_lossy(), &*key.sqlcipher_pragma()],
    )?;
    let exported = conn
        .query_row("SELECT sqlcipher_export('sealed')", [], |_| Ok(()))
        .and_then(|()| conn.pragma_update(Some("sealed"), "user_version", version));
    conn.execute("DETACH DATABASE sealed", [])?;
    exported?;
    Ok(())
}

/// Removes a file left by an earlier attempt (or any file that may be gone already), if there
/// is one.
pub(crate) fn remove_stale(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::DataDir {
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// The encrypted database at `path`, opened with `key`, with the store's pragmas and schema.
pub(crate) fn open_sealed(path: &Path, key: &DataKey) -> Result<Connection> {
    prepared(open_encrypted(path, key)?, &path_label(Some(path)))
}

/// Waits for `SETUP_LOCK` beside the database at `path` and takes it.
pub(crate) fn take_setup_lock(path: &Path) -> Result<crate::files::Lock> {
    lock_beside(path, SETUP_LOCK)
}

/// Waits for the lock file `name` in the directory of `file` and takes it.
pub(crate) fn lock_beside(file: &Path, name: &str) -> Result<crate::files::Lock> {
    let lock = file.with_file_name(name);
    crate::files::Lock::exclusive(&lock).map_err(|source| Error::DataDir { path: lock, source })
}

/// The file SQLite keeps beside a database under `suffix` (`-wal`, `-shm`, `-journal`).
pub(crate) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Workstation {
    /// Seals the database's key under a clerk's password, whose verifier is `verifier`.
    pub(crate) fn seal_clerk(
        &mut self,
        username: &str,
        password: &str,
        verifier: &Verifier,
    ) -> Result<()> {
        let key = self.key.clone().ok_or_else(|| self.closed())?;
        let now = self.now().wall;
        self.vault.seal(
            &clerk_slot(username),
            &key,
            Secret::Password(password),
            SlotTerms {
                expires_at: None,
                verifier: Some(verifier.as_str()),
                now,
            },
        )
    }

    /// Takes the data directory for a set-up or an enrolment made in memory, before its first
    /// slot is written: holds `SETUP_LOCK` and checks that no other process (the command line
    /// beside the window's first-run screen, say) has set a workstation up there since this
    /// one was opened, which its slots and database would otherwise overwrite. If one has,
    /// this workstation becomes that one, as opened from disk, and the refusal names it. A
    /// workstation already on disk, or in memory, has nothing to claim.
    pub(crate) fn claim_data_dir(&mut self) -> Result<Option<crate::files::Lock>> {
        if self.disk != Disk::Unsaved {
            return Ok(None);
        }
        let path = self.path.clone().ok_or_else(|| self.closed())?;
        let lock = take_setup_lock(&path)?;
        if file_state(&path)? != FileState::Absent {
            *self = Workstation::open(&path, std::sync::Arc::clone(&self.clock))?;
            self.refuse_if_set_up()?;
            return Err(Error::Invalid(
                "the data directory changed while this set-up ran: start it again".into(),
            ));
        }
        // A set-up that stopped half-way in another process since this one was opened.
        if self.vault.label()?.is_some() || !self.vault.is_empty()? {
            self.vault.clear()?;
        }
        Ok(Some(lock))
    }

    /// Writes a database set up in memory to disk, encrypted, once the slots that open it are
    /// in the key file: the recovery key's, and the clerks' sealed before.
    pub(crate) fn settle(
        &mut self,
        recovery: &RecoveryKey,
        server_url: Option<&str>,
    ) -> Result<()> {
        let key = self.key.clone().ok_or_else(|| self.closed())?;
        let config = self.config()?;
        let now = self.now().wall;
        self.vault.seal(
            RECOVERY_SLOT,
            &key,
            recovery.secret(),
            SlotTerms {
                expires_at: None,
                verifier: None,
                now,
            },
        )?;
        let link = self.vault.label()?.map(|l| l.link).unwrap_or_default();
        self.vault.set_label(Label {
            config,
            server_url: server_url.map(str::to_owned),
            link,
        })?;
        if self.disk != Disk::Unsaved {
            return Ok(());
        }
        self.replace_with_encrypted(&key)?;
        let path = self.path.clone().ok_or_else(|| self.closed())?;
        super::erase::forget_erasure(path.parent().unwrap_or(Path::new(".")))
    }

    /// Writes what the open database holds into an encrypted file under `key`, which then
    /// takes the database file's place: the copy is whole before the rename, the WAL of a
    /// plain file is emptied into it first and its leftovers removed (the encrypted file must
    /// not meet the plain file's WAL), and the encrypted file is opened in its stead.
    fn replace_with_encrypted(&mut self, key: &DataKey) -> Result<()> {
        let path = self.path.clone().ok_or_else(|| self.closed())?;
        let conn = self.conn()?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let fresh = sidecar(&path, ".sealing");
        export_encrypted(conn, &fresh, key)?;
        self.conn = None;
        remove_stale(&sidecar(&path, "-wal"))?;
        remove_stale(&sidecar(&path, "-shm"))?;
        std::fs::rename(&fresh, &path).map_err(|source| Error::DataDir {
            path: path.clone(),
            source,
        })?;
        self.conn = Some(open_sealed(&path, key)?);
        self.disk = Disk::Encrypted;
        Ok(())
    }

    /// Opens the database with `key` (from a slot that opened), and writes the failed logins
    /// counted while it was closed into the audit trail.
    pub(crate) fn unseal(&mut self, key: DataKey) -> Result<()> {
        if self.conn.is_none() {
            let path = self.path.clone().ok_or_else(|| self.closed())?;
            self.conn = Some(open_sealed(&path, &key)?);
        }
        self.key = Some(key);
        self.record_failures()
    }

    /// Closes the database and drops its key, which wipes itself: at lock and at logout. A
    /// workstation in memory keeps its database (there is nothing at rest to protect).
    pub(crate) fn seal_away(&mut self) {
        self.key = None;
        if self.disk == Disk::Encrypted {
            self.conn = None;
        }
    }

    /// Whether the database is a plain one of a release before encryption.
    pub(crate) fn is_plain(&self) -> bool {
        self.disk == Disk::Plain
    }

    /// Encrypts a plain database at the first login, with nothing lost: the copy is written
    /// and its slots saved before it takes the plain file's place, and the plain file's WAL
    /// is emptied into it first.
    pub(crate) fn encrypt_plain(
        &mut self,
        username: &str,
        password: &str,
        verifier: &Verifier,
    ) -> Result<()> {
        let path = self.path.clone().ok_or_else(|| self.closed())?;
        self.key = Some(DataKey::from_bytes(rand::random()));
        let key = self.key.clone().ok_or_else(|| self.closed())?;
        let recovery = RecoveryKey::from_bytes(rand::random());
        self.vault.clear()?;
        self.seal_clerk(username, password, verifier)?;
        let enrolled = self.sync_point()?.map(|p| p.server_url);
        if enrolled.is_some() {
            // The back office will hold the recovery key: it goes with the next exchange.
            self.conn()?.execute(
                "UPDATE sync_state SET recovery_key = ?1 WHERE id = 1",
                [&*recovery.written()],
            )?;
        }
        self.import_credential_file(&path)?;
        self.settle(&recovery, enrolled.as_deref())?;
        self.replace_with_encrypted(&key)?;
        if enrolled.is_none() {
            self.recovery = Some(recovery);
        }
        Ok(())
    }

    /// The device credential of a release that kept it in a file of its own: moved into the
    /// database, which is encrypted, and the file removed.
    fn import_credential_file(&mut self, database: &Path) -> Result<()> {
        let file = database.with_file_name(LEGACY_CREDENTIAL_FILE);
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(Error::DataDir { path: file, source }),
        };
        let credential: serde_json::Value = serde_json::from_slice(&bytes)?;
        if let Some(token) = credential.get("token").and_then(|t| t.as_str()) {
            self.set_token(token)?;
        }
        std::fs::remove_file(&file).map_err(|source| Error::DataDir { path: file, source })
    }

    /// Drops the slots of clerks who may no longer open this device: disabled, removed, or
    /// whose password was reset since the slot was sealed.
    pub(crate) fn prune_slots(&mut self) -> Result<()> {
        let mut stmt = self
            .conn()?
            .prepare("SELECT username, active, verifier FROM clerks")?;
        let clerks: Vec<(String, bool, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        self.vault.prune(|name, verifier| {
            clerks.iter().any(|(user, active, current)| {
                *active
                    && clerk_slot(user) == name
                    && verifier.is_none_or(|v| v == digest(current.as_bytes()))
            })
        })
    }
}

/// The file a release before encryption kept the device credential in.
pub(crate) const LEGACY_CREDENTIAL_FILE: &str = "credential.json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_writers_of_one_key_file_lose_nothing_of_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYS_FILE);
        let moment = Moment {
            wall: Utc::now(),
            mono_ms: 0,
            boot: "boot".into(),
        };
        let writers: Vec<_> = ["window", "terminal"]
            .into_iter()
            .map(|name| {
                let mut vault = Vault::File(path.clone());
                let moment = moment.clone();
                std::thread::spawn(move || {
                    for _ in 0..60 {
                        vault.count_failure(name, &moment).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let vault = Vault::File(path);
        for name in ["window", "terminal"] {
            assert_eq!(vault.failures(name).unwrap().unwrap().count, 60, "{name}");
        }
    }

    #[test]
    fn a_clerk_slot_sealed_over_one_lane_is_sealed_anew_when_it_opens() {
        // Written by the release that stretched passwords over one lane: the key [7; 32] under
        // "a long passphrase", for the slot "clerk:x".
        let old: SealedKey = serde_json::from_str(
            r#"{"salt":"04040404040404040404040404040404","nonce":"050505050505050505050505","sealed":"638765b6fbceb60823faa7aefb1aa0696b55dcfa8663df62db1db5c01db955177710526fb4941271ae2d6a780e1e8d1b"}"#,
        )
        .unwrap();
        let mut vault = Vault::memory();
        vault
            .update(|file| {
                file.slots.push(Slot {
                    name: "clerk:x".into(),
                    expires_at: None,
                    verifier: Some("digest of the verifier".into()),
                    key: old.clone(),
                })
            })
            .unwrap();
        let slot = |vault: &Vault| vault.read().unwrap().slots.remove(0);
        let now = Utc::now();
        let want = DataKey::from_bytes([7; 32]).sqlcipher_pragma();

        let refused = vault
            .open_clerk("clerk:x", "a long passphrasE", now)
            .unwrap();
        assert!(refused.is_none());
        assert_eq!(slot(&vault).key, old, "a wrong password changed the slot");

        let key = vault
            .open_clerk("clerk:x", "a long passphrase", now)
            .unwrap();
        assert_eq!(*key.unwrap().sqlcipher_pragma(), *want);
        let renewed = slot(&vault);
        assert!(!renewed.key.is_outdated());
        assert_eq!(renewed.verifier.as_deref(), Some("digest of the verifier"));
        assert_eq!(renewed.expires_at, None);

        let key = vault
            .open_clerk("clerk:x", "a long passphrase", now)
            .unwrap();
        assert_eq!(*key.unwrap().sqlcipher_pragma(), *want);
        assert_eq!(
            slot(&vault).key,
            renewed.key,
            "a current slot was sealed again"
        );
    }
}
