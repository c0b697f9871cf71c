//! Who may act at the counter: clerk accounts, their roles, the password rule, the verifier a
//! password is checked against, and the delay that grows after failed logins.
//!
//! Invariants:
//! - A password is never kept: only its Argon2id verifier (a PHC string with its own salt and
//!   cost), the same on the back office and on every device of the centre, so a clerk logs in
//!   offline against the copy the last sync brought.
//! - The cost is fixed here, once ([`ARGON2_MEMORY_KIB`] and the rest): at least 64 MiB of
//!   memory, so a stolen verifier is slow to attack on a GPU. A verifier made with a lower
//!   cost is refused where it is received. Verifiers are made over one lane
//!   ([`ARGON2_LANES`]), every one of them, so that checking any account's password (at a
//!   login, an approval, the back office's vouching) costs what an unknown name's decoy
//!   costs. A verifier carries its parameters and is checked at those.
//! - The answer to a wrong password and to an unknown clerk is the same, and a run of failures
//!   makes every next attempt wait longer ([`lockout_delay`]).
//!
//! No I/O: the salt comes in as an argument, like every other source of chance or time.

use std::fmt;
use std::time::Duration;

use argon2::password_hash::phc::Output;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, Version};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::stretch::stretch;

/// Argon2id's memory cost, in KiB: 64 MiB.
pub const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id's passes over that memory.
pub const ARGON2_PASSES: u32 = 3;
/// The verifiers' lanes: one, as every verifier held on the back office and on the devices
/// was made. Four lanes would check faster, but an account whose verifier predates them would
/// then answer slower than an unknown name, and tell it exists.
pub const ARGON2_LANES: u32 = 1;
/// The lanes a clerk's password is stretched over to seal their key slot (`keyslot`), which a
/// login opens: four, RFC 9106's second recommended option (§4: Argon2id, t=3, p=4,
/// m=64 MiB), the lanes computed in parallel. On a workstation's two cores a derivation takes
/// about two thirds of the time it takes over one lane (`docs/benchmarks.md`), with the same
/// memory and passes: a guesser's work per guess does not change, a clerk's wait at login does.
pub const SLOT_LANES: u32 = 4;

/// The shortest password accepted: a passphrase, not a PIN. Ten characters of a passphrase
/// behind Argon2id at 64 MiB, with the growing delay of [`lockout_delay`], put guessing out of
/// reach both at the keyboard and on a stolen verifier.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest: a bound on what a login hashes.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Failed logins in a row that are let through without a wait.
pub const FREE_FAILURES: u32 = 3;
/// The longest wait between two attempts after failures.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// What an account may do. Each role may do what the roles below it may.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Serves citizens: the queue, citizens, requests, payments.
    Clerk,
    /// A clerk who also exports reports, records the cash counted, resolves conflicts and
    /// approves the acts that need a second person.
    Supervisor,
    /// A supervisor who also manages accounts, the catalogue, counters and lanes.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Clerk, Role::Supervisor, Role::Administrator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text.trim())
            .ok_or_else(|| DomainError::UnknownChoice {
                what: "role",
                input: text.to_owned(),
                expected: "clerk, supervisor, administrator".into(),
            })
    }

    /// The least role an act needs.
    pub fn needed_for(act: Act) -> Role {
        match act {
            Act::Counter => Role::Clerk,
            Act::Supervise => Role::Supervisor,
            Act::Administer => Role::Administrator,
        }
    }

    pub fn allows(self, act: Act) -> bool {
        self >= Role::needed_for(act)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of act a role gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// The everyday work of the counter.
    Counter,
    /// Reports, the cash counted, conflicts, second approvals.
    Supervise,
    /// Accounts, the catalogue, counters and lanes.
    Administer,
}

impl Act {
    pub fn describe(self) -> &'static str {
        match self {
            Act::Counter => "serve citizens",
            Act::Supervise => "do a supervisor's work",
            Act::Administer => "administer this workstation (accounts, catalogue, counters)",
        }
    }
}

