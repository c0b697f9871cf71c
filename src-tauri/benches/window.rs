//! The desktop app's figures, measured in the real window under Xvfb: time from launch to an
//! interactive first screen, resident memory after a session of 100 requests, and the time
//! of every clerk action at p50 and p95, by kind: from the key, click or choice that started
//! it (a search's or a check's pause after the last key included) to the updated screen
//! painted, through the core.
//!
//! Start and actions are measured through WebDriver, but for the keys of the search and of the
//! form, which are typed through the X server (XTEST, `xdotool`) as a keyboard types them:
//! WebDriver's keys reach the page as separate events tens of milliseconds apart (a key's
//! `keydown` 31 ms before its `input` at the median, 73 ms at p95), a delay no keyboard
//! has, which the time from the key would count. Memory is measured on a second session
//! driven from inside the page (feature `bench-driver`), so the figure is the app's and not
//! the test tool's: while WebDriver's automation is attached, WebKit keeps even form controls
//! the page made and never showed, which a clerk's window frees.
//!
//! `cargo bench -p guichet-app --features bench-driver --bench window` (needs Xvfb, xdotool,
//! tauri-driver, WebKitWebDriver). `GUICHET_BENCH_ONLY=memory` runs the page-driven session
//! alone, in about two minutes rather than eight.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use guichet_domain::keyslot::RecoveryKey;
use guichet_fixtures::history::citizen;
use guichet_tests::window::{App, Display, mb, memory_table, percentile, tree_memory};
use tempfile::TempDir;

fn app_binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_guichet-app"))
}

