//! The commands the window calls: each takes what the UI sends, calls the workstation core and
//! returns its answer, or its error in words with the key the window translates it from
//! (`ErrorView`). No rule lives here.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use guichet_domain::account::{Act, Role};
use guichet_domain::catalogue::{Catalogue, CenterKind, Service};
use guichet_domain::citizen::Citizen;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::form::FieldProblem;
use guichet_domain::message::Message;
use guichet_domain::queue::{Counter, Lane, QueueTarget};
use guichet_domain::request::Action;
use guichet_report::slip::Paper;
use guichet_report::{Dashboard, Format, Locale};
use guichet_workstation::store::{
    Approval, Browse, BrowseEntry, CallingBoard, CitizenQuery, Config, Erased, KeptAside,
    NewCitizen, NewClerk, NewRefund, NewRequest, NewTicket, PaymentView, Printers, RequestDetail,
    RequestFilter, RequestSummary, Rules, SearchQuery, ServiceHit, Session, Setup, TicketView,
    Transfer, WaitingEntry, erased_note, kept_aside,
};
use guichet_workstation::sync::{self, BackOffice};
use guichet_workstation::{Error, Workstation};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::shell::{ErrorView, Shell, StatusBar};
use crate::trouble::{self, StartProblem};

type Shared<'a> = State<'a, Arc<Shell>>;
type Answer<T> = Result<T, ErrorView>;

/// How long enrolment may take on a slow link.
const ENROLL_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything the window needs to draw its first screen.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AppState {
    pub config: Option<Config>,
    pub catalogue_version: Option<u32>,
    pub today: String,
    pub lanes: Vec<Lane>,
    pub counters: Vec<Counter>,
    pub status: StatusBar,
    /// Who is logged in, and whether the screen is locked; `None`: the login screen.
    pub session: Option<Session>,
    /// Minutes without a key or a click after which the window locks itself (0: never).
    pub idle_lock_minutes: u32,
    /// This computer's data was erased at the back office's request, and it was not set up
    /// again since: the first screen says so.
    pub erased: Option<Erased>,
    /// Damaged databases kept aside here, the latest first, while it is not set up again.
    pub kept_aside: Vec<KeptAside>,
    /// The printers the slips go to, while a clerk has the workstation open.
    pub printers: Option<Printers>,
    /// A recovery key the login just made (the first login of a standalone workstation of an
    /// earlier release encrypts its data): shown once, for an administrator to write down.
    pub recovery_key: Option<String>,
}

/// What the window must show instead of its screens, if anything: asked first, before any
/// other command (which cannot run when the start failed).
#[tauri::command]
pub fn start_problem(app: AppHandle) -> Option<StartProblem> {
    trouble::current(&app)
}

/// Tries the start again once the cause is fixed: nothing when Guichet runs now.
#[tauri::command(async)]
pub fn retry_start(app: AppHandle) -> Option<StartProblem> {
    trouble::retry(&app)
}

/// Keeps the damaged database aside and starts on an empty data directory.
#[tauri::command(async)]
pub fn keep_aside(app: AppHandle) -> Answer<Option<StartProblem>> {
    trouble::keep_aside(&app)
}

/// Closes the app (from the trouble screen, which has nothing else to offer).
#[tauri::command]
pub fn quit(app: AppHandle) {
    app.exit(0);
}

#[tauri::command(async)]
pub fn app_state(shell: Shared<'_>) -> Answer<AppState> {
    state_of(&shell)
}

