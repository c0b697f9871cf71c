//! The CLI's errors: the core's, shown as they are (they already say what to do), plus the few
//! the CLI meets on its own (a file it cannot read, a broken audit chain to report).
//!
//! Each error has a stable machine-readable `kind` for `--json`, and an exit code: 2 when what
//! was typed was refused (usage, a malformed or unknown value, a rule the action breaks), 1 when
//! the workstation could not do it (not set up, the database, the disk, a broken audit chain).

use std::path::{Path, PathBuf};

use guichet_domain::DomainError;
use guichet_domain::approval::ApprovalProblem;
use guichet_domain::audit::BrokenLink;
use guichet_domain::request::Refusal;
use guichet_report::Error as ReportError;
use guichet_workstation::Error as CoreError;
use guichet_workstation::error::{Access, Kind};
use guichet_workstation::sync::SyncError;

pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] CoreError),

    /// What was typed cannot be taken, for a reason clap cannot see on its own.
    #[error("{0}")]
    Usage(String),

    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file `catalogue load` will not parse: too large, or not text.
    #[error("{} {problem}: is this the catalogue JSON? Nothing was loaded", path.display())]
    NotCatalogue { path: PathBuf, problem: String },

    #[error("{} is not a catalogue in the fixture format: {source}", path.display())]
    CatalogueFile {
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error("cannot keep the session in {}: {source}", path.display())]
    SessionFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the demo catalogue built into this guichet does not load: {0}")]
    DemoCatalogue(serde_json::Error),

    #[error(transparent)]
    AuditBroken(BrokenLink),

    #[error(
        "this platform has no default data directory: pass --data-dir DIR or set GUICHET_DATA_DIR"
    )]
    NoDataDir,

    #[error("the output could not be formatted")]
    Render(#[from] std::fmt::Error),

    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),

    #[error(transparent)]
    Sync(#[from] guichet_workstation::sync::SyncError),

    #[error(transparent)]
    Report(#[from] guichet_report::Error),
}

impl CliError {
    /// A stable name for scripts reading `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Core(e) => core_kind(e),
            CliError::Usage(_) => "usage",
            CliError::ReadFile { .. } | CliError::SessionFile { .. } => "file",
            CliError::CatalogueFile { .. } | CliError::NotCatalogue { .. } => "catalogue_file",
            CliError::DemoCatalogue(_) => "demo_catalogue",
            CliError::AuditBroken(_) => "audit_broken",
            CliError::NoDataDir => "data_dir",
            CliError::Render(_) => "output",
            CliError::Runtime(_) => "runtime",
            CliError::Sync(e) => sync_kind(e),
            CliError::Report(e) => report_kind(e),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Core(e) | CliError::Sync(SyncError::Store(e)) => core_exit(e),
            CliError::Usage(_)
            | CliError::ReadFile { .. }
            | CliError::CatalogueFile { .. }
            | CliError::NotCatalogue { .. } => 2,
            CliError::DemoCatalogue(_)
            | CliError::SessionFile { .. }
            | CliError::AuditBroken(_)
            | CliError::NoDataDir
            | CliError::Render(_)
            | CliError::Runtime(_) => 1,
            CliError::Sync(
                SyncError::Protocol(_)
                | SyncError::Address(_)
                | SyncError::InsecureHttp(_)
                | SyncError::CaCertificate(_)
                | SyncError::Tls(_)
                | SyncError::EnrolmentCode(_),
            ) => 2,
            CliError::Sync(_) => 1,
            CliError::Report(e) => report_exit(e),
        }
    }

    /// Structured details worth a script's while, beside the message.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            CliError::Core(CoreError::Domain(DomainError::Form { problems })) => {
                Some(serde_json::json!({ "problems": problems }))
            }
            CliError::AuditBroken(link) => Some(serde_json::json!({ "seq": link.seq })),
            _ => None,
        }
    }

    /// A line the CLI can add because it knows where the clerk is (the data directory).
    pub fn hint(&self, data_dir: Option<&Path>) -> Option<String> {
        match (self, data_dir) {
            (CliError::Core(CoreError::NotSetUp), Some(dir)) => {
                let kept = guichet_workstation::store::kept_aside(dir);
                Some(match guichet_workstation::store::erased_note(dir) {
                    None if !kept.is_empty() => format!(
                        "the damaged database of this workstation was kept aside as {} in {}; \
                         set the workstation up, or enrol it again to get the centre's data back",
                        kept[0].file,
                        dir.display()
                    ),
                    Some(erased) => format!(
                        "the data of device {} (centre {}) in {} was erased on {} at the back \
                         office's request; set the workstation up or enrol it again",
                        erased.device_code,
                        erased.center_code,
                        dir.display(),
                        erased.at.format("%Y-%m-%d %H:%M UTC")
                    ),
                    None => format!(
                        "run `guichet setup --center CODE --device CODE` or `guichet enroll \
                         --server URL` (it asks for the enrolment code); the data directory is \
                         {}; pass --data-dir DIR or set GUICHET_DATA_DIR if the workstation is \
                         elsewhere",
                        dir.display()
                    ),
                })
            }
            (CliError::Core(CoreError::NoCatalogue), _) => {
                Some("run `guichet catalogue load FILE` (or `guichet setup --demo`)".into())
            }
            (CliError::Sync(SyncError::NotEnrolled), _) => {
                Some(
                    "run `guichet enroll --server URL`: it asks for the one-time code the back \
                     office's administrator gives"
                        .into(),
                )
            }
            // Enrolling again takes a data directory of its own: this one stays as it is, its
            // device revoked.
            (CliError::Sync(SyncError::Revoked(_)), Some(dir)) => Some(format!(
                "{} stays as it is; to use this computer again, enrol it in a new data \
                 directory with a new code: `guichet --data-dir NEW_DIR enroll --server URL`",
                dir.display()
            )),
            (CliError::Core(CoreError::NotFound { kind, .. }), _) => not_found_hint(*kind),
            (
                CliError::Core(CoreError::Damaged { .. })
                | CliError::Sync(SyncError::Store(CoreError::Damaged { .. })),
                _,
            ) => Some(
                "run `guichet keep-aside`, then set the workstation up or enrol it again".into(),
            ),
            // The core's refusals say what is missing; the CLI says which option gives it.
            (
                CliError::Core(CoreError::Domain(DomainError::Approval {
                    problem: ApprovalProblem::Missing,
                    ..
                })),
                _,
            ) => Some(
                "give the supervisor's user name with --approver NAME; their password is asked \
                 after yours (or read from the next line of standard input with --password-stdin)"
                    .into(),
            ),
            (
                CliError::Core(CoreError::Domain(DomainError::Transition {
                    refusal: Refusal::ReasonRequired { .. },
                    ..
                })),
                _,
            ) => Some("give it with --reason TEXT".into()),
            (CliError::Core(CoreError::Domain(DomainError::Form { .. })), _) => Some(
                "give each field as --field CODE=VALUE; `guichet catalogue show SERVICE` lists \
                 the service's fields"
                    .into(),
            ),
            (
                CliError::Core(CoreError::Access(Access::NoSession | Access::SessionExpired)),
                _,
            ) => Some(
                "log in with `guichet login NAME`, or pass --user NAME --password-stdin to this command".into(),
            ),
            _ => None,
        }
    }
}

