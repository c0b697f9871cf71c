//! The local store: one SQLite file per workstation, in WAL mode with foreign keys on,
//! encrypted at rest (SQLCipher; see `vault` for its key and who may open it).
//!
//! `Workstation` owns the connection. Every clerk action goes through `write`, which opens one
//! immediate transaction and hands out an `ActionTx`: the action writes its rows through it and
//! records what it did with `ActionTx::record` (a typed `guichet_protocol::Change`), which
//! appends the hash-chained audit event and the outbox entry in the same transaction. Commit
//! makes all three durable together; any error (or a crash) before commit leaves none of them.

mod approval;
mod audit;
mod catalogue;
mod citizens;
mod clerks;
mod damaged;
mod erase;
mod migrations;
mod page_cipher;
mod queue;
mod report_days;
mod report_read;
mod requests;
mod rows;
mod sync;
mod vault;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use guichet_domain::account::{Act, Role, Verifier};
use guichet_domain::audit::AuditEvent;
use guichet_domain::catalogue::{
    Catalogue, CenterKind, Channel, MAX_WAITING_TARGET_MIN, checked_center_name, is_valid_code,
    waiting_target,
};
use guichet_domain::citizen::{NationalIdScheme, scheme_by_name};
use guichet_domain::hlc::{Hlc, HlcStamp};
use guichet_domain::keyslot::{DataKey, RecoveryKey};
use guichet_domain::money::Currency;
use guichet_domain::queue::{Counter, Moment, default_lanes};
use guichet_domain::receipt::{ReceiptNumber, ReceiptPrefix};
use guichet_domain::zone::{UnknownZone, Zone};
use guichet_protocol::Change;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::error::{Access, Error, Refused, Result};

/// The author of what the device does on its own, in the audit trail.
const DEVICE_ACTOR: &str = "sync";

pub use approval::Approval;
pub use audit::{AuditReport, OutboxEntry, OutboxState};
pub use catalogue::{
    Browse, BrowseEntry, CatalogueLoad, MAX_SEARCH_CHARS, SearchQuery, ServiceHit,
};
pub use citizens::{CitizenQuery, NewCitizen};
pub use clerks::{CLI_SESSION_HOURS, ClerkView, NewClerk, Session};
pub use damaged::{KeptAside, Owner, keep_aside_damaged, kept_aside, owner};
pub use erase::{ERASED_FILE, Erased, erased_note, note_erased};
pub use migrations::{MIGRATIONS, apply_up_to};
pub use page_cipher::{PROVIDER_NAME, register as register_page_cipher};
pub use queue::{Call, CallingBoard, NewTicket, TicketView, Transfer, WaitingEntry};
pub use report_days::{DayMark, KeptDay};
pub use report_read::{
    ArrivedLate, CatalogueNames, CommentRow, DecisionRow, DueRow, MethodTotal, OutboxHealth,
    ProblemRow, RatingRow, RefundRow, RefundTotals, ReportRead, ServiceNames, StatusRow, TakenRow,
    TicketRow,
};
pub use requests::{
    ChangeState, DocumentCheck, NewRefund, NewRequest, PaymentView, RefundView, RequestDetail,
    RequestEvent, RequestFilter, RequestSummary,
};
pub use sync::{ExchangeApplied, SyncPoint};
pub use vault::{KEYS_FILE, Label, open_with_recovery_key};

use self::vault::{FileState, Vault};

/// The file name of the database inside a data directory.
pub const DATABASE_FILE: &str = "guichet.sqlite3";

/// The workstation's data directory when none is given: the platform's per-user data place.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Guichet", "guichet").map(|d| d.data_dir().to_owned())
}

/// Which centre and device this workstation is, and its local rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Config {
    pub center_code: String,
    pub center_name: String,
    pub center_kind: CenterKind,
    pub device_code: String,
    pub receipt_prefix: ReceiptPrefix,
    pub channel: Channel,
    pub national_id_scheme: String,
    pub currency: Currency,
    pub waiting_target_min: u32,
    /// The centre's time zone: its days and hours are counted in it.
    #[serde(default)]
    pub time_zone: Zone,
    /// How many days an enrolled device that has not reached its back office keeps taking
    /// logins.
    pub max_offline_days: u32,
    /// Minutes without a key or a click after which the window locks itself
    /// (`IDLE_LOCK_MINUTES`; 5 unless an administrator changed it).
    pub idle_lock_minutes: u32,
    pub created_at: String,
}

/// The minutes an administrator may set for the idle lock: never off.
pub const IDLE_LOCK_MINUTES: std::ops::RangeInclusive<u32> = 1..=240;