/// Checks a user name: 2 to 32 lowercase letters, digits, '.', '-' or '_', starting with a
/// letter. It names the clerk in the audit trail, so it is plain and unambiguous.
pub fn check_username(name: &str) -> Result<()> {
    let ok = (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::Username {
            input: name.to_owned(),
        })
    }
}

/// The longest full name an account may have.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Checks an account's full name, as colleagues and reports show it: 1 to
/// [`MAX_DISPLAY_NAME_CHARS`] characters once trimmed, none of them hidden
/// ([`crate::text::hidden_character`]). Returns it trimmed.
pub fn check_display_name(name: &str) -> Result<&str> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(DomainError::DisplayName {
            max: MAX_DISPLAY_NAME_CHARS,
        });
    }
    if let Some(c) = crate::text::hidden_character(trimmed, false) {
        return Err(DomainError::DisplayNameCharacter {
            character: crate::text::code_point(c),
        });
    }
    Ok(trimmed)
}

/// Checks what a new account is made of: its user name, its full name (returned trimmed) and
/// its password. The back office and a standalone workstation make accounts by this one rule.
pub fn check_new_account<'a>(
    username: &str,
    display_name: &'a str,
    password: &str,
) -> Result<&'a str> {
    check_username(username)?;
    let display_name = check_display_name(display_name)?;
    check_password(username, password)?;
    Ok(display_name)
}

/// Checks a new password against the rule: long enough, not too long, not the user name.
pub fn check_password(username: &str, password: &str) -> Result<()> {
    let chars = password.chars().count();
    let problem = if chars < MIN_PASSWORD_CHARS {
        Some(PasswordProblem::TooShort)
    } else if chars > MAX_PASSWORD_CHARS {
        Some(PasswordProblem::TooLong)
    } else if password.to_lowercase().contains(&username.to_lowercase()) {
        Some(PasswordProblem::HoldsUsername)
    } else if password
        .chars()
        .next()
        .is_some_and(|first| password.chars().all(|c| c == first))
    {
        Some(PasswordProblem::OneCharacter)
    } else {
        None
    };
    match problem {
        Some(problem) => Err(DomainError::Password { problem }),
        None => Ok(()),
    }
}

/// What is wrong with a new password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    HoldsUsername,
    OneCharacter,
}

impl PasswordProblem {
    pub fn key(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "too_short",
            PasswordProblem::TooLong => "too_long",
            PasswordProblem::HoldsUsername => "holds_username",
            PasswordProblem::OneCharacter => "one_character",
        }
    }
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordProblem::TooShort => write!(
                f,
                "it must have at least {MIN_PASSWORD_CHARS} characters; a few words make a good one"
            ),
            PasswordProblem::TooLong => {
                write!(f, "it must have at most {MAX_PASSWORD_CHARS} characters")
            }
            PasswordProblem::HoldsUsername => f.write_str("it must not contain the user name"),
            PasswordProblem::OneCharacter => f.write_str("it must not be one character repeated"),
        }
    }
}

/// A password's Argon2id verifier, as a PHC string (`$argon2id$v=19$m=65536,t=3,p=1$...`).
/// It holds the salt and the cost, never the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Verifier(String);

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A verifier is not a secret like a password, but it is what an attacker would guess
        // against: keep it out of logs.
        f.write_str("Verifier(..)")
    }
}