fn state_of(shell: &Shell) -> Answer<AppState> {
    let status = shell.status();
    shell.peek(|ws| {
        let set_up = ws.is_set_up()?;
        let config = set_up.then(|| ws.config()).transpose()?;
        // Closed (nobody logged in, or locked), the database shows nothing but the set-up.
        let open = set_up && ws.is_open();
        Ok::<_, Error>(AppState {
            idle_lock_minutes: config.as_ref().map_or(0, |c| c.idle_lock_minutes),
            session: ws.session().cloned(),
            config,
            catalogue_version: if open { ws.catalogue_version()? } else { None },
            today: ws.today().to_string(),
            lanes: if open { ws.lanes()? } else { Vec::new() },
            counters: if open { ws.counters()? } else { Vec::new() },
            printers: if open { Some(ws.printers()?) } else { None },
            recovery_key: None,
            status,
            erased: if set_up {
                None
            } else {
                erased_note(shell.data_dir())
            },
            kept_aside: if set_up {
                Vec::new()
            } else {
                kept_aside(shell.data_dir())
            },
        })
    })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct StandaloneSetup {
    pub center_code: String,
    pub center_name: String,
    pub center_kind: CenterKind,
    pub device_code: String,
    pub admin_username: String,
    pub admin_name: String,
    pub admin_password: String,
    /// How national ids are checked: `ee-isikukood` or `plain`.
    pub national_id_scheme: String,
    /// The currency fees are paid in (three letters, such as EUR or KES).
    pub currency: String,
    /// The waiting-time target, in minutes.
    pub waiting_target_min: u32,
    /// The centre's IANA time zone (Europe/Athens, Africa/Dakar).
    pub time_zone: String,
}

/// Without the administrator's password: no log line can hold it by formatting the whole.
impl std::fmt::Debug for StandaloneSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandaloneSetup")
            .field("center_code", &self.center_code)
            .field("device_code", &self.device_code)
            .field("admin_username", &self.admin_username)
            .finish_non_exhaustive()
    }
}

/// A standalone workstation just set up, and its recovery key, shown once for the administrator
/// to write down.
#[derive(Serialize, schemars::JsonSchema)]
pub struct SetUp {
    pub config: Config,
    pub recovery_key: String,
}

// The recovery key opens the database: no log line may hold it by formatting the whole.
impl std::fmt::Debug for SetUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetUp")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Sets the workstation up on its own, with the demo catalogue and counters.
#[tauri::command(async)]
pub fn setup_standalone(shell: Shared<'_>, setup: StandaloneSetup) -> Answer<SetUp> {
    let catalogue: Catalogue = serde_json::from_str(guichet_fixtures::DEMO_CATALOGUE_JSON)
        .map_err(|e| {
            ErrorView::internal(format!(
                "the demo catalogue built into this app is broken: {e}"
            ))
        })?;
    let counters = guichet_fixtures::demo_counters(&catalogue);
    let setup = Setup {
        center_code: setup.center_code.trim().to_owned(),
        center_name: setup.center_name.trim().to_owned(),
        center_kind: setup.center_kind,
        device_code: setup.device_code.trim().to_owned(),
        receipt_prefix: None,
        national_id_scheme: setup.national_id_scheme.trim().to_owned(),
        currency: setup.currency.trim().to_uppercase(),
        waiting_target_min: setup.waiting_target_min,
        time_zone: setup.time_zone.trim().to_owned(),
        administrator: Some(NewClerk {
            username: setup.admin_username.trim().to_owned(),
            display_name: setup.admin_name.trim().to_owned(),
            role: Role::Administrator,
            password: setup.admin_password,
        }),
    };
    shell.act(|ws| {
        let config = ws.setup_with(setup, Some(&catalogue), &counters)?;
        let recovery_key = ws
            .take_recovery_key()
            .map(|k| k.written().to_string())
            .unwrap_or_default();
        Ok(SetUp {
            config,
            recovery_key,
        })
    })
}

/// How the operator says this device reaches its back office beyond the address.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct EnrolLink {
    /// Plain `http://` to another machine, on a network the operator trusts.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// The PEM text of the CA that signed the back office's certificate (a private CA).
    #[serde(default)]
    pub ca_cert: Option<String>,
}

/// Enrols this device with a back office, then starts syncing with it: on a workstation not
/// set up yet only (the first-run screen), refused before the code is sent otherwise. A plain
/// `http://` address to another machine is refused unless the operator allowed it; an
/// unusable CA certificate is refused before anything is sent.
#[tauri::command]
pub async fn enroll(
    shell: Shared<'_>,
    server: String,
    code: String,
    link: Option<EnrolLink>,
) -> Answer<Config> {
    shell.peek(|ws| ws.refuse_if_set_up())?;
    let link = link.unwrap_or_default();
    let link = sync::Link {
        allow_insecure_http: link.allow_insecure_http,
        ca_cert: link.ca_cert.filter(|pem| !pem.trim().is_empty()),
    };
    let office = BackOffice::with_link(server.trim(), None, ENROLL_TIMEOUT, &link)?;
    let (enrolled, recovery) = sync::enroll(&office, code.trim(), None).await?;
    // Nobody is logged in yet: the centre's clerks log in with their own accounts, and the
    // sync starts with the first of them.
    shell.act(|ws| {
        // Asked again in the same hold as the enrolment: a set-up finished while the back
        // office answered would otherwise become an enrolled device with an account the back
        // office does not know.
        ws.refuse_if_set_up()?;
        ws.enroll(
            &enrolled,
            office.base_url(),
            &[guichet_fixtures::single_window()],
            &recovery,
        )?;
        ws.set_link(&link)?;
        ws.config()
    })
}

