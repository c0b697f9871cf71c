//! Drives the desktop app's real window: an X server of its own (Xvfb), `tauri-driver` in front of
//! WebKitWebDriver, and a WebDriver session (fantoccini) on the app binary Cargo built.
//!
//! Every wait has a timeout; tauri-driver is stopped with SIGTERM (a killed one orphans
//! WebKitWebDriver, which keeps its port); each session gets its own ports, display and data
//! directory. A missing tool fails the test with what to install: these tests never skip.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use guichet_workstation::store::NewCitizen;
use serde_json::{Value, json};

/// How long any one thing may take to appear.
pub const WAIT: Duration = Duration::from_secs(20);

fn require(tool: &str, install: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed, and the window tests need it: {install}"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_until(what: &str, ready: impl FnMut() -> bool) {
    wait_until_within(WAIT, what, ready);
}

/// Waits up to `within` for `ready`, failing with `what` was waited for.
pub fn wait_until_within(within: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What WebDriver answered, with its error code: WebKit's WebDriver often leaves the message
/// empty (an element "not interactable" or a click "intercepted" says nothing more).
fn described(error: &fantoccini::error::CmdError) -> String {
    match error {
        fantoccini::error::CmdError::Standard(e) => format!("{} ({})", e.error, e.message),
        other => other.to_string(),
    }
}

/// What a click can miss on: the element's box, whether it is shown, and what the page has at
/// its centre (another element drawn over it, or nothing in view).
const WHAT_IS_THERE: &str = "const el = document.querySelector(arguments[0]);
if (!el) return 'no such element';
const r = el.getBoundingClientRect();
const x = r.left + r.width / 2, y = r.top + r.height / 2;
const top = document.elementFromPoint(x, y);
const name = (e) => e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') : 'nothing';
return `box ${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)} in ${innerWidth}x${innerHeight}; `
  + `visible ${el.checkVisibility ? el.checkVisibility() : '?'}; disabled ${!!el.disabled}; at its centre ${name(top)}; `
  + `focus on ${name(document.activeElement)}; screen ${document.querySelector('main section:not([hidden])')?.id ?? '?'}`;";

/// Asks a child process to stop with SIGTERM and waits for it (killing it only if it hangs).
fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// An X server for one test.
#[derive(Debug)]
pub struct Display {
    child: Child,
    pub name: String,
}

impl Display {
    pub fn start() -> Display {
        require(
            "Xvfb",
            "sudo apt-get install xvfb xauth (or run `bash .ci/test` as root)",
        );
        let number = (90..400)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free X display number");
        let name = format!(":{number}");
        let child = Command::new("Xvfb")
            // Larger than any window size a test asks for (1366×768 at most).
            .args([&name, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        wait_until("Xvfb", || socket.exists());
        Display { child, name }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// The app in its window, with a WebDriver session on it.
#[derive(Debug)]
pub struct App {
    pub client: Client,
    driver: Child,
    /// From asking for the session (the app is launched then) to the first screen ready.
    pub started_in: Duration,
    shots: PathBuf,
}

impl App {
    /// Sets the workstation up standalone, with `username` as its first administrator, who
    /// is then logged in: the recovery key is shown once, then the counter. Returns the key.
    pub async fn set_up_standalone(&self, username: &str, name: &str) -> String {
        self.wait_for_css("#setup-standalone").await;
        self.type_into("#setup-admin-username", username).await;
        self.type_into("#setup-admin-name", name).await;
        self.type_into("#setup-admin-password", guichet_fixtures::DEMO_PASSWORD)
            .await;
        self.type_into("#setup-admin-password2", guichet_fixtures::DEMO_PASSWORD)
            .await;
        self.click("#setup-standalone button[type=submit]").await;
        let key = self
            .wait_for_css("#recovery-key")
            .await
            .text()
            .await
            .expect("the recovery key's text");
        assert_eq!(key.len(), 39, "{key}");
        self.click("#recovery-done").await;
        self.wait_for_css("#issue-ticket").await;
        self.wait_for_text("#header-clerk", name).await;
        key
    }

    /// Enrols the workstation through its first screen with the back office at `server_url`,
    /// with the enrolment code `code`; the login screen is up after.
    pub async fn enrol(&self, server_url: &str, code: &str) {
        self.type_into("#setup-enroll input[name=server]", server_url)
            .await;
        self.type_into("#setup-enroll input[name=code]", code).await;
        self.click("#setup-enroll button[type=submit]").await;
        self.wait_for_css("#login-form").await;
    }

    /// Logs `username` in from the login screen; the counter is up after.
    pub async fn log_in(&self, username: &str, password: &str) {
        self.type_into("#login-username", username).await;
        self.type_into("#login-password", password).await;
        self.click("#login-submit").await;
        self.wait_for_css("#issue-ticket").await;
    }

    /// Launches the app `binary` on `display` over the data directory `data_dir`, with its
    /// home (WebKit's caches, the exported reports) inside it.
    pub async fn launch(binary: &Path, display: &Display, data_dir: &Path) -> App {
        App::launch_with_home(binary, display, data_dir, &data_dir.join("home")).await
    }

    /// Launches the app as `launch` does, with the home directory `home`: for a data directory
    /// that cannot hold one.
    pub async fn launch_with_home(
        binary: &Path,
        display: &Display,
        data_dir: &Path,
        home: &Path,
    ) -> App {
        require(
            "tauri-driver",
            "cargo install tauri-driver --version ^2 --locked",
        );
        require("WebKitWebDriver", "sudo apt-get install webkit2gtk-driver");
        let port = free_port();
        let native = free_port();
        // A home of its own: WebKit's caches and the exported reports stay in the test's
        // directory.
        std::fs::create_dir_all(home).expect("home directory");
        let driver = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("DISPLAY", &display.name)
            .env("GUICHET_DATA_DIR", data_dir)
            .env("HOME", home)
            .env("GUICHET_LOG", "info")
            // No slip reaches a real printer from a test: `lp` (where installed) is sent to a
            // destination that does not exist, and fails as a printer that is off would.
            .env("PRINTER", "guichet-test-no-such-printer")
            .env("LPDEST", "guichet-test-no-such-printer")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tauri-driver");
        wait_until("tauri-driver to listen", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": binary }));
        let asked = Instant::now();
        let client = tokio::time::timeout(
            WAIT,
            ClientBuilder::rustls()
                .expect("TLS roots")
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .expect("the app window within the timeout")
        .expect("a WebDriver session on the app");
        let mut app = App {
            client,
            driver,
            started_in: Duration::ZERO,
            shots: screenshot_dir(),
        };
        app.wait_for_css("body[data-ready='true'] main section")
            .await;
        app.started_in = asked.elapsed();
        app
    }

    pub async fn wait_for_css(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("`{css}` never appeared: {e}"))
    }

    /// Waits until the element's text contains `needle`, and returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never said \"{needle}\"; it says \"{text}\""
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element, finding it again if the screen re-drew it in between. A click on
    /// an element in sight that WebDriver answered with an error while the page went on to
    /// hide it (a form sent, its screen replaced by the next) was made: the test's next wait
    /// says so. An element never shown is not clicked, and the test fails.
    pub async fn click(&self, css: &str) {
        self.wait_for_css(css).await;
        let deadline = Instant::now() + WAIT;
        while !self.in_sight(css).await {
            assert!(
                Instant::now() < deadline,
                "cannot click `{css}`: it is on the page but never shown"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self
            .on_element(css, "click", |el| async move { el.click().await })
            .await;
    }

    /// Runs `act` on the element `css`, finding the element again and retrying while the
    /// screen re-draws it under the driver (WebDriver then answers that the node is gone).
    /// None when, after an error, no such element is in sight any more.
    async fn on_element<T, F, Fut>(&self, css: &str, what: &str, act: F) -> Option<T>
    where
        F: Fn(Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        // Each different answer is said once in the output of a failing test.
        let mut said = String::new();
        loop {
            match act(self.wait_for_css(css).await).await {
                Ok(out) => return Some(out),
                Err(e) => {
                    let answer = described(&e);
                    if answer != said {
                        let _ = writeln!(std::io::stderr(), "retrying to {what} `{css}`: {answer}");
                        said = answer;
                    }
                    if !self.in_sight(css).await {
                        let _ = writeln!(std::io::stderr(), "`{css}` is out of sight now");
                        return None;
                    }
                    // As the clerk would, the page is scrolled to bring it to the middle of
                    // the window, clear of the sticky header and of the status bar.
                    let _ = self
                        .client
                        .execute(
                            "document.querySelector(arguments[0])?.scrollIntoView({block: 'center'});",
                            vec![json!(css)],
                        )
                        .await;
                    if Instant::now() >= deadline {
                        let there = self
                            .client
                            .execute(WHAT_IS_THERE, vec![json!(css)])
                            .await
                            .map(|v| v.as_str().unwrap_or_default().to_owned())
                            .unwrap_or_else(|e| described(&e));
                        panic!("cannot {what} `{css}`: {said}; {there}");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Clears the field and types `text` into it, key by key as the clerk would.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_for_css(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// Chooses the option `value` of the list `css`, finding the list again if the screen
    /// re-drew it in between (the queue screen re-draws its lists as the status comes in).
    pub async fn select(&self, css: &str, value: &str) {
        self.on_element(css, &format!("choose {value} in"), |el| async move {
            el.select_by_value(value).await
        })
        .await
        .unwrap_or_else(|| panic!("`{css}` went out of sight before {value} was chosen"));
    }

    /// Sends a key (a WebDriver key code such as F2 = "\u{E032}") to the focused element.
    pub async fn press(&self, key: &str) {
        let focused = self
            .client
            .active_element()
            .await
            .expect("a focused element");
        focused.send_keys(key).await.expect("press");
    }

    /// The element's text, finding it again if the screen re-drew it in between.
    pub async fn text(&self, css: &str) -> String {
        self.on_element(css, "read", |el| async move { el.text().await })
            .await
            .unwrap_or_else(|| panic!("`{css}` went out of sight before it was read"))
    }

    /// Whether an element `css` is on the page and shown. One re-drawn while asked is looked
    /// for again; any other failure of WebDriver fails the test.
    async fn in_sight(&self, css: &str) -> bool {
        loop {
            let found = self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("cannot look for `{css}`: {}", described(&e)));
            let mut redrawn = false;
            for el in found {
                match el.is_displayed().await {
                    Ok(true) => return true,
                    Ok(false) => {}
                    Err(fantoccini::error::CmdError::Standard(e))
                        if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
                    {
                        redrawn = true;
                    }
                    Err(e) => panic!("cannot tell whether `{css}` is shown: {}", described(&e)),
                }
            }
            if !redrawn {
                return false;
            }
        }
    }

    /// Waits for a window other than the one driven now to open, and drives it instead;
    /// returns the window left, to come back to with `drive`.
    pub async fn drive_new_window(&self) -> WindowHandle {
        let left = self.client.window().await.expect("the window driven now");
        let deadline = Instant::now() + WAIT;
        loop {
            let windows = self.client.windows().await.expect("the app's windows");
            if let Some(new) = windows.into_iter().find(|w| *w != left) {
                self.drive(new).await;
                return left;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for a new window"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the app has `count` windows.
    pub async fn wait_for_windows(&self, count: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let windows = self.client.windows().await.expect("the app's windows");
            if windows.len() == count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {count} windows: {} open",
                windows.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Drives `window` from now on.
    pub async fn drive(&self, window: WindowHandle) {
        self.client
            .switch_to_window(window)
            .await
            .expect("switch windows");
    }

    pub async fn script(&self, js: &str) -> Value {
        self.client.execute(js, Vec::new()).await.expect("script")
    }

    /// What axe-core (from the UI's npm packages) finds against WCAG 2.0 and 2.1, levels A and
    /// AA, on the screen as it is: one line per rule broken, with the elements that break it.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install the UI's packages with `cd ui && npm ci`",
                axe.display()
            )
        });
        self.client
            .execute(
                &format!("if (!window.axe) {{ {source} }} return true;"),
                Vec::new(),
            )
            .await
            .expect("axe-core loads in the window");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag',
                     values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then((r) => done(r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}: `
                       + v.nodes.map((n) => n.target.join(' ')).join(', '))))
                   .catch((e) => done([`axe failed: ${e}`]));",
                Vec::new(),
            )
            .await
            .expect("axe-core runs");
        serde_json::from_value(found).expect("a list of violations")
    }

    /// On the intake screen: finds the citizen by national id, registering them first if
    /// they are new, and waits until they are the visit's citizen.
    pub async fn find_or_register(&self, who: &NewCitizen) {
        self.type_into("#citizen-id", &who.national_id).await;
        self.click("#find-citizen").await;
        self.wait_for_css("#register-form, #citizen-results button.choice")
            .await;
        if self
            .client
            .find(fantoccini::Locator::Css("#register-form"))
            .await
            .is_ok()
        {
            self.type_into("#reg-given", &who.given_name).await;
            self.type_into("#reg-family", &who.family_name).await;
            self.type_into("#reg-born", &who.birth_date).await;
            self.click("#register-citizen").await;
        } else {
            self.click("#citizen-results button.choice").await;
        }
        self.wait_for_text("#citizen-chosen", &who.family_name)
            .await;
    }

    /// Saves what the window shows as `NAME.png` in the screenshot directory.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Let WebKit paint what the last step changed: two animation frames. WebKit then takes
        // the picture after the page's next presentation update, which a still page (nothing
        // ticking, like a notice alone on screen) never makes: a pixel that cannot be seen
        // (transparent to 1%) changes for a moment, so that there is one.
        self.client
            .execute_async(
                "const done = arguments[0];
                 const dot = document.createElement('div');
                 dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;';
                 document.body.append(dot);
                 let n = 0;
                 const tick = setInterval(() => {
                   dot.style.background = `rgba(0,0,0,${(n++ % 2) / 100})`;
                 }, 40);
                 setTimeout(() => { clearInterval(tick); dot.remove(); }, 3000);
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                Vec::new(),
            )
            .await
            .expect("a painted frame");
        let png = tokio::time::timeout(WAIT, self.client.screenshot())
            .await
            .expect("the screenshot within the timeout")
            .expect("screenshot");
        std::fs::create_dir_all(&self.shots).expect("screenshot directory");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The timings of clerk actions the UI recorded, by label, in milliseconds.
    pub async fn timings(&self) -> Vec<(String, f64)> {
        let value = self.script("return window.guichetTimings;").await;
        let mut out = Vec::new();
        if let Value::Object(map) = value {
            for (label, samples) in map {
                for s in samples.as_array().into_iter().flatten() {
                    out.push((label.clone(), s.as_f64().unwrap_or(0.0)));
                }
            }
        }
        out
    }

    /// Memory of the app and of WebKit's processes (its children), from /proc: for each
    /// process its name, resident set (RSS) and proportional set (PSS: shared pages divided
    /// among the processes that map them, so the sum counts each page once), in bytes.
    pub fn memory(&self) -> Vec<(String, u64, u64)> {
        // This session's processes: what tauri-driver started, minus WebKit's WebDriver.
        let out: Vec<_> = descendants_memory(self.driver.id())
            .into_iter()
            .filter(|(name, _, _)| name != "WebKitWebDriver")
            .collect();
        assert!(
            out.iter().any(|(name, _, _)| name == "guichet-app")
                && out
                    .iter()
                    .any(|(name, _, _)| name.starts_with("WebKitWebProc")),
            "the app and its web process should be running: {out:?}"
        );
        out
    }

    /// Ends the session (closing the app) and stops tauri-driver.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }
}

fn kb_field(text: &str, field: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// Name, RSS and PSS (as in `App::memory`) of every descendant of process `pid`.
fn descendants_memory(pid: u32) -> Vec<(String, u64, u64)> {
    children(&PathBuf::from(format!("/proc/{pid}")))
        .iter()
        .map(|p| process_memory(p))
        .collect()
}

/// Name, RSS and PSS (as in `App::memory`) of process `pid` and of every descendant.
pub fn tree_memory(pid: u32) -> Vec<(String, u64, u64)> {
    let mut out = descendants_memory(pid);
    out.push(process_memory(&PathBuf::from(format!("/proc/{pid}"))));
    out
}

/// Bytes in MB.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// One line a process of `memory` (as in `App::memory`): its name, RSS and PSS in MB.
pub fn memory_table(memory: &[(String, u64, u64)]) -> String {
    memory
        .iter()
        .map(|(name, rss, pss)| {
            format!(
                "  {name:<16} RSS {:>4.0} MB  PSS {:>4.0} MB\n",
                mb(*rss),
                mb(*pss)
            )
        })
        .collect()
}

fn process_memory(proc_dir: &Path) -> (String, u64, u64) {
    let name = std::fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
    let status = std::fs::read_to_string(proc_dir.join("status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(proc_dir.join("smaps_rollup")).unwrap_or_default();
    (
        name.trim().to_owned(),
        kb_field(&status, "VmRSS:"),
        kb_field(&rollup, "Pss:"),
    )
}

/// The web content runs in WebKit's own processes, children of the app (and theirs).
fn children(parent: &Path) -> Vec<PathBuf> {
    let Some(pid) = parent.file_name().and_then(|p| p.to_str()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let is_child = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .is_some_and(|p| p.trim() == pid);
        if is_child {
            out.extend(children(&entry.path()));
            out.push(entry.path());
        }
    }
    out
}

impl Drop for App {
    fn drop(&mut self) {
        terminate(&mut self.driver);
    }
}

/// Where screenshots go: `GUICHET_SCREENSHOTS`, else `target/screenshots` of the workspace.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("GUICHET_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots"))
}

/// WebDriver key codes.
pub mod keys {
    pub const F1: &str = "\u{E031}";
    pub const F2: &str = "\u{E032}";
    pub const F3: &str = "\u{E033}";
    pub const F4: &str = "\u{E034}";
    pub const F5: &str = "\u{E035}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const TAB: &str = "\u{E004}";
    pub const SPACE: &str = "\u{E00D}";
    /// Shift held while Tab is pressed, then released (the null key).
    pub const SHIFT_TAB: &str = "\u{E008}\u{E004}\u{E000}";
    /// Alt held while 4 is pressed, then released (the null key).
    pub const ALT_4: &str = "\u{E00A}4\u{E000}";
}

/// The p-th percentile (nearest rank) of `samples`.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Where the app's Debian package puts its desktop entry.
pub const DESKTOP_ENTRY: &str = "/usr/share/applications/Guichet.desktop";

/// The installed app's desktop entry and the program its `Exec` line starts, found on `PATH`
/// as a desktop would. Fails with how to install the package when it is not installed.
pub fn installed_app() -> (String, PathBuf) {
    let entry = std::fs::read_to_string(DESKTOP_ENTRY).unwrap_or_else(|e| {
        panic!(
            "{DESKTOP_ENTRY}: {e}; install the app's package first: \
             bash package-app && sudo apt-get install ./target/release/bundle/deb/Guichet_*.deb"
        )
    });
    let exec = entry
        .lines()
        .find_map(|line| line.strip_prefix("Exec="))
        .unwrap_or_else(|| panic!("{DESKTOP_ENTRY} has no Exec line:\n{entry}"));
    let program = exec
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("{DESKTOP_ENTRY}'s Exec line is empty"));
    let binary = if Path::new(program).is_absolute() {
        PathBuf::from(program)
    } else {
        let path = std::env::var_os("PATH").expect("a PATH");
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
            .unwrap_or_else(|| panic!("`{program}` of {DESKTOP_ENTRY} is not on PATH"))
    };
    (entry, binary)
}
