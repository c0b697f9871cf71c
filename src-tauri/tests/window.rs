//! End-to-end tests in the real app window, under Xvfb, through tauri-driver and WebKit's
//! WebDriver: a whole visit; offline work then a back office coming up; switching language.
//! Each saves screenshots (see `driver::screenshot_dir`).

use guichet_domain::account::Role;
use guichet_domain::request::{Action, RequestStatus};
use guichet_fixtures::DEMO_PASSWORD;
use guichet_fixtures::history::citizen;
use guichet_tests::Server;
use guichet_tests::window::{self as driver, App, Display, keys};
use guichet_workstation::store::{DATABASE_FILE, OutboxState};
use guichet_workstation::{SystemClock, Workstation};
use tempfile::TempDir;

fn app_binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_guichet-app"))
}

/// One window at a time: the machine has few cores and WebKit is heavy.
static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CENTER: &str = "ATH-01";

/// Locks the screen with its button: the overlay hides the work.
async fn lock(app: &App) {
    app.click("#lock-button").await;
    app.wait_for_css("#lock-overlay").await;
    app.wait_for_css("#unlock-password").await;
}

/// Locks the screen and hands the counter to `username` with their password; the header then
/// names them.
async fn switch_clerk(app: &App, username: &str, name: &str) {
    lock(app).await;
    app.click("#unlock-switch").await;
    app.type_into("#unlock-username", username).await;
    app.type_into("#unlock-password", DEMO_PASSWORD).await;
    app.click("#unlock-submit").await;
    app.wait_for_text("#header-clerk", name).await;
}

/// On the intake screen: finds ID photos by search and opens it.
async fn open_id_photos(app: &App) {
    app.type_into("#service-search", "photos").await;
    app.click("#service-results button[data-code='id-photos']")
        .await;
    app.wait_for_text("#detail-fee", "6.00").await;
}