/// Logs a clerk in; their first login on this device asks the back office to vouch for them.
/// Answers with the app's state once they are in (as `app_state` would), which the window
/// draws at once: one call less between the click and the clerk's first screen.
#[tauri::command]
pub async fn login(shell: Shared<'_>, username: String, password: String) -> Answer<AppState> {
    Arc::clone(&shell)
        .sign_in(&username, &password, false)
        .await?;
    let recovery_key = shell.act(|ws| Ok(ws.take_recovery_key()))?;
    Ok(AppState {
        recovery_key: recovery_key.map(|k| k.written().to_string()),
        ..state_of(&shell)?
    })
}

/// Locks the screen; the window hides its work until a clerk unlocks it.
#[tauri::command(async)]
pub fn lock(shell: Shared<'_>) -> Answer<()> {
    shell.close(Workstation::lock)
}

/// The same clerk takes up their session; another clerk's password switches to them.
#[tauri::command]
pub async fn unlock(shell: Shared<'_>, username: String, password: String) -> Answer<Session> {
    let session = Arc::clone(&shell)
        .sign_in(&username, &password, true)
        .await?;
    // The answer is the session alone: the status reaches the window as an event. A login's
    // answer is the app's state, the status in it.
    shell.publish();
    Ok(session)
}

#[tauri::command(async)]
pub fn logout(shell: Shared<'_>) -> Answer<()> {
    shell.close(Workstation::logout)
}

#[tauri::command(async)]
pub fn sync_now(shell: Shared<'_>) -> Answer<()> {
    shell.require(Act::Counter)?;
    shell.sync_now()
}

/// Installs the update the back office offered and the app verified, then starts again on it.
#[tauri::command]
pub async fn install_update(shell: Shared<'_>) -> Answer<()> {
    shell.require(Act::Counter)?;
    Arc::clone(&shell).install_update().await
}

#[tauri::command(async)]
pub fn issue_ticket(shell: Shared<'_>, target: QueueTarget, lane: String) -> Answer<TicketView> {
    shell.act(|ws| ws.issue_ticket(&NewTicket { target, lane }))
}

#[tauri::command(async)]
pub fn call_next(shell: Shared<'_>, counter: String) -> Answer<Option<TicketView>> {
    shell.act(|ws| ws.call_next(&counter))
}

/// Recalls a ticket; recalling a no-show takes a supervisor's `approval`.
#[tauri::command(async)]
pub fn recall(shell: Shared<'_>, ticket: String, approval: Option<Approval>) -> Answer<TicketView> {
    shell.act(|ws| ws.recall(&ticket, approval.as_ref()))
}

#[tauri::command(async)]
pub fn no_show(shell: Shared<'_>, ticket: String) -> Answer<TicketView> {
    shell.act(|ws| ws.no_show(&ticket))
}

#[tauri::command(async)]
pub fn start_service(shell: Shared<'_>, ticket: String) -> Answer<TicketView> {
    shell.act(|ws| ws.start_service(&ticket))
}

#[tauri::command(async)]
pub fn finish_service(shell: Shared<'_>, ticket: String) -> Answer<TicketView> {
    shell.act(|ws| ws.finish_service(&ticket))
}

#[tauri::command(async)]
pub fn transfer(shell: Shared<'_>, ticket: String, to: Transfer) -> Answer<TicketView> {
    shell.act(|ws| ws.transfer(&ticket, &to))
}

/// The waiting list and what this counter has called or is serving.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct QueueView {
    pub waiting: Vec<WaitingEntry>,
    pub current: Option<TicketView>,
}

#[tauri::command(async)]
pub fn queue_view(shell: Shared<'_>, counter: String) -> Answer<QueueView> {
    shell.read(|ws| {
        Ok::<_, Error>(QueueView {
            waiting: ws.waiting_list()?,
            current: ws.counter_ticket(&counter)?,
        })
    })
}

/// How many of the day's calls the waiting room's display lists.
const BOARD_CALLS: usize = 6;

