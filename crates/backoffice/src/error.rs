//! Every way the back office can refuse or fail, with the context a caller needs. The HTTP
//! layer turns each variant into a status and a stable `ErrorCode`; the CLI prints the words.

use guichet_domain::DomainError;
use guichet_protocol::ErrorCode;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no {what} '{key}': {}", what.where_listed())]
    NotFound { what: Missing, key: String },

    #[error("{0}")]
    Unauthorized(String),

    #[error("device {device} was revoked by an administrator: enrol the device again to sync")]
    Revoked { device: String },

    #[error("{0}")]
    Invalid(String),

    #[error(
        "device {device} was refused: its {reason}. Nothing was applied and the device is flagged: \
         an administrator must check it (guichet-backoffice health), then revoke it and enrol it \
         again"
    )]
    AuditRewritten { device: String, reason: String },

    #[error(
        "send the device's audit event {seq} as the anchor of its audit head: the back office \
         holds the trail up to that event"
    )]
    AuditAnchor { seq: u64 },

    #[error("no agency credential '{id}': `guichet-backoffice agency credentials` lists them")]
    UnknownAgencyCredential { id: String },

    #[error("no centre '{code}': `guichet-backoffice center list` lists them")]
    UnknownCentre { code: String },

    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),

    #[error("{0}")]
    Conflict(String),

    #[error("the back office is busy checking other logins: try again in a moment")]
    Busy,

    #[error("request {receipt} was cancelled at the centre: the agency can no longer {action} it")]
    CancelledAtCenter { receipt: String, action: String },

    #[error("a push holds {count} entries; at most {max} are accepted per exchange")]
    TooManyEntries { count: usize, max: usize },

    #[error(transparent)]
    Domain(#[from] DomainError),

    #[error("no clerk '{username}': check the user name; `clerk list` shows every account")]
    UnknownClerk { username: String },

    #[error(
        "clerk '{username}' already exists: choose another user name, or change that account \
         (clerk enable, clerk role, clerk reset-password)"
    )]
    ClerkExists { username: String },

    #[error("account '{username}' needs a centre: give the centre it works at")]
    NoCentre { username: String },

    #[error(
        "'{username}' would be a clerk of {count} centres, but a clerk belongs to exactly one: \
         give one centre, or make the account a supervisor or administrator"
    )]
    ClerkOfManyCentres { username: String, count: usize },

    #[error("clerk '{username}' is already {state}: nothing was changed")]
    AccountUnchanged { username: String, state: String },

    #[error(
        "no password on standard input: give the password as one line on standard input \
         (there is no default password)"
    )]
    NoPassword,

    /// `shown` is the URL without its user and password.
    #[error("'{shown}' is not a database URL: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    DatabaseUrl { shown: String },

    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        version: usize,
        name: &'static str,
        reason: String,
    },

    #[error("the database holds schema version {found}, newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: usize },

    #[error("SQLite: {0}")]
    Sqlite(rusqlite::Error),

    #[error("PostgreSQL: {0}")]
    Postgres(tokio_postgres::Error),

    /// The database gave up on a statement, or no connection came free, within the limits
    /// `crate::storage::PostgresStorage` sets, or the SQLite file stayed locked past
    /// `crate::storage::SqliteStorage`'s busy timeout: it is busy or slow for now.
    #[error("the database is busy or slow just now ({0}): try again in a few seconds")]
    DatabaseBusy(Overrun),

    /// No connection to the database within the wait: it is down, restarting or overloaded.
    #[error("the database cannot be reached just now ({0}): try again in a moment")]
    DatabaseUnavailable(String),

    #[error("stored data could not be read: {0}")]
    Corrupt(String),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    #[error("a storage task stopped: {0}")]
    Task(String),
}

/// Which of the database's limits a request ran past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    /// `statement_timeout`, or an administrator cancelled the statement.
    Statement,
    /// `lock_timeout`: another transaction held the rows too long.
    Lock,
    /// Every connection of the pool stayed busy for as long as a request waits for one.
    Pool,
    /// SQLite's busy timeout: another connection kept a write transaction open on the file.
    FileLock,
}

impl Overrun {
    /// What the operator looks at when the warnings go on.
    pub fn remedy(self) -> &'static str {
        match self {
            Overrun::Statement | Overrun::Lock | Overrun::Pool => {
                "look for long statements and held locks (pg_stat_activity) or raise the limits"
            }
            Overrun::FileLock => {
                "look for another program that keeps a write transaction open on the SQLite file \
                 (an sqlite3 shell, a script)"
            }
        }
    }
}

impl std::fmt::Display for Overrun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Overrun::Statement => "a statement ran past its time limit or was cancelled",
            Overrun::Lock => "a wait for rows another request held ran past its time limit",
            Overrun::Pool => "no connection to it came free in time",
            Overrun::FileLock => "another connection kept its file locked past the wait",
        })
    }
}