/// The days an enrolled device that has not reached its back office may keep taking logins.
pub const MAX_OFFLINE_DAYS: std::ops::RangeInclusive<u32> = 1..=90;

/// The local rules an administrator changes; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_lock_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_offline_days: Option<u32>,
    /// The counter's printer, by its name in the printing system; empty: the default printer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_printer: Option<String>,
    /// The ticket kiosk's printer, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kiosk_printer: Option<String>,
}

/// The printers this workstation sends its slips to, by their names in the printing system
/// (CUPS); empty: the system's default printer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Printers {
    /// The counter's slips: tickets given there and the citizens' receipts.
    pub counter: String,
    /// The ticket kiosk's tickets, and nothing else.
    pub kiosk: String,
}

/// A citizen's receipt never comes out of the kiosk's printer, at the entrance: once the kiosk
/// has a printer of its own, the counter's is named too (the default printer may be the
/// kiosk's), and is another one.
fn check_apart(counter: &str, kiosk: &str) -> Result<()> {
    if kiosk.is_empty() {
        return Ok(());
    }
    if counter.is_empty() || counter == kiosk {
        return Err(Refused::PrintersApart {
            kiosk: kiosk.to_owned(),
        }
        .into());
    }
    Ok(())
}

/// The longest printer name the printing system takes (CUPS).
pub const MAX_PRINTER_NAME: usize = 127;

/// Whether `name` can be a printer's name in the printing system: empty (the default
/// printer), or up to 127 printable characters without a space, '/', '#' or ',' (CUPS's
/// rule), not starting with '-' (it would reach `lp` as an option).
fn check_printer(name: &str) -> Result<()> {
    let fits = name.is_empty()
        || (name.chars().count() <= MAX_PRINTER_NAME
            && !name.starts_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '#' | ',')));
    if fits {
        Ok(())
    } else {
        Err(Refused::PrinterName {
            name: name.chars().take(MAX_PRINTER_NAME).collect(),
        }
        .into())
    }
}

/// The national id rule a new standalone workstation offers first (the demo centre's).
pub const DEFAULT_ID_SCHEME: &str = "ee-isikukood";
/// The currency a new standalone workstation offers first.
pub const DEFAULT_CURRENCY: &str = "EUR";
/// The waiting-time target a new standalone workstation offers first, in minutes.
pub const DEFAULT_WAITING_TARGET_MIN: u32 = 15;

/// The time zone a new standalone workstation offers first: the machine's own, or UTC when
/// the machine names none that the IANA database knows.
pub fn default_time_zone() -> Zone {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| name.parse().ok())
        .unwrap_or_default()
}

/// What a workstation is set up with.
#[derive(Debug, Clone)]
pub struct Setup {
    pub center_code: String,
    pub center_name: String,
    pub center_kind: CenterKind,
    pub device_code: String,
    /// Unique per device: handed out by the back office at enrolment. Standalone, derived
    /// from the centre and device codes.
    pub receipt_prefix: Option<String>,
    pub national_id_scheme: String,
    pub currency: String,
    pub waiting_target_min: u32,
    /// The centre's IANA time zone ("Europe/Paris"); see [`default_time_zone`].
    pub time_zone: String,
    /// The first administrator of a standalone workstation, logged in once it is set up. An
    /// enrolled workstation has none: its accounts come from the back office.
    pub administrator: Option<NewClerk>,
}

/// The local replica and the clerk's actions on it.
#[derive(Debug)]
pub struct Workstation {
    /// The database, while it is open: always for a workstation in memory; for one on disk,
    /// while a clerk is logged in and the screen unlocked.
    conn: Option<Connection>,
    clock: Arc<dyn Clock>,
    path: Option<PathBuf>,
    session: Option<Session>,
    vault: Vault,
    disk: Disk,
    /// The database's key, while it is open.
    key: Option<DataKey>,
    /// A recovery key made by this process (at set-up, or when a plain database was
    /// encrypted), for the caller to show once.
    recovery: Option<RecoveryKey>,
    /// The words of the catalogue held, for a search that forgives typos: built at the first
    /// search after a catalogue is loaded.
    vocabulary: catalogue::VocabularyCache,
}

/// Where the database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disk {
    /// In memory, for tests and tools: nothing at rest.
    Memory,
    /// A data directory not set up yet: the database stays in memory until set-up or
    /// enrolment writes it to disk, encrypted, with the slots to open it.
    Unsaved,
    /// A plain database of a release before encryption, encrypted at the first login.
    Plain,
    Encrypted,
}