/// The label of the waiting room's display window (`capabilities/display.json`).
pub const DISPLAY_WINDOW: &str = "display";

/// The waiting room's display: the day's latest calls, whenever a clerk has the workstation
/// open here. Only the display window is granted it.
#[tauri::command(async)]
pub fn calling_board(shell: Shared<'_>) -> Answer<CallingBoard> {
    shell.peek(|ws| ws.calling_board(BOARD_CALLS))
}

/// Opens the waiting room's display in a window of its own, for a wall screen, or brings it
/// forward when it is open already.
#[tauri::command]
pub async fn open_calling_display(shell: Shared<'_>, app: AppHandle) -> Answer<()> {
    shell.require(Act::Counter)?;
    open_window(&app, DISPLAY_WINDOW, "index.html#display")
}

/// The label of the ticket kiosk's window (`capabilities/kiosk.json`).
pub const KIOSK_WINDOW: &str = "kiosk";

/// Opens the ticket kiosk in a window of its own, or brings it forward. It gives tickets while
/// a clerk has the workstation open here.
///
/// On a screen other than the clerk's (the touch screen at the entrance), it fills that screen
/// with no frame, cannot be closed, resized or taken out of full screen from there, and stays
/// above anything else: a citizen touching it reaches nothing but the kiosk. Only the clerk's
/// window closes it (`close_ticket_kiosk`). With one screen, the clerk's own, where the public
/// does not reach, it opens as a plain window, to try it.
#[tauri::command]
pub async fn open_ticket_kiosk(shell: Shared<'_>, app: AppHandle) -> Answer<()> {
    shell.require(Act::Counter)?;
    let shown = |e: tauri::Error| ErrorView::internal(format!("the kiosk did not open: {e}"));
    if app.get_webview_window(KIOSK_WINDOW).is_some() {
        return open_window(&app, KIOSK_WINDOW, "index.html#kiosk");
    }
    // The screens taken: the clerk's, and the waiting room's display's. Unknown, none is free.
    let taken: Option<Vec<_>> = [MAIN_WINDOW, DISPLAY_WINDOW]
        .into_iter()
        .filter_map(|label| app.get_webview_window(label))
        .map(|w| w.current_monitor().ok().flatten().map(|m| *m.position()))
        .collect();
    let free = |m: &tauri::Monitor| taken.as_ref().is_some_and(|t| !t.contains(m.position()));
    let entrance = app
        .available_monitors()
        .map_err(shown)?
        .into_iter()
        .find(free);
    let Some(screen) = entrance else {
        return open_window(&app, KIOSK_WINDOW, "index.html#kiosk");
    };
    let at = screen.position().to_logical::<f64>(screen.scale_factor());
    let kiosk = tauri::WebviewWindowBuilder::new(
        &app,
        KIOSK_WINDOW,
        tauri::WebviewUrl::App("index.html#kiosk".into()),
    )
    .title("Guichet")
    .position(at.x, at.y)
    .fullscreen(true)
    .decorations(false)
    .resizable(false)
    .closable(false)
    .minimizable(false)
    .always_on_top(true)
    .focused(false)
    .build()
    .map_err(shown)?;
    // Where the desktop does not let an app place its windows (Wayland), the kiosk may have
    // landed on a screen taken: there it becomes a plain window, which the clerk moves.
    let landed = kiosk.current_monitor().ok().flatten();
    if !landed.is_some_and(|m| free(&m)) {
        kiosk.set_always_on_top(false).map_err(shown)?;
        kiosk.set_fullscreen(false).map_err(shown)?;
        kiosk.set_decorations(true).map_err(shown)?;
        kiosk.set_resizable(true).map_err(shown)?;
        kiosk.set_closable(true).map_err(shown)?;
        kiosk.set_minimizable(true).map_err(shown)?;
        kiosk
            .set_size(tauri::LogicalSize::new(1280.0, 720.0))
            .map_err(shown)?;
    }
    Ok(())
}

/// Closes the ticket kiosk, from the clerk's window.
#[tauri::command]
pub async fn close_ticket_kiosk(shell: Shared<'_>, app: AppHandle) -> Answer<()> {
    shell.require(Act::Counter)?;
    if let Some(window) = app.get_webview_window(KIOSK_WINDOW) {
        window
            .destroy()
            .map_err(|e| ErrorView::internal(format!("the kiosk did not close: {e}")))?;
    }
    Ok(())
}