/// Intake for citizen `n` (registered on the way if new): ID photos, with the form first
/// filled wrong and then corrected; pays the fee in cash and submits. Returns the receipt.
async fn take_id_photos(app: &App, n: u32, shot: Option<&str>) -> String {
    let who = citizen(n);
    app.find_or_register(&who).await;

    open_id_photos(app).await;
    // Five sets is more than the form allows: the field says so as the clerk types.
    app.type_into("#form-prints", "5").await;
    let problem = app
        .wait_for_text("#service-form .field-error", "at most")
        .await;
    assert!(problem.contains('4'), "{problem}");
    assert_eq!(
        app.wait_for_css("#form-prints")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    if let Some(name) = shot {
        app.screenshot(name).await;
    }
    app.type_into("#form-prints", "2").await;
    let deadline = std::time::Instant::now() + driver::WAIT;
    while !app.text("#service-form .field-error").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the error stayed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.click("#take-request").await;
    let receipt = app.text("#receipt-number").await;
    assert_eq!(
        receipt.len(),
        14,
        "a receipt number XXXX-XXXX-XXXX: {receipt}"
    );
    app.wait_for_text("#fee-due", "6.00").await;
    app.select("#pay-method", "cash").await;
    app.click("#pay").await;
    app.wait_for_text("#fee-settled", "6.00").await;
    app.click("#submit-request").await;
    app.wait_for_text("#request-status", "submitted").await;
    receipt
}

/// On the intake screen: finds the resident parking permit by search, opens it and fills its
/// form (a request with two required documents and a fee of 45.00).
async fn open_parking_permit(app: &App) {
    app.type_into("#service-search", "parking").await;
    app.click("#service-results button[data-code='resident-parking-permit']")
        .await;
    app.wait_for_text("#detail-fee", "45").await;
    app.type_into("#form-plate", "AB-123-CD").await;
    app.select("#form-zone", "2").await;
}

/// Takes the request whose form is filled, and returns its receipt number.
async fn take_request(app: &App) -> String {
    app.click("#take-request").await;
    let receipt = app
        .wait_for_css("#receipt-number")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(receipt.len(), 14, "a receipt number: {receipt}");
    receipt
}

/// Ticks a document of the request taken, and waits until the core has it received.
async fn tick_document(app: &App, code: &str) {
    app.click(&format!("#taken-documents input[data-document='{code}']"))
        .await;
    app.wait_for_css(&format!(
        "#taken-documents li.received input[data-document='{code}']"
    ))
    .await;
}

/// On the queue screen: issues a ticket for the counter services in the standard lane, calls it
/// at this counter and starts serving it. Returns its code.
async fn serve_a_ticket(app: &App) -> String {
    app.select("#ticket-target", "category:counter-services")
        .await;
    app.click("#issue-ticket").await;
    let issued = app.wait_for_text("#issued-ticket", "Ticket").await;
    let code = issued.trim_start_matches("Ticket").trim().to_owned();
    app.wait_for_text("#waiting-rows", &code).await;
    app.click("#call-next").await;
    app.wait_for_text("#current-status", "called").await;
    app.click("#start").await;
    app.wait_for_text("#current-status", "being served").await;
    code
}

/// The amount the intake screen shows as due, as it shows it ("€45.00").
async fn amount_due(app: &App) -> String {
    let due = app.wait_for_text("#fee-due", "€").await;
    due.rsplit(' ').next().unwrap().to_owned()
}

/// The app's database, opened beside it by `clerk`: it is encrypted, and their password opens
/// it.
fn open_store(dir: &std::path::Path, clerk: &str) -> Workstation {
    let mut ws = Workstation::open(
        &dir.join(guichet_workstation::store::DATABASE_FILE),
        std::sync::Arc::new(SystemClock),
    )
    .expect("the app's database");
    ws.login(clerk, DEMO_PASSWORD)
        .expect("the clerk's slot opens the database");
    ws
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_visit_in_the_window() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.screenshot("01-first-run").await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;

    // The clerk steps away mid-search: the locked screen hides the work and keeps it.
    app.press(keys::F3).await;
    app.type_into("#service-search", "photos").await;
    lock(&app).await;
    assert!(
        !app.wait_for_css("#service-search")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "a locked screen shows nothing of the work it hides"
    );
    app.wait_for_text("#lock-by", "Eleni").await;
    app.screenshot("13-locked").await;
    app.type_into("#unlock-password", "not the password").await;
    app.click("#unlock-submit").await;
    app.wait_for_text("#unlock-error", "wrong").await;
    app.type_into("#unlock-password", DEMO_PASSWORD).await;
    app.click("#unlock-submit").await;
    // The header shows again (WebDriver reads no text from a hidden element) once unlocked.
    app.wait_for_text("#header-clerk", "Eleni").await;
    let search = app.wait_for_css("#service-search").await;
    assert!(search.is_displayed().await.unwrap());
    assert_eq!(
        search.prop("value").await.unwrap().as_deref(),
        Some("photos"),
        "the search typed before the lock is still there"
    );
    // Another clerk takes over the counter with their own password, then hands it back.
    let mut store = open_store(dir.path(), "eleni");
    store
        .add_clerk(&guichet_fixtures::clerk("nikos", Role::Clerk))
        .unwrap();
    store
        .add_clerk(&guichet_fixtures::clerk("kostas", Role::Supervisor))
        .unwrap();
    drop(store);
    switch_clerk(&app, "nikos", "Nikos").await;
    switch_clerk(&app, "eleni", "Eleni").await;
    app.click("#nav-queue").await;
    // A ticket for the counter services, called with F2 at window 1, then served.
    app.select("#ticket-target", "category:counter-services")
        .await;
    app.select("#ticket-lane", "standard").await;
    app.click("#issue-ticket").await;
    let issued = app.wait_for_text("#issued-ticket", "Ticket").await;
    let code = issued.trim_start_matches("Ticket").trim().to_owned();
    app.wait_for_text("#waiting-rows", &code).await;
    // The printer fails (there is none here): the clerk is told why, and the ticket's button
    // stays to print again.
    app.click("#print-ticket").await;
    app.wait_for_text("#print-status", "print again").await;
    assert!(
        app.wait_for_css("#print-ticket")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    app.press(keys::F2).await;
    app.wait_for_text("#current-status", "called").await;
    assert_eq!(app.text("#current-code").await, code);
    app.click("#start").await;
    app.wait_for_text("#current-status", "being served").await;
    app.screenshot("02-queue").await;

    app.click("#intake").await;
    let receipt = take_id_photos(&app, 7, Some("03-intake-form-error")).await;
    app.wait_for_text("#visit-requests", &receipt).await;
    app.click("#print-receipt-a4").await;
    app.wait_for_text("#print-status", "print again").await;
    app.screenshot("04-receipt").await;

    // A second request in the same visit, for the same service: its form comes back empty
    // (the screen reuses its fields from one request to the next), no waiver is offered for a
    // service that exempts nobody, and the fee is paid by card.
    app.click("#another-service").await;
    open_id_photos(&app).await;
    let form = app
        .script(
            "const prints = document.querySelector('#form-prints'); \
             return [prints.value, prints.getAttribute('aria-invalid'), \
             document.querySelector('#service-form .field-error').textContent]",
        )
        .await;
    assert_eq!(
        form,
        serde_json::json!(["", null, ""]),
        "left from the first request"
    );
    app.type_into("#form-prints", "1").await;
    app.click("#take-request").await;
    app.wait_for_text("#fee-due", "6.00").await;
    let second = app.text("#receipt-number").await;
    assert_ne!(second, receipt);
    // ID photos exempt nobody: no waiver is offered.
    assert!(
        !app.wait_for_css("#waive-form")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    app.select("#pay-method", "card").await;
    app.click("#pay").await;
    app.wait_for_text("#fee-settled", "6.00").await;
    assert_eq!(app.text("#payment-error").await, "");
    app.click("#submit-request").await;
    app.wait_for_text("#request-status", "submitted").await;
    app.wait_for_text("#visit-requests", &second).await;

    app.click("#end-visit").await;
    app.wait_for_css("#rate-5").await;
    app.click("#rate-4").await;
    app.type_into("#feedback-comment", "Quick and friendly")
        .await;
    app.screenshot("05-feedback").await;
    app.click("#send-feedback").await;
    app.wait_for_css("#issue-ticket").await;
    assert_eq!(
        app.text("#issued-ticket").await,
        "",
        "the last ticket issued is not shown again"
    );

    // The intake screen is kept from one visit to the next, but not what it showed: the next
    // citizen's intake starts with nobody found, no service and no request.
    app.click("#nav-intake").await;
    app.wait_for_css("#citizen-id").await;
    let left = app
        .script(
            "return [document.querySelector('#citizen-id').value, \
             document.querySelector('#service-search').value, \
             document.querySelector('#citizen-results').childElementCount, \
             document.querySelector('#service-detail').childElementCount, \
             document.querySelectorAll('#visit-requests li').length]",
        )
        .await;
    assert_eq!(
        left,
        serde_json::json!(["", "", 0, 0, 0]),
        "left from the last visit"
    );
    app.click("#nav-queue").await;
    app.wait_for_css("#issue-ticket").await;

    // The requests screen lists it; its detail shows the timeline and the change waiting.
    app.click("#nav-requests").await;
    app.click(&format!("button[data-receipt='{receipt}']"))
        .await;
    app.wait_for_text("#detail-status", "submitted").await;
    app.wait_for_text("#changes", "waiting").await;
    app.wait_for_text("#changes", "request taken").await;
    app.screenshot("06-requests").await;

    // A payment recorded by mistake is given back, under a supervisor's eyes: without one the
    // refusal says so and nothing changes; with kostas's name and password, typed on the same
    // screen, the refund shows with both names.
    app.wait_for_text("#payments", "6.00").await;
    app.type_into("#refund-amount", "1").await;
    app.type_into("#refund-reason", "one print too many").await;
    app.click("#refund").await;
    app.wait_for_text("#refund-error", "a supervisor must approve a refund")
        .await;
    app.type_into("#refund-approval-approver", "kostas").await;
    app.type_into("#refund-approval-approver-password", DEMO_PASSWORD)
        .await;
    app.click("#refund").await;
    app.wait_for_text("#refunds", "approved by kostas").await;
    app.wait_for_text("#payments", "1.00 given back").await;
    app.screenshot("06b-refund").await;

    // The supervisor's dashboard counts the visit, and exports the day as a PDF.
    app.press(keys::ALT_4).await;
    app.wait_for_text("#dash-collected", "12.00").await;
    app.wait_for_text("#dash-feedback", "4 / 5").await;
    app.select("#export-format", "pdf").await;
    app.type_into("#export-cash", "6").await;
    // The days are typed day first, as in every date field; one the calendar lacks is refused.
    let today = app.wait_for_css("#export-from").await.prop("value").await;
    let today = today.unwrap().expect("the first day is filled in");
    assert_eq!(today.len(), 10, "DD/MM/YYYY: {today}");
    assert_eq!(&today[2..3], "/", "DD/MM/YYYY: {today}");
    app.type_into("#export-from", "31/02/2026").await;
    app.click("#export").await;
    app.wait_for_text(
        "#export-result",
        "the first day '31/02/2026' is not a date: write it as DD/MM/YYYY",
    )
    .await;
    app.type_into("#export-from", &today).await;
    app.click("#export").await;
    let written = app.wait_for_text("#export-result", "Written to").await;
    app.screenshot("08-dashboard").await;
    let path = written
        .trim_start_matches("Written to ")
        .split(".pdf")
        .next()
        .map(|p| format!("{p}.pdf"))
        .unwrap();
    assert!(path.starts_with(dir.path().to_str().unwrap()), "{path}");
    let pdf = std::fs::read(&path).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF at {path}");

    // The help overlay lists the shortcuts; Escape closes it.
    app.press(keys::F1).await;
    app.wait_for_text("#help", "Call the next citizen").await;
    app.screenshot("07-help").await;
    app.press(keys::ESCAPE).await;
    assert!(
        !app.wait_for_css("#help")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "the help closes with Escape"
    );
    app.quit().await;

    // What the window did is in the local replica.
    let ws = open_store(dir.path(), "eleni");
    let request = ws.request(&receipt).unwrap();
    assert_eq!(request.summary.status, RequestStatus::Submitted);
    assert_eq!(
        request.summary.paid_minor, 500,
        "6.00 paid, 1.00 given back"
    );
    assert_eq!(
        (
            request.refunds[0].clerk.as_str(),
            request.refunds[0].approver.as_str()
        ),
        ("eleni", "kostas")
    );
    assert_eq!(request.form.get("prints").map(String::as_str), Some("2"));
    assert!(request.visit_id.is_some(), "taken during the visit");
    let ticket = ws.ticket(&code).unwrap();
    assert_eq!(ticket.status.as_str(), "done");
    assert!(ws.verify_audit().unwrap().result.is_ok());
}

/// The app over `dir`, enrolled through its first screen with `server`, whose centre gets the
/// clerk nikos; the login screen is up.
async fn enrolled_app(server: &Server, display: &Display, dir: &std::path::Path) -> App {
    server
        .add_clerk(CENTER, "nikos", "Nikos Georgiou", Role::Clerk)
        .await;
    let code = server
        .office
        .issue_enrolment_code(CENTER, chrono::Duration::hours(1))
        .await
        .unwrap();
    let app = App::launch(app_binary(), display, dir).await;
    app.enrol(&server.url, &code.code).await;
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_work_reaches_the_back_office_and_its_decision_comes_back() {
    let _one = ONE_WINDOW.lock().await;
    let mut server = Server::start(CENTER).await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = enrolled_app(&server, &display, dir.path()).await;
    // The centre's accounts came with the enrolment: its clerk logs in.
    app.type_into("#login-username", "nikos").await;
    app.type_into("#login-password", "not the password").await;
    app.click("#login-submit").await;
    app.wait_for_text("#login-error", "wrong").await;
    app.type_into("#login-password", DEMO_PASSWORD).await;
    app.click("#login-submit").await;
    app.wait_for_css("#issue-ticket").await;
    app.wait_for_text("#header-clerk", "Nikos").await;
    app.wait_for_text("#status-state", "Online").await;

    // The link goes down; the clerk keeps working.
    server.crash().await;
    app.press(keys::F3).await;
    let receipt = take_id_photos(&app, 11, None).await;
    app.click("#nav-requests").await;
    app.click(&format!("button[data-receipt='{receipt}']"))
        .await;
    app.click("#do-dispatch").await;
    app.wait_for_text("#detail-status", "dispatched").await;
    app.wait_for_text("#status-state", "Offline").await;
    let waiting = app.wait_for_text("#status-waiting", "waiting").await;
    assert!(!waiting.starts_with("0 "), "{waiting}");
    app.screenshot("09-offline-waiting").await;

    // It comes back: everything goes up, nothing is left waiting.
    server.restart().await;
    app.press(keys::F5).await;
    app.wait_for_text("#status-waiting", "All changes sent")
        .await;
    app.wait_for_text("#status-state", "Online").await;
    app.screenshot("10-synced").await;

    // The agency decides; the decision reaches the window at the next sync.
    server
        .office
        .agency_decide(&receipt, Action::TakeInProcessing, None, "agency:anna")
        .await
        .unwrap();
    server
        .office
        .agency_decide(&receipt, Action::MarkReady, None, "agency:anna")
        .await
        .unwrap();
    app.press(keys::F5).await;
    let deadline = std::time::Instant::now() + driver::WAIT;
    loop {
        app.click(&format!("button[data-receipt='{receipt}']"))
            .await;
        if app.text("#detail-status").await.contains("ready") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the decision never came"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    app.wait_for_text("#timeline", "agency").await;
    app.screenshot("11-agency-decision").await;
    app.quit().await;

    // Nothing waits but the login this check itself made to open the database.
    let ws = open_store(dir.path(), "nikos");
    let waiting: Vec<String> = ws
        .outbox(Some(OutboxState::Pending), 10)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(waiting, ["clerk.session"]);
    assert_eq!(
        ws.request(&receipt).unwrap().summary.status,
        RequestStatus::Ready
    );
    server.shutdown().await;
}

/// The laptop is reported stolen: revoked with a wipe. At its next contact the window delivers
/// what waits, erases the data, and says so; the first screen follows, saying what happened.
#[tokio::test(flavor = "multi_thread")]
async fn a_device_revoked_with_a_wipe_erases_its_data_and_says_so() {
    let _one = ONE_WINDOW.lock().await;
    let server = Server::start(CENTER).await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = enrolled_app(&server, &display, dir.path()).await;
    app.log_in("nikos", DEMO_PASSWORD).await;
    app.wait_for_text("#status-state", "Online").await;
    let device = server.office.devices(Some(CENTER)).await.unwrap()[0]
        .code
        .clone();
    server.office.revoke_device(&device, true).await.unwrap();
    app.press(keys::F5).await;
    app.wait_for_css("#withdrawn[data-phase=wiped]").await;
    app.wait_for_text("#withdrawn-text", "was delivered").await;
    app.screenshot("29-withdrawn").await;
    app.click("#withdrawn-continue").await;
    app.wait_for_text("#erased-note", &device).await;
    app.wait_for_css("#setup-standalone").await;
    app.quit().await;
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left
            .iter()
            .any(|n| n.starts_with("guichet.sqlite3") || n == "keys.json"),
        "{left:?}"
    );
    assert!(left.iter().any(|n| n == "erased.json"), "{left:?}");
    let gone = &server.office.devices(Some(CENTER)).await.unwrap()[0];
    assert_eq!(gone.standing(), "wiped");
    server.shutdown().await;
}

/// A new centre set up in French: what was typed in English is still there after the switch,
/// a time zone the window does not know is refused in French, and the recovery key is shown
/// in French until it is written down.
#[tokio::test(flavor = "multi_thread")]
async fn the_first_screen_keeps_what_was_typed_and_refuses_in_french() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.wait_for_css("#setup-standalone").await;
    app.type_into("#setup-admin-username", "lea").await;
    app.type_into("#setup-admin-name", "Léa Martin").await;
    app.type_into("#setup-admin-password", DEMO_PASSWORD).await;
    app.type_into("#setup-admin-password2", DEMO_PASSWORD).await;
    // The list of zones the field suggests closes as the focus moves on.
    app.type_into("#setup-time-zone", "Europe/Atlantis").await;
    app.press(keys::TAB).await;
    app.select("#language", "fr").await;
    app.wait_for_text("#firstrun-title", "Configurer ce poste")
        .await;
    for (field, typed) in [
        ("#setup-admin-username", "lea"),
        ("#setup-admin-name", "Léa Martin"),
        ("#setup-admin-password", DEMO_PASSWORD),
        ("#setup-time-zone", "Europe/Atlantis"),
    ] {
        let value = app
            .wait_for_css(field)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert_eq!(value, typed, "{field} after the switch to French");
    }
    app.click("#setup-standalone button[type=submit]").await;
    app.wait_for_text(
        "#setup-standalone .error",
        "« Europe/Atlantis » n'est pas un fuseau horaire",
    )
    .await;
    app.screenshot("00-first-run-french-refused").await;
    app.type_into("#setup-time-zone", "Europe/Paris").await;
    app.press(keys::TAB).await;
    app.click("#setup-standalone button[type=submit]").await;
    app.wait_for_text("#recovery-title", "Notez la clé de secours")
        .await;
    // The navigation and the logout, which would lose the key, are not shown.
    for control in ["#nav-queue", "#logout-button"] {
        let shown = app
            .wait_for_css(control)
            .await
            .is_displayed()
            .await
            .unwrap();
        assert!(!shown, "{control} is shown beside the recovery key");
    }
    app.screenshot("00-recovery-key-french").await;
    app.click("#recovery-done").await;
    app.wait_for_css("#issue-ticket").await;
    app.wait_for_text("#header-clerk", "Léa Martin").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_language_switches_while_running() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("lea", "Léa Martin").await;
    app.select("#language", "fr").await;
    app.wait_for_text("#nav-queue", "File d'attente").await;
    app.wait_for_text("#status-state", "Autonome").await;
    app.press(keys::F4).await;
    app.type_into("#service-search", "photos").await;
    app.click("#service-results button[data-code='id-photos']")
        .await;
    // Money and dates as French writes them.
    let fee = app.wait_for_text("#detail-fee", "6,00").await;
    assert!(fee.contains('€'), "{fee}");
    // French uses the singular for zero too: the photos take no working day.
    app.wait_for_text("#detail-due", "0 jour ouvré,").await;
    // The core's own refusal, in French too.
    app.type_into("#form-prints", "5").await;
    app.wait_for_text("#service-form .field-error", "doit valoir au plus 4")
        .await;
    app.screenshot("12-french").await;
    app.select("#language", "en").await;
    app.wait_for_text("#nav-queue", "Queue").await;
    app.quit().await;
}

/// A document the citizen hands in after the request was taken is ticked on the request itself;
/// until then the submission is refused with the names of the documents still missing.
#[tokio::test(flavor = "multi_thread")]
async fn a_document_brought_late_is_ticked_on_the_request() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.click("#nav-intake").await;
    app.find_or_register(&citizen(21)).await;
    open_parking_permit(&app).await;
    let receipt = take_request(&app).await;
    app.wait_for_text("#request-status", "draft").await;

    app.click("#submit-request").await;
    let refusal = app
        .wait_for_text("#submit-error", "Vehicle registration certificate")
        .await;
    assert!(refusal.contains("Proof of address"), "{refusal}");
    app.wait_for_text("#taken-documents-missing", "2 documents not received")
        .await;
    app.screenshot("14-documents-missing").await;

    tick_document(&app, "vehicle-registration").await;
    assert_eq!(app.text("#submit-error").await, "", "cleared by the tick");
    app.click("#submit-request").await;
    let refusal = app.wait_for_text("#submit-error", "Proof of address").await;
    assert!(!refusal.contains("Vehicle registration"), "{refusal}");

    // The last one ticked from the keyboard: the list is drawn again, the focus stays on it.
    app.script("document.querySelector('#taken-documents-proof-of-address').focus();")
        .await;
    app.press(keys::SPACE).await;
    app.wait_for_css("#taken-documents li.received input[data-document='proof-of-address']")
        .await;
    focus_reaches(&app, "taken-documents-proof-of-address").await;
    app.click("#submit-request").await;
    app.wait_for_text("#request-status", "submitted").await;
    assert!(
        !app.wait_for_css("#taken-documents-vehicle-registration")
            .await
            .is_enabled()
            .await
            .unwrap(),
        "a submitted request's documents are fixed"
    );
    app.quit().await;

    let ws = open_store(dir.path(), "eleni");
    let request = ws.request(&receipt).unwrap();
    assert_eq!(request.summary.status, RequestStatus::Submitted);
    assert!(request.documents.iter().all(|d| d.received));
}

/// Cancelling a request once submitted and paid is never one click: it asks why, says what
/// becomes of the money, and takes a supervisor's approval; without a reason nothing changes.
#[tokio::test(flavor = "multi_thread")]
async fn a_paid_request_is_cancelled_only_with_a_reason_and_a_confirmation() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    let mut store = open_store(dir.path(), "eleni");
    store
        .add_clerk(&guichet_fixtures::clerk("kostas", Role::Supervisor))
        .unwrap();
    drop(store);
    app.click("#nav-intake").await;
    let receipt = take_id_photos(&app, 22, None).await;
    app.click("#nav-requests").await;
    app.click(&format!("button[data-receipt='{receipt}']"))
        .await;
    app.wait_for_text("#detail-status", "submitted").await;

    // The button only opens the confirmation; "Keep the request" closes it.
    app.click("#do-cancel").await;
    let money = app.wait_for_text("#cancel-money", "€6.00 was paid").await;
    assert!(money.contains("does not give it back"), "{money}");
    app.click("#keep-request").await;
    assert!(
        !app.wait_for_css("#cancel-form")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    app.click("#do-cancel").await;
    app.click("#confirm-cancel").await;
    app.wait_for_text("#cancel-error", "needs a reason").await;
    assert_eq!(app.text("#detail-status").await, "submitted");
    app.type_into("#cancel-reason", "the citizen moved abroad")
        .await;
    app.click("#confirm-cancel").await;
    app.wait_for_text("#cancel-error", "a supervisor must approve")
        .await;
    assert_eq!(app.text("#detail-status").await, "submitted");
    app.type_into("#cancel-approval-approver", "kostas").await;
    app.type_into("#cancel-approval-approver-password", DEMO_PASSWORD)
        .await;
    app.screenshot("15-cancel-confirmation").await;
    app.click("#confirm-cancel").await;
    app.wait_for_text("#detail-status", "cancelled").await;
    app.wait_for_text("#detail-status", "the citizen moved abroad")
        .await;
    // The money is still there, and can be given back.
    app.wait_for_text("#payments", "6.00").await;
    app.wait_for_css("#refund-form").await;
    app.quit().await;

    let ws = open_store(dir.path(), "eleni");
    let request = ws.request(&receipt).unwrap();
    assert_eq!(request.summary.status, RequestStatus::Cancelled);
    assert_eq!(request.summary.paid_minor, 600);
}

/// Amounts are read as the window's language writes them: an amount that reads two ways is
/// refused and nothing is recorded; the amount due, typed as shown, is taken; each payment is
/// confirmed with its amount and listed on the request.
#[tokio::test(flavor = "multi_thread")]
async fn money_is_read_in_the_clerks_language_and_every_payment_is_confirmed() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.click("#nav-intake").await;
    app.find_or_register(&citizen(23)).await;
    open_parking_permit(&app).await;
    let english = take_request(&app).await;
    assert_eq!(amount_due(&app).await, "€45.00");

    app.type_into("#pay-amount", "4,5").await;
    app.click("#pay").await;
    let refusal = app
        .wait_for_text("#payment-error", "can be read two ways")
        .await;
    assert!(
        refusal.contains("4.50") && refusal.contains("45"),
        "{refusal}"
    );
    app.screenshot("16-ambiguous-amount").await;
    assert_eq!(amount_due(&app).await, "€45.00", "nothing was recorded");
    app.type_into("#pay-amount", "20").await;
    assert_eq!(
        app.text("#payment-error").await,
        "",
        "cleared as the clerk types"
    );
    app.click("#pay").await;
    app.wait_for_text("#payment-recorded", "€20.00 recorded")
        .await;
    let due = amount_due(&app).await;
    assert_eq!(due, "€25.00");
    app.type_into("#pay-amount", &due).await;
    app.click("#pay").await;
    app.wait_for_text("#payment-recorded", "€25.00 recorded")
        .await;
    app.wait_for_text("#fee-settled", "€45.00").await;
    let payments = app.text("#taken-payments").await;
    assert!(
        payments.contains("€20.00") && payments.contains("€25.00"),
        "{payments}"
    );
    app.screenshot("17-payments-confirmed").await;

    // In French the comma is the decimal mark: "45.00" reads two ways, "45,00 €" is taken.
    app.select("#language", "fr").await;
    app.wait_for_text("#nav-queue", "File d'attente").await;
    app.click("#nav-intake").await;
    app.wait_for_css("#citizen-chosen").await;
    open_parking_permit(&app).await;
    let french = take_request(&app).await;
    app.type_into("#pay-amount", "45.00").await;
    app.click("#pay").await;
    app.wait_for_text("#payment-error", "peut se lire de deux façons")
        .await;
    let due = app.wait_for_text("#fee-due", "€").await;
    let due = due.split_once(": ").unwrap().1.to_owned();
    app.type_into("#pay-amount", &due).await;
    app.click("#pay").await;
    app.wait_for_text("#payment-recorded", "enregistrés").await;
    app.wait_for_text("#taken-payments", "45,00").await;
    app.quit().await;

    let ws = open_store(dir.path(), "eleni");
    let paid = |receipt: &str| {
        ws.request(receipt)
            .unwrap()
            .payments
            .iter()
            .map(|p| p.amount.minor)
            .collect::<Vec<_>>()
    };
    assert_eq!(paid(&english), [2000, 2500]);
    assert_eq!(paid(&french), [4500]);
}

/// Ending a visit with a request left as a draft or unpaid names each and asks first.
#[tokio::test(flavor = "multi_thread")]
async fn ending_a_visit_with_unfinished_requests_asks_first() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    let code = serve_a_ticket(&app).await;
    app.click("#intake").await;
    app.find_or_register(&citizen(24)).await;
    open_parking_permit(&app).await;
    let receipt = take_request(&app).await;

    app.click("#end-visit").await;
    let warning = app
        .wait_for_text(
            "#end-visit-warning",
            "1 request of this visit is not finished",
        )
        .await;
    assert!(warning.contains(&receipt), "{warning}");
    assert!(warning.contains("still a draft"), "{warning}");
    assert!(warning.contains("€45.00 still to pay"), "{warning}");
    app.screenshot("18-end-visit-warning").await;
    // Going back keeps the visit, with the request on screen to finish.
    app.click("#end-visit-back").await;
    app.wait_for_text("#receipt-number", &receipt).await;
    assert!(
        !app.wait_for_css("#end-visit-warning")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    app.click("#end-visit").await;
    app.click("#end-visit-anyway").await;
    app.wait_for_css("#rate-5").await;
    app.quit().await;

    let ws = open_store(dir.path(), "eleni");
    assert_eq!(ws.ticket(&code).unwrap().status.as_str(), "done");
}

/// A new ticket is in the standard lane and for nothing until the clerk chooses: issuing it
/// without a choice says so beside the field and issues nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_ticket_starts_in_the_standard_lane_for_nothing_chosen() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    let chosen = "return [document.querySelector('#ticket-target').value, \
                  document.querySelector('#ticket-lane').value]";
    // The catalogue's categories arrive after the screen is drawn.
    app.wait_for_css("#ticket-target optgroup").await;
    assert_eq!(
        app.script(chosen).await,
        serde_json::json!(["", "standard"])
    );
    app.click("#issue-ticket").await;
    app.wait_for_text("#ticket-target-error", "Choose what the citizen comes for")
        .await;
    assert_eq!(app.text("#issued-ticket").await, "");
    app.wait_for_text("#waiting-rows", "Nobody").await;
    app.screenshot("19-ticket-target-needed").await;

    app.select("#ticket-target", "category:counter-services")
        .await;
    assert_eq!(
        app.text("#ticket-target-error").await,
        "",
        "cleared by the choice"
    );
    app.select("#ticket-lane", "elderly").await;
    app.click("#issue-ticket").await;
    app.wait_for_text("#issued-ticket", "Ticket").await;
    // The next ticket starts afresh: the priority was for that citizen only.
    assert_eq!(
        app.script(chosen).await,
        serde_json::json!(["", "standard"])
    );
    app.quit().await;
}

