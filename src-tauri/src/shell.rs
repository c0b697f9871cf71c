//! The shell's state: the workstation, the sync task, and the status bar they feed; and the
//! form in which errors reach the window.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use guichet_domain::account::Act;
use guichet_domain::message::Message;
use guichet_workstation::Error;
use guichet_workstation::Workstation;
use guichet_workstation::files;
use guichet_workstation::store::{OutboxState, Session};
use guichet_workstation::sync::{
    self, Phase, Progress, SyncError, SyncHandle, SyncOptions, SyncStatus,
};

/// Where exported reports go when the user has no documents folder.
const REPORTS_DIR: &str = "reports";
use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::update::{RESTARTING, UpdateState, Updates};

/// The event that carries a new `StatusBar` to the window.
pub const STATUS_EVENT: &str = "status";

/// The longest one sync call may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The wait before a background sync that failed to start is tried again, doubled after each
/// failure up to the longest: a moment's trouble passes unseen, a lasting one costs little.
const RESTART_FIRST: Duration = Duration::from_secs(15);
const RESTART_MOST: Duration = Duration::from_secs(300);

/// Calls `start` until it succeeds, while `current` says this try is still the one wanted,
/// waiting `first` after the first failure and twice as long after each next one, at most
/// `most`.
async fn retry_start(
    mut start: impl FnMut() -> Result<(), ()>,
    current: impl Fn() -> bool,
    first: Duration,
    most: Duration,
) {
    let mut wait = first;
    while current() && start().is_err() {
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(most);
    }
}

/// What the status bar shows, on every screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StatusBar {
    /// The back office this device syncs with; `None` when standalone.
    pub server: Option<String>,
    #[serde(flatten)]
    pub sync: SyncStatus,
    /// Changes the back office refused or decided otherwise, for the clerk to look at.
    pub refused: u64,
    pub conflicts: u64,
    /// Whether `waiting`, `refused` and `conflicts` were counted: false while the database has
    /// been closed since the app started (the login screen) or since an action left it closed
    /// (an enrolment), when the window says that they are known once a clerk logs in rather
    /// than "all changes sent". A locked screen keeps the counts read before the lock: the
    /// window changes nothing while its database is closed (a `guichet sync` on the command
    /// line meanwhile is counted at the unlock).
    pub counted: bool,
    /// The bytes left on the data directory's disk, when so few that writes may soon fail.
    pub low_disk: Option<u64>,
    /// An update of the app offered by the back office, once one is.
    pub update: Option<UpdateState>,
}

/// The status bar's local counts, as read from the open database.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    waiting: u64,
    refused: u64,
    conflicts: u64,
}

/// An error as the window receives it: `{ message, key?, args? }`, the core's English and,
/// where the core has one, the key and values the window translates it from (see
/// `guichet_domain::message`).
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub message: String,
    #[serde(flatten)]
    pub translation: Option<Message>,
}

impl ErrorView {
    pub fn new(message: impl ToString, translation: Option<Message>) -> Self {
        ErrorView {
            message: message.to_string(),
            translation,
        }
    }

    /// What "sync now" says on a workstation without a back office.
    pub fn standalone() -> Self {
        ErrorView::new(
            "this workstation works standalone: enroll it with a back office to sync",
            Some(Message::new("error.standalone")),
        )
    }

    /// The background sync did not start, for `why`: it is tried again by itself.
    pub fn sync_not_started(why: ErrorView) -> Self {
        ErrorView::new(
            format!(
                "the background sync did not start ({}): it is tried again by itself, or with \
                 Sync now",
                why.message
            ),
            why.translation
                .map(|reason| Message::new("error.sync.not_started").message("reason", reason)),
        )
    }

    /// Installing the update is refused while a sync runs: nothing is stopped mid-way.
    pub fn update_while_syncing() -> Self {
        ErrorView::new(
            "a sync is under way: install the update once it has finished",
            Some(Message::new("error.update_while_syncing")),
        )
    }

    /// Installing is refused while a citizen is at a counter of this workstation: the app
    /// would close in the middle of the visit.
    pub fn update_during_visit(tickets: &[String]) -> Self {
        let tickets = tickets.join(", ");
        ErrorView::new(
            format!(
                "a citizen is at a counter (ticket {tickets}): install the update once the visit \
                 is over"
            ),
            Some(Message::new("error.update_during_visit").text("tickets", &tickets)),
        )
    }