/// The label of the clerk's window (`tauri.conf.json`, `capabilities/main.json`).
pub const MAIN_WINDOW: &str = "main";

/// Opens the app's page `url` in the window `label`, or brings that window forward.
fn open_window(app: &AppHandle, label: &str, url: &str) -> Answer<()> {
    let shown = |e: tauri::Error| ErrorView::internal(format!("the {label} did not open: {e}"));
    if let Some(window) = app.get_webview_window(label) {
        window.unminimize().map_err(shown)?;
        return window.set_focus().map_err(shown);
    }
    tauri::WebviewWindowBuilder::new(app, label, tauri::WebviewUrl::App(url.into()))
        .title("Guichet")
        .inner_size(1280.0, 720.0)
        .build()
        .map_err(shown)?;
    Ok(())
}

/// What the ticket kiosk offers: the categories served here and the queue's lanes.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct KioskMenu {
    pub center_name: String,
    pub categories: Vec<BrowseEntry>,
    pub lanes: Vec<Lane>,
}

#[tauri::command(async)]
pub fn kiosk_menu(shell: Shared<'_>) -> Answer<KioskMenu> {
    shell.read(|ws| {
        let mut categories = ws.browse()?.categories;
        categories.retain(|c| c.services > 0);
        Ok::<_, Error>(KioskMenu {
            center_name: ws.config()?.center_name,
            categories,
            lanes: ws.lanes()?,
        })
    })
}

/// A ticket the kiosk gave: its code, how many wait before it, and whether it printed.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct KioskTicket {
    pub id: String,
    pub code: String,
    pub ahead: usize,
    pub printed: bool,
}

/// Gives a ticket for a category in a lane and prints it on the kiosk's roll, in the
/// citizen's language. A printer that fails does not take the ticket back: the kiosk shows
/// its number and offers to print again.
#[tauri::command(async)]
pub fn kiosk_ticket(
    shell: Shared<'_>,
    category: String,
    lane: String,
    lang: String,
) -> Answer<KioskTicket> {
    let locale = Locale::parse(&lang)?;
    let now = std::time::Instant::now();
    // Held while the ticket is given: two touches landing together do not both pass.
    let mut kiosk = shell.kiosk();
    kiosk.may_give(now).map_err(kiosk_refused)?;
    // Counted in the same hold of the workstation as the ticket is issued: a lock of the
    // clerk's screen landing between would leave a ticket issued and its number unsaid.
    let (ticket, ahead) = shell.act(|ws| {
        let ticket = ws.issue_ticket(&NewTicket {
            target: QueueTarget::Category(category),
            lane,
        })?;
        let ahead = ws.people_ahead(&ticket.code)?;
        Ok((ticket, ahead))
    })?;
    kiosk.given(now);
    drop(kiosk);
    let printed = print_ticket(&shell, &ticket.id, locale)
        .inspect_err(|e| tracing::warn!(problem = %e.message, "a kiosk ticket did not print"))
        .is_ok();
    shell.kiosk().printed_at_first(&ticket.id, now, printed);
    Ok(KioskTicket {
        id: ticket.id,
        code: ticket.code,
        ahead,
        printed,
    })
}

/// Prints again a ticket the kiosk gave moments ago whose slip did not come out: tickets only,
/// never a receipt, nor a ticket given at the counter.
#[tauri::command(async)]
pub fn kiosk_reprint(shell: Shared<'_>, ticket: String, lang: String) -> Answer<Printed> {
    let locale = Locale::parse(&lang)?;
    shell
        .kiosk()
        .reprint(&ticket, std::time::Instant::now())
        .map_err(kiosk_refused)?;
    let printed = print_ticket(&shell, &ticket, locale)?;
    shell.kiosk().printed(&ticket);
    Ok(printed)
}

fn kiosk_refused(refused: crate::kiosk::Refused) -> ErrorView {
    match refused {
        crate::kiosk::Refused::Busy(wait) => ErrorView::kiosk_busy(wait),
        crate::kiosk::Refused::NotReprintable => ErrorView::kiosk_not_reprintable(),
    }
}

fn print_ticket(shell: &Shell, ticket: &str, locale: Locale) -> Answer<Printed> {
    print_on(shell, Paper::Roll80, Printer::Kiosk, |ws| {
        guichet_report::slip::ticket(ws, ticket, locale)
    })
}

