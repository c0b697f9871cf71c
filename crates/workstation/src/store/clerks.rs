//! Who is at the keyboard: the clerks' accounts this device holds, logging in and out, locking,
//! and the command line's sessions.
//!
//! Invariants:
//! - Every clerk action runs as the clerk logged in (`Workstation::require`); nothing takes a
//!   typed name as its author.
//! - A wrong password and an unknown user name get the same answer after the same work (an
//!   Argon2id check either way), and only a failed-login event is written. After
//!   `FREE_FAILURES` failures in a row under one name, each attempt waits longer
//!   (`lockout_delay`); attempts during the wait are refused without checking the password.
//! - The accounts of an enrolled device are the back office's: they arrive with enrolment and
//!   through sync, and are changed only there. A standalone device keeps its own, managed by
//!   its administrators.
//! - An enrolled device that has not reached its back office for `max_offline_days` takes no
//!   more logins, so an account disabled centrally cannot be used for ever on a device kept
//!   offline.

use chrono::{DateTime, Duration, Utc};
use guichet_domain::account::{
    Account, Act, Role, SessionEvent, UNKNOWN_CLERK, Verifier, check_new_account, check_username,
    lockout_delay,
};
use guichet_domain::keyslot::{RecoveryKey, Secret};
use guichet_domain::queue::{Moment, elapsed_ms};
use guichet_domain::{hex, sha256_hex as digest};
use guichet_protocol::Change;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::vault::{RECOVERY_SLOT, SlotTerms, clerk_slot, session_slot};
use super::{ActionTx, Workstation};
use crate::error::{Access, Error, Kind, Result};

/// How long a command line session lasts after `guichet login`: a working day.
pub const CLI_SESSION_HOURS: i64 = 10;

/// A new account on a standalone workstation, or its first administrator at set-up.
#[derive(Clone)]
pub struct NewClerk {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

/// Without the password: no log line can hold it by formatting the whole.
impl std::fmt::Debug for NewClerk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewClerk")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// An account as the screens and the CLI show it: never its verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClerkView {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// "local" (made on this workstation) or "backoffice".
    pub source: String,
}

/// Who is logged in at this workstation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Session {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Locked: the clerk stepped away; nothing can be done until a clerk unlocks.
    pub locked: bool,
}

impl Session {
    /// The unlocked session of a clerk.
    pub(crate) fn of(username: &str, display_name: &str, role: Role) -> Session {
        Session {
            username: username.to_owned(),
            display_name: display_name.trim().to_owned(),
            role,
            locked: false,
        }
    }
}

/// Verifiers of random passwords nobody kept, checked against when the typed name is no
/// account, so that an unknown name costs one Argon2id check, as a wrong password does: at a
/// verifier's cost where a verifier is checked (an approval, a plain database of an earlier
/// release), at a key slot's where a login opens the clerk's slot. They are written here
/// rather than made at run time: making one would cost a second check, and the difference
/// would tell which names are accounts. A slot an earlier release sealed over one lane takes
/// longer to open than the slot decoy, until its clerk's next login seals it anew
/// (`Vault::open_clerk`).
const DECOY: &str = "$argon2id$v=19$m=65536,t=3,p=1$hVV+pQrXJ6ENVw+FWVs34g$+nfohSVZDZTQ+xZlRJWtXqdzgdliCpazd3U+4wqbtTE";
const SLOT_DECOY: &str = "$argon2id$v=19$m=65536,t=3,p=4$FLQYof/jKibMnWKN7JtIbg$50G0AcquQP1UqfV40rgiByCVibL6VEXpPN/00MER9kg";

impl Workstation {
    /// The clerk logged in, if any.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The logged-in, unlocked clerk, if their role allows `act`.
    pub fn require(&self, act: Act) -> Result<&Session> {
        let session = self.session.as_ref().ok_or(Access::NoSession)?;
        if session.locked {
            return Err(Access::Locked.into());
        }
        if !session.role.allows(act) {
            return Err(Access::Role {
                needed: Role::needed_for(act),
                act,
            }
            .into());
        }
        Ok(session)
    }

    /// Logs a clerk in with their password: their slot opens the database (see `vault`). See
    /// the module header for what a failure does.
    pub fn login(&mut self, username: &str, password: &str) -> Result<Session> {
        let session = self.authenticate(username, password)?;
        self.take_over(session.clone())?;
        Ok(session)
    }

