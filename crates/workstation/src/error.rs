//! The workstation's errors. Each says what was wrong and what the clerk can do about it;
//! the CLI shows them as they are, and the desktop window translates them from `message()`.

use std::path::PathBuf;

use guichet_domain::DomainError;
use guichet_domain::account::{Act, Role};
use guichet_domain::catalogue::{CenterNameProblem, Channel, Depth, MAX_CENTER_NAME_CHARS};
use guichet_domain::form::ValueProblem;
use guichet_domain::message::{Message, Term};
use guichet_domain::queue::TicketStatus;
use guichet_domain::request::{Action, RequestStatus};
use guichet_domain::text::{Text, code_point};
use guichet_domain::zone::UnknownZone;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),

    #[error(
        "this workstation is not set up yet: set it up for its centre and device first, or enrol it with a back office"
    )]
    NotSetUp,

    #[error(
        "this workstation is already set up for centre {center}, device {device}; use a new data directory for another device"
    )]
    AlreadySetUp { center: String, device: String },

    #[error("no catalogue is loaded yet: load the centre's catalogue (or the demo one) first")]
    NoCatalogue,

    #[error(
        "catalogue version {offered} is older than the version {held} already here; nothing was changed"
    )]
    StaleCatalogue { held: u32, offered: u32 },

    #[error("no {kind} '{key}' here{hint}")]
    NotFound {
        kind: Kind,
        key: String,
        hint: String,
    },

    #[error("{kind} '{key}' already exists")]
    Duplicate { kind: Kind, key: String },

    #[error(transparent)]
    Refused(#[from] Refused),

    #[error(transparent)]
    Access(#[from] Access),

    /// A note, a reason or a comment refused as it was typed.
    #[error("{what} {problem}; nothing was changed")]
    Text { what: TextOf, problem: TextProblem },

    /// Refusals no clerk meets at the window: definitions typed into the CLI (lanes, counters,
    /// a waiting-time target), stored data that does not read back, a back office's answer that
    /// does not match what was sent.
    #[error("{0}")]
    Invalid(String),

    #[error(
        "the database at {path} was made by a newer Guichet (schema {found}, this one knows {known}); update Guichet"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: usize,
    },

    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The database cannot be read: a disk that failed, a write cut off. It is kept aside
    /// (`store::keep_aside_damaged`) and the workstation set up again.
    #[error(
        "the local database is damaged and cannot be read ({detail}): keep it aside (the file is renamed, not deleted), then set this workstation up again"
    )]
    Damaged { detail: String },

    /// The disk holding the data directory is full (SQLite's SQLITE_FULL): nothing more can be
    /// written until space is freed; what was saved is kept.
    #[error(
        "this computer's disk is full: nothing more can be saved until space is freed (ask IT \
         to free some); what was saved before is kept ({0})"
    )]
    DiskFull(rusqlite::Error),

    #[error("the local database failed: {0}")]
    Sqlite(rusqlite::Error),

    #[error("stored data could not be read back: {0}")]
    Json(#[from] serde_json::Error),
}

/// A text typed with an act, as a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOf {
    /// A note on a request.
    Note,
    /// Why a request was moved (a cancellation, a withdrawal, a step back).
    Reason,
    /// Why a payment is given back.
    RefundReason,
    /// The citizen's comment on a visit.
    Comment,
}

impl TextOf {
    pub const ALL: [TextOf; 4] = [
        TextOf::Note,
        TextOf::Reason,
        TextOf::RefundReason,
        TextOf::Comment,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TextOf::Note => "note",
            TextOf::Reason => "reason",
            TextOf::RefundReason => "refund_reason",
            TextOf::Comment => "comment",
        }
    }
}

impl std::fmt::Display for TextOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TextOf::Note => "the note",
            TextOf::Reason => "the reason",
            TextOf::RefundReason => "the refund's reason",
            TextOf::Comment => "the comment",
        })
    }
}

impl Term for TextOf {
    fn term(&self) -> String {
        format!("text_of.{}", self.code())
    }
}

/// What is wrong with a typed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    TooLong {
        len: usize,
        max: usize,
    },
    /// A character no screen or terminal shows as it is (an escape that rewrites a terminal, a
    /// bidirectional override that makes a text read otherwise than it is stored).
    HiddenCharacter(char),
}

