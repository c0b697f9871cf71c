//! What can be typed: the commands and their options, as clap definitions.
//!
//! Choices that belong to the domain (centre kinds, channels, request statuses, actions,
//! payment methods, dates) are parsed with the domain's own parsers, so the CLI accepts
//! exactly what the core accepts and refuses it with the same words.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use guichet_domain::account::Role;
use guichet_domain::catalogue::{CenterKind, Channel};
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::request::{Action, RequestStatus};
use guichet_workstation::store::OutboxState;

#[derive(Debug, Parser)]
#[command(
    name = "guichet",
    version,
    about = "The Guichet clerk's workstation: queue, citizens, requests, payments, offline first."
)]
pub struct Cli {
    /// Where the workstation keeps its database (default: the platform's data directory).
    #[arg(long, global = true, env = "GUICHET_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print one JSON document on stdout instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,

    /// Log in as this clerk for this one command (for scripts), rather than through the
    /// session `guichet login` opened. The password comes from standard input
    /// (--password-stdin) or is asked on the terminal.
    #[arg(long, global = true, env = "GUICHET_USER", value_name = "NAME")]
    pub user: Option<String>,

    /// Read passwords from standard input, one per line: the clerk's own first (for `login`,
    /// `setup` or --user), then a new account's (for `clerk add` and `clerk reset-password`)
    /// or the approver's (for --approver).
    #[arg(long, global = true)]
    pub password_stdin: bool,