    /// Logs in a clerk the back office vouched for (it checked the password and sent the
    /// account and this device's recovery key): their first login on this device, or the
    /// first after a password reset or a long time offline. Their slot is sealed here, so
    /// their next logins work offline.
    pub fn login_vouched(
        &mut self,
        password: &str,
        account: &Account,
        recovery: &RecoveryKey,
    ) -> Result<Session> {
        // The attempt this device could not check is not a failure: the back office checked it.
        self.vault.withdraw_failure(&account.username)?;
        if !self.is_plain() {
            let now = self.now().wall;
            let key = self
                .vault
                .open(RECOVERY_SLOT, recovery.secret(), now)?
                .ok_or(Access::RecoveryRefused)?;
            self.unseal(key)?;
        }
        self.write_device(|change| {
            Workstation::store_accounts(change, std::slice::from_ref(account))
        })?;
        if self.is_plain() {
            self.encrypt_plain(&account.username, password, &account.verifier)?;
        } else {
            self.seal_clerk(&account.username, password, &account.verifier)?;
        }
        self.vault.clear_failures(&account.username)?;
        let session = match self.admit(account, Freshness::Vouched) {
            Ok(session) => session,
            Err(e) => {
                self.seal_away();
                return Err(e);
            }
        };
        self.take_over(session.clone())?;
        Ok(session)
    }

    /// Opens a standalone workstation whose administrators all forgot their password, with
    /// the recovery key printed at set-up: `username` gets `new_password` and is logged in.
    pub fn recover(
        &mut self,
        recovery: &RecoveryKey,
        username: &str,
        new_password: &str,
    ) -> Result<Session> {
        let now = self.now().wall;
        let key = self
            .vault
            .open(RECOVERY_SLOT, recovery.secret(), now)?
            .ok_or(Access::RecoveryRefused)?;
        self.unseal(key)?;
        let recovered = self.reset_by_recovery(username, new_password);
        match recovered {
            Ok(session) => {
                self.take_over(session.clone())?;
                Ok(session)
            }
            Err(e) => {
                self.seal_away();
                Err(e)
            }
        }
    }

    fn reset_by_recovery(&mut self, username: &str, new_password: &str) -> Result<Session> {
        if self.sync_point()?.is_some() {
            return Err(Access::ManagedByBackOffice.into());
        }
        let account = self
            .account(username)?
            .ok_or_else(|| Error::not_found(Kind::Clerk, username, ""))?;
        // Refused before anything is written: a disabled account keeps its password.
        if !account.active {
            return Err(Access::Disabled.into());
        }
        let verifier = new_verifier(&NewClerk {
            username: account.username.clone(),
            display_name: account.display_name.clone(),
            role: account.role,
            password: new_password.to_owned(),
        })?;
        let config = self.config()?;
        self.write_as(username, Some(&config.device_code), |change| {
            change.tx.execute(
                "UPDATE clerks SET verifier = ?2, updated_at = ?3 WHERE username = ?1",
                params![username, verifier.as_str(), change.at()],
            )?;
            change.record_local("clerk.recovered", "clerk", username, serde_json::json!({}))?;
            Ok(())
        })?;
        self.seal_clerk(username, new_password, &verifier)?;
        self.vault.clear_failures(username)?;
        self.prune_slots()?;
        self.admit(&account, Freshness::Checked)
    }

    /// Lets a clerk work on this device offline, before their first login here reached the
    /// back office: a supervisor logged in here has them type their password, checked against
    /// the account the last sync brought, and their slot is sealed.
    pub fn admit_clerk(&mut self, username: &str, password: &str) -> Result<ClerkView> {
        let supervisor = self.require(Act::Supervise)?.username.clone();
        self.check_password(username, password)?;
        let account = self.account(username.trim())?.ok_or(Access::LoginFailed)?;
        self.seal_clerk(&account.username, password, &account.verifier)?;
        self.write_for(Act::Supervise, |change| {
            change.record_local(
                "clerk.admitted",
                "clerk",
                &account.username,
                serde_json::json!({ "by": supervisor }),
            )?;
            Ok(())
        })?;
        self.clerk(&account.username)
    }