    /// Installing was asked with no verified update at hand.
    pub fn no_update() -> Self {
        ErrorView::new(
            "no update is ready to install",
            Some(Message::new("error.no_update")),
        )
    }

    /// The ticket kiosk was touched again too soon, or too often this minute.
    pub fn kiosk_busy(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs() + 1;
        ErrorView::new(
            format!("the kiosk gives one ticket at a time: touch again in {seconds} s"),
            Some(Message::new("error.kiosk_busy").text("seconds", seconds)),
        )
    }

    /// The kiosk asked to print again a ticket it may not print again.
    pub fn kiosk_not_reprintable() -> Self {
        ErrorView::new(
            "this ticket cannot be printed again here: show its number at the counter",
            Some(Message::new("error.kiosk_not_reprintable")),
        )
    }

    /// The back office's wipe is under way: the database is being delivered and erased.
    pub fn wiping() -> Self {
        ErrorView::new(
            "this computer's data is being erased at the back office's request: nothing can be \
             done on it until that is finished",
            Some(Message::new("error.wiping")),
        )
    }

    /// The update's install failed (dpkg, or the administrator's prompt): the app goes on.
    pub fn update_failed(reason: &str) -> Self {
        ErrorView::new(
            format!(
                "the update could not be installed ({reason}): this version goes on working; \
                 try again, or tell your IT officer"
            ),
            Some(Message::new("error.update_failed").text("reason", reason)),
        )
    }

    /// A failure of the machine rather than a refusal (a folder that cannot be made).
    pub fn internal(message: impl ToString) -> Self {
        let message = message.to_string();
        let translation = Some(Message::internal(&message));
        ErrorView {
            message,
            translation,
        }
    }
}

impl From<Error> for ErrorView {
    fn from(e: Error) -> Self {
        ErrorView::new(&e, e.message())
    }
}

impl From<SyncError> for ErrorView {
    fn from(e: SyncError) -> Self {
        ErrorView::new(&e, e.message())
    }
}

impl From<guichet_report::Error> for ErrorView {
    fn from(e: guichet_report::Error) -> Self {
        ErrorView::new(&e, e.message())
    }
}

/// Makes the memory of the next login's Argon2id derivation ready while the login or lock
/// screen waits for the password, on a thread of its own (`guichet_domain::stretch`): the
/// derivation after the click then does not wait for the kernel to find and zero 64 MiB. It
/// holds those 64 MiB until a login, a lock's unlock or a set-up uses them.
fn ready_for_login() {
    let made = std::thread::Builder::new()
        .name("login-memory".into())
        .spawn(guichet_domain::stretch::prepare);
    if let Err(e) = made {
        tracing::warn!("the next login's memory is not made ready beforehand: {e}");
    }
}

#[derive(Debug)]
pub struct Shell {
    ws: Mutex<Workstation>,
    data_dir: PathBuf,
    app: AppHandle,
    sync: Mutex<Option<SyncHandle>>,
    /// The task's latest state; local counts are refreshed on top of it after each action.
    last: Mutex<SyncStatus>,
    /// The local counts as last read from the open database (see `StatusBar::counted`).
    counts: Mutex<Option<Counts>>,
    /// The database was found damaged (SQLite's words): the window shows the trouble screen.
    damaged: Mutex<Option<String>>,
    /// A wipe is under way (`complete_wipe`): the workstation the shell holds meanwhile is the
    /// data directory opened again, closed, which a login or a set-up must not enter.
    wiping: AtomicBool,
    updates: Updates,
    /// What the ticket kiosk has given lately (see `kiosk`).
    kiosk: Mutex<crate::kiosk::Guard>,
    /// How many times the background sync was asked to start: a start that failed is tried
    /// again only while no later one was asked for.
    starts: AtomicU64,
    /// Counts the tasks stored and taken out: only the status of the one stored last is shown.
    task_number: AtomicU64,
    /// What the sync tasks learnt of the link, kept from one task to the next.
    push_limit: sync::PushLimit,
}