/// Which of the workstation's printers a slip goes to.
#[derive(Clone, Copy)]
enum Printer {
    Counter,
    Kiosk,
}

/// Lays out the slip `make` reads, on `paper`, and hands it to `printer`.
fn print_on(
    shell: &Shell,
    paper: Paper,
    printer: Printer,
    make: impl FnOnce(&Workstation) -> guichet_report::Result<guichet_report::slip::Slip>,
) -> Answer<Printed> {
    let (made, printers) = shell.read(|ws| {
        let made = make(ws)?;
        Ok::<_, ErrorView>((made, ws.printers()?))
    })?;
    let pdf = guichet_report::slip::pdf(&made, paper)?;
    let name = match printer {
        Printer::Counter => printers.counter,
        Printer::Kiosk => printers.kiosk,
    };
    send_to_printer(&pdf, &made.title, &name)
}

#[tauri::command(async)]
pub fn browse(shell: Shared<'_>) -> Answer<Browse> {
    shell.read(|ws| ws.browse())
}

#[tauri::command(async)]
pub fn search_services(shell: Shared<'_>, query: SearchQuery) -> Answer<Vec<ServiceHit>> {
    shell.read(|ws| ws.search(&query))
}

/// A service with what intake shows about it here.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ServiceView {
    #[serde(flatten)]
    pub service: Service,
    pub due_date: String,
    pub depth_here: Option<guichet_domain::catalogue::Depth>,
}

#[tauri::command(async)]
pub fn service(shell: Shared<'_>, code: String) -> Answer<ServiceView> {
    shell.read(|ws| {
        let service = ws.service(&code)?;
        Ok::<_, Error>(ServiceView {
            due_date: ws.due_date(&code)?.to_string(),
            depth_here: service.depth(ws.config()?.channel),
            service,
        })
    })
}

#[tauri::command(async)]
pub fn check_form(
    shell: Shared<'_>,
    service: String,
    form: BTreeMap<String, String>,
) -> Answer<Vec<FieldProblem>> {
    shell.read(|ws| ws.check_form(&service, &form))
}

#[tauri::command(async)]
pub fn find_citizens(shell: Shared<'_>, query: CitizenQuery) -> Answer<Vec<Citizen>> {
    shell.read(|ws| ws.find_citizens(&query))
}

#[tauri::command(async)]
pub fn register_citizen(shell: Shared<'_>, citizen: NewCitizen) -> Answer<Citizen> {
    shell.act(|ws| ws.register_citizen(&citizen))
}

#[tauri::command(async)]
pub fn create_request(shell: Shared<'_>, request: NewRequest) -> Answer<RequestDetail> {
    shell.act(|ws| ws.create_request(&request))
}

#[tauri::command(async)]
pub fn pay(
    shell: Shared<'_>,
    receipt: String,
    amount: String,
    method: PaymentMethod,
) -> Answer<PaymentView> {
    shell.act(|ws| ws.pay(&receipt, &amount, method))
}

/// Waives the fee, with a supervisor's `approval`.
#[tauri::command(async)]
pub fn waive(
    shell: Shared<'_>,
    receipt: String,
    ground: String,
    approval: Option<Approval>,
) -> Answer<RequestDetail> {
    shell.act(|ws| ws.waive(&receipt, &ground, approval.as_ref()))
}

/// Gives back (part of) a payment, with a supervisor's `approval`; answers the request as it
/// stands after.
#[tauri::command(async)]
pub fn refund(
    shell: Shared<'_>,
    receipt: String,
    refund: NewRefund,
    approval: Option<Approval>,
) -> Answer<RequestDetail> {
    shell.act(|ws| {
        ws.refund(&receipt, &refund, approval.as_ref())?;
        ws.request(&receipt)
    })
}

#[tauri::command(async)]
pub fn mark_document(
    shell: Shared<'_>,
    receipt: String,
    document: String,
    received: bool,
) -> Answer<RequestDetail> {
    shell.act(|ws| ws.mark_document(&receipt, &document, received))
}

#[tauri::command(async)]
pub fn list_requests(shell: Shared<'_>, filter: RequestFilter) -> Answer<Vec<RequestSummary>> {
    shell.read(|ws| ws.list_requests(&filter))
}

#[tauri::command(async)]
pub fn request(shell: Shared<'_>, receipt: String) -> Answer<RequestDetail> {
    shell.read(|ws| ws.request(&receipt))
}