    /// Checks another clerk's password against their account while the database is open (an
    /// approval, an admission): failures count as a login's do; it opens no session and no
    /// slot.
    pub(crate) fn check_password(&mut self, username: &str, password: &str) -> Result<Session> {
        let name = username.trim();
        self.check_wait(name)?;
        let known = match check_username(name) {
            Ok(()) => self.account(name)?,
            Err(_) => None,
        };
        let account = match known {
            Some(a) if a.verifier.matches(password) => a,
            Some(_) => return Err(self.failed(name)),
            None => {
                decoy(password);
                return Err(self.failed(name));
            }
        };
        self.vault.clear_failures(name)?;
        self.admit(&account, Freshness::Checked)
    }

    /// Locks the screen: the session stays, but the database closes and its key is wiped
    /// until a clerk unlocks it.
    pub fn lock(&mut self) -> Result<()> {
        let username = self.require(Act::Counter)?.username.clone();
        // Locked whatever becomes of the record: a full disk or a busy database must not leave
        // the data open behind the lock's overlay. A record that failed is said after.
        let recorded = self.record_session(&username, SessionEvent::Lock);
        if let Some(session) = &mut self.session {
            session.locked = true;
        }
        self.seal_away();
        recorded
    }

    /// Unlocks with a password: the same clerk takes up their session; another clerk of the
    /// centre takes over the counter (the first one is logged out).
    pub fn unlock(&mut self, username: &str, password: &str) -> Result<Session> {
        let previous = self
            .session
            .as_ref()
            .ok_or(Access::NoSession)?
            .username
            .clone();
        let session = self.authenticate(username, password)?;
        let taken = if session.username == previous {
            self.record_session(&previous, SessionEvent::Unlock)
                .map(|()| self.session = Some(session.clone()))
        } else {
            self.take_over(session.clone())
        };
        if taken.is_err() {
            self.reseal();
        }
        taken.map(|()| session)
    }

    /// Logs the clerk out, locked or not: the database closes and its key is wiped.
    pub fn logout(&mut self) -> Result<()> {
        let ended = self.end_session();
        self.seal_away();
        ended
    }