impl Shell {
    pub fn open(data_dir: PathBuf, app: AppHandle) -> Result<Arc<Shell>, Error> {
        let ws = Workstation::open_dir(&data_dir)?;
        let last = idle_status(ws.sync_point().ok().flatten().and_then(|p| p.last_success));
        let updates = Updates::new(&app);
        // The window opens on the set-up or the login screen: both end in a derivation.
        ready_for_login();
        Ok(Arc::new(Shell {
            ws: Mutex::new(ws),
            data_dir,
            updates,
            app,
            sync: Mutex::new(None),
            last: Mutex::new(last),
            counts: Mutex::new(None),
            damaged: Mutex::new(None),
            wiping: AtomicBool::new(false),
            kiosk: Mutex::new(crate::kiosk::Guard::default()),
            starts: AtomicU64::new(0),
            task_number: AtomicU64::new(0),
            push_limit: sync::PushLimit::default(),
        }))
    }

    /// Notes a damaged database in an error on its way to the window.
    fn noticed(&self, e: ErrorView) -> ErrorView {
        if let Some(Message { key, args }) = &e.translation
            && key == "error.damaged"
        {
            let detail = match args.get("detail") {
                Some(guichet_domain::message::Arg::Text(detail)) => detail.clone(),
                _ => e.message.clone(),
            };
            tracing::error!("the database is damaged: {detail}");
            *lock(&self.damaged) = Some(detail);
        }
        e
    }

    /// SQLite's words, when the database was found damaged.
    pub fn damaged(&self) -> Option<String> {
        lock(&self.damaged).clone()
    }

    /// Keeps the damaged database aside (see `trouble::keep_aside`, which checks that it was
    /// found damaged) and opens the empty data directory in its place, for the first screen to
    /// set it up or enrol it again.
    pub fn keep_damaged_aside(&self, at: chrono::DateTime<chrono::Utc>) -> Result<(), ErrorView> {
        if let Some(sync) = self.take_task() {
            tauri::async_runtime::spawn(sync.stop());
        }
        let mut ws = lock(&self.ws);
        crate::trouble::keep_aside_in(&self.data_dir, at)?;
        *ws = Workstation::open_dir(&self.data_dir)?;
        drop(ws);
        *lock(&self.damaged) = None;
        *lock(&self.last) = idle_status(None);
        self.updates.reset();
        self.publish();
        Ok(())
    }

    /// Runs a read on the workstation for the clerk logged in (refused when nobody is, or the
    /// screen is locked: a locked screen shows nothing).
    pub fn read<T, E: Into<ErrorView>>(
        &self,
        f: impl FnOnce(&Workstation) -> Result<T, E>,
    ) -> Result<T, ErrorView> {
        let ws = lock(&self.ws);
        ws.require(Act::Counter)?;
        f(&ws).map_err(|e| self.noticed(e.into()))
    }

    /// Checks that the clerk logged in, with the screen unlocked, may do `act`.
    pub fn require(&self, act: Act) -> Result<(), ErrorView> {
        lock(&self.ws).require(act)?;
        Ok(())
    }