#[tauri::command(async)]
pub fn advance(
    shell: Shared<'_>,
    receipt: String,
    action: Action,
    reason: Option<String>,
    approval: Option<Approval>,
) -> Answer<RequestDetail> {
    shell.act(|ws| ws.advance(&receipt, action, reason.as_deref(), approval.as_ref()))
}

#[tauri::command(async)]
pub fn resolve_conflict(shell: Shared<'_>, receipt: String, note: String) -> Answer<RequestDetail> {
    shell.act(|ws| ws.resolve_conflicts(&receipt, &note))
}

#[tauri::command(async)]
pub fn feedback(
    shell: Shared<'_>,
    ticket: String,
    rating: u8,
    comment: Option<String>,
) -> Answer<()> {
    shell.act(|ws| {
        let channel = ws.config()?.channel;
        ws.record_feedback(&ticket, rating, comment.as_deref(), channel)
    })
}

/// Today's figures for the supervisor's dashboard, names in `lang`: a supervisor's (the money
/// taken, each clerk's figures and the citizens' comments), as the report is.
#[tauri::command(async)]
pub fn dashboard(shell: Shared<'_>, lang: String) -> Answer<Dashboard> {
    let locale = Locale::parse(&lang)?;
    shell.require(Act::Supervise)?;
    shell.read(|ws| guichet_report::dashboard(ws, locale))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Export {
    pub from: String,
    pub to: String,
    pub format: String,
    pub lang: String,
    /// The cash the supervisor counted in the drawer, as typed.
    pub cash_counted: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Exported {
    pub path: String,
    pub clean: bool,
    pub sync: String,
}

/// Which end of an export's period a day is.
#[derive(Debug, Clone, Copy)]
enum Bound {
    First,
    Last,
}

fn export_day(text: &str, bound: Bound) -> Result<chrono::NaiveDate, ErrorView> {
    let (what, key) = match bound {
        Bound::First => ("first", "error.export.first_day"),
        Bound::Last => ("last", "error.export.last_day"),
    };
    guichet_domain::form::parse_date(text).map_err(|_| {
        ErrorView::new(
            format!("the {what} day '{text}' is not a date: write it as DD/MM/YYYY or YYYY-MM-DD"),
            Some(Message::new(key).text("input", text)),
        )
    })
}

/// The event that carries an export's progress (`ExportProgress`).
pub const EXPORT_PROGRESS: &str = "export-progress";

/// How far an export has gone: `step` stages done of `of`.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct ExportProgress {
    pub step: u32,
    pub of: u32,
}

/// Writes the report for a day or a range into the reports folder, on a connection of its own
/// so that the counter keeps working meanwhile; progress goes to the window as events.
#[tauri::command]
pub async fn export_report(shell: Shared<'_>, export: Export) -> Answer<Exported> {
    let from = export_day(&export.from, Bound::First)?;
    let to = export_day(&export.to, Bound::Last)?;
    let format = Format::ALL
        .into_iter()
        .find(|f| f.as_str() == export.format)
        .ok_or_else(|| {
            ErrorView::new(
                format!(
                    "'{}' is not a report format: use csv, xlsx or pdf",
                    export.format
                ),
                None,
            )
        })?;
    let locale = Locale::parse(&export.lang)?;
    shell.require(Act::Supervise)?;
    let shell = Arc::clone(&shell);
    tauri::async_runtime::spawn_blocking(move || {
        let ws = shell.open_reader()?;
        let config = ws.config()?;
        let dir = shell.reports_dir();
        std::fs::create_dir_all(&dir).map_err(|e| {
            ErrorView::internal(format!("cannot create the folder {}: {e}", dir.display()))
        })?;
        let out = dir.join(guichet_report::file_name(
            &config.center_code,
            from,
            to,
            format,
        ));
        let progress = |p: guichet_report::Progress| {
            let _ = shell.app().emit(
                EXPORT_PROGRESS,
                ExportProgress {
                    step: p.step,
                    of: guichet_report::Stage::COUNT,
                },
            );
        };
        let report = guichet_report::export(
            &ws,
            &guichet_report::ExportRequest {
                from,
                to,
                format,
                locale,
                cash_counted: export.cash_counted.as_deref(),
                out: &out,
                replace: true,
                progress: Some(&progress),
            },
        )?;
        Ok(Exported {
            path: out.display().to_string(),
            clean: report.sync.clean,
            sync: report.sync.statement,
        })
    })
    .await
    .map_err(|e| ErrorView::internal(format!("the export stopped: {e}")))?
}

#[cfg(test)]
mod tests;

/// Changes the workstation's local rules (an administrator): the idle lock's minutes and how
/// long an enrolled device takes logins without reaching its back office.
#[tauri::command(async)]
pub fn set_rules(shell: Shared<'_>, rules: Rules) -> Answer<Config> {
    shell.act(|ws| ws.set_rules(&rules))
}

/// Which slip to print, on what, in which language.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlipRequest {
    /// `ticket` (`key`: its id or today's code) or `receipt` (`key`: the receipt number).
    pub kind: String,
    pub key: String,
    pub paper: Paper,
    pub lang: String,
}