impl Workstation {
    /// Opens (creating if needed) the database in `data_dir`, with the system clock.
    pub fn open_dir(data_dir: &Path) -> Result<Self> {
        crate::files::private_dir(data_dir).map_err(|source| Error::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        Self::open(&data_dir.join(DATABASE_FILE), Arc::new(SystemClock))
    }

    /// Opens the workstation whose database is the file at `path`: closed until a clerk logs
    /// in, unless it is not set up yet (then in memory until it is) or plain (made by a
    /// release before encryption, encrypted at the first login).
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut vault = Vault::File(dir.join(KEYS_FILE));
        let mut state = vault::file_state(path)?;
        if state == FileState::Encrypted && vault.is_empty()? {
            set_aside(path, clock.now().wall.timestamp())?;
            state = FileState::Absent;
        }
        let (conn, disk, key) = match state {
            FileState::Absent => {
                if vault.label()?.is_some() || !vault.is_empty()? {
                    // Left by a set-up that stopped half-way, or written this moment by one
                    // in another process: its lock tells them apart.
                    let claim = vault::take_setup_lock(path)?;
                    if vault::file_state(path)? != FileState::Absent {
                        drop(claim);
                        return Workstation::open(path, clock);
                    }
                    vault.clear()?;
                }
                let conn = prepared(Connection::open_in_memory()?, ":memory:")?;
                (
                    Some(conn),
                    Disk::Unsaved,
                    Some(DataKey::from_bytes(rand::random())),
                )
            }
            FileState::Plain => {
                let conn = prepared(Connection::open(path)?, &path_label(Some(path)))?;
                (Some(conn), Disk::Plain, None)
            }
            FileState::Encrypted => (None, Disk::Encrypted, None),
        };
        Ok(Workstation {
            conn,
            clock,
            path: Some(path.to_owned()),
            session: None,
            vault,
            disk,
            key,
            recovery: None,
            vocabulary: Default::default(),
        })
    }