    /// What the ticket kiosk has given lately, to check what it asks for next.
    pub fn kiosk(&self) -> MutexGuard<'_, crate::kiosk::Guard> {
        lock(&self.kiosk)
    }

    /// Runs a read that needs nobody logged in: what the first screen and the login screen
    /// show (the set-up, the session, the status bar).
    pub fn peek<T, E: Into<ErrorView>>(
        &self,
        f: impl FnOnce(&Workstation) -> Result<T, E>,
    ) -> Result<T, ErrorView> {
        f(&lock(&self.ws)).map_err(|e| self.noticed(e.into()))
    }

    /// Runs a clerk action; after it, the sync task hears of the change and the status bar
    /// shows the new count of changes waiting.
    pub fn act<T>(
        &self,
        f: impl FnOnce(&mut Workstation) -> Result<T, Error>,
    ) -> Result<T, ErrorView> {
        self.refuse_while_wiping()?;
        let out = {
            let mut ws = lock(&self.ws);
            let was_open = ws.is_open();
            let out = f(&mut ws).map_err(|e| self.noticed(e.into()));
            if was_open && !ws.is_open() {
                // Another workstation may have taken this one's place (a set-up made meanwhile
                // by the command line): its counts are not known until a clerk opens it.
                *lock(&self.counts) = None;
            }
            out?
        };
        if let Some(sync) = lock(&self.sync).as_ref() {
            sync.notify_change();
        }
        self.publish();
        Ok(out)
    }

    /// The status bar now: the task's state with the local counts read fresh.
    pub fn status(&self) -> StatusBar {
        let sync = lock(&self.last).clone();
        let ws = lock(&self.ws);
        let read = || -> guichet_workstation::Result<Counts> {
            Ok(Counts {
                waiting: ws.outbox_count(OutboxState::Pending)?,
                refused: ws.outbox_count(OutboxState::Refused)?,
                conflicts: ws.open_conflicts()?,
            })
        };
        let counts = {
            let mut known = lock(&self.counts);
            if let Ok(now) = read() {
                *known = Some(now);
            }
            *known
        };
        // Closed (nobody logged in), the database does not say where the back office is; the
        // key file's label does: an enrolled device is not shown as standalone at its login.
        let server = ws
            .sync_point()
            .ok()
            .flatten()
            .map(|p| p.server_url)
            .or_else(|| ws.label().ok().flatten().and_then(|l| l.server_url));
        let shown = counts.unwrap_or_default();
        StatusBar {
            sync: SyncStatus {
                waiting: shown.waiting,
                ..sync
            },
            refused: shown.refused,
            conflicts: shown.conflicts,
            counted: counts.is_some(),
            server,
            low_disk: files::low_disk(files::free_bytes(&self.data_dir)),
            update: self.updates.state(),
        }
    }

    pub fn publish(&self) {
        if let Err(e) = self.app.emit(STATUS_EVENT, self.status()) {
            tracing::warn!("cannot send the status to the window: {e}");
        }
    }

    /// Logs a clerk in (or unlocks the screen for them), asking the back office to vouch when
    /// this device cannot check their password yet; then the background sync starts, since
    /// the database is open again.
    pub async fn sign_in(
        self: Arc<Self>,
        username: &str,
        password: &str,
        unlock: bool,
    ) -> Result<Session, ErrorView> {
        let signed_in = self.try_sign_in(username, password, unlock).await;
        if signed_in.is_err() {
            // The refused attempt used the memory made ready; the screen waits for the next.
            ready_for_login();
        }
        signed_in
    }

    async fn try_sign_in(
        self: Arc<Self>,
        username: &str,
        password: &str,
        unlock: bool,
    ) -> Result<Session, ErrorView> {
        self.refuse_while_wiping()?;
        // No account has a longer password, nor a user name longer than a password: the same
        // answer as a wrong one, before anything is derived here or sent to the back office to
        // vouch.
        let max = guichet_domain::account::MAX_PASSWORD_CHARS;
        if password.chars().count() > max || username.chars().count() > max {
            return Err(Error::from(guichet_workstation::error::Access::LoginFailed).into());
        }
        let (local, label) = {
            let mut ws = lock(&self.ws);
            let local = if unlock {
                ws.unlock(username, password)
            } else {
                ws.login(username, password)
            };
            (local, ws.label())
        };
        let session = match local {
            Ok(session) => session,
            Err(refusal) if sync::may_vouch(&refusal) => {
                let Some(label) = label? else {
                    return Err(refusal.into());
                };
                let answer = sync::ask_vouch(&label, username, password).await;
                sync::vouched(&mut lock(&self.ws), password, answer, refusal)?
            }
            Err(refusal) => return Err(self.noticed(refusal.into())),
        };
        self.start_sync_if_enrolled();
        Ok(session)
    }

    fn refuse_while_wiping(&self) -> Result<(), ErrorView> {
        if self.wiping.load(Ordering::SeqCst) {
            return Err(ErrorView::wiping());
        }
        Ok(())
    }

    /// Locks the screen or logs out: the sync task stops first, as it holds the database's
    /// key, which goes with the lock.
    pub fn close(
        &self,
        f: impl FnOnce(&mut Workstation) -> Result<(), Error>,
    ) -> Result<(), ErrorView> {
        // The session is on the workstation the wipe took: it ends with the erasure, or the
        // workstation comes back as it was if the wipe fails.
        self.refuse_while_wiping()?;
        // The database first, then the task (the order `start_sync` takes them in): a start
        // under way either stores its task before, and it is stopped here, or finds the
        // database closed after.
        let mut ws = lock(&self.ws);
        if let Some(sync) = self.take_task() {
            tauri::async_runtime::spawn(sync.stop());
            // A run cut short says no more that it syncs: the task starts again at the next
            // login or unlock, as when the app starts.
            let mut last = lock(&self.last);
            if last.phase == Phase::Syncing {
                last.phase = Phase::Offline;
                last.progress = Default::default();
            }
        }
        f(&mut ws)?;
        drop(ws);
        ready_for_login();
        self.publish();
        Ok(())
    }

    /// Starts the background sync when this device holds a back-office credential. A start
    /// that fails (the database busy a moment, the credential unreadable) is said in the status
    /// bar and tried again, sooner first (`RESTART_FIRST`, doubling up to `RESTART_MOST`), until
    /// it starts, the database closes, or a later call takes over.
    pub fn start_sync_if_enrolled(self: &Arc<Self>) {
        self.keep_starting(Duration::ZERO);
    }

    /// Tries to start the background sync after `wait`, then as `start_sync_if_enrolled` says.
    fn keep_starting(self: &Arc<Self>, wait: Duration) {
        let shell = self.clone();
        let starts = self.starts.fetch_add(1, Ordering::SeqCst) + 1;
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(wait).await;
            let current = || shell.starts.load(Ordering::SeqCst) == starts;
            retry_start(
                || match shell.start_sync() {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        shell.not_started(e);
                        Err(())
                    }
                },
                current,
                RESTART_FIRST,
                RESTART_MOST,
            )
            .await;
        });
    }

    /// Says in the status bar why the background sync did not start.
    fn not_started(&self, error: ErrorView) {
        let error = ErrorView::sync_not_started(error);
        tracing::error!("{}", error.message);
        let mut last = lock(&self.last);
        last.message = Some(error.message);
        last.translation = error.translation;
        drop(last);
        self.publish();
    }

    /// Takes the sync task out, if one runs: what it still says of itself is not shown.
    fn take_task(&self) -> Option<SyncHandle> {
        let mut slot = lock(&self.sync);
        self.task_number.fetch_add(1, Ordering::SeqCst);
        slot.take()
    }

    /// Must run inside the async runtime (the task is spawned on it). Nothing to start while
    /// the database is closed: the task starts again at the next login or unlock.
    fn start_sync(self: &Arc<Self>) -> Result<(), ErrorView> {
        let installing = || matches!(self.updates.state(), Some(UpdateState::Installing { .. }));
        if installing() {
            return Ok(());
        }
        // The database, then the task, held together until the task is stored: a lock or a
        // logout (`close`) waits for it and stops it, or comes first and closes the database.
        let ws = lock(&self.ws);
        if !ws.is_open() {
            return Ok(());
        }
        let Some(credential) = ws.credential()? else {
            return Ok(());
        };
        let office = self.office(&credential)?;
        let server = ws.sync_point().ok().flatten().map(|p| p.server_url);
        let handle = SyncHandle::spawn(&ws, office, SyncOptions::default())?;
        let mut slot = lock(&self.sync);
        // An install begun meanwhile took the task out already, or finds this one.
        if installing() {
            tauri::async_runtime::spawn(handle.stop());
            return Ok(());
        }
        let mut updates = handle.status();
        handle.sync_now();
        let number = self.task_number.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(old) = slot.replace(handle) {
            tauri::async_runtime::spawn(old.stop());
        }
        drop(slot);
        drop(ws);
        tracing::info!(server = ?server, "background sync started");
        let shell = self.clone();
        tauri::async_runtime::spawn(async move {
            // Only the task stored last speaks: one replaced or taken out says nothing more.
            let ours = || shell.task_number.load(Ordering::SeqCst) == number;
            while updates.changed().await.is_ok() && ours() {
                let status = updates.borrow_and_update().clone();
                let wipe = status.phase == Phase::Wipe;
                let went_through = {
                    let before = lock(&shell.last);
                    status.phase == Phase::Online
                        && (before.phase != Phase::Online
                            || before.last_success != status.last_success)
                };
                *lock(&shell.last) = status;
                shell.publish();
                if wipe {
                    shell.complete_wipe().await;
                    return;
                }
                if went_through {
                    shell.look_for_update();
                }
            }
        });
        Ok(())
    }

    /// The back office a credential reaches, told this app's release at each exchange.
    fn office(&self, credential: &sync::Credential) -> Result<sync::BackOffice, SyncError> {
        Ok(credential
            .back_office(CALL_TIMEOUT)?
            .with_app_version(self.app.package_info().version.to_string())
            .sharing_push_limit(&self.push_limit))
    }

    /// After a sync that went through: asks the back office for an update of the app, when
    /// one is due (see `update.rs`), in the background.
    fn look_for_update(self: &Arc<Self>) {
        let credential = match lock(&self.ws).credential() {
            Ok(Some(credential)) => credential,
            _ => return,
        };
        if !self.updates.due() {
            return;
        }
        let shell = self.clone();
        tauri::async_runtime::spawn(async move {
            shell
                .updates
                .look(&shell.app, &credential, || shell.publish())
                .await;
        });
    }

    /// Installs the update offered, with the sync stopped so that nothing is mid-way; then the
    /// app starts again on the new version. Refused while a sync runs or a citizen is at one
    /// of this workstation's counters, whatever the window shows. If the install fails, this
    /// version goes on (the sync too) and the status bar says why.
    pub async fn install_update(self: Arc<Self>) -> Result<(), ErrorView> {
        if matches!(lock(&self.last).phase, Phase::Syncing | Phase::Wipe) {
            return Err(ErrorView::update_while_syncing());
        }
        let at_counters = self.read(|ws| ws.tickets_at_counters())?;
        if !at_counters.is_empty() {
            return Err(ErrorView::update_during_visit(&at_counters));
        }
        // From here the state says "installing", and the sync does not start again (a login
        // while the administrator's prompt is up) until the install is over.
        let Some((update, package)) = self.updates.begin_install() else {
            return Err(ErrorView::no_update());
        };
        let task = self.take_task();
        if let Some(task) = task {
            task.stop().await;
        }
        self.publish();
        let version = update.version.clone();
        // dpkg runs, and may ask for an administrator's password: not on the async threads.
        let installed = tauri::async_runtime::spawn_blocking(move || {
            let outcome = update.install(&package).map_err(|e| e.to_string());
            (update, package, outcome)
        })
        .await;
        let (update, package, outcome) = match installed {
            Ok(done) => done,
            Err(e) => {
                let reason = format!("the install stopped: {e}");
                self.updates.install_lost(&version, &reason);
                self.start_sync_if_enrolled();
                self.publish();
                return Err(ErrorView::update_failed(&reason));
            }
        };
        match outcome {
            Ok(()) => {
                tracing::info!(version = %update.version, "update installed; starting again on it");
                RESTARTING.store(true, Ordering::SeqCst);
                self.app.request_restart();
                Ok(())
            }
            Err(reason) => {
                self.updates.install_failed(update, package, &reason);
                self.start_sync_if_enrolled();
                self.publish();
                Err(ErrorView::update_failed(&reason))
            }
        }
    }

    /// The back office revoked this device with a wipe (the task has stopped): the database is
    /// taken from the window, so that nothing more is written, what is left is delivered, and
    /// the data erased; the window then says so. If the link drops half-way, the database is
    /// put back and the task started again: the back office asks again at the next contact.
    async fn complete_wipe(self: Arc<Self>) {
        /// Lets logins in again however the wipe ends.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        self.wiping.store(true, Ordering::SeqCst);
        let _done = Done(&self.wiping);
        self.clone().wipe().await;
    }

    async fn wipe(self: Arc<Self>) {
        let task = self.take_task();
        if let Some(sync) = task {
            sync.stop().await;
        }
        let closed = match Workstation::open_dir(&self.data_dir) {
            Ok(closed) => closed,
            Err(e) => return self.wipe_failed(e.into()),
        };
        let mut open = std::mem::replace(&mut *lock(&self.ws), closed);
        let office = match open.credential() {
            Ok(Some(credential)) => self.office(&credential),
            Ok(None) => Err(SyncError::NotEnrolled),
            Err(e) => Err(e.into()),
        };
        let outcome = match office {
            Ok(office) => sync::complete_wipe(&mut open, &office).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Some(erased)) => {
                drop(open);
                if erased.confirmed {
                    tracing::info!(device = %erased.device_code, "data erased at the back office's request");
                } else {
                    tracing::warn!(device = %erased.device_code, "data erased at the back office's request; the back office did not hear it");
                }
                // The reports exported here go too (they name clerks and hold the citizens'
                // comments and the reasons of refunds): the window's reports folder, and the
                // one in the data directory where the user has no documents folder.
                for reports in [self.reports_dir(), self.data_dir.join(REPORTS_DIR)] {
                    if let Err(e) = std::fs::remove_dir_all(&reports)
                        && e.kind() != std::io::ErrorKind::NotFound
                    {
                        tracing::error!(folder = %reports.display(), "the exported reports could not be removed: {e}");
                    }
                }
                self.updates.reset();
                match Workstation::open_dir(&self.data_dir) {
                    Ok(fresh) => *lock(&self.ws) = fresh,
                    Err(e) => tracing::error!("the data directory cannot be opened again: {e}"),
                }
                let mut last = lock(&self.last);
                last.phase = Phase::Wiped;
                last.message = None;
                last.translation = None;
                last.waiting = 0;
                drop(last);
                self.publish();
            }
            Ok(None) => {
                *lock(&self.ws) = open;
                self.start_sync_if_enrolled();
            }
            Err(e) => {
                *lock(&self.ws) = open;
                self.wipe_failed(e.into());
                self.start_sync_if_enrolled();
            }
        }
    }

    fn wipe_failed(&self, error: ErrorView) {
        tracing::error!(
            "the device's data could not be erased yet: {}",
            error.message
        );
        let mut last = lock(&self.last);
        last.phase = Phase::Error;
        last.message = Some(error.message);
        last.translation = error.translation;
        drop(last);
        self.publish();
    }

    /// Asks the task to sync now, skipping its debounce and backoff. An enrolled device whose
    /// task did not start starts it now (it syncs at once), or says why it cannot.
    pub fn sync_now(self: &Arc<Self>) -> Result<(), ErrorView> {
        if let Some(sync) = lock(&self.sync).as_ref() {
            self.updates.asked();
            sync.sync_now();
            return Ok(());
        }
        if lock(&self.ws).credential()?.is_none() {
            return Err(ErrorView::standalone());
        }
        // This start takes over from the tries of an earlier one that failed; if it fails too,
        // the tries go on from the first wait.
        self.starts.fetch_add(1, Ordering::SeqCst);
        self.updates.asked();
        self.start_sync().inspect_err(|e| {
            self.not_started(e.clone());
            self.keep_starting(RESTART_FIRST);
        })
    }

    pub fn stop_sync(&self) {
        if let Some(sync) = self.take_task() {
            tauri::async_runtime::block_on(sync.stop());
        }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// A second connection to the same database, for long reads (a report over a year) that
    /// must not hold up the clerk's actions.
    pub fn open_reader(&self) -> Result<Workstation, Error> {
        lock(&self.ws).second_connection()
    }

    /// Where the supervisor's exports go: the user's documents folder, else the data directory.
    pub fn reports_dir(&self) -> PathBuf {
        directories::UserDirs::new()
            .and_then(|d| d.document_dir().map(|p| p.join("Guichet reports")))
            .unwrap_or_else(|| self.data_dir.join(REPORTS_DIR))
    }

    pub fn app(&self) -> &AppHandle {
        &self.app
    }
}