/// What the printing system said when it took the slip.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Printed {
    pub job: String,
}

/// How long the printing system may take to accept a slip.
const PRINT_TIMEOUT: Duration = Duration::from_secs(20);

/// Prints a queue ticket or a receipt through the printing system (`lp`, CUPS): an 80 mm roll
/// or A4, in the clerk's language. The PDF goes to the printer's spool on `lp`'s standard
/// input and is never written to the data directory. A failure says why; the window keeps the
/// slip's buttons, to print again.
#[tauri::command(async)]
pub fn print_slip(shell: Shared<'_>, slip: SlipRequest) -> Answer<Printed> {
    let locale = Locale::parse(&slip.lang)?;
    print_on(&shell, slip.paper, Printer::Counter, |ws| {
        match slip.kind.as_str() {
            "ticket" => guichet_report::slip::ticket(ws, &slip.key, locale),
            "receipt" => guichet_report::slip::receipt(ws, &slip.key, locale),
            other => Err(guichet_report::Error::Stored(format!(
                "'{other}' is not a slip: ticket or receipt"
            ))),
        }
    })
}

/// The printer refused or did not answer.
fn print_failed(detail: String) -> ErrorView {
    ErrorView::new(
        format!("the printer did not take the slip ({detail}); check the printer and print again"),
        Some(Message::new("error.print.failed").text("detail", &detail)),
    )
}

/// No `lp` on this computer.
fn no_printing_system() -> ErrorView {
    ErrorView::new(
        "this computer has no printing system: install CUPS (apt-get install cups cups-client) \
         and set a default printer, then print again",
        Some(Message::new("error.print.no_system")),
    )
}

/// Hands a PDF to `lp` on its standard input; its default printer (or `$PRINTER`) takes it.
fn send_to_printer(pdf: &[u8], title: &str, printer: &str) -> Answer<Printed> {
    print_with(
        std::path::Path::new("lp"),
        pdf,
        title,
        printer,
        PRINT_TIMEOUT,
    )
}

/// Hands a PDF to the printing command `lp` (a program with lp's arguments), for `printer`
/// (its name, checked when it was set; empty: the default printer), and waits for it at most
/// `timeout`, the PDF's writing included: a printing system that stops reading is stopped. A
/// refusal is lp's own words (not the broken pipe of a PDF it did not read).
pub(crate) fn print_with(
    lp: &std::path::Path,
    pdf: &[u8],
    title: &str,
    printer: &str,
    timeout: Duration,
) -> Answer<Printed> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let failed = print_failed;
    let named = (!printer.is_empty()).then_some(["-d", printer]);
    let mut child = Command::new(lp)
        .args(named.iter().flatten())
        .args(["-t", title, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                no_printing_system()
            } else {
                failed(e.to_string())
            }
        })?;
    // Written beside the wait, so that the deadline holds while lp reads, or does not.
    let writer = child.stdin.take().map(|mut stdin| {
        let pdf = pdf.to_vec();
        std::thread::spawn(move || stdin.write_all(&pdf))
    });
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait().map_err(|e| failed(e.to_string()))? {
            Some(_) => break,
            None if std::time::Instant::now() > deadline => {
                // Stopped and reaped: its pipe closes, and the writing ends with it.
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!("no answer within {} s", timeout.as_secs())));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    let written = writer.map(|w| w.join());
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(failed(if said.is_empty() {
            format!("lp ended with {}", out.status)
        } else {
            said
        }));
    }
    if let Some(Ok(Err(e))) = written {
        return Err(failed(format!("lp did not take the whole slip: {e}")));
    }
    Ok(Printed {
        job: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    })
}