/// The app closed mid-visit and opened again: the counter's visit is taken up with its ticket,
/// citizen and requests, and ending it closes the ticket.
#[tokio::test(flavor = "multi_thread")]
async fn a_visit_survives_a_restart() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    let code = serve_a_ticket(&app).await;
    app.click("#intake").await;
    let receipt = take_id_photos(&app, 25, None).await;
    app.quit().await;

    let app = App::launch(app_binary(), &display, dir.path()).await;
    // The database is closed until a clerk logs in: its changes are not counted as none.
    app.wait_for_text("#status-waiting", "counted once a clerk logs in")
        .await;
    app.type_into("#login-username", "eleni").await;
    app.type_into("#login-password", DEMO_PASSWORD).await;
    app.click("#login-submit").await;
    app.wait_for_text("#header-clerk", "Eleni").await;
    app.wait_for_text("#status-waiting", "kept on this device")
        .await;
    app.click("#nav-intake").await;
    app.wait_for_text("#visit-box", &format!("Ticket {code}"))
        .await;
    app.wait_for_text("#visit-requests", &receipt).await;
    app.wait_for_text("#citizen-chosen", &citizen(25).family_name)
        .await;
    app.screenshot("20-visit-after-restart").await;
    // The request taken before opens again from the visit, to pay or submit it.
    app.click(&format!(
        "#visit-requests button[data-visit-request='{receipt}']"
    ))
    .await;
    app.wait_for_text("#receipt-number", &receipt).await;
    app.click("#end-visit").await;
    app.wait_for_css("#rate-5").await;
    app.quit().await;

    let ws = open_store(dir.path(), "eleni");
    assert_eq!(ws.ticket(&code).unwrap().status.as_str(), "done");
    assert!(ws.request(&receipt).unwrap().visit_id.is_some());
}