impl std::fmt::Display for TextProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextProblem::TooLong { len, max } => {
                write!(f, "has {len} characters: at most {max}; shorten it")
            }
            TextProblem::HiddenCharacter(c) => write!(
                f,
                "holds a character that is not shown as it is ({}): type it again without it",
                code_point(*c)
            ),
        }
    }
}

/// What was looked for, or is there already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service,
    Category,
    LifeEvent,
    TargetGroup,
    Agency,
    Citizen,
    Lane,
    Counter,
    Ticket,
    Document,
    Request,
    Visit,
    Feedback,
    Holiday,
    Clerk,
    Payment,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Service,
        Kind::Category,
        Kind::LifeEvent,
        Kind::TargetGroup,
        Kind::Agency,
        Kind::Citizen,
        Kind::Lane,
        Kind::Counter,
        Kind::Ticket,
        Kind::Document,
        Kind::Request,
        Kind::Visit,
        Kind::Feedback,
        Kind::Holiday,
        Kind::Clerk,
        Kind::Payment,
    ];

    /// The name in the keys of its messages.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Category => "category",
            Kind::LifeEvent => "life_event",
            Kind::TargetGroup => "target_group",
            Kind::Agency => "agency",
            Kind::Citizen => "citizen",
            Kind::Lane => "lane",
            Kind::Counter => "counter",
            Kind::Ticket => "ticket",
            Kind::Document => "document",
            Kind::Request => "request",
            Kind::Visit => "visit",
            Kind::Feedback => "feedback",
            Kind::Holiday => "holiday",
            Kind::Clerk => "clerk",
            Kind::Payment => "payment",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Service => "service",
            Kind::Category => "category",
            Kind::LifeEvent => "life event",
            Kind::TargetGroup => "target group",
            Kind::Agency => "agency",
            Kind::Citizen => "citizen with national id",
            Kind::Lane => "priority lane",
            Kind::Counter => "counter",
            Kind::Ticket => "ticket",
            Kind::Document => "required document",
            Kind::Request => "request with receipt",
            Kind::Visit => "visit",
            Kind::Feedback => "feedback for the visit of ticket",
            Kind::Holiday => "holiday",
            Kind::Clerk => "account",
            Kind::Payment => "payment with receipt",
        })
    }
}

/// A clerk's action that the workstation's own rules refuse (the domain's are in
/// `DomainError`).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("centre code '{0}' is not valid: use 1 to 64 letters, digits, '-', '_' or '.'")]
    CenterCode(String),

    #[error("device code '{0}' is not valid: use 1 to 64 letters, digits, '-', '_' or '.'")]
    DeviceCode(String),

    #[error(transparent)]
    CenterName(#[from] CenterNameProblem),

    #[error("a waiting-time target of {given} minutes is not valid: give 1 to {max}")]
    WaitingTarget { given: u32, max: u32 },

    #[error(transparent)]
    TimeZone(#[from] UnknownZone),

    #[error(
        "service '{service}' is {} on this channel ({}): give the citizen the information; no request can be taken here",
        depth.map_or("not offered", |d| d.as_str()),
        channel.as_str()
    )]
    NotTakenHere {
        service: String,
        /// `None` when the channel does not offer the service at all.
        depth: Option<Depth>,
        channel: Channel,
    },

    #[error(
        "the idle lock must be between {min} and {max} minutes, not {given}: a screen left \
         open must lock itself"
    )]
    IdleLockMinutes { given: u32, min: u32, max: u32 },

    #[error(
        "'{name}' is not a printer's name: write it as the printing system lists it (`lpstat \
         -e`), without spaces, or leave it empty for the default printer"
    )]
    PrinterName { name: String },

    #[error(
        "the kiosk prints on '{kiosk}': name the counter's printer too, another one, so that no \
         citizen's receipt comes out at the kiosk"
    )]
    PrintersApart { kiosk: String },

    #[error("the search is {chars} characters long: type at most {max}")]
    SearchTooLong { chars: usize, max: usize },

    #[error(
        "a device that has not reached its back office may take logins for {min} to {max} days, \
         not {given}"
    )]
    MaxOfflineDays { given: u32, min: u32, max: u32 },

    #[error("say how the conflict was settled (a short note), then resolve it")]
    ConflictNote,

    #[error("request {request} has no open conflict: nothing to resolve")]
    NoOpenConflict { request: String },

    #[error(
        "request {request} is {status}: its documents can change only while it is a draft or returned for correction"
    )]
    DocumentsFixed {
        request: String,
        status: RequestStatus,
    },

    #[error(
        "request {request}: {action} waits for these documents to be marked received: {}; tick each one as the citizen hands it in",
        english_names(documents)
    )]
    DocumentsMissing {
        request: String,
        action: Action,
        documents: Vec<Text>,
    },

    #[error("request {request} is for a free service: there is nothing to pay")]
    NothingToPay { request: String },

    #[error("the fee of request {request} is waived ({ground}): there is nothing to pay")]
    FeeWaived { request: String, ground: String },

    #[error("request {request} is {status}: it takes no more payments")]
    PaymentsClosed {
        request: String,
        status: RequestStatus,
    },

    #[error("request {request} is for a free service: there is no fee to waive")]
    NoFeeToWaive { request: String },

    #[error("the fee of request {request} is already waived")]
    AlreadyWaived { request: String },

    #[error(
        "request {request} is already partly paid: a waiver covers the whole fee, so refund first"
    )]
    PartlyPaid { request: String },

    #[error(
        "'{ground}' is not an exemption ground for this service; {}",
        exempt_groups(exemptions)
    )]
    NotExempt {
        ground: String,
        exemptions: Vec<String>,
    },

    #[error(
        "visit {visit} has ended: requests can only be added while the citizen is at the counter"
    )]
    VisitEnded { visit: String },

    #[error("ticket {ticket} was never served: feedback is given at the end of a visit")]
    NeverServed { ticket: String },

    #[error(
        "counter {counter} is busy with ticket {ticket} ({}): finish it, mark it no-show or transfer it first",
        status.as_str()
    )]
    CounterBusy {
        counter: String,
        ticket: String,
        status: TicketStatus,
    },

    #[error("birth date: {0}")]
    BirthDate(ValueProblem),

    #[error("phone: {0}")]
    Phone(ValueProblem),

    #[error("email '{0}' is not an address: it should look like name@example.org")]
    Email(String),

    #[error("type at least the family name to search by name")]
    NameToSearch,
}