    /// Language of the names printed from the catalogue.
    #[arg(long, global = true, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up this workstation for one centre and device (once per data directory), with its
    /// first administrator, who is then logged in.
    Setup(SetupArgs),
    /// Log in: the commands that follow act as this clerk until `guichet logout`, or for 10
    /// hours.
    Login(LoginArgs),
    /// Log out: end the session `guichet login` opened.
    Logout,
    /// Open a standalone workstation whose administrators all forgot their password, with the
    /// recovery key printed at set-up; the account gets a new password and is logged in.
    Recover(RecoverArgs),
    /// The clerks' accounts of a standalone workstation (an enrolled one gets its accounts from
    /// the back office).
    #[command(subcommand)]
    Clerk(ClerkCommand),
    /// Show the centre, device, catalogue version and what waits in the outbox.
    Status,
    /// Keep a damaged database aside (renamed with its key's slots, never deleted), so that
    /// the workstation can be set up or enrolled again.
    KeepAside,
    /// Show this workstation's local rules, or change them (an administrator).
    Settings(SettingsArgs),
    /// Load, search and browse the service catalogue.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Register and find citizens.
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// Take requests, move them along, record documents and payments.
    #[command(subcommand)]
    Request(RequestCommand),
    /// The counters (windows) and what each serves.
    #[command(subcommand)]
    Counter(CounterCommand),
    /// Queue tickets: issue, call, serve, transfer.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Record the citizen's rating at the end of a visit.
    Feedback(FeedbackArgs),
    /// Public holidays (due dates skip them).
    #[command(subcommand)]
    Holiday(HolidayCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Changes waiting to leave (or that left) this device.
    Outbox(OutboxArgs),
    /// Enrol this device with a back office, using a one-time code from an administrator
    /// (asked on the terminal, or read from standard input with --code-stdin).
    Enroll(EnrollArgs),
    /// Push waiting changes to the back office and pull what is new.
    Sync(SyncArgs),
    /// The supervisor's reports (in the language of --lang).
    #[command(subcommand)]
    Report(ReportCommand),
}

impl Command {
    /// Whether the command acts on or reads the centre's data, and so needs a clerk logged
    /// in. Setting up, logging in or out, the device's link and its status need none.
    pub fn needs_clerk(&self) -> bool {
        !matches!(
            self,
            Command::Setup(_)
                | Command::Login(_)
                | Command::Logout
                | Command::Enroll(_)
                | Command::Recover(_)
                | Command::KeepAside
        )
    }
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Minutes without a key or a click after which the window locks itself (1 to 240).
    #[arg(long, value_name = "MINUTES")]
    pub idle_lock_minutes: Option<u32>,
    /// Days an enrolled device that has not reached its back office keeps taking logins
    /// (1 to 90).
    #[arg(long, value_name = "DAYS")]
    pub max_offline_days: Option<u32>,
    /// The counter's printer, as `lpstat -e` lists it ("" for the default printer).
    #[arg(long, value_name = "NAME")]
    pub counter_printer: Option<String>,
    /// The ticket kiosk's printer, likewise; once set, the counter's is named too, another one.
    #[arg(long, value_name = "NAME")]
    pub kiosk_printer: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The daily report of this centre, for one day or a range of days: queue, requests,
    /// clerks, money, feedback and sync health.
    Daily(ReportDailyArgs),
}

#[derive(Debug, Args)]
pub struct ReportDailyArgs {
    /// The day (YYYY-MM-DD), or the first day of a range.
    #[arg(long, value_parser = parse_date)]
    pub date: NaiveDate,
    /// The last day of a range, included (default: the --date day alone).
    #[arg(long, value_parser = parse_date)]
    pub to: Option<NaiveDate>,
    /// csv (a new directory with one file per table), xlsx or pdf.
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// Where to write it: a new (or empty) directory for csv, a file for xlsx and pdf.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// The cash counted in the drawer, in the centre's currency (such as 125.50); the report
    /// shows it against the cash expected.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub cash_counted: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Csv,
    Xlsx,
    Pdf,
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The back office's address, e.g. https://backoffice.example.org
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// Read the one-time enrolment code from standard input, one line (for scripts).
    /// Without it the code is asked on the terminal and not shown as it is typed: it never
    /// goes on the command line, where other users' `ps` and the shell's history would see it.
    #[arg(long)]
    pub code_stdin: bool,
    /// What to call this device on the back office.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// Accept a plain http:// back office on another machine (what crosses the network can
    /// be read on the way). Remembered; the status then warns. Loopback needs no flag.
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// Trust this CA certificate (PEM) for the back office's HTTPS certificate, on top of the
    /// system's roots: for a back office with a private or self-signed certificate. Remembered.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Keep running: sync after a timer and show progress, until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between runs with --watch (1 to 86400).
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub interval: u64,
    /// Seconds before a call to the back office is given up (1 to 3600).
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub timeout: u64,
    /// First replace this device's credential with a new one from the back office (kept in
    /// the encrypted database; the old one stops working once the new one is used).
    #[arg(long)]
    pub rotate_credential: bool,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The centre's code.
    #[arg(long, value_name = "CODE")]
    pub center: String,
    /// This device's code, unique within the centre.
    #[arg(long, value_name = "CODE")]
    pub device: String,
    /// The centre's name as people read it (default: its code).
    #[arg(long, value_name = "NAME")]
    pub center_name: Option<String>,
    /// What kind of centre this is; it decides the channel this workstation serves on.
    #[arg(long, value_parser = parse_center_kind, default_value = "stationary")]
    pub kind: CenterKind,
    /// The 4-character receipt prefix handed out for this device (default: derived).
    #[arg(long, value_name = "XXXX")]
    pub receipt_prefix: Option<String>,
    /// The national id rule: ee-isikukood or plain.
    #[arg(long, value_name = "SCHEME", default_value = guichet_workstation::store::DEFAULT_ID_SCHEME)]
    pub id_scheme: String,
    /// The currency fees are paid in.
    #[arg(long, value_name = "CODE", default_value = guichet_workstation::store::DEFAULT_CURRENCY)]
    pub currency: String,
    /// The waiting-time target, in minutes.
    #[arg(long, value_name = "MIN", default_value_t = guichet_workstation::store::DEFAULT_WAITING_TARGET_MIN)]
    pub waiting_target: u32,
    /// The centre's IANA time zone (Europe/Athens, Africa/Dakar, Asia/Baku): its days and
    /// hours are counted in it (default: this machine's).
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// The user name of the workstation's first administrator.
    #[arg(long, value_name = "NAME")]
    pub admin: String,
    /// The administrator's full name, as reports show it (default: the user name).
    #[arg(long, value_name = "NAME")]
    pub admin_name: Option<String>,
    /// Also load the demo catalogue and add counters W1 (everything) and W2 (two categories).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The clerk's user name (default: --user or GUICHET_USER).
    #[arg(value_name = "NAME")]
    pub username: Option<String>,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The account that gets a new password (read after the recovery key, from standard
    /// input with --password-stdin, or asked on the terminal).
    #[arg(value_name = "NAME")]
    pub username: String,
}

#[derive(Debug, Subcommand)]
pub enum ClerkCommand {
    /// Add an account (administrators). Its password is read from standard input or asked.
    Add {
        username: String,
        /// The full name, as reports show it.
        #[arg(long, value_name = "NAME")]
        name: String,
        #[arg(long, value_parser = parse_role, default_value = "clerk")]
        role: Role,
    },
    /// Every account this workstation holds.
    List,
    /// Disable an account: it can no longer log in; its past acts keep its name.
    Disable { username: String },
    /// Enable a disabled account again.
    Enable { username: String },
    /// Give an account another role: clerk, supervisor or administrator.
    Role {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Set a new password for an account (read from standard input or asked).
    ResetPassword { username: String },
    /// Let a clerk work on this device before their first login here reached the back office
    /// (supervisors): the clerk types their own password, read from standard input or asked.
    Admit { username: String },
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Load a catalogue file (JSON, the fixture format).
    Load { file: PathBuf },
    /// Search services by words and filters.
    Search(SearchArgs),
    /// Life events, target groups, categories and agencies, with how many services each has.
    Browse,
    /// Everything about one service.
    Show { code: String },
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to look for in titles, keywords and descriptions (any language, accents optional).
    pub words: Vec<String>,
    #[arg(long, value_name = "CODE")]
    pub life_event: Option<String>,
    #[arg(long, value_name = "CODE")]
    pub target_group: Option<String>,
    #[arg(long, value_name = "CODE")]
    pub category: Option<String>,
    #[arg(long, value_name = "CODE")]
    pub agency: Option<String>,
    /// Only services offered on this channel.
    #[arg(long, value_parser = parse_channel)]
    pub channel: Option<Channel>,
    /// At most N services (1 to 1000).
    #[arg(long, value_name = "N", value_parser = limit_up_to::<1000>)]
    pub limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Register a citizen.
    Add(CitizenAddArgs),
    /// Find a citizen by national id, or by name and birth date.
    Find(CitizenFindArgs),
}

#[derive(Debug, Args)]
pub struct CitizenAddArgs {
    #[arg(long, value_name = "ID")]
    pub id: String,
    #[arg(long, value_name = "NAME")]
    pub given: String,
    #[arg(long, value_name = "NAME")]
    pub family: String,
    /// Birth date (YYYY-MM-DD or DD/MM/YYYY).
    #[arg(long, value_name = "DATE")]
    pub born: String,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("by").required(true).args(["id", "name"])))]
pub struct CitizenFindArgs {
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Family name (and optionally given name).
    #[arg(long, value_name = "NAME", requires = "born")]
    pub name: Option<String>,
    #[arg(long, value_name = "DATE", requires = "name")]
    pub born: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Take a request for a citizen; prints the receipt number to hand over.
    Create(RequestCreateArgs),
    /// List requests, newest first.
    List(RequestListArgs),
    /// Everything about one request: checklist, payments, timeline, sync state.
    Show { receipt: String },
    /// Move a request one step: submit, dispatch, resubmit, deliver, cancel.
    Advance {
        receipt: String,
        #[arg(value_parser = parse_action)]
        action: Action,
        /// Why (shown to the citizen and the agency).
        #[arg(long)]
        reason: Option<String>,
        /// The supervisor who approves a cancellation after payment; their password is read
        /// after the clerk's.
        #[arg(long, value_name = "NAME")]
        approver: Option<String>,
    },
    /// Mark a required document as received or missing.
    #[command(group(ArgGroup::new("state").required(true).args(["received", "missing"])))]
    Document {
        receipt: String,
        code: String,
        #[arg(long)]
        received: bool,
        #[arg(long)]
        missing: bool,
    },
    /// Record a payment towards the fee.
    Pay {
        receipt: String,
        /// The amount, in the fee's currency (such as 12.50).
        // A leading '-' is taken as the amount so that the core can say why it is refused.
        #[arg(allow_hyphen_values = true)]
        amount: String,
        /// cash, card or mobile_money.
        #[arg(long, value_parser = parse_payment_method)]
        method: PaymentMethod,
    },
    /// Waive the fee because the citizen belongs to an exempt target group.
    Waive {
        receipt: String,
        #[arg(long, value_name = "TARGET_GROUP")]
        ground: String,
        /// The supervisor who approves the waiver; their password is read after the clerk's.
        #[arg(long, value_name = "NAME")]
        approver: Option<String>,
    },
    /// Give back (part of) a payment recorded by mistake; a payment is never edited.
    Refund {
        receipt: String,
        /// The receipt number of the payment to give back.
        #[arg(long, value_name = "PAYMENT_RECEIPT")]
        payment: String,
        /// How much, in the payment's currency (such as 12.50).
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// Why the payment is given back.
        #[arg(long)]
        reason: String,
        /// The supervisor who approves the refund; their password is read after the clerk's.
        #[arg(long, value_name = "NAME")]
        approver: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct RequestCreateArgs {
    /// The citizen's national id.
    #[arg(long, value_name = "ID")]
    pub citizen: String,
    /// The service's code.
    #[arg(long, value_name = "CODE")]
    pub service: String,
    /// A form field, as code=value (repeat for each field).
    #[arg(long = "field", value_name = "CODE=VALUE", value_parser = parse_field)]
    pub fields: Vec<(String, String)>,
    /// A required document the citizen brought (repeat for each).
    #[arg(long = "document", value_name = "CODE")]
    pub documents: Vec<String>,
    /// Link the request to the visit of the ticket being served.
    #[arg(long, value_name = "CODE")]
    pub ticket: Option<String>,
    /// Submit at once (every document must be received).
    #[arg(long)]
    pub submit: bool,
}

#[derive(Debug, Args)]
pub struct RequestListArgs {
    #[arg(long, value_parser = parse_status)]
    pub status: Option<RequestStatus>,
    #[arg(long, value_name = "CODE")]
    pub service: Option<String>,
    /// The citizen's national id.
    #[arg(long, value_name = "ID")]
    pub citizen: Option<String>,
    /// Only open requests past their due date.
    #[arg(long)]
    pub overdue: bool,
    /// At most N requests (1 to 100000).
    #[arg(long, value_name = "N", value_parser = limit_up_to::<100_000>)]
    pub limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum CounterCommand {
    /// Add a counter and what it serves.
    #[command(group(ArgGroup::new("scope").required(true).multiple(true).args(["all", "services", "categories"])))]
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// Serves every service.
        #[arg(long, conflicts_with_all = ["services", "categories"])]
        all: bool,
        /// A service it serves (repeat for each).
        #[arg(long = "service", value_name = "CODE")]
        services: Vec<String>,
        /// A category it serves (repeat for each).
        #[arg(long = "category", value_name = "CODE")]
        categories: Vec<String>,
    },
    /// The counters and what each serves.
    List,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Issue a ticket for a service or a category.
    Issue {
        #[command(flatten)]
        target: QueueTargetArgs,
        /// Priority lane: standard, elderly, disability, pregnancy.
        #[arg(long, default_value = "standard")]
        lane: String,
    },
    /// Call the next citizen this counter can serve.
    Next {
        #[arg(long, value_name = "CODE")]
        counter: String,
    },
    /// Call the same ticket again. Recalling a no-show needs a supervisor's approval.
    Recall {
        ticket: String,
        /// The supervisor who approves recalling a no-show; their password is read after the
        /// clerk's.
        #[arg(long, value_name = "NAME")]
        approver: Option<String>,
    },
    /// The citizen did not come when called.
    NoShow { ticket: String },
    /// The citizen is at the counter: service starts.
    Start { ticket: String },
    /// Service ends.
    Finish { ticket: String },
    /// Send a ticket to another service, category or counter.
    #[command(group(ArgGroup::new("to").required(true).args(["service", "category", "counter"])))]
    Transfer {
        ticket: String,
        #[arg(long, value_name = "CODE")]
        service: Option<String>,
        #[arg(long, value_name = "CODE")]
        category: Option<String>,
        #[arg(long, value_name = "CODE")]
        counter: Option<String>,
    },
    /// Who is waiting, in the order they will be called.
    List,
    /// The priority lanes, in the order they are called.
    Lanes,
    /// Add a priority lane or change one; lower ranks are called first.
    Lane {
        code: String,
        #[arg(long)]
        rank: u8,
        /// Its name in English.
        #[arg(long, value_name = "TEXT")]
        name_en: String,
        /// Its name in French.
        #[arg(long, value_name = "TEXT")]
        name_fr: String,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct QueueTargetArgs {
    #[arg(long, value_name = "CODE")]
    pub service: Option<String>,
    #[arg(long, value_name = "CODE")]
    pub category: Option<String>,
}

#[derive(Debug, Args)]
pub struct FeedbackArgs {
    /// The ticket of the visit.
    pub ticket: String,
    /// 1 (bad) to 5 (very good).
    #[arg(long)]
    pub rating: u8,
    #[arg(long)]
    pub comment: Option<String>,
    /// The channel the citizen was served on (default: this workstation's).
    #[arg(long, value_parser = parse_channel)]
    pub channel: Option<Channel>,
}

#[derive(Debug, Subcommand)]
pub enum HolidayCommand {
    /// Add a public holiday.
    Add {
        /// The day (YYYY-MM-DD or DD/MM/YYYY).
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
        /// Its name.
        #[arg(required = true, num_args = 1..)]
        name: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every link of the audit chain; exit 1 naming the first broken one.
    Verify,
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    #[arg(long, value_enum)]
    pub state: Option<OutboxStateArg>,
    /// At most N entries (1 to 100000).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = limit_up_to::<100_000>)]
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutboxStateArg {
    Pending,
    Sent,
    Refused,
    Conflict,
}

impl From<OutboxStateArg> for OutboxState {
    fn from(value: OutboxStateArg) -> Self {
        match value {
            OutboxStateArg::Pending => OutboxState::Pending,
            OutboxStateArg::Sent => OutboxState::Sent,
            OutboxStateArg::Refused => OutboxState::Refused,
            OutboxStateArg::Conflict => OutboxState::Conflict,
        }
    }
}

fn parse_center_kind(input: &str) -> Result<CenterKind, String> {
    CenterKind::parse(input).map_err(|e| e.to_string())
}

fn parse_channel(input: &str) -> Result<Channel, String> {
    Channel::parse(input).map_err(|e| e.to_string())
}

fn parse_action(input: &str) -> Result<Action, String> {
    Action::parse(input).map_err(|e| e.to_string())
}

fn parse_status(input: &str) -> Result<RequestStatus, String> {
    RequestStatus::parse(input).map_err(|e| e.to_string())
}

fn parse_payment_method(input: &str) -> Result<PaymentMethod, String> {
    PaymentMethod::parse(input).map_err(|e| e.to_string())
}

/// A count of rows to show: 1 to `MAX` (0 would show nothing, as if there were nothing).
fn limit_up_to<const MAX: usize>(input: &str) -> Result<usize, String> {
    match input.trim().parse::<usize>() {
        Ok(n) if (1..=MAX).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{input}' is not a limit: give a number from 1 to {MAX}"
        )),
    }
}

fn parse_date(input: &str) -> Result<NaiveDate, String> {
    guichet_domain::form::parse_date(input).map_err(|e| e.to_string())
}

fn parse_field(input: &str) -> Result<(String, String), String> {
    match input.split_once('=') {
        Some((code, value)) if !code.trim().is_empty() => {
            Ok((code.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "'{input}' is not a form field: write it as code=value, such as --field birth-date=2001-02-03"
        )),
    }
}

fn parse_role(input: &str) -> Result<Role, String> {
    Role::parse(input).map_err(|e| e.to_string())
}
