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
use guichet_domain::{hex, sha256_hex as digest};
use guichet_protocol::Change;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{ActionTx, Workstation};
use crate::error::{Access, Error, Kind, Result};

/// How long a command line session lasts after `guichet login`: a working day.
pub const CLI_SESSION_HOURS: i64 = 10;

/// A new account on a standalone workstation, or its first administrator at set-up.
#[derive(Debug, Clone)]
pub struct NewClerk {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The verifier of a random password nobody kept, checked against when the typed name is no
/// account, so that an unknown name costs one Argon2id check, as a wrong password does. It is
/// written here rather than made at run time: making it would cost a second check, and the
/// difference would tell which names are accounts.
const DECOY: &str = "$argon2id$v=19$m=65536,t=3,p=1$hVV+pQrXJ6ENVw+FWVs34g$+nfohSVZDZTQ+xZlRJWtXqdzgdliCpazd3U+4wqbtTE";

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

    /// Logs a clerk in with their password. See the module header for what a failure does.
    pub fn login(&mut self, username: &str, password: &str) -> Result<Session> {
        let session = self.authenticate(username, password)?;
        self.take_over(session.clone())?;
        Ok(session)
    }

    /// Locks the screen: the session stays, but nothing can be done until a clerk unlocks it.
    pub fn lock(&mut self) -> Result<()> {
        let username = self.require(Act::Counter)?.username.clone();
        self.record_session(&username, SessionEvent::Lock)?;
        if let Some(session) = &mut self.session {
            session.locked = true;
        }
        Ok(())
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
        if session.username == previous {
            self.record_session(&previous, SessionEvent::Unlock)?;
            self.session = Some(session.clone());
        } else {
            self.take_over(session.clone())?;
        }
        Ok(session)
    }

    /// Logs the clerk out, locked or not.
    pub fn logout(&mut self) -> Result<()> {
        match self.session.take() {
            Some(session) => self.record_session(&session.username, SessionEvent::Logout),
            None => Ok(()),
        }
    }

    /// Starts a command line session for the clerk logged in: a random token, of which only
    /// the digest is kept here. The caller keeps the token where only its user can read it.
    pub fn open_cli_session(&mut self) -> Result<String> {
        let username = self.require(Act::Counter)?.username.clone();
        let token = hex(&rand::random::<[u8; 32]>());
        let expires = self.now().wall + Duration::hours(CLI_SESSION_HOURS);
        let now = self.now().wall.to_rfc3339();
        let conn = self.conn();
        conn.execute("DELETE FROM cli_sessions WHERE expires_at < ?1", [now])?;
        conn.execute(
            "INSERT INTO cli_sessions (token_digest, username, expires_at) VALUES (?1, ?2, ?3)",
            params![digest(token.as_bytes()), username, expires.to_rfc3339()],
        )?;
        Ok(token)
    }

    /// Takes up a command line session from its token, if it has not expired and its clerk may
    /// still log in.
    pub fn resume_cli_session(&mut self, token: &str) -> Result<Session> {
        let found: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT username, expires_at FROM cli_sessions WHERE token_digest = ?1",
                [digest(token.as_bytes())],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((username, expires)) = found else {
            return Err(Access::SessionExpired.into());
        };
        if stored_time(&expires)? <= self.now().wall {
            return Err(Access::SessionExpired.into());
        }
        let account = self.account(&username)?.ok_or(Access::SessionExpired)?;
        let session = self.admit(&account)?;
        self.session = Some(session.clone());
        Ok(session)
    }

    /// Ends a command line session and logs its clerk out; answers who that was, if the
    /// session was still good.
    pub fn close_cli_session(&mut self, token: &str) -> Result<Option<String>> {
        let clerk = self.resume_cli_session(token).ok().map(|s| s.username);
        self.conn().execute(
            "DELETE FROM cli_sessions WHERE token_digest = ?1",
            [digest(token.as_bytes())],
        )?;
        self.logout()?;
        Ok(clerk)
    }