/// Who may act: logging in, sessions, roles and accounts.
#[derive(Debug, thiserror::Error)]
pub enum Access {
    /// The same for an unknown user name and a wrong password.
    #[error("the user name or the password is wrong")]
    LoginFailed,

    /// On an enrolled device that could not reach its back office: a clerk's first login on
    /// a device needs it to vouch for them.
    #[error(
        "the user name or the password is wrong; or this is your first login on this device (or the first since your password changed), which needs the back office: connect the device and try again"
    )]
    LoginFailedOffline,

    #[error(
        "this recovery key does not open this device: check it against the one printed when the device was set up"
    )]
    RecoveryRefused,

    /// The same for an unknown approver and a wrong approver's password.
    #[error("the approver's user name or password is wrong: ask them to type both again")]
    ApprovalFailed,
    #[error("too many failed attempts: wait {seconds} s before trying again")]
    Wait { seconds: u64 },

    #[error("this account is disabled: see a supervisor or an administrator")]
    Disabled,

    #[error(
        "this device has not reached its back office for more than {days} days, so it takes no logins on its own: connect it to the network, then log in again (the back office checks the password)"
    )]
    Stale { days: u32 },

    #[error("nobody is logged in: log in first")]
    NoSession,

    #[error("the session has expired or was closed: log in again")]
    SessionExpired,

    #[error("the screen is locked: unlock it first")]
    Locked,

    #[error("only a clerk with the {needed} role may {}", act.describe())]
    Role { needed: Role, act: Act },

    #[error(
        "the accounts of an enrolled workstation are managed at the back office (guichet-backoffice clerk ...)"
    )]
    ManagedByBackOffice,

    #[error("this is the last active administrator: make another one first")]
    LastAdministrator,

    #[error(
        "a standalone workstation needs its first administrator: give a user name, a full name and a password"
    )]
    NoAdministrator,
}