    /// A throwaway workstation in memory, for tests and tools.
    pub fn open_in_memory(clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Workstation {
            conn: Some(prepared(Connection::open_in_memory()?, ":memory:")?),
            clock,
            path: None,
            session: None,
            vault: Vault::memory(),
            disk: Disk::Memory,
            key: Some(DataKey::from_bytes(rand::random())),
            recovery: None,
            vocabulary: Default::default(),
        })
    }

    /// The same store on a plain (unencrypted) file, for benchmarks alone: what encryption
    /// costs is read against it. Built only with the `plain-store` feature.
    #[cfg(feature = "plain-store")]
    pub fn open_plain(path: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        crate::files::private_file(path).map_err(|source| Error::DataDir {
            path: path.to_owned(),
            source,
        })?;
        Ok(Workstation {
            conn: Some(prepared(Connection::open(path)?, &path_label(Some(path)))?),
            clock,
            path: Some(path.to_owned()),
            session: None,
            vault: Vault::memory(),
            disk: Disk::Memory,
            key: Some(DataKey::from_bytes(rand::random())),
            recovery: None,
            vocabulary: Default::default(),
        })
    }

    /// A second connection to this workstation's open database, for the background sync and
    /// for long reads (a report over a year) that must not hold up the clerk: no clerk is
    /// logged in on it; what it writes, the device writes.
    pub fn second_connection(&self) -> Result<Self> {
        let (Some(path), Some(key), Disk::Encrypted) = (&self.path, &self.key, self.disk) else {
            return Err(self.closed());
        };
        let conn = vault::open_sealed(path, key)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Ok(Workstation {
            conn: Some(conn),
            clock: self.clock.clone(),
            path: Some(path.clone()),
            session: None,
            vault: Vault::File(dir.join(KEYS_FILE)),
            disk: Disk::Encrypted,
            key: Some(key.clone()),
            recovery: None,
            vocabulary: Default::default(),
        })
    }

    /// The recovery key made by this process, once: at set-up of a standalone workstation, or
    /// when a plain database was encrypted. Show it to an administrator to keep on paper.
    pub fn take_recovery_key(&mut self) -> Option<RecoveryKey> {
        self.recovery.take()
    }

    /// What the key file says of this workstation, readable with the database closed.
    pub fn label(&self) -> Result<Option<Label>> {
        self.vault.label()
    }

    /// Whether the database is open (a clerk is logged in and the screen unlocked, or it is
    /// in memory).
    pub fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn now(&self) -> Moment {
        self.clock.now()
    }

    /// The local calendar day now: the device's wall clock in the centre's time zone (what
    /// the clerk sees on the screen and on the receipt).
    pub fn today(&self) -> NaiveDate {
        self.zone().day_of(self.now().wall)
    }

    /// The centre's time zone; UTC before set-up.
    pub fn zone(&self) -> Zone {
        self.config().map(|c| c.time_zone).unwrap_or_default()
    }

    /// This workstation's configuration, or `NotSetUp`; with the database closed, as the key
    /// file keeps it.
    pub fn config(&self) -> Result<Config> {
        self.set_up_as()?.ok_or(Error::NotSetUp)
    }

    /// The configuration, if the workstation is set up; with the database closed, from the
    /// key file.
    fn set_up_as(&self) -> Result<Option<Config>> {
        match &self.conn {
            Some(conn) => read_config(conn),
            None => Ok(self.vault.label()?.map(|label| label.config)),
        }
    }

    /// Refuses to enrol a workstation set up already, before anything is asked of a back
    /// office: a code is used once and answered with a new device, which a workstation set up
    /// for a centre and device cannot become.
    pub fn refuse_if_set_up(&self) -> Result<()> {
        // Not set up here, but perhaps on disk since this one was opened, by another program:
        // its key file says so.
        let on_disk = match self.disk {
            Disk::Unsaved => self.vault.label()?.map(|label| label.config),
            _ => None,
        };
        match on_disk.map_or_else(|| self.set_up_as(), |config| Ok(Some(config)))? {
            Some(config) => Err(Error::AlreadySetUp {
                center: config.center_code,
                device: config.device_code,
            }),
            None => Ok(()),
        }
    }

    /// Whether the workstation is set up; with the database closed, from the key file.
    pub fn is_set_up(&self) -> Result<bool> {
        Ok(self.set_up_as()?.is_some())
    }

    /// Changes the local rules an administrator sets (each left as it is when `None`), kept in
    /// the database and in the key file (the login screen reads them there). Recorded in the
    /// audit trail.
    pub fn set_rules(&mut self, rules: &Rules) -> Result<Config> {
        if let Some(given) = rules.idle_lock_minutes
            && !IDLE_LOCK_MINUTES.contains(&given)
        {
            return Err(Refused::IdleLockMinutes {
                given,
                min: *IDLE_LOCK_MINUTES.start(),
                max: *IDLE_LOCK_MINUTES.end(),
            }
            .into());
        }
        if let Some(given) = rules.max_offline_days
            && !MAX_OFFLINE_DAYS.contains(&given)
        {
            return Err(Refused::MaxOfflineDays {
                given,
                min: *MAX_OFFLINE_DAYS.start(),
                max: *MAX_OFFLINE_DAYS.end(),
            }
            .into());
        }
        for name in [&rules.counter_printer, &rules.kiosk_printer]
            .into_iter()
            .flatten()
        {
            check_printer(name.trim())?;
        }
        let counter = rules.counter_printer.as_deref().map(str::trim);
        let kiosk = rules.kiosk_printer.as_deref().map(str::trim);
        if counter.is_some() || kiosk.is_some() {
            let now = self.printers()?;
            check_apart(counter.unwrap_or(&now.counter), kiosk.unwrap_or(&now.kiosk))?;
        }
        let device = self.config()?.device_code;
        self.write_for(Act::Administer, |change| {
            change.tx.execute(
                "UPDATE workstation SET
                    idle_lock_minutes = coalesce(?1, idle_lock_minutes),
                    max_offline_days = coalesce(?2, max_offline_days),
                    counter_printer = coalesce(?3, counter_printer),
                    kiosk_printer = coalesce(?4, kiosk_printer)
                 WHERE id = 1",
                params![
                    rules.idle_lock_minutes,
                    rules.max_offline_days,
                    counter,
                    kiosk
                ],
            )?;
            change.record_local(
                "workstation.rules",
                "workstation",
                &device,
                serde_json::to_value(rules)?,
            )?;
            Ok(())
        })?;
        self.relabel()
    }

    /// The printers the slips go to (see `Printers`).
    pub fn printers(&self) -> Result<Printers> {
        Ok(self.conn()?.query_row(
            "SELECT counter_printer, kiosk_printer FROM workstation WHERE id = 1",
            [],
            |r| {
                Ok(Printers {
                    counter: r.get(0)?,
                    kiosk: r.get(1)?,
                })
            },
        )?)
    }

    /// Copies the centre's terms and the local rules into the key file's label, which the
    /// login screen reads while the database is closed, where they differ.
    pub(crate) fn relabel(&mut self) -> Result<Config> {
        let config = self.config()?;
        // Written only when it changed, and then under the key file's lock.
        if self
            .vault
            .label()?
            .is_some_and(|label| label.config != config)
        {
            self.vault
                .change_label(|label| label.config = config.clone())?;
        }
        Ok(config)
    }

    /// Sets up the workstation for one centre and device. Done once per data directory.
    pub fn setup(&mut self, setup: Setup) -> Result<Config> {
        self.setup_with(setup, None, &[])
    }

    /// Sets up a standalone workstation, creates its first administrator, loads a first
    /// catalogue and adds counters, all in one transaction: a refusal of any part leaves the
    /// data directory as it was. The administrator is then logged in.
    pub fn setup_with(
        &mut self,
        setup: Setup,
        catalogue: Option<&Catalogue>,
        counters: &[Counter],
    ) -> Result<Config> {
        let done = self.try_setup_with(setup, catalogue, counters);
        self.forget_unsaved_on(done)
    }

    /// After a set-up or an enrolment that failed half-way (a refusal, a disk that would not
    /// take the files), what it made in memory goes: the data directory is opened again as it
    /// is on disk, so that the next attempt is not told that this workstation is set up.
    pub(crate) fn forget_unsaved_on<T>(&mut self, done: Result<T>) -> Result<T> {
        if done.is_err()
            && self.disk == Disk::Unsaved
            && let Some(path) = self.path.clone()
        {
            match Workstation::open(&path, Arc::clone(&self.clock)) {
                Ok(on_disk) => *self = on_disk,
                // The disk cannot be read either: what was made in memory goes all the same.
                Err(_) => {
                    self.conn = Some(prepared(Connection::open_in_memory()?, ":memory:")?);
                    self.key = Some(DataKey::from_bytes(rand::random()));
                    self.session = None;
                    self.recovery = None;
                    self.vocabulary = Default::default();
                }
            }
        }
        done
    }

    fn try_setup_with(
        &mut self,
        setup: Setup,
        catalogue: Option<&Catalogue>,
        counters: &[Counter],
    ) -> Result<Config> {
        let Some(admin) = &setup.administrator else {
            return Err(Access::NoAdministrator.into());
        };
        // Chosen here for good: a currency of ISO 4217's (an enrolled device takes its
        // centre's as the back office chose it).
        Currency::choose(&setup.currency)?;
        let admin = NewClerk {
            role: Role::Administrator,
            ..admin.clone()
        };
        let verifier = clerks::new_verifier(&admin)?;
        let config = self.set_up(&setup, catalogue, counters, Some((&admin, &verifier)))?;
        let recovery = RecoveryKey::from_bytes(rand::random());
        let _claim = self.claim_data_dir()?;
        self.seal_clerk(&admin.username, &admin.password, &verifier)?;
        self.settle(&recovery, None)?;
        self.recovery = Some(recovery);
        self.session = Some(Session::of(
            &admin.username,
            &admin.display_name,
            Role::Administrator,
        ));
        Ok(config)
    }

    fn set_up(
        &mut self,
        setup: &Setup,
        catalogue: Option<&Catalogue>,
        counters: &[Counter],
        admin: Option<(&NewClerk, &Verifier)>,
    ) -> Result<Config> {
        // Said before anything else, even with the database closed.
        if self.conn.is_none() && self.is_set_up()? {
            let existing = self.config()?;
            return Err(Error::AlreadySetUp {
                center: existing.center_code,
                device: existing.device_code,
            });
        }
        if !is_valid_code(&setup.center_code) {
            return Err(Refused::CenterCode(setup.center_code.clone()).into());
        }
        if !is_valid_code(&setup.device_code) {
            return Err(Refused::DeviceCode(setup.device_code.clone()).into());
        }
        scheme_by_name(&setup.national_id_scheme)?;
        let currency = Currency::parse(&setup.currency)?;
        let prefix = match &setup.receipt_prefix {
            Some(p) => ReceiptPrefix::parse(p)?,
            None => derived_prefix(&setup.center_code, &setup.device_code)?,
        };
        // The rules the back office holds a centre to, so that a standalone centre could be
        // enrolled as it is.
        let name = checked_center_name(&setup.center_name).map_err(Refused::CenterName)?;
        waiting_target(setup.waiting_target_min).map_err(|_| Refused::WaitingTarget {
            given: setup.waiting_target_min,
            max: MAX_WAITING_TARGET_MIN,
        })?;
        let zone: Zone = setup.time_zone.parse().map_err(Refused::TimeZone)?;
        if let Some(catalogue) = catalogue {
            catalogue.validate()?;
        }
        let actor = admin.map_or("setup", |(a, _)| a.username.as_str());
        let device = setup.device_code.clone();
        self.write_as(actor, Some(&device), |change| {
            if let Some(existing) = read_config(change.tx)? {
                return Err(Error::AlreadySetUp {
                    center: existing.center_code,
                    device: existing.device_code,
                });
            }
            let at = change.now.wall.to_rfc3339();
            change.tx.execute(
                "INSERT INTO workstation (id, center_code, center_name, center_kind, device_code,
                    receipt_prefix, channel, national_id_scheme, currency, waiting_target_min,
                    time_zone, created_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    setup.center_code,
                    name,
                    setup.center_kind.as_str(),
                    setup.device_code,
                    prefix.as_str(),
                    setup.center_kind.channel().as_str(),
                    setup.national_id_scheme,
                    currency.code(),
                    setup.waiting_target_min,
                    zone.name(),
                    at,
                ],
            )?;
            for lane in default_lanes() {
                change.tx.execute(
                    "INSERT INTO lanes (code, name, rank) VALUES (?1, ?2, ?3)",
                    params![lane.code, serde_json::to_string(&lane.name)?, lane.rank],
                )?;
            }
            change.record_local(
                "workstation.setup",
                "workstation",
                &setup.device_code,
                serde_json::json!({
                    "center": setup.center_code,
                    "kind": setup.center_kind.as_str(),
                    "device": setup.device_code,
                    "receipt_prefix": prefix.as_str(),
                }),
            )?;
            if let Some((admin, verifier)) = admin {
                clerks::insert_local(change, admin, verifier)?;
            }
            if let Some(catalogue) = catalogue {
                catalogue::load_into(change, catalogue, &setup.center_code)?;
            }
            for counter in counters {
                queue::add_counter_in(change, counter, admin.is_some())?;
            }
            Ok(())
        })?;
        self.config()
    }

    /// The national id rule this deployment uses.
    pub fn national_ids(&self) -> Result<&'static dyn NationalIdScheme> {
        Ok(scheme_by_name(&self.config()?.national_id_scheme)?)
    }

    /// Runs one clerk action of the counter in one transaction, as the clerk logged in. See
    /// the module header.
    pub(crate) fn write<T>(
        &mut self,
        action: impl FnOnce(&mut ActionTx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write_for(Act::Counter, action)
    }

    /// Runs one clerk action that needs the role `act` needs, as the clerk logged in.
    pub(crate) fn write_for<T>(
        &mut self,
        act: Act,
        action: impl FnOnce(&mut ActionTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let actor = self.require(act)?.username.clone();
        // An account disabled since the login (by a sync, or by an administrator on this
        // device) acts no more: its session ends here.
        let active: Option<bool> = self
            .conn()?
            .query_row(
                "SELECT active FROM clerks WHERE username = ?1",
                [&actor],
                |r| r.get(0),
            )
            .optional()?;
        if active != Some(true) {
            self.session = None;
            return Err(Access::Disabled.into());
        }
        let config = self.config()?;
        self.write_as(&actor, Some(&config.device_code), action)
    }

    /// Runs what the device does on its own (applying what the back office sent), in one
    /// transaction, audited under the name `sync`.
    pub(crate) fn write_device<T>(
        &mut self,
        action: impl FnOnce(&mut ActionTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let config = self.config()?;
        self.write_as(DEVICE_ACTOR, Some(&config.device_code), action)
    }

    fn write_as<T>(
        &mut self,
        actor: &str,
        node: Option<&str>,
        action: impl FnOnce(&mut ActionTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let now = self.clock.now();
        let closed = self.closed();
        let tx = self
            .conn
            .as_mut()
            .ok_or(closed)?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let hlc = match hlc_last(&tx)? {
            Some(last) => Hlc::resume(&last),
            None => Hlc::new(node.unwrap_or("device")),
        };
        let mut change = ActionTx {
            tx: &tx,
            actor: actor.to_owned(),
            now,
            hlc,
            last: None,
            recorded: false,
        };
        let out = action(&mut change)?;
        // An action that recorded nothing (call next with nobody waiting) must not have
        // changed anything either: roll back rather than commit unaudited writes.
        let (true, Some(last)) = (change.recorded, change.last.take()) else {
            drop(change);
            tx.rollback()?;
            return Ok(out);
        };
        // The latest wall time a change was written at: a clock set back later does not take
        // the workstation back before it (see `check_not_stale`).
        tx.execute(
            "UPDATE workstation SET hlc_last = ?1,
                wall_seen = CASE WHEN wall_seen IS NULL OR wall_seen < ?2 THEN ?2 ELSE wall_seen END
             WHERE id = 1",
            params![last.to_string(), wall_mark(change.now.wall)],
        )?;
        drop(change);
        tx.commit()?;
        Ok(out)
    }

    /// The open database; closed, the refusal says why (log in, or unlock).
    pub(crate) fn conn(&self) -> Result<&Connection> {
        self.conn.as_ref().ok_or_else(|| self.closed())
    }

    fn closed(&self) -> Error {
        match &self.session {
            Some(s) if s.locked => Access::Locked.into(),
            _ => Access::NoSession.into(),
        }
    }

    /// Runs `read` on the open database in a transaction that is rolled back: for tests and
    /// fixtures that check what the tables hold. The application reads through the typed
    /// methods of the store.
    #[cfg(feature = "inspect")]
    pub fn inspect<T, E: From<Error>>(
        &self,
        read: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.conn()?.unchecked_transaction().map_err(Error::from)?;
        let out = read(&tx);
        tx.rollback().map_err(Error::from)?;
        out
    }
}

/// One transaction's worth of change, with the actor and the time it happens at.
pub(crate) struct ActionTx<'a> {
    pub tx: &'a Transaction<'a>,
    pub actor: String,
    pub now: Moment,
    hlc: Hlc,
    last: Option<HlcStamp>,
    recorded: bool,
}

impl ActionTx<'_> {
    /// A fresh clock stamp for a row written in this change.
    pub fn stamp(&mut self) -> HlcStamp {
        let stamp = self.hlc.tick(wall_ms(&self.now));
        self.last = Some(stamp.clone());
        stamp
    }

    /// Moves this change's clock past a stamp received from the back office.
    pub fn observe(&mut self, seen: HlcStamp) {
        self.hlc = Hlc::resume(&seen);
        self.last = Some(seen);
    }

    pub fn at(&self) -> String {
        self.now.wall.to_rfc3339()
    }

    /// Records what this change did: its audit event and its outbox entry (the change the
    /// back office will receive), in this transaction.
    pub fn record(&mut self, change: &Change) -> Result<HlcStamp> {
        let payload = serde_json::to_value(change)?;
        let text = serde_json::to_string(&payload)?;
        let size = text.len();
        if size > guichet_protocol::MAX_CHANGE_BYTES {
            return Err(Error::Invalid(format!(
                "this {} holds {} kB of text, more than the {} kB one change may carry: \
                 shorten what was typed (a field of the form, a comment, a reason); nothing \
                 was saved",
                change.kind(),
                size.div_ceil(1024),
                guichet_protocol::MAX_CHANGE_BYTES / 1024
            )));
        }
        let (entity_kind, entity_id) = change.entity();
        let stamp = self.record_local(change.kind(), entity_kind, entity_id, payload)?;
        let seq: i64 =
            self.tx
                .query_row("SELECT coalesce(max(seq), 0) + 1 FROM outbox", [], |r| {
                    r.get(0)
                })?;
        self.tx.execute(
            "INSERT INTO outbox (seq, id, hlc, kind, entity_id, payload, created_at, actor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                seq,
                uuid::Uuid::now_v7().to_string(),
                stamp.to_string(),
                change.kind(),
                entity_id,
                text,
                self.at(),
                self.actor,
            ],
        )?;
        Ok(stamp)
    }

    /// Records an audit event only: for what concerns this device alone (setup, a catalogue
    /// received from the back office).
    pub fn record_local(
        &mut self,
        action: &str,
        entity_kind: &str,
        entity_id: &str,
        change: serde_json::Value,
    ) -> Result<HlcStamp> {
        let stamp = self.stamp();
        let previous: Option<(u64, String)> = self
            .tx
            .query_row(
                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let event = AuditEvent {
            seq: 0,
            at: self.at(),
            hlc: stamp.to_string(),
            actor: self.actor.clone(),
            action: action.to_owned(),
            entity_kind: entity_kind.to_owned(),
            entity_id: entity_id.to_owned(),
            change,
            prev_hash: String::new(),
            hash: String::new(),
        }
        .seal(previous.as_ref().map(|(s, h)| (*s, h.as_str())));
        self.tx.execute(
            "INSERT INTO audit_events (seq, at, hlc, actor, action, entity_kind, entity_id,
                change, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                event.seq,
                event.at,
                event.hlc,
                event.actor,
                event.action,
                event.entity_kind,
                event.entity_id,
                serde_json::to_string(&event.change)?,
                event.prev_hash,
                event.hash,
            ],
        )?;
        self.recorded = true;
        Ok(stamp)
    }

    /// The next receipt number of this device: a local counter, so no network is needed and
    /// the device prefix makes it unique everywhere.
    pub fn next_receipt(&mut self) -> Result<ReceiptNumber> {
        let (prefix, seq): (String, u64) = self.tx.query_row(
            "UPDATE workstation SET next_receipt_seq = next_receipt_seq + 1 WHERE id = 1
             RETURNING receipt_prefix, next_receipt_seq",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(ReceiptNumber::issue(&ReceiptPrefix::parse(&prefix)?, seq)?)
    }
}

fn wall_ms(m: &Moment) -> u64 {
    u64::try_from(m.wall.timestamp_millis()).unwrap_or(0)
}

/// A wall time as `workstation.wall_seen` keeps it: one fixed width, so that the text sorts as
/// the time does.
fn wall_mark(wall: DateTime<Utc>) -> String {
    wall.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The page cache of each connection, in KiB (negative: SQLite's unit for a size in KiB).
const PAGE_CACHE_KIB: i64 = -16 * 1024;

/// The connection setup, in one place: every connection to a workstation database gets it.
fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    // A page cache of 16 MiB (SQLite's default is 2 MiB): SQLCipher decrypts and checks a
    // page each time it is read from the file, so the pages a clerk's actions keep walking
    // (the indexes' upper levels) stay decrypted in memory. A plain file has the kernel's
    // cache for that. It fills only as pages are read: a small database keeps it small.
    conn.pragma_update(None, "cache_size", PAGE_CACHE_KIB)?;
    Ok(())
}

/// The pragmas above, for benchmarks that measure the floor under the same settings.
pub fn configure_connection(conn: &Connection) -> Result<()> {
    configure(conn)
}

/// A connection with the pragmas set and the schema brought up to date.
fn prepared(mut conn: Connection, label: &str) -> Result<Connection> {
    configure(&conn)?;
    migrations::apply(&mut conn, label)?;
    Ok(conn)
}

/// Moves an encrypted database nothing can open out of the way (see `vault`), with its WAL
/// and shared-memory files.
fn set_aside(path: &Path, stamp: i64) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let from = vault::sidecar(path, suffix);
        if from.exists() {
            let to = vault::sidecar(path, &format!(".unopened-{stamp}{suffix}"));
            std::fs::rename(&from, &to).map_err(|source| Error::DataDir { path: from, source })?;
        }
    }
    Ok(())
}