    /// Every account this device holds.
    pub fn clerks(&self) -> Result<Vec<ClerkView>> {
        let mut stmt = self.conn().prepare_cached(
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
        self.update_clerk(
            username,
            if active {
                "clerk.enabled"
            } else {
                "clerk.disabled"
            },
            "active = ?2",
            active,
        )
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
        // The new password starts with no failures counted against the name.
        self.conn().execute(
            "DELETE FROM login_failures WHERE name_digest = ?1",
            [digest(username.as_bytes())],
        )?;
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
        Ok(self.conn().query_row(
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
            .conn()
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

    /// Checks a user name and password; on failure counts it and records the failed-login
    /// event, and answers as for any failure.
    pub(crate) fn authenticate(&mut self, username: &str, password: &str) -> Result<Session> {
        let name = username.trim();
        let key = digest(name.as_bytes());
        let failures: Option<(u32, String)> = self
            .conn()
            .query_row(
                "SELECT failures, last_failed_at FROM login_failures WHERE name_digest = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((count, last)) = &failures {
            let wait =
                Duration::from_std(lockout_delay(*count)).unwrap_or_else(|_| Duration::zero());
            let left = stored_time(last)? + wait - self.now().wall;
            if left > Duration::zero() {
                return Err(Access::Wait {
                    seconds: left.num_seconds().max(1).unsigned_abs(),
                }
                .into());
            }
        }
        let known = match check_username(name) {
            Ok(()) => self.account(name)?,
            Err(_) => None,
        };
        let matches = match &known {
            Some(account) => account.verifier.matches(password),
            None => {
                // Same cost as a wrong password; its answer is false either way.
                if let Ok(decoy) = Verifier::parse(DECOY) {
                    decoy.matches(password);
                }
                false
            }
        };
        let account = match known {
            Some(account) if matches => account,
            known => {
                let clerk = known.map_or_else(|| UNKNOWN_CLERK.to_owned(), |a| a.username);
                let count = failures.map_or(0, |(c, _)| c) + 1;
                self.session_event(&clerk, SessionEvent::LoginFailed, |change| {
                    change.tx.execute(
                        "INSERT INTO login_failures (name_digest, failures, last_failed_at)
                         VALUES (?1, ?2, ?3)
                         ON CONFLICT (name_digest) DO UPDATE SET failures = excluded.failures,
                            last_failed_at = excluded.last_failed_at",
                        params![key, count, change.at()],
                    )?;
                    Ok(())
                })?;
                return Err(Access::LoginFailed.into());
            }
        };
        let session = self.admit(&account)?;
        if failures.is_some() {
            self.conn()
                .execute("DELETE FROM login_failures WHERE name_digest = ?1", [key])?;
        }
        Ok(session)
    }

    /// The session of an account whose password (or session token) was checked, if it may
    /// still log in here: active, on a device not kept offline too long.
    fn admit(&self, account: &Account) -> Result<Session> {
        if !account.active {
            return Err(Access::Disabled.into());
        }
        self.check_not_stale()?;
        Ok(Session::of(
            &account.username,
            &account.display_name,
            account.role,
        ))
    }

    /// Ends the session there is, if any, and opens `session`.
    fn take_over(&mut self, session: Session) -> Result<()> {
        // The clerk leaving is logged out first, so the trail says when each one left.
        self.logout()?;
        self.record_session(&session.username, SessionEvent::Login)?;
        self.session = Some(session);
        Ok(())
    }

    /// Refuses logins on an enrolled device that has not reached its back office for too long.
    fn check_not_stale(&self) -> Result<()> {
        if self.sync_point()?.is_none() {
            return Ok(());
        }
        let (days, last): (u32, String) = self.conn().query_row(
            "SELECT w.max_offline_days, coalesce(s.last_success, w.created_at)
             FROM workstation w, sync_state s WHERE w.id = 1 AND s.id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if self.now().wall - stored_time(&last)? > Duration::days(i64::from(days)) {
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

/// A stored RFC 3339 instant.
fn stored_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Invalid(format!("stored time '{text}' is not a time: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_is_a_verifier_at_full_cost() {
        // Were it refused, an unknown name would skip the check and answer faster.
        let decoy = Verifier::parse(DECOY).expect("an Argon2id verifier at the module's cost");
        assert!(!decoy.matches(""));
    }
}