impl Verifier {
    /// The verifier of `password`, salted with `salt` (16 random bytes from the caller).
    pub fn new(password: &str, salt: [u8; 16]) -> Result<Self> {
        let hash = hasher(ARGON2_LANES)?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|_| DomainError::VerifierFailed)?;
        Ok(Verifier(hash.to_string()))
    }

    /// A stored or received verifier: an Argon2id PHC string of at least this module's memory
    /// and passes, over any number of lanes.
    pub fn parse(text: &str) -> Result<Self> {
        let weak = || DomainError::WeakVerifier;
        let hash = PasswordHash::new(text).map_err(|_| weak())?;
        if hash.algorithm.as_str() != "argon2id" {
            return Err(weak());
        }
        let params = Params::try_from(&hash).map_err(|_| weak())?;
        if params.m_cost() < ARGON2_MEMORY_KIB || params.t_cost() < ARGON2_PASSES {
            return Err(weak());
        }
        Ok(Verifier(text.to_owned()))
    }

    /// Whether `password` is the one this verifier was made from. The check runs at the
    /// parameters the verifier carries, not at the hasher's: one made over one lane is checked
    /// over one lane.
    pub fn matches(&self, password: &str) -> bool {
        let Ok(hash) = PasswordHash::new(&self.0) else {
            return false;
        };
        let (Some(salt), Some(expected), Ok(params)) =
            (&hash.salt, &hash.hash, Params::try_from(&hash))
        else {
            return false;
        };
        let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else {
            return false;
        };
        let mut computed = vec![0u8; expected.len()];
        let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
        // `Output`'s comparison takes the same time wherever the two differ.
        stretch(&argon2, password.as_bytes(), salt.as_ref(), &mut computed).is_ok()
            && Output::new(&computed).is_ok_and(|computed| computed == *expected)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Verifier {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self> {
        Verifier::parse(&text)
    }
}

impl From<Verifier> for String {
    fn from(v: Verifier) -> String {
        v.0
    }
}

/// Argon2id at this module's memory and passes, over `lanes` lanes: [`ARGON2_LANES`] for a
/// verifier, [`SLOT_LANES`] for a key slot sealed now, one to open a slot sealed before. Never a weaker fallback: parameters
/// it refuses are an error, not a reason to hash with the library's defaults.
pub(crate) fn hasher(lanes: u32) -> Result<Argon2<'static>> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, lanes, None)
        .map_err(|_| DomainError::VerifierFailed)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// How long to wait before the next login attempt after `failures` failed ones in a row: none
/// for the first [`FREE_FAILURES`] (a typo), then 30 s doubling at each failure up to
/// [`MAX_LOCKOUT`]. The clerk is never locked out for good: an administrator is not always at
/// hand on a bus.
pub fn lockout_delay(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(16);
    Duration::from_secs(30u64 << doublings).min(MAX_LOCKOUT)
}

/// What happened to a clerk's session at a device: each is an audit event that travels to the
/// back office like any change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionEvent {
    Login,
    /// A wrong password or an unknown user name; the attempt names the account only when it
    /// exists, so nothing typed by mistake (a password in the name field) is kept.
    LoginFailed,
    Lock,
    Unlock,
    Logout,
}

impl SessionEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEvent::Login => "login",
            SessionEvent::LoginFailed => "login_failed",
            SessionEvent::Lock => "lock",
            SessionEvent::Unlock => "unlock",
            SessionEvent::Logout => "logout",
        }
    }
}

/// The name a failed login is recorded under when the typed name is no account's.
pub const UNKNOWN_CLERK: &str = "(unknown)";