/// Waits until the requests screen lists exactly the requests `expected` (by receipt number).
async fn rows_become(app: &App, expected: &[&str]) {
    let deadline = std::time::Instant::now() + driver::WAIT;
    let mut expected: Vec<&str> = expected.to_vec();
    expected.sort_unstable();
    loop {
        let listed = app
            .script(
                "return [...document.querySelectorAll('#request-rows button[data-receipt]')] \
                 .map((b) => b.dataset.receipt).sort()",
            )
            .await;
        if listed == serde_json::json!(expected) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the list shows {listed}, not {expected:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The requests screen finds a request as a clerk is asked for it: by its receipt number as
/// read aloud, by the citizen's name or national id, or by the service's name.
#[tokio::test(flavor = "multi_thread")]
async fn the_requests_screen_finds_by_receipt_citizen_or_service() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.click("#nav-intake").await;
    let photos = take_id_photos(&app, 26, None).await;
    app.click("#change-citizen").await;
    let other = citizen(27);
    app.find_or_register(&other).await;
    open_parking_permit(&app).await;
    let permit = take_request(&app).await;

    app.click("#nav-requests").await;
    rows_become(&app, &[&photos, &permit]).await;
    app.type_into("#filter-text", "parking").await;
    rows_become(&app, &[&permit]).await;
    app.screenshot("21-find-by-service").await;
    app.type_into("#filter-text", &citizen(26).family_name)
        .await;
    rows_become(&app, &[&photos]).await;
    app.type_into("#filter-text", &other.national_id).await;
    rows_become(&app, &[&permit]).await;
    app.type_into("#filter-text", &photos.replace('-', "").to_lowercase())
        .await;
    rows_become(&app, &[&photos]).await;
    app.type_into("#filter-text", "nobody by that name").await;
    rows_become(&app, &[]).await;
    app.quit().await;
}

/// Errors appear beside what caused them, in the window's words and formats, and go when the
/// cause is fixed.
#[tokio::test(flavor = "multi_thread")]
async fn errors_sit_beside_their_cause_and_go_when_it_is_fixed() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    // Enrolment: an empty address is said beside the field; a back office that does not
    // answer is said as such, with nothing about changes waiting (none are).
    app.click("#setup-enroll button[type=submit]").await;
    app.wait_for_text("#enroll-server-error", "Type the back office's address")
        .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    app.type_into("#setup-enroll input[name=server]", &address)
        .await;
    assert_eq!(
        app.text("#enroll-server-error").await,
        "",
        "cleared as typed"
    );
    app.type_into("#setup-enroll input[name=code]", "ABCD-EFGH")
        .await;
    app.click("#setup-enroll button[type=submit]").await;
    let said = app
        .wait_for_text("#setup-enroll p.error", "does not answer")
        .await;
    assert!(
        said.contains(&address) && !said.contains("link is back"),
        "{said}"
    );
    app.screenshot("22-enrol-unreachable").await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;

    // A date is quoted back as the window writes dates, not as the core stores them.
    app.click("#nav-intake").await;
    let who = citizen(28);
    app.type_into("#citizen-id", &who.national_id).await;
    app.click("#find-citizen").await;
    app.type_into("#reg-given", &who.given_name).await;
    app.type_into("#reg-family", &who.family_name).await;
    app.type_into("#reg-born", "01/01/2099").await;
    app.click("#register-citizen").await;
    // Beside the birth date, tied to it for screen readers.
    let said = app.wait_for_text("#reg-born-error", "1 Jan 2099").await;
    assert!(!said.contains("2099-01-01"), "{said}");
    let born = app.wait_for_css("#reg-born").await;
    assert_eq!(
        born.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        born.attr("aria-describedby").await.unwrap().as_deref(),
        Some("reg-born-error")
    );
    assert_eq!(app.text("#register-error").await, "");
    app.type_into("#reg-born", &who.birth_date).await;
    assert_eq!(
        app.text("#reg-born-error").await,
        "",
        "the message goes as the field is retyped"
    );
    app.click("#register-citizen").await;
    app.wait_for_text("#citizen-chosen", &who.family_name).await;

    // The count of the form's problems follows the fields as they are corrected.
    app.type_into("#service-search", "parking").await;
    app.click("#service-results button[data-code='resident-parking-permit']")
        .await;
    app.click("#take-request").await;
    app.wait_for_text("#intake-error", "2 fields to correct")
        .await;
    app.type_into("#form-plate", "AB-123-CD").await;
    app.wait_for_text("#intake-error", "1 field to correct")
        .await;
    app.select("#form-zone", "2").await;
    let deadline = std::time::Instant::now() + driver::WAIT;
    while !app.text("#intake-error").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the count stayed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.quit().await;
}

/// The idle lock, set by the administrator to one minute: a minute without a key or a click
/// locks the screen, the work kept behind it; the password takes it up again.
#[tokio::test(flavor = "multi_thread")]
async fn the_screen_locks_itself_after_the_idle_minutes_set() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.click("#nav-dashboard").await;
    app.type_into("#settings-idle", "1").await;
    app.click("#settings-save").await;
    app.wait_for_text("#settings-result", "after 1 min").await;
    app.click("#nav-intake").await;
    app.type_into("#service-search", "photos").await;
    let idle_from = std::time::Instant::now();
    let shown = "const o = document.querySelector('#lock-overlay'); return !!o && !o.hidden;";
    loop {
        if app.script(shown).await == serde_json::json!(true) {
            break;
        }
        assert!(
            idle_from.elapsed() < std::time::Duration::from_secs(100),
            "the screen did not lock itself"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let waited = idle_from.elapsed();
    assert!(
        waited >= std::time::Duration::from_secs(50),
        "locked after {waited:?}, before the minute set"
    );
    app.wait_for_text("#lock-by", "Eleni Papadopoulou").await;
    app.type_into("#unlock-password", DEMO_PASSWORD).await;
    app.click("#unlock-submit").await;
    app.wait_for_text("#header-clerk", "Eleni").await;
    let kept = app
        .script("return document.querySelector('#service-search').value;")
        .await;
    assert_eq!(
        kept,
        serde_json::json!("photos"),
        "the work stayed behind the lock"
    );
    app.quit().await;
}

/// Whether the element `css` is whole in the window, between the sticky header and the status
/// bar (what the clerk sees without scrolling).
async fn in_view(app: &App, css: &str) -> bool {
    let js = format!(
        "const el = document.querySelector({css:?});
         if (!el) return false;
         const r = el.getBoundingClientRect();
         const top = document.querySelector('header.top').getBoundingClientRect().bottom;
         const bottom = document.querySelector('#status-bar').getBoundingClientRect().top;
         return r.width > 0 && r.top >= top && r.bottom <= bottom;"
    );
    app.script(&js).await.as_bool().unwrap_or(false)
}

/// A number the page's script computes.
async fn measure(app: &App, js: &str) -> f64 {
    app.script(js)
        .await
        .as_f64()
        .unwrap_or_else(|| panic!("`{js}` is not a number"))
}

/// On a 1366×768 laptop in French, the header stays one line and in view, the counter's panel
/// keeps its width, and the button a clerk presses next is on screen without scrolling: on the
/// queue, on the register form and under a service's long form.
#[tokio::test(flavor = "multi_thread")]
async fn the_counter_fits_1366_by_768_and_1280_by_800_in_french_with_its_main_button_in_view() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.client
        .set_window_size(1366, 768)
        .await
        .expect("the window takes the laptop's size");
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    serve_a_ticket(&app).await;
    app.select("#language", "fr").await;
    app.wait_for_text("#nav-queue", "File d'attente").await;
    assert_eq!(
        measure(&app, "return window.innerWidth;").await,
        1366.0,
        "the window's width"
    );
    let header = measure(
        &app,
        "return document.querySelector('header.top').getBoundingClientRect().height;",
    )
    .await;
    assert!(header < 60.0, "the header takes one line: {header} px");
    let panel = measure(
        &app,
        "return document.querySelector('#current-ticket').closest('.card').getBoundingClientRect().width;",
    )
    .await;
    assert!(panel >= 300.0, "the counter's panel is {panel} px wide");
    assert!(
        in_view(&app, "#intake.primary").await,
        "« Prendre une demande » is marked and in view"
    );
    app.screenshot("23-french-1366-queue").await;

    app.click("#intake").await;
    let who = citizen(31);
    app.type_into("#citizen-id", &who.national_id).await;
    app.click("#find-citizen").await;
    app.wait_for_css("#register-form").await;
    assert!(
        in_view(&app, "#register-citizen.primary").await,
        "« Enregistrer » is in view"
    );
    app.type_into("#reg-given", &who.given_name).await;
    app.type_into("#reg-family", &who.family_name).await;
    app.type_into("#reg-born", &who.birth_date).await;
    app.click("#register-citizen").await;
    app.wait_for_text("#citizen-chosen", &who.family_name).await;
    app.type_into("#service-search", "stationnement").await;
    app.click("#service-results button[data-code='resident-parking-permit']")
        .await;
    app.wait_for_css("#take-request").await;
    // The page scrolled down to the form: the button is in view.
    assert!(
        in_view(&app, "#take-request").await,
        "« Prendre la demande » is in view"
    );
    let scrolled = measure(
        &app,
        "window.scrollTo(0, document.body.scrollHeight); return window.scrollY;",
    )
    .await;
    assert!(
        in_view(&app, "#take-request").await,
        "still in view scrolled down by {scrolled} px"
    );
    assert_eq!(
        measure(
            &app,
            "return document.querySelector('header.top').getBoundingClientRect().top;"
        )
        .await,
        0.0,
        "the header stays at the top"
    );
    app.screenshot("24-french-1366-intake").await;

    // At 1280×800 too, the French header holds on one line with nothing cut off at its end.
    app.client
        .set_window_size(1280, 800)
        .await
        .expect("the window takes the smaller size");
    let overflow = measure(
        &app,
        "const h = document.querySelector('header.top'); return h.scrollWidth - h.clientWidth;",
    )
    .await;
    assert!(
        overflow <= 0.0,
        "the header overflows by {overflow} px at 1280"
    );
    let help_right = measure(
        &app,
        "return document.querySelector('#help-button').getBoundingClientRect().right;",
    )
    .await;
    assert!(
        help_right <= 1280.0,
        "the help button ends at {help_right} px"
    );
    let header = measure(
        &app,
        "return document.querySelector('header.top').getBoundingClientRect().height;",
    )
    .await;
    assert!(
        header < 60.0,
        "the header takes one line at 1280: {header} px"
    );
    assert!(
        in_view(&app, "#take-request").await,
        "« Prendre la demande » is in view at 1280×800"
    );
    app.screenshot("25-french-1280-intake").await;
    app.quit().await;
}

/// Overwrites part of a database's first page, as a failing disk would; what the WAL held of
/// it goes too.
fn damage(database: &std::path::Path) {
    use std::io::{Seek, SeekFrom, Write};
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(database)
        .unwrap();
    file.seek(SeekFrom::Start(200)).unwrap();
    file.write_all(&[0x5a; 512]).unwrap();
    file.sync_all().unwrap();
}

/// A start that cannot write its data directory opens a window that says so and what to do,
/// and goes on once the cause is gone, without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn a_start_that_cannot_write_its_data_says_so_and_goes_on_once_fixed() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let root = TempDir::new().unwrap();
    // A file where the data directory's parent should be: the directory cannot be made, for
    // root as well (CI runs as root, whom a read-only mode would not stop).
    let blocker = root.path().join("not-a-folder");
    std::fs::write(&blocker, "").unwrap();
    let data = blocker.join("guichet");
    let app = App::launch_with_home(app_binary(), &display, &data, &root.path().join("home")).await;
    app.wait_for_css("#start-problem[data-kind='data_dir']")
        .await;
    app.wait_for_text("#trouble-what", data.to_str().unwrap())
        .await;
    app.wait_for_text("#trouble-detail", "Not a directory")
        .await;
    app.wait_for_text("#trouble-todo", "Try again").await;
    app.screenshot("26-cannot-start").await;
    app.click("#trouble-retry").await;
    app.wait_for_text("#trouble-error", "Still not possible")
        .await;

    std::fs::remove_file(&blocker).unwrap();
    app.click("#trouble-retry").await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.quit().await;
    assert!(data.join(DATABASE_FILE).exists());
}