impl Access {
    pub fn message(&self) -> Message {
        match self {
            Access::LoginFailed => Message::new("error.login.failed"),
            Access::LoginFailedOffline => Message::new("error.login.failed_offline"),
            Access::RecoveryRefused => Message::new("error.login.recovery_refused"),
            Access::ApprovalFailed => Message::new("error.approval.failed"),
            Access::Wait { seconds } => Message::new("error.login.wait").text("seconds", seconds),
            Access::Disabled => Message::new("error.login.disabled"),
            Access::Stale { days } => Message::new("error.login.stale").text("days", days),
            Access::NoSession => Message::new("error.session.none"),
            Access::SessionExpired => Message::new("error.session.expired"),
            Access::Locked => Message::new("error.session.locked"),
            Access::Role { needed, act } => Message::new("error.role")
                .term("role", *needed)
                .term("act", *act),
            Access::ManagedByBackOffice => Message::new("error.clerk.managed_by_backoffice"),
            Access::LastAdministrator => Message::new("error.clerk.last_administrator"),
            Access::NoAdministrator => Message::new("error.clerk.no_administrator"),
        }
    }
}

fn exempt_groups(groups: &[String]) -> String {
    if groups.is_empty() {
        "it has no exemptions".to_owned()
    } else {
        format!("exempt groups: {}", groups.join(", "))
    }
}