/// How long a caller told to try again (a 503) is asked to wait first.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// What was looked for and not found, and where the ones that exist are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Centre,
    Device,
    Request,
    Release,
}

impl Missing {
    /// The next step of a refusal: where to see what there is.
    fn where_listed(self) -> &'static str {
        match self {
            Missing::Centre => {
                "check the code; `guichet-backoffice center list` (GET /admin/v1/centers) shows \
                 them"
            }
            Missing::Device => {
                "check the code; `guichet-backoffice devices list` (GET /admin/v1/devices) shows \
                 them"
            }
            Missing::Request => {
                "check the number on the citizen's slip; `guichet-backoffice agency list AGENCY` \
                 shows an agency's requests"
            }
            Missing::Release => {
                "check the version; `guichet-backoffice release list` (GET /admin/v1/releases) \
                 shows them"
            }
        }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Missing::Centre => "centre",
            Missing::Device => "device",
            Missing::Request => "request with receipt",
            Missing::Release => "release",
        })
    }
}

impl Error {
    pub fn not_found(what: Missing, key: impl Into<String>) -> Self {
        Error::NotFound {
            what,
            key: key.into(),
        }
    }

    /// A migration the database refused.
    pub(crate) fn migration(
        migration: &guichet_migrations::Migration,
        reason: impl std::fmt::Display,
    ) -> Self {
        Error::Migration {
            version: migration.version,
            name: migration.name,
            reason: reason.to_string(),
        }
    }

    /// How long the caller waits before trying again: for every 503, a condition that passes
    /// by itself; `None` when the same request would fail the same way.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        (self.status_and_code().0 == 503).then_some(RETRY_AFTER)
    }

    /// The HTTP status and stable code this error becomes at the API.
    pub fn status_and_code(&self) -> (u16, ErrorCode) {
        match self {
            Error::NotFound { .. } | Error::UnknownClerk { .. } => (404, ErrorCode::NotFound),
            Error::Unauthorized(_) => (401, ErrorCode::Unauthorized),
            Error::Revoked { .. } => (403, ErrorCode::Revoked),
            Error::Invalid(_)
            | Error::Domain(_)
            | Error::NoCentre { .. }
            | Error::ClerkOfManyCentres { .. }
            | Error::NoPassword => (422, ErrorCode::Malformed),
            Error::AuditRewritten { .. } => (409, ErrorCode::AuditRewritten),
            Error::AuditAnchor { .. } => (409, ErrorCode::AuditAnchor),
            Error::UnknownAgencyCredential { .. } | Error::UnknownCentre { .. } => {
                (404, ErrorCode::NotFound)
            }
            Error::Conflict(_)
            | Error::CancelledAtCenter { .. }
            | Error::ClerkExists { .. }
            | Error::AccountUnchanged { .. } => (409, ErrorCode::Conflict),
            Error::TooManyEntries { .. } => (413, ErrorCode::TooManyEntries),
            // A condition that passes by itself: the caller tries again, after `Retry-After`.
            Error::Busy | Error::DatabaseUnavailable(_) | Error::DatabaseBusy(_) => {
                (503, ErrorCode::Unavailable)
            }
            // A connection that died under the request (the database restarted): the next one
            // gets a fresh connection, so the caller should try again.
            Error::Postgres(e) if database_went_away(e) => (503, ErrorCode::Unavailable),
            Error::DatabaseUrl { .. }
            | Error::Migration { .. }
            | Error::SchemaTooNew { .. }
            | Error::Sqlite(_)
            | Error::Postgres(_)
            | Error::Corrupt(_)
            | Error::Io(_)
            | Error::Tls(_)
            | Error::Task(_) => (500, ErrorCode::Internal),
        }
    }
}

/// A connection that closed under a request, or a server shutting down or starting up: the
/// database went away for a while, not a fault of the request.
fn database_went_away(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.is_closed()
        || e.code().is_some_and(|code| {
            [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(code)
        })
}

/// A statement the database gave up on at one of the connection's time limits is the database
/// being busy; any other failure is kept as PostgreSQL reported it.
impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        match e.code() {
            Some(&SqlState::QUERY_CANCELED) => Error::DatabaseBusy(Overrun::Statement),
            Some(&SqlState::LOCK_NOT_AVAILABLE) => Error::DatabaseBusy(Overrun::Lock),
            _ => Error::Postgres(e),
        }
    }
}

/// A file another connection kept locked past the busy timeout (`SQLITE_BUSY`, "database is
/// locked") is the database being busy; any other failure is kept as SQLite reported it.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) => Error::DatabaseBusy(Overrun::FileLock),
            _ => Error::Sqlite(e),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(value: serde_json::Error) -> Self {
        Error::Corrupt(value.to_string())
    }
}

impl From<guichet_migrations::TooNew> for Error {
    fn from(e: guichet_migrations::TooNew) -> Self {
        Error::SchemaTooNew {
            found: e.found,
            known: e.known,
        }
    }
}