    /// Starts a command line session for the clerk logged in: a random token, under which
    /// the database's key is sealed until the session expires. Only the token's digest is kept
    /// here; the caller keeps the token where only its user can read it.
    pub fn open_cli_session(&mut self) -> Result<String> {
        let username = self.require(Act::Counter)?.username.clone();
        let key = self.key.clone().ok_or_else(|| self.closed())?;
        let token = hex(&rand::random::<[u8; 32]>());
        let moment = self.now();
        let now = moment.wall;
        let expires = now + Duration::hours(CLI_SESSION_HOURS);
        self.vault.seal(
            &session_slot(&token),
            &key,
            Secret::Random(token.as_bytes()),
            SlotTerms {
                expires_at: Some(expires),
                verifier: None,
                now,
            },
        )?;
        let conn = self.conn()?;
        conn.execute(
            "DELETE FROM cli_sessions WHERE expires_at < ?1",
            [now.to_rfc3339()],
        )?;
        conn.execute(
            "INSERT INTO cli_sessions (token_digest, username, expires_at, boot, mono_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                digest(token.as_bytes()),
                username,
                expires.to_rfc3339(),
                moment.boot,
                i64::try_from(moment.mono_ms).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(token)
    }

    /// Takes up a command line session from its token, if it has not expired and its clerk may
    /// still log in. Its hours are counted on the monotonic clock, which nobody sets back, so
    /// a restart of the machine ends it (as it ends the terminal it was opened in); the wall
    /// clock may end it sooner, never later.
    pub fn resume_cli_session(&mut self, token: &str) -> Result<Session> {
        let moment = self.now();
        let now = moment.wall;
        let key = self
            .vault
            .open(&session_slot(token), Secret::Random(token.as_bytes()), now)?;
        match key {
            Some(key) => self.unseal(key)?,
            None if self.disk == super::Disk::Memory => {}
            None => return Err(Access::SessionExpired.into()),
        }
        let found: Option<(String, String, String, i64)> = self
            .conn()?
            .query_row(
                "SELECT username, expires_at, boot, mono_ms FROM cli_sessions
                 WHERE token_digest = ?1",
                [digest(token.as_bytes())],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let lasts = |expires: &str, boot: &str, mono_ms: i64| -> Result<bool> {
            let hours = u64::try_from(CLI_SESSION_HOURS).unwrap_or(0) * 3_600_000;
            let opened = u64::try_from(mono_ms).unwrap_or(u64::MAX);
            Ok(stored_time(expires)? > now
                && boot == moment.boot
                && moment
                    .mono_ms
                    .checked_sub(opened)
                    .is_some_and(|ms| ms < hours))
        };
        let admitted = match found {
            Some((username, expires, boot, mono_ms)) if lasts(&expires, &boot, mono_ms)? => self
                .account(&username)?
                .ok_or(Access::SessionExpired.into())
                .and_then(|account| self.admit(&account, Freshness::Checked)),
            _ => Err(Access::SessionExpired.into()),
        };
        match admitted {
            Ok(session) => {
                self.session = Some(session.clone());
                Ok(session)
            }
            Err(e) => {
                self.seal_away();
                Err(e)
            }
        }
    }

    /// Ends a command line session and logs its clerk out; answers who that was, if the
    /// session was still good.
    pub fn close_cli_session(&mut self, token: &str) -> Result<Option<String>> {
        let clerk = self.resume_cli_session(token).ok().map(|s| s.username);
        if clerk.is_some() {
            self.conn()?.execute(
                "DELETE FROM cli_sessions WHERE token_digest = ?1",
                [digest(token.as_bytes())],
            )?;
        }
        self.vault.remove(&session_slot(token))?;
        self.logout()?;
        Ok(clerk)
    }

    /// Every account this device holds.
    pub fn clerks(&self) -> Result<Vec<ClerkView>> {
        let mut stmt = self.conn()?.prepare_cached(
            "SELECT username, display_name, role, active, source FROM clerks ORDER BY username",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (username, display_name, role, active, source) = row?;
            Ok(ClerkView {
                username,
                display_name,
                role: Role::parse(&role)?,
                active,
                source,
            })
        })
        .collect()
    }

    /// Adds an account on a standalone workstation (administrators only).
    pub fn add_clerk(&mut self, new: &NewClerk) -> Result<ClerkView> {
        self.manage_accounts()?;
        let verifier = new_verifier(new)?;
        self.write_for(Act::Administer, |change| {
            insert_local(change, new, &verifier)
        })?;
        self.seal_clerk(&new.username, &new.password, &verifier)?;
        self.clerk(&new.username)
    }

    /// Disables or enables an account on a standalone workstation (administrators only). The
    /// last active administrator cannot be disabled.
    pub fn set_clerk_active(&mut self, username: &str, active: bool) -> Result<ClerkView> {
        self.manage_accounts()?;
        let before = self.clerk(username)?;
        if !active && before.role == Role::Administrator && self.other_admins(username)? == 0 {
            return Err(Access::LastAdministrator.into());
        }
        let changed = self.update_clerk(
            username,
            if active {
                "clerk.enabled"
            } else {
                "clerk.disabled"
            },
            "active = ?2",
            active,
        )?;
        self.prune_slots()?;
        Ok(changed)
    }

    /// Gives an account another role on a standalone workstation (administrators only).
    pub fn set_clerk_role(&mut self, username: &str, role: Role) -> Result<ClerkView> {
        self.manage_accounts()?;
        let before = self.clerk(username)?;
        if before.role == Role::Administrator
            && role != Role::Administrator
            && self.other_admins(username)? == 0
        {
            return Err(Access::LastAdministrator.into());
        }
        self.update_clerk(username, "clerk.role", "role = ?2", role.as_str())
    }

    /// Sets a new password for an account on a standalone workstation (administrators only).
    pub fn reset_clerk_password(&mut self, username: &str, password: &str) -> Result<ClerkView> {
        self.manage_accounts()?;
        let before = self.clerk(username)?;
        let verifier = new_verifier(&NewClerk {
            username: before.username.clone(),
            display_name: before.display_name,
            role: before.role,
            password: password.to_owned(),
        })?;
        let reset = self.update_clerk(
            username,
            "clerk.password_reset",
            "verifier = ?2",
            verifier.as_str(),
        )?;
        // The old password opens nothing more; the new one starts with no failures counted.
        self.seal_clerk(username, password, &verifier)?;
        self.prune_slots()?;
        self.vault.clear_failures(username)?;
        Ok(reset)
    }

    /// The accounts the back office sent (at enrolment or in a sync), replacing this device's
    /// copies.
    pub(crate) fn store_accounts(change: &mut ActionTx<'_>, accounts: &[Account]) -> Result<()> {
        for account in accounts {
            change.tx.execute(
                "INSERT INTO clerks (username, display_name, role, active, verifier, source,
                    updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'backoffice', ?6)
                 ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
                    role = excluded.role, active = excluded.active, verifier = excluded.verifier,
                    source = 'backoffice', updated_at = excluded.updated_at",
                params![
                    account.username,
                    account.display_name,
                    account.role.as_str(),
                    account.active,
                    account.verifier.as_str(),
                    change.at(),
                ],
            )?;
            change.record_local(
                "clerk.received",
                "clerk",
                &account.username,
                serde_json::json!({"role": account.role, "active": account.active}),
            )?;
        }
        Ok(())
    }