/// The command that shows or makes what was not found, where there is one.
fn not_found_hint(kind: Kind) -> Option<String> {
    let command: &str = match kind {
        Kind::Service => "`guichet catalogue search WORDS`",
        Kind::Category | Kind::LifeEvent | Kind::TargetGroup | Kind::Agency => {
            "`guichet catalogue browse`"
        }
        Kind::Citizen => "`guichet citizen find` or `guichet citizen add`",
        Kind::Counter => "`guichet counter list` or `guichet counter add`",
        Kind::Ticket => "`guichet queue list`",
        Kind::Request => "`guichet request list`",
        Kind::Document | Kind::Payment => "`guichet request show RECEIPT`",
        Kind::Visit => "`guichet queue start TICKET`",
        Kind::Clerk => "`guichet clerk list`",
        Kind::Lane | Kind::Feedback | Kind::Holiday => return None,
    };
    Some(format!("see {command}"))
}

fn core_exit(e: &CoreError) -> u8 {
    match e {
        CoreError::NotSetUp
        | CoreError::AlreadySetUp { .. }
        | CoreError::NoCatalogue
        | CoreError::NewerSchema { .. }
        | CoreError::DataDir { .. }
        | CoreError::Damaged { .. }
        | CoreError::DiskFull(_)
        | CoreError::Sqlite(_)
        | CoreError::Json(_) => 1,
        CoreError::Domain(_)
        | CoreError::StaleCatalogue { .. }
        | CoreError::NotFound { .. }
        | CoreError::Duplicate { .. }
        | CoreError::Refused(_)
        | CoreError::Access(_)
        | CoreError::Text { .. }
        | CoreError::Invalid(_) => 2,
    }
}

fn report_kind(e: &ReportError) -> &'static str {
    match e {
        ReportError::Store(e) => core_kind(e),
        ReportError::Domain(e) => domain_kind(e),
        ReportError::Period { .. }
        | ReportError::PeriodTooLong { .. }
        | ReportError::PeriodAhead { .. } => "period",
        ReportError::UnknownLocale(_) => "usage",
        ReportError::Write { .. } | ReportError::OutputNotEmpty { .. } => "file",
        ReportError::Stored(_) => "stored_data",
        ReportError::DraftHasNoReceipt { .. } => "refused",
        ReportError::Xlsx(_) | ReportError::Pdf(_) => "output",
    }
}