/// The status before the sync task said anything: offline, nothing known to wait.
fn idle_status(last_success: Option<String>) -> SyncStatus {
    SyncStatus {
        phase: Phase::Offline,
        message: None,
        translation: None,
        waiting: 0,
        progress: Progress::default(),
        last_success,
        insecure: false,
    }
}

/// A poisoned lock means a command panicked half-way; the database itself rolled back, so the
/// state behind the lock is still the committed one and work can go on.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Instant;

    const FIRST: Duration = Duration::from_millis(20);
    const MOST: Duration = Duration::from_millis(40);

    /// A start that fails three times is tried a fourth time, each wait twice the one before
    /// up to the longest, and not again once it started.
    #[tokio::test]
    async fn a_failed_start_is_tried_again_until_it_starts() {
        let tried = std::cell::RefCell::new(Vec::new());
        retry_start(
            || {
                tried.borrow_mut().push(Instant::now());
                if tried.borrow().len() < 4 {
                    Err(())
                } else {
                    Ok(())
                }
            },
            || true,
            FIRST,
            MOST,
        )
        .await;
        let tried = tried.into_inner();
        assert_eq!(tried.len(), 4, "three failures, then the start");
        let waits: Vec<Duration> = tried.windows(2).map(|w| w[1] - w[0]).collect();
        for (wait, at_least) in waits.iter().zip([FIRST, FIRST * 2, MOST]) {
            assert!(*wait >= at_least, "waited {wait:?}, less than {at_least:?}");
        }
    }

    /// A later start (a login, "Sync now") takes over: the earlier one's tries stop.
    #[tokio::test]
    async fn a_later_start_ends_the_tries_of_an_earlier_one() {
        let tried = Cell::new(0);
        retry_start(
            || {
                tried.set(tried.get() + 1);
                Err(())
            },
            || tried.get() < 2,
            FIRST,
            MOST,
        )
        .await;
        assert_eq!(tried.get(), 2);
    }
}