/// A clerk's account as a device of the centre holds it: what the back office sends, and what
/// a standalone workstation keeps of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// A disabled account cannot log in; its past acts keep its name.
    pub active: bool,
    pub verifier: Verifier,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_gate_acts() {
        assert!(Role::Clerk.allows(Act::Counter));
        assert!(!Role::Clerk.allows(Act::Supervise));
        assert!(Role::Supervisor.allows(Act::Supervise));
        assert!(!Role::Supervisor.allows(Act::Administer));
        assert!(Role::Administrator.allows(Act::Administer));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(matches!(
            Role::parse("boss"),
            Err(DomainError::UnknownChoice { what: "role", .. })
        ));
    }

    #[test]
    fn usernames_are_plain() {
        for ok in ["eleni", "m.tamm", "clerk-2", "ab"] {
            check_username(ok).unwrap();
        }
        for bad in [
            "",
            "a",
            "Eleni",
            "2eleni",
            "el eni",
            "élodie",
            &"a".repeat(33),
        ] {
            assert!(check_username(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn full_names_are_given_and_bounded() {
        assert_eq!(
            check_display_name("  Eleni Papadopoulou ").unwrap(),
            "Eleni Papadopoulou"
        );
        for bad in ["", "   ", &"x".repeat(MAX_DISPLAY_NAME_CHARS + 1)] {
            assert!(
                matches!(
                    check_display_name(bad),
                    Err(DomainError::DisplayName { .. })
                ),
                "{bad:?} accepted"
            );
        }
        for (bad, code) in [("Eleni\u{7}", "U+0007"), ("Ele\u{202E}ni", "U+202E")] {
            assert_eq!(
                check_display_name(bad).unwrap_err(),
                DomainError::DisplayNameCharacter {
                    character: code.into()
                },
            );
        }
    }

    #[test]
    fn passwords_follow_the_rule() {
        check_password("eleni", "correct horse battery").unwrap();
        let problem = |u: &str, p: &str| match check_password(u, p) {
            Err(DomainError::Password { problem }) => problem,
            other => panic!("{other:?}"),
        };
        assert_eq!(problem("eleni", "short"), PasswordProblem::TooShort);
        assert_eq!(problem("eleni", &"ab".repeat(65)), PasswordProblem::TooLong);
        assert_eq!(
            problem("eleni", "my name is ELENI"),
            PasswordProblem::HoldsUsername
        );
        assert_eq!(
            problem("eleni", "xxxxxxxxxxxx"),
            PasswordProblem::OneCharacter
        );
    }

    #[test]
    fn a_verifier_matches_its_password_only() {
        let v = Verifier::new("correct horse battery", [7; 16]).unwrap();
        assert!(v.as_str().starts_with("$argon2id$v=19$m=65536,t=3,p=1$"));
        assert!(v.matches("correct horse battery"));
        assert!(!v.matches("correct horse batterY"));
        assert!(!v.matches(""));
        assert_eq!(Verifier::parse(v.as_str()).unwrap(), v);
        assert_eq!(format!("{v:?}"), "Verifier(..)");
    }

    #[test]
    fn a_verifier_made_by_the_earlier_library_still_matches() {
        // Made by a release built with argon2 0.5 (m=65536, t=3, p=1), as the back office and
        // the devices hold them: it still matches, and argon2 0.6 makes the same one.
        let old = Verifier::parse(
            "$argon2id$v=19$m=65536,t=3,p=1$AwMDAwMDAwMDAwMDAwMDAw$y5RMv4rqzyesnB0mNQaEdTwQsTOA8VyHLTYjaY+CQoE",
        )
        .unwrap();
        assert!(old.matches("correct horse battery"));
        assert!(!old.matches("correct horse batterY"));
        assert_eq!(
            Verifier::new("correct horse battery", [3; 16]).unwrap(),
            old
        );
    }

    #[test]
    fn weak_or_foreign_verifiers_are_refused() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"pw", &[1; 16])
        .unwrap()
        .to_string();
        for bad in [
            weak.as_str(),
            "$argon2id$v=19$m=32768,t=3,p=4$AwMDAwMDAwMDAwMDAwMDAw$y5RMv4rqzyesnB0mNQaEdTwQsTOA8VyHLTYjaY+CQoE",
            "$argon2id$v=19$m=65536,t=2,p=4$AwMDAwMDAwMDAwMDAwMDAw$y5RMv4rqzyesnB0mNQaEdTwQsTOA8VyHLTYjaY+CQoE",
            "plain",
            "$argon2i$v=19$m=65536,t=3,p=1$AAAA$AAAA",
        ] {
            assert!(
                matches!(Verifier::parse(bad), Err(DomainError::WeakVerifier)),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn failures_make_the_wait_grow_to_a_cap() {
        assert_eq!(lockout_delay(0), Duration::ZERO);
        assert_eq!(lockout_delay(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(lockout_delay(FREE_FAILURES), Duration::from_secs(30));
        assert_eq!(lockout_delay(FREE_FAILURES + 1), Duration::from_secs(60));
        assert_eq!(lockout_delay(FREE_FAILURES + 4), Duration::from_secs(480));
        assert_eq!(lockout_delay(FREE_FAILURES + 5), MAX_LOCKOUT);
        assert_eq!(lockout_delay(u32::MAX), MAX_LOCKOUT);
    }
}