/// The session's length; `GUICHET_BENCH_REQUESTS` shortens it for a quick look.
fn requests() -> u32 {
    std::env::var("GUICHET_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
}
const LAUNCHES: usize = 5;

/// Types `text` into the field `css` as a keyboard does: the field is focused through WebDriver,
/// the pointer put over the window (the X server, with no window manager, sends keys to the
/// window under it) and the keys typed through the X server, 40 ms apart.
async fn keys(app: &App, display: &Display, css: &str, text: &str) {
    app.wait_for_css(css).await.clear().await.expect("clear");
    app.click(css).await;
    xdotool(display, &["mousemove", "200", "200"]);
    xdotool(display, &["type", "--delay", "40", "--", text]);
    let value = format!("return document.querySelector({css:?}).value");
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.script(&value).await != text {
        assert!(
            Instant::now() < deadline,
            "{css} never held {text:?}: keys lost?"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `xdotool` with `args` on the bench's X server.
fn xdotool(display: &Display, args: &[&str]) {
    let status = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", &display.name)
        .status()
        .expect("xdotool (Debian: apt-get install xdotool)");
    assert!(status.success(), "xdotool {args:?}: {status}");
}

/// The logins timed after the session's first: out and in again.
const LOGINS: usize = 20;

/// Logs the set-up's administrator in on the login screen as a clerk does: the password typed
/// and Enter pressed on the keyboard (through the X server), which is what the login is timed
/// from.
async fn log_in(app: &App, display: &Display) {
    app.type_into("#login-username", "eleni").await;
    keys(
        app,
        display,
        "#login-password",
        guichet_fixtures::DEMO_PASSWORD,
    )
    .await;
    xdotool(display, &["key", "Return"]);
    app.wait_for_css("#issue-ticket").await;
}

/// Sets up a standalone workstation in `data_dir` through the first-run screen.
/// Sets a workstation up in `data_dir` through its window; returns its recovery key.
async fn set_up(display: &Display, data_dir: &Path) -> RecoveryKey {
    let app = App::launch(app_binary(), display, data_dir).await;
    let key = app.set_up_standalone("eleni", "Eleni").await;
    app.quit().await;
    RecoveryKey::parse(&key).expect("the recovery key the window showed")
}

#[tokio::main]
async fn main() {
    let memory_only = match std::env::var("GUICHET_BENCH_ONLY") {
        Err(_) => false,
        Ok(part) if part == "memory" => true,
        Ok(part) => panic!(
            "GUICHET_BENCH_ONLY={part}: the only part that runs alone is `memory`; unset it to run the whole bench"
        ),
    };
    let requests = requests();
    let display = Display::start();
    let mut out = std::io::stdout().lock();
    if memory_only {
        let met = memory_figures(
            &mut out,
            requests,
            &driven_session(&display, requests).await,
        );
        finish(display, met);
        return;
    }

    // Start: the median of fresh launches on a set-up workstation.
    let dir = TempDir::new().unwrap();
    let _recovery = set_up(&display, dir.path()).await;
    let mut starts = Vec::new();
    for _ in 0..LAUNCHES {
        let app = App::launch(app_binary(), &display, dir.path()).await;
        starts.push(app.started_in.as_secs_f64() * 1000.0);
        app.quit().await;
    }
    let median_start = percentile(&mut starts.clone(), 50.0);
    let start_met = median_start <= START_TARGET_MS;
    writeln!(
        out,
        "start to the interactive login screen: median {median_start:.0} ms of {LAUNCHES} launches (target {START_TARGET_MS} ms: {}); all {starts:.0?}",
        verdict(start_met)
    )
    .unwrap();

    // A session of 100 requests: for each, a ticket issued, called, served, one request taken
    // (citizen found or registered, service searched, form filled, paid, submitted), finished
    // and rated.
    let app = App::launch(app_binary(), &display, dir.path()).await;
    log_in(&app, &display).await;
    for n in 0..requests {
        app.select("#ticket-target", "category:counter-services")
            .await;
        app.click("#issue-ticket").await;
        app.wait_for_text("#issued-ticket", "Ticket").await;
        app.click("#call-next").await;
        app.wait_for_text("#current-status", "called").await;
        app.click("#start").await;
        app.wait_for_text("#current-status", "being served").await;
        app.click("#intake").await;
        let who = citizen(n % 40);
        app.find_or_register(&who).await;
        keys(&app, &display, "#service-search", "photos").await;
        app.click("#service-results button[data-code='id-photos']")
            .await;
        keys(&app, &display, "#form-prints", "1").await;
        app.click("#take-request").await;
        app.wait_for_css("#receipt-number").await;
        app.click("#pay").await;
        app.wait_for_css("#fee-settled").await;
        app.click("#submit-request").await;
        app.wait_for_text("#request-status", "submitted").await;
        app.click("#end-visit").await;
        app.click("#rate-5").await;
        app.click("#send-feedback").await;
        app.wait_for_css("#issue-ticket").await;
    }
    let under_webdriver = app.memory();
    // A counter changes hands during the day (shifts, breaks, a shared desk): the clerk logs
    // out and in again, so that the login has a percentile rather than one sample.
    for _ in 0..LOGINS {
        app.click("#logout-button").await;
        app.wait_for_css("#login-form").await;
        log_in(&app, &display).await;
    }
    let timings = app.timings().await;
    let mut all: Vec<f64> = timings.iter().map(|(_, ms)| *ms).collect();
    let mut labels: Vec<&str> = timings.iter().map(|(l, _)| l.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    writeln!(
        out,
        "clerk actions, from the key or click to the screen painted (debounce included): {} timed, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; target p95 {ACTION_P95_TARGET_MS} ms for each kind:",
        all.len(),
        percentile(&mut all, 50.0),
        percentile(&mut all, 95.0),
        percentile(&mut all, 100.0),
    )
    .unwrap();
    let mut actions_met = true;
    for label in labels {
        let mut samples: Vec<f64> = timings
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, ms)| *ms)
            .collect();
        let p95 = percentile(&mut samples, 95.0);
        actions_met &= p95 <= ACTION_P95_TARGET_MS;
        writeln!(
            out,
            "  {label:<16} n={:<4} p50 {:>6.1} ms  p95 {p95:>6.1} ms  {}",
            samples.len(),
            percentile(&mut samples, 50.0),
            verdict(p95 <= ACTION_P95_TARGET_MS)
        )
        .unwrap();
    }
    app.quit().await;

    let (_, pss) = totals(&under_webdriver);
    writeln!(
        out,
        "memory after the same session under WebDriver: {pss:.0} MB PSS"
    )
    .unwrap();
    let memory_met = memory_figures(
        &mut out,
        requests,
        &driven_session(&display, requests).await,
    );
    finish(display, start_met && actions_met && memory_met);
}

/// Start to an interactive first screen (issue 4).
const START_TARGET_MS: f64 = 1500.0;
/// Each kind of clerk action, 95th percentile from its input (issues 4 and 23).
const ACTION_P95_TARGET_MS: f64 = 100.0;
/// The app and WebKit's processes after 100 visits, with nothing of WebKit left out (issue 23).
const MEMORY_TARGET_MB: f64 = 220.0;

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Ends the bench: non-zero when a target was missed (its line above says NOT met).
/// Stops the X server, then exits non-zero if a target was missed (`exit` runs no `Drop`: an
/// X server left running would share its pages with the next run and lower its PSS).
fn finish(display: Display, all_met: bool) {
    drop(display);
    if !all_met {
        std::process::exit(1);
    }
}

/// What the page-driven session of `requests` visits leaves: the totals and a line a process;
/// whether the target is met.
fn memory_figures(
    out: &mut impl std::io::Write,
    requests: u32,
    memory: &[(String, u64, u64)],
) -> bool {
    let (rss, pss) = totals(memory);
    let met = pss <= MEMORY_TARGET_MB;
    writeln!(
        out,
        "memory after {requests} requests driven in the page: {pss:.0} MB proportional (PSS, shared pages counted once), {rss:.0} MB summed RSS (target {MEMORY_TARGET_MB} MB PSS: {})",
        verdict(met)
    )
    .unwrap();
    write!(out, "{}", memory_table(memory)).unwrap();
    met
}

/// Summed RSS and PSS, in MB.
fn totals(memory: &[(String, u64, u64)]) -> (f64, f64) {
    let (rss, pss) = memory
        .iter()
        .fold((0, 0), |(r, p), (_, rss, pss)| (r + rss, p + pss));
    (mb(rss), mb(pss))
}

/// The visits of the WebDriver session, done by a script in the page: the same clicks on the
/// same buttons, and text typed character by character, each raising the events a key does.
const DRIVER: &str = r##"(async () => {
  const visits = __VISITS__;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const $ = (css) => document.querySelector(css);
  async function until(test, what) {
    for (let i = 0; i < 2000; i++) {
      const found = test();
      if (found) return found;
      await sleep(10);
    }
    throw new Error(`${what} never came`);
  }
  const click = async (css) => (await until(() => $(css), css)).click();
  const says = (css, text) => until(() => $(css)?.textContent.includes(text), `${css} saying ${text}`);
  async function type(css, text) {
    const field = await until(() => $(css), css);
    field.focus();
    field.value = "";
    for (const character of text) {
      field.value += character;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      await sleep(0);
    }
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }
  await until(() => document.body.dataset.ready === "true" && $("#login-form"), "the login screen");
  await type("#login-username", "eleni");
  await type("#login-password", __PASSWORD__);
  await click("#login-submit");
  await until(() => $("#issue-ticket"), "the queue screen");
  for (const [nationalId, given, family, born] of visits) {
    const target = await until(() => $("#ticket-target option[value='category:counter-services']") && $("#ticket-target"), "the ticket's target");
    target.value = "category:counter-services";
    target.dispatchEvent(new Event("change", { bubbles: true }));
    await click("#issue-ticket");
    await says("#issued-ticket", "Ticket");
    await click("#call-next");
    await says("#current-status", "called");
    await click("#start");
    await says("#current-status", "being served");
    await click("#intake");
    await type("#citizen-id", nationalId);
    await click("#find-citizen");
    await until(() => $("#register-form, #citizen-results button.choice"), "the citizen");
    if ($("#register-form")) {
      await type("#reg-given", given);
      await type("#reg-family", family);
      await type("#reg-born", born);
      await click("#register-citizen");
    } else {
      await click("#citizen-results button.choice");
    }
    await says("#citizen-chosen", family);
    await type("#service-search", "photos");
    await click("#service-results button[data-code='id-photos']");
    await type("#form-prints", "1");
    await click("#take-request");
    await until(() => $("#receipt-number"), "the receipt");
    await click("#pay");
    await until(() => $("#fee-settled"), "the payment");
    await click("#submit-request");
    await says("#request-status", "submitted");
    await click("#end-visit");
    await click("#rate-5");
    await click("#send-feedback");
    await until(() => $("#issue-ticket"), "the queue screen");
  }
})();"##;

/// Runs `requests` visits on a fresh workstation with the app started directly (no WebDriver)
/// and `DRIVER` in its page; returns the memory of the app and WebKit's processes once the
/// last visit's feedback is stored.
async fn driven_session(display: &Display, requests: u32) -> Vec<(String, u64, u64)> {
    let dir = TempDir::new().unwrap();
    let recovery = set_up(display, dir.path()).await;

    let visits: Vec<[String; 4]> = (0..requests)
        .map(|n| {
            let who = citizen(n % 40);
            [
                who.national_id,
                who.given_name,
                who.family_name,
                who.birth_date,
            ]
        })
        .collect();
    let script = dir.path().join("driver.js");
    std::fs::write(
        &script,
        DRIVER
            .replace("__VISITS__", &serde_json::to_string(&visits).unwrap())
            .replace(
                "__PASSWORD__",
                &serde_json::to_string(guichet_fixtures::DEMO_PASSWORD).unwrap(),
            ),
    )
    .unwrap();
    let mut child = Command::new(app_binary())
        .env("DISPLAY", &display.name)
        .env("GUICHET_DATA_DIR", dir.path())
        .env("HOME", dir.path().join("home"))
        .env("GUICHET_BENCH_DRIVER", &script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the app");
    // The database is encrypted: the recovery key opens it, once, beside the app.
    let database = guichet_workstation::store::open_with_recovery_key(dir.path(), &recovery)
        .expect("the recovery key opens the workstation's database");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    loop {
        let done = feedback_count(&database);
        if done >= requests {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the driver in the page stopped after {done} of {requests} visits, {} s after the \
             start; the last acts recorded:\n{}\nthe end of the app's log:\n{}",
            started.elapsed().as_secs(),
            last_acts(&database),
            log_tail(dir.path()),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The last feedback is stored; let the window draw the queue screen it returns to.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let memory = tree_memory(child.id());
    let _ = child.kill();
    let _ = child.wait();
    memory
}

/// The last acts of the audit trail, oldest first, one a line: what the app did last when a
/// session stops.
fn last_acts(database: &rusqlite::Connection) -> String {
    let read = || -> rusqlite::Result<Vec<String>> {
        let mut stmt = database.prepare(
            "SELECT at, action, entity_kind FROM audit_events ORDER BY seq DESC LIMIT 8",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(format!(
                "  {} {} ({})",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?
            ))
        })?;
        rows.collect()
    };
    match read() {
        Ok(mut acts) => {
            acts.reverse();
            acts.join("\n")
        }
        Err(e) => format!("  (the audit trail could not be read: {e})"),
    }
}

/// The last lines of the app's log in `data_dir`.
fn log_tail(data_dir: &Path) -> String {
    match std::fs::read_to_string(data_dir.join(guichet_app::LOG_FILE)) {
        Ok(log) => {
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(15)..].join("\n")
        }
        Err(e) => format!("(no log: {e})"),
    }
}

fn feedback_count(database: &rusqlite::Connection) -> u32 {
    database
        .query_row("SELECT count(*) FROM feedback", [], |row| row.get(0))
        .unwrap_or(0)
}