/// Catalogue names as the CLI and the logs read them: in English, as a list.
fn english_names(names: &[Text]) -> String {
    names
        .iter()
        .map(|n| n.get("en"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    pub(crate) fn not_found(kind: Kind, key: impl Into<String>, hint: &str) -> Self {
        Error::NotFound {
            kind,
            key: key.into(),
            hint: hint.to_owned(),
        }
    }

    /// The error as the window translates it (see `guichet_domain::message`). The hints that
    /// name CLI commands are left out; `None` for what no clerk meets at the window.
    pub fn message(&self) -> Option<Message> {
        Some(match self {
            Error::Domain(e) => return e.message(),
            Error::NotSetUp => Message::new("error.not_set_up"),
            Error::AlreadySetUp { center, device } => Message::new("error.already_set_up")
                .text("center", center)
                .text("device", device),
            Error::NoCatalogue => Message::new("error.no_catalogue"),
            Error::StaleCatalogue { held, offered } => Message::new("error.stale_catalogue")
                .text("held", held)
                .text("offered", offered),
            Error::NotFound { kind, key, .. } => {
                Message::new(format!("error.not_found.{}", kind.code())).text("key", key)
            }
            Error::Duplicate { kind, key } => {
                Message::new(format!("error.duplicate.{}", kind.code())).text("key", key)
            }
            Error::Refused(refused) => refused.message(),
            Error::Access(access) => access.message(),
            Error::Text { what, problem } => match problem {
                TextProblem::TooLong { len, max } => Message::new("error.text.too_long")
                    .term("what", *what)
                    .text("len", len)
                    .text("max", max),
                TextProblem::HiddenCharacter(c) => Message::new("error.text.hidden_character")
                    .term("what", *what)
                    .text("character", guichet_domain::text::code_point(*c)),
            },
            Error::Invalid(_) => return None,
            Error::Damaged { detail } => Message::new("error.damaged").text("detail", detail),
            Error::DiskFull(_) => Message::new("error.disk_full"),
            Error::NewerSchema { .. }
            | Error::DataDir { .. }
            | Error::Sqlite(_)
            | Error::Json(_) => Message::internal(self),
        })
    }
}

impl Refused {
    pub fn message(&self) -> Message {
        match self {
            Refused::CenterCode(code) => Message::new("error.center_code").text("code", code),
            Refused::DeviceCode(code) => Message::new("error.device_code").text("code", code),
            Refused::CenterName(CenterNameProblem::Empty) => {
                Message::new("error.center_name_empty")
            }
            Refused::CenterName(CenterNameProblem::TooLong { chars }) => {
                Message::new("error.center_name_long")
                    .text("chars", chars)
                    .text("max", MAX_CENTER_NAME_CHARS)
            }
            Refused::CenterName(CenterNameProblem::Hidden(c)) => {
                Message::new("error.center_name_hidden").text("character", code_point(*c))
            }
            Refused::WaitingTarget { given, max } => Message::new("error.waiting_target")
                .text("given", given)
                .text("max", max),
            Refused::TimeZone(UnknownZone(name)) => {
                Message::new("error.time_zone").text("name", name)
            }
            Refused::NotTakenHere { service, depth, .. } => Message::new(match depth {
                Some(_) => "error.information_only",
                None => "error.not_offered",
            })
            .text("service", service),
            Refused::IdleLockMinutes { given, min, max } => Message::new("error.idle_lock_minutes")
                .text("given", given)
                .text("min", min)
                .text("max", max),
            Refused::PrinterName { name } => Message::new("error.printer_name").text("name", name),
            Refused::PrintersApart { kiosk } => {
                Message::new("error.printers_apart").text("kiosk", kiosk)
            }
            Refused::SearchTooLong { chars, max } => Message::new("error.search_too_long")
                .text("chars", chars)
                .text("max", max),
            Refused::MaxOfflineDays { given, min, max } => Message::new("error.max_offline_days")
                .text("given", given)
                .text("min", min)
                .text("max", max),
            Refused::ConflictNote => Message::new("error.conflict_note"),
            Refused::NoOpenConflict { request } => {
                Message::new("error.no_open_conflict").text("request", request)
            }
            Refused::DocumentsFixed { request, status } => Message::new("error.documents_fixed")
                .text("request", request)
                .term("status", *status),
            Refused::DocumentsMissing {
                request,
                action,
                documents,
            } => Message::new("error.documents_missing")
                .text("request", request)
                .term("action", *action)
                .names("documents", documents.iter().cloned()),
            Refused::NothingToPay { request } => {
                Message::new("error.nothing_to_pay").text("request", request)
            }
            Refused::FeeWaived { request, ground } => Message::new("error.fee_waived")
                .text("request", request)
                .text("ground", ground),
            Refused::PaymentsClosed { request, status } => Message::new("error.payments_closed")
                .text("request", request)
                .term("status", *status),
            Refused::NoFeeToWaive { request } => {
                Message::new("error.no_fee_to_waive").text("request", request)
            }
            Refused::AlreadyWaived { request } => {
                Message::new("error.already_waived").text("request", request)
            }
            Refused::PartlyPaid { request } => {
                Message::new("error.partly_paid").text("request", request)
            }
            Refused::NotExempt { ground, exemptions } if exemptions.is_empty() => {
                Message::new("error.no_exemptions").text("ground", ground)
            }
            Refused::NotExempt { ground, exemptions } => Message::new("error.not_exempt")
                .text("ground", ground)
                .text("groups", exemptions.join(", ")),
            Refused::VisitEnded { visit } => Message::new("error.visit_ended").text("visit", visit),
            Refused::NeverServed { ticket } => {
                Message::new("error.never_served").text("ticket", ticket)
            }
            Refused::CounterBusy {
                counter,
                ticket,
                status,
            } => Message::new("error.counter_busy")
                .text("counter", counter)
                .text("ticket", ticket)
                .term("status", *status),
            Refused::BirthDate(problem) => {
                Message::new("error.birth_date").message("problem", problem.message())
            }
            Refused::Phone(problem) => {
                Message::new("error.phone").message("problem", problem.message())
            }
            Refused::Email(email) => Message::new("error.email").text("email", email),
            Refused::NameToSearch => Message::new("error.name_to_search"),
        }
    }
}

/// SQLite's word that the file is not a database, or a damaged one, is said as such: the
/// clerk can do something about it (keep it aside), not about a failure in general.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                Error::Damaged {
                    detail: e.to_string(),
                }
            }
            Some(rusqlite::ErrorCode::DiskFull) => Error::DiskFull(e),
            _ => Error::Sqlite(e),
        }
    }
}

impl From<guichet_domain::citizen::NationalIdError> for Error {
    fn from(e: guichet_domain::citizen::NationalIdError) -> Self {
        Error::Domain(e.into())
    }
}

impl From<guichet_domain::receipt::ReceiptError> for Error {
    fn from(e: guichet_domain::receipt::ReceiptError) -> Self {
        Error::Domain(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    /// SQLite's answer when the disk is full, met for real: a database allowed no more pages
    /// than it has refuses the next write as the disk being full.
    #[test]
    fn a_full_disk_is_said_as_such_for_the_window_to_translate() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB); PRAGMA max_page_count = 2;")
            .unwrap();
        let full = (0..100)
            .find_map(|_| {
                conn.execute("INSERT INTO t VALUES (zeroblob(4096))", [])
                    .err()
            })
            .expect("the write the full database refuses");
        let e = Error::from(full);
        assert!(matches!(e, Error::DiskFull(_)), "{e:?}");
        assert!(
            e.to_string().starts_with("this computer's disk is full"),
            "{e}"
        );
        assert_eq!(e.message().unwrap().key, "error.disk_full");
    }
}