/// A database found damaged at the login is kept aside, whole, and the computer is set up
/// again; the first screen says where the file went.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_database_is_kept_aside_and_the_computer_set_up_again() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.quit().await;
    damage(&dir.path().join(DATABASE_FILE));

    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.type_into("#login-username", "eleni").await;
    app.type_into("#login-password", DEMO_PASSWORD).await;
    app.click("#login-submit").await;
    app.wait_for_css("#start-problem[data-kind='damaged']")
        .await;
    app.wait_for_text("#trouble-todo", "set this computer up again")
        .await;
    app.screenshot("27-database-damaged").await;
    app.click("#trouble-keep-aside").await;
    let note = app
        .wait_for_text("#kept-aside-note", "guichet.sqlite3.damaged-")
        .await;
    assert!(note.contains("Set this computer up again"), "{note}");
    app.screenshot("28-kept-aside").await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.quit().await;
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("guichet.sqlite3.damaged-")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == DATABASE_FILE), "{names:?}");
}

/// The id of the focused element, or its tag when it has none ("BODY" when focus was lost).
async fn focused(app: &App) -> String {
    app.script("const el = document.activeElement; return el ? (el.id || el.tagName) : 'none';")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until focus is on the element `id`.
async fn focus_reaches(app: &App, id: &str) {
    let deadline = std::time::Instant::now() + driver::WAIT;
    loop {
        let now = focused(app).await;
        if now == id {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "focus is on `{now}`, not on `{id}`"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// After each step focus is where the clerk goes on, never on the page's body: after the
/// set-up, calling, starting, the feedback; the help keeps focus inside until it closes, then
/// gives it back; the rating key rates and types nothing into the comment.
#[tokio::test(flavor = "multi_thread")]
async fn focus_follows_each_step_and_the_help_keeps_it() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    focus_reaches(&app, "call-next").await;

    app.select("#ticket-target", "category:counter-services")
        .await;
    app.click("#issue-ticket").await;
    app.wait_for_text("#issued-ticket", "Ticket").await;
    app.click("#call-next").await;
    app.wait_for_text("#current-status", "called").await;
    focus_reaches(&app, "start").await;
    app.click("#start").await;
    app.wait_for_text("#current-status", "being served").await;
    focus_reaches(&app, "intake").await;

    app.press(keys::F1).await;
    focus_reaches(&app, "close-help").await;
    app.press(keys::TAB).await;
    focus_reaches(&app, "close-help").await;
    app.press(keys::SHIFT_TAB).await;
    focus_reaches(&app, "close-help").await;
    app.press(keys::ESCAPE).await;
    focus_reaches(&app, "intake").await;

    app.click("#finish").await;
    app.wait_for_css("#rate-5").await;
    focus_reaches(&app, "rate-5").await;
    app.press("4").await;
    focus_reaches(&app, "feedback-comment").await;
    assert_eq!(
        app.wait_for_css("#rate-4")
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        app.script("return document.querySelector('#feedback-comment').value;")
            .await
            .as_str(),
        Some(""),
        "the rating key typed nothing into the comment"
    );
    app.click("#send-feedback").await;
    app.wait_for_css("#issue-ticket").await;
    focus_reaches(&app, "call-next").await;
    app.quit().await;
}

/// The window driven now is refused a command of the clerk's window (`app_state`).
async fn refuses_the_clerks_commands(app: &App) {
    for command in ["app_state", "close_ticket_kiosk"] {
        let refused = app
            .script(&format!(
                "return window.__TAURI_INTERNALS__.invoke('{command}').then(() => 'answered', (e) => String(e));"
            ))
            .await;
        assert!(
            refused.as_str().is_some_and(|e| e.contains("not allowed")),
            "{command}: {refused}"
        );
    }
}

/// The waiting room's display opens from the queue in a window of its own, shows each call big
/// with its counter and the calls before, in both languages, is granted nothing of the
/// clerk's, and passes axe-core.
#[tokio::test(flavor = "multi_thread")]
async fn the_waiting_room_display_shows_each_call() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.wait_for_css("#issue-ticket").await;
    let first = serve_a_ticket(&app).await;
    app.click("#open-display").await;
    let clerk = app.drive_new_window().await;
    app.wait_for_text("#display-now-code", &first).await;
    let go = app.text(".display-go").await;
    assert!(
        go.contains(&format!("Ticket {first}, please go to")),
        "{go}"
    );
    assert!(
        go.contains(&format!("Numéro {first}, présentez-vous au")),
        "{go}"
    );
    let violations = app.accessibility_violations().await;
    assert!(
        violations.is_empty(),
        "axe-core finds:\n{}",
        violations.join("\n")
    );
    // The display may read the calls, nothing of the clerk's.
    refuses_the_clerks_commands(&app).await;

    // The next call comes on top, the first one goes to the list of calls before.
    app.drive(clerk).await;
    app.click("#finish").await;
    app.wait_for_css("#rate-5").await;
    // The feedback screen faces the citizen: no navigation in sight; the clerk skips it.
    let nav = app
        .wait_for_css("#nav-queue")
        .await
        .is_displayed()
        .await
        .unwrap();
    assert!(!nav, "the navigation is shown to the citizen");
    app.click("#skip-feedback").await;
    app.wait_for_css("#issue-ticket").await;
    let second = serve_a_ticket(&app).await;
    app.drive_new_window().await;
    app.wait_for_text("#display-now-code", &second).await;
    app.wait_for_text("#display-calls", &first).await;
    app.screenshot("waiting-room-display").await;
    app.quit().await;
}

/// The ticket kiosk opens from the queue in a window of its own; a citizen chooses a category
/// and a priority in their language and gets a number that the counter's queue shows; a
/// printer that fails leaves the number on the screen and a button to print again; the kiosk
/// is granted nothing of the clerk's, and each of its screens passes axe-core.
#[tokio::test(flavor = "multi_thread")]
async fn the_ticket_kiosk_gives_a_number_to_the_counters_queue() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.wait_for_css("#issue-ticket").await;
    app.click("#open-kiosk").await;
    let clerk = app.drive_new_window().await;
    let mut found = Vec::new();
    app.wait_for_text("#kiosk-question", "What do you come for?")
        .await;
    found.extend(app.accessibility_violations().await);
    app.screenshot("ticket-kiosk-choose").await;
    app.click("#kiosk-lang-fr").await;
    app.wait_for_text("#kiosk-question", "Pour quoi venez-vous")
        .await;
    app.click(".kiosk-choices button").await;
    app.wait_for_text("#kiosk-question", "priorité").await;
    found.extend(app.accessibility_violations().await);
    app.click(".kiosk-choices button").await;
    let code = app.wait_for_css("#kiosk-code").await.text().await.unwrap();
    // The tests' printer does not exist: the number stays, with a button to print again.
    app.wait_for_text("#kiosk-print-state", "ne s'est pas imprimé")
        .await;
    app.wait_for_css("#kiosk-reprint").await;
    found.extend(app.accessibility_violations().await);
    assert!(found.is_empty(), "axe-core finds:\n{}", found.join("\n"));
    app.screenshot("ticket-kiosk").await;
    refuses_the_clerks_commands(&app).await;
    // Nor can it leave full screen: the citizen reaches nothing but the kiosk.
    let refused = app
        .script(
            "return window.__TAURI_INTERNALS__.invoke('plugin:window|set_fullscreen', { label: 'kiosk', value: false }).then(() => 'answered', (e) => String(e));",
        )
        .await;
    assert!(
        refused.as_str().is_some_and(|e| e.contains("not allowed")),
        "{refused}"
    );

    app.drive(clerk).await;
    app.click("#nav-intake").await;
    app.click("#nav-queue").await;
    app.wait_for_text("#waiting-rows", &code).await;
    // The clerk's window closes the kiosk, which has no way out of its own.
    app.click("#close-kiosk").await;
    app.wait_for_windows(1).await;
    app.quit().await;
}

/// Every screen, in both languages, has no violation of WCAG 2.1 A and AA that axe-core can
/// find: the first run, the login, the queue, intake (empty, and with a request taken),
/// requests, the dashboard, the help, the lock.
#[tokio::test(flavor = "multi_thread")]
async fn every_screen_passes_axe_in_both_languages() {
    let _one = ONE_WINDOW.lock().await;
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    let mut found = Vec::new();
    let mut check = |screen: String, violations: Vec<String>| {
        found.extend(violations.into_iter().map(|v| format!("{screen}: {v}")));
    };
    app.wait_for_css("#setup-standalone").await;
    // axe-core does see a violation when there is one: an image without a text alternative.
    app.script("const i = document.createElement('img'); i.id = 'axe-probe'; i.src = 'data:,'; document.body.append(i);")
        .await;
    let probe = app.accessibility_violations().await;
    assert!(
        probe
            .iter()
            .any(|v| v.starts_with("image-alt") && v.contains("#axe-probe")),
        "{probe:?}"
    );
    app.script("document.getElementById('axe-probe').remove();")
        .await;
    check("first run".into(), app.accessibility_violations().await);
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    for (lang, queue) in [("en", "Queue"), ("fr", "File d'attente")] {
        app.select("#language", lang).await;
        app.wait_for_text("#nav-queue", queue).await;
        for screen in ["queue", "intake", "requests", "dashboard"] {
            app.click(&format!("#nav-{screen}")).await;
            app.wait_for_css(&format!("#nav-{screen}[aria-current='page']"))
                .await;
            check(
                format!("{screen} ({lang})"),
                app.accessibility_violations().await,
            );
        }
        // The help, and a request taken with its receipt, its payment and its form.
        app.press(keys::F1).await;
        app.wait_for_css("#help:not([hidden])").await;
        check(
            format!("help ({lang})"),
            app.accessibility_violations().await,
        );
        app.press(keys::ESCAPE).await;
        if lang == "en" {
            app.click("#nav-intake").await;
            take_id_photos(&app, 31, None).await;
            app.wait_for_css("#print-receipt").await;
            check(
                "intake, a request taken (en)".into(),
                app.accessibility_violations().await,
            );
        }
        lock(&app).await;
        check(
            format!("lock ({lang})"),
            app.accessibility_violations().await,
        );
        app.type_into("#unlock-password", DEMO_PASSWORD).await;
        app.click("#unlock-submit").await;
        app.wait_for_text("#header-clerk", "Eleni").await;
    }
    app.click("#logout-button").await;
    app.wait_for_css("#login-username").await;
    check("login (fr)".into(), app.accessibility_violations().await);
    app.select("#language", "en").await;
    app.wait_for_css("#login-username").await;
    check("login (en)".into(), app.accessibility_violations().await);
    assert!(found.is_empty(), "axe-core finds:\n{}", found.join("\n"));
    app.quit().await;
}