fn path_label(path: Option<&Path>) -> String {
    path.map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string())
}

fn hlc_last(conn: &Connection) -> Result<Option<HlcStamp>> {
    let text: Option<Option<String>> = conn
        .query_row("SELECT hlc_last FROM workstation WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(match text.flatten() {
        Some(t) => Some(t.parse()?),
        None => None,
    })
}

pub(crate) fn read_config(conn: &Connection) -> Result<Option<Config>> {
    let row = conn
        .query_row(
            "SELECT center_code, center_name, center_kind, device_code, receipt_prefix, channel,
                national_id_scheme, currency, waiting_target_min, max_offline_days,
                idle_lock_minutes, created_at, time_zone
             FROM workstation WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, u32>(8)?,
                    r.get::<_, u32>(9)?,
                    r.get::<_, u32>(10)?,
                    r.get::<_, String>(11)?,
                    r.get::<_, String>(12)?,
                ))
            },
        )
        .optional()?;
    let Some((
        center,
        name,
        kind,
        device,
        prefix,
        channel,
        scheme,
        currency,
        target,
        days,
        idle,
        at,
        zone,
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(Config {
        center_code: center,
        center_name: name,
        center_kind: CenterKind::parse(&kind)?,
        device_code: device,
        receipt_prefix: ReceiptPrefix::parse(&prefix)?,
        channel: Channel::parse(&channel)?,
        national_id_scheme: scheme,
        currency: Currency::parse(&currency)?,
        waiting_target_min: target,
        time_zone: zone
            .parse()
            .map_err(|e: UnknownZone| Error::Invalid(format!("stored {e}")))?,
        max_offline_days: days,
        idle_lock_minutes: idle,
        created_at: at,
    }))
}

/// A standalone device's prefix, from its centre and device codes (FNV-1a, so it is the same
/// on every platform and release). Enrolment with a back office replaces it with one that is
/// unique by construction.
fn derived_prefix(center: &str, device: &str) -> Result<ReceiptPrefix> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in center.bytes().chain([0]).chain(device.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Ok(ReceiptPrefix::from_index((hash % 810_000) as u32)?)
}