    fn clerk(&self, username: &str) -> Result<ClerkView> {
        self.clerks()?
            .into_iter()
            .find(|c| c.username == username)
            .ok_or_else(|| Error::not_found(Kind::Clerk, username, ""))
    }

    fn other_admins(&self, username: &str) -> Result<u64> {
        Ok(self.conn()?.query_row(
            "SELECT count(*) FROM clerks
             WHERE role = 'administrator' AND active = 1 AND username <> ?1",
            [username],
            |r| r.get(0),
        )?)
    }

    /// Account management is an administrator's, and on an enrolled device the back office's.
    fn manage_accounts(&self) -> Result<()> {
        self.require(Act::Administer)?;
        if self.sync_point()?.is_some() {
            return Err(Access::ManagedByBackOffice.into());
        }
        Ok(())
    }

    fn update_clerk(
        &mut self,
        username: &str,
        action: &str,
        set: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<ClerkView> {
        self.write_for(Act::Administer, |change| {
            let sql = format!("UPDATE clerks SET {set}, updated_at = ?3 WHERE username = ?1");
            change
                .tx
                .execute(&sql, params![username, value, change.at()])?;
            change.record_local(action, "clerk", username, serde_json::json!({}))?;
            Ok(())
        })?;
        self.clerk(username)
    }

    fn account(&self, username: &str) -> Result<Option<Account>> {
        let row: Option<(String, String, bool, String)> = self
            .conn()?
            .query_row(
                "SELECT display_name, role, active, verifier FROM clerks WHERE username = ?1",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(display_name, role, active, verifier)| {
            Ok(Account {
                username: username.to_owned(),
                display_name,
                role: Role::parse(&role)?,
                active,
                verifier: Verifier::parse(&verifier)?,
            })
        })
        .transpose()
    }

    /// Checks a user name and password against the clerk's slot, which opens the database
    /// (on a plain database of an earlier release, against the verifier, and the database is
    /// encrypted); on failure counts it, and answers as for any failure.
    fn authenticate(&mut self, username: &str, password: &str) -> Result<Session> {
        let name = username.trim();
        self.check_wait(name)?;
        let valid = check_username(name).is_ok();
        if self.is_plain() {
            let known = if valid { self.account(name)? } else { None };
            let account = match known {
                Some(a) if a.verifier.matches(password) => a,
                Some(_) => return Err(self.failed(name)),
                None => {
                    decoy(password);
                    return Err(self.failed(name));
                }
            };
            let session = self.admit(&account, Freshness::Checked)?;
            self.encrypt_plain(&account.username, password, &account.verifier)?;
            self.vault.clear_failures(name)?;
            return Ok(session);
        }
        let now = self.now().wall;
        let slot = clerk_slot(name);
        let key = if valid && self.vault.has(&slot)? {
            self.vault.open_clerk(&slot, password, now)?
        } else {
            check_decoy(SLOT_DECOY, password);
            None
        };
        let Some(key) = key else {
            return Err(self.failed(name));
        };
        self.unseal(key)?;
        let admitted = self
            .vault
            .clear_failures(name)
            .and_then(|()| self.account(name))
            .and_then(|account| account.ok_or(Access::LoginFailed.into()))
            .and_then(|account| self.admit(&account, Freshness::Checked));
        if admitted.is_err() {
            self.reseal();
        }
        admitted
    }

    /// Closes the database again after a login or an unlock that opened it and then failed,
    /// unless a clerk works on it (an unlocked session): a locked screen, or none, keeps it
    /// closed.
    fn reseal(&mut self) {
        if self.session.as_ref().is_none_or(|s| s.locked) {
            self.seal_away();
        }
    }

    /// Refuses an attempt under `name` while its run of failures makes it wait. The wait is
    /// measured on the monotonic clock until the machine restarts, then on the wall clock,
    /// never longer than the delay itself: moving the clock on does not shorten it, and a
    /// clock put back does not make a clerk wait for hours.
    fn check_wait(&self, name: &str) -> Result<()> {
        if let Some(failures) = self.vault.failures(name)? {
            let wait = Duration::from_std(lockout_delay(failures.count))
                .unwrap_or_else(|_| Duration::zero());
            let since = elapsed_ms(&failures.last_failure(), &self.now());
            let left = wait - Duration::milliseconds(i64::try_from(since).unwrap_or(i64::MAX));
            if left > Duration::zero() {
                return Err(Access::Wait {
                    seconds: left.num_seconds().max(1).unsigned_abs(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Counts a failed attempt under `name`, writes its event if the trail is open (else at the
    /// next login), and gives the one answer every failure gets.
    fn failed(&mut self, name: &str) -> Error {
        let now = self.now();
        let counted = self
            .vault
            .count_failure(name, &now)
            .and_then(|()| match self.conn {
                Some(_) => self.record_failures(),
                None => Ok(()),
            });
        match counted {
            Ok(()) => Access::LoginFailed.into(),
            Err(e) => e,
        }
    }

    /// Writes the failed logins counted while the database was closed into the audit trail,
    /// under the account's name when the typed name was one.
    pub(crate) fn record_failures(&mut self) -> Result<()> {
        let pending = self.vault.unrecorded()?;
        if pending.is_empty() || !self.is_set_up()? {
            return Ok(());
        }
        let names: Vec<String> = self.clerks()?.into_iter().map(|c| c.username).collect();
        for (typed, count) in pending {
            let clerk = names
                .iter()
                .find(|n| digest(n.as_bytes()) == typed)
                .map_or(UNKNOWN_CLERK, String::as_str)
                .to_owned();
            for _ in 0..count {
                self.record_session(&clerk, SessionEvent::LoginFailed)?;
            }
        }
        self.vault.recorded()
    }

    /// The session of an account whose password (or session token) was checked, if it may
    /// still log in here: active, on a device not kept offline too long (unless the back
    /// office has just vouched for it).
    fn admit(&self, account: &Account, freshness: Freshness) -> Result<Session> {
        if !account.active {
            return Err(Access::Disabled.into());
        }
        if freshness == Freshness::Checked {
            self.check_not_stale()?;
        }
        Ok(Session::of(
            &account.username,
            &account.display_name,
            account.role,
        ))
    }

    /// Ends the session there is, if any, and opens `session`.
    fn take_over(&mut self, session: Session) -> Result<()> {
        // The clerk leaving is logged out first, so the trail says when each one left.
        self.end_session()?;
        self.record_session(&session.username, SessionEvent::Login)?;
        self.session = Some(session);
        Ok(())
    }

    /// Records the logout of the clerk logged in, if any, and ends their session.
    fn end_session(&mut self) -> Result<()> {
        match self.session.take() {
            Some(session) => self.record_session(&session.username, SessionEvent::Logout),
            None => Ok(()),
        }
    }

    /// Refuses logins on an enrolled device that has not reached its back office for too long.
    fn check_not_stale(&self) -> Result<()> {
        if self.sync_point()?.is_none() {
            return Ok(());
        }
        type Row = (u32, String, Option<String>, Option<i64>, Option<String>);
        let (days, last, boot, mono_ms, seen): Row = self.conn()?.query_row(
            "SELECT w.max_offline_days, coalesce(s.last_success, w.created_at),
                    s.success_boot, s.success_mono_ms, w.wall_seen
             FROM workstation w, sync_state s WHERE w.id = 1 AND s.id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        let reached = Moment {
            wall: stored_time(&last)?,
            mono_ms: mono_ms.and_then(|ms| u64::try_from(ms).ok()).unwrap_or(0),
            boot: boot.unwrap_or_default(),
        };
        let seen = seen.as_deref().map(stored_time).transpose()?;
        if offline_for(&reached, &self.now(), seen) > Duration::days(i64::from(days)) {
            return Err(Access::Stale { days }.into());
        }
        Ok(())
    }

    /// Records a session event of `clerk`; it travels like any change.
    fn record_session(&mut self, clerk: &str, event: SessionEvent) -> Result<()> {
        self.session_event(clerk, event, |_| Ok(()))
    }

    /// Records a session event of `clerk`, with what `also` writes in the same transaction.
    fn session_event(
        &mut self,
        clerk: &str,
        event: SessionEvent,
        also: impl FnOnce(&mut ActionTx<'_>) -> Result<()>,
    ) -> Result<()> {
        let config = self.config()?;
        self.write_as(clerk, Some(&config.device_code), |change| {
            also(change)?;
            change.record(&Change::ClerkSession {
                clerk: clerk.to_owned(),
                event,
            })?;
            Ok(())
        })
    }
}

/// Writes a new local account and its audit event.
pub(crate) fn insert_local(
    change: &mut ActionTx<'_>,
    new: &NewClerk,
    verifier: &Verifier,
) -> Result<()> {
    let exists: bool = change.tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM clerks WHERE username = ?1)",
        [&new.username],
        |r| r.get(0),
    )?;
    if exists {
        return Err(Error::Duplicate {
            kind: Kind::Clerk,
            key: new.username.clone(),
        });
    }
    change.tx.execute(
        "INSERT INTO clerks (username, display_name, role, active, verifier, source, updated_at)
         VALUES (?1, ?2, ?3, 1, ?4, 'local', ?5)",
        params![
            new.username,
            new.display_name.trim(),
            new.role.as_str(),
            verifier.as_str(),
            change.at(),
        ],
    )?;
    change.record_local(
        "clerk.added",
        "clerk",
        &new.username,
        serde_json::json!({"role": new.role, "display_name": new.display_name}),
    )?;
    Ok(())
}

/// Checks a new account's name, full name and password, and makes its verifier.
pub(crate) fn new_verifier(new: &NewClerk) -> Result<Verifier> {
    check_new_account(&new.username, &new.display_name, &new.password)?;
    Ok(Verifier::new(&new.password, rand::random())?)
}

/// How fresh the proof behind a login is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// Checked on this device, against what its last sync brought.
    Checked,
    /// Checked by the back office just now.
    Vouched,
}

/// One Argon2id check at a verifier's cost whose answer is false: what an unknown name costs,
/// as a wrong password does.
fn decoy(password: &str) {
    check_decoy(DECOY, password);
}

fn check_decoy(verifier: &str, password: &str) {
    if let Ok(decoy) = Verifier::parse(verifier) {
        decoy.matches(password);
    }
}

/// How long the workstation has gone without its back office since it last `reached` it: on
/// the monotonic clock when the machine has not restarted since; otherwise on the wall clock,
/// read as no earlier than the latest wall time a change was written at here (`seen`), so that
/// a clock set back does not give back days already spent offline.
fn offline_for(reached: &Moment, now: &Moment, seen: Option<DateTime<Utc>>) -> Duration {
    if reached.boot == now.boot {
        return Duration::milliseconds(i64::try_from(elapsed_ms(reached, now)).unwrap_or(i64::MAX));
    }
    seen.map_or(now.wall, |seen| seen.max(now.wall)) - reached.wall
}

/// A stored RFC 3339 instant.
fn stored_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Invalid(format!("stored time '{text}' is not a time: {e}")))
}

#[cfg(test)]
mod tests {
    use guichet_domain::account::{ARGON2_LANES, ARGON2_MEMORY_KIB, ARGON2_PASSES, SLOT_LANES};

    use super::*;

    #[test]
    fn the_decoys_are_verifiers_at_full_cost() {
        // Were one refused, an unknown name would skip the check and answer faster; were one
        // made at another cost than a verifier's or a new slot's (its lanes too), it would
        // answer at another speed than a known name.
        for (decoy, lanes) in [(DECOY, ARGON2_LANES), (SLOT_DECOY, SLOT_LANES)] {
            let verifier = Verifier::parse(decoy).expect("an Argon2id verifier at full cost");
            assert!(!verifier.matches(""));
            let cost = format!("$argon2id$v=19$m={ARGON2_MEMORY_KIB},t={ARGON2_PASSES},p={lanes}$");
            assert!(decoy.starts_with(&cost), "{decoy} is not at {cost}");
        }
    }
}