fn report_exit(e: &ReportError) -> u8 {
    match e {
        ReportError::Store(e) => core_exit(e),
        ReportError::Domain(_)
        | ReportError::Period { .. }
        | ReportError::PeriodTooLong { .. }
        | ReportError::PeriodAhead { .. }
        | ReportError::UnknownLocale(_)
        | ReportError::Write { .. }
        | ReportError::DraftHasNoReceipt { .. }
        | ReportError::OutputNotEmpty { .. } => 2,
        ReportError::Stored(_) | ReportError::Xlsx(_) | ReportError::Pdf(_) => 1,
    }
}

fn sync_kind(e: &SyncError) -> &'static str {
    match e {
        SyncError::NotEnrolled => "not_enrolled",
        SyncError::Offline(_) | SyncError::EnrolOffline(_) => "offline",
        SyncError::Revoked(_) => "revoked",
        SyncError::Unauthorized(_) => "unauthorized",
        SyncError::EnrolmentCode(_) => "enrolment_code",
        SyncError::Busy { .. } => "busy",
        SyncError::Refused { .. } | SyncError::AuditAnchor { .. } => "refused",
        SyncError::Protocol(_) | SyncError::Address(_) => "protocol",
        SyncError::InsecureHttp(_) => "insecure_http",
        SyncError::CaCertificate(_) => "ca_certificate",
        SyncError::Tls(_) => "tls",
        SyncError::WipeBlocked { .. } => "wipe_blocked",
        SyncError::Store(e) => core_kind(e),
    }
}

fn core_kind(e: &CoreError) -> &'static str {
    match e {
        CoreError::Domain(d) => domain_kind(d),
        CoreError::NotSetUp => "not_set_up",
        CoreError::AlreadySetUp { .. } => "already_set_up",
        CoreError::NoCatalogue => "no_catalogue",
        CoreError::StaleCatalogue { .. } => "stale_catalogue",
        CoreError::NotFound { .. } => "not_found",
        CoreError::Duplicate { .. } => "duplicate",
        CoreError::Refused(_) | CoreError::Text { .. } | CoreError::Invalid(_) => "invalid",
        CoreError::Access(a) => access_kind(a),
        CoreError::NewerSchema { .. } => "newer_schema",
        CoreError::DataDir { .. } => "data_dir",
        CoreError::Damaged { .. } => "damaged",
        CoreError::DiskFull(_) => "disk_full",
        CoreError::Sqlite(_) => "database",
        CoreError::Json(_) => "stored_data",
    }
}

fn domain_kind(e: &DomainError) -> &'static str {
    match e {
        DomainError::Currency { .. } => "currency",
        DomainError::Amount { .. } => "amount",
        DomainError::InvalidCatalogue { .. } => "invalid_catalogue",
        DomainError::UnknownChoice { .. } => "unknown_choice",
        DomainError::Citizen { .. } => "citizen",
        DomainError::NationalId(_) => "national_id",
        DomainError::Form { .. } => "form",
        DomainError::Transition { .. } => "transition",
        DomainError::Ticket { .. } => "ticket",
        DomainError::Hlc { .. } => "clock_stamp",
        DomainError::Feedback { .. } => "feedback",
        DomainError::Payment { .. } => "payment",
        DomainError::Receipt(_) => "receipt",
        DomainError::Username { .. } => "username",
        DomainError::DisplayName { .. } | DomainError::DisplayNameCharacter { .. } => {
            "display_name"
        }
        DomainError::Password { .. } => "password",
        DomainError::WeakVerifier | DomainError::VerifierFailed => "verifier",
        DomainError::SealFailed => "key_slot",
        DomainError::RecoveryKey(_) => "recovery_key",
        DomainError::Approval { .. } => "approval",
        DomainError::Refund { .. } => "refund",
    }
}

fn access_kind(e: &Access) -> &'static str {
    match e {
        Access::LoginFailed | Access::LoginFailedOffline => "login_failed",
        Access::RecoveryRefused => "recovery_key",
        Access::ApprovalFailed => "approval_failed",
        Access::Wait { .. } => "login_wait",
        Access::Disabled => "account_disabled",
        Access::Stale { .. } => "device_stale",
        Access::NoSession | Access::SessionExpired => "not_logged_in",
        Access::Locked => "locked",
        Access::Role { .. } => "role",
        Access::ManagedByBackOffice | Access::LastAdministrator | Access::NoAdministrator => {
            "accounts"
        }
    }
}
