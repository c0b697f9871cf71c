//! The installed app's start: from launching the command of the Debian package's desktop entry
//! to an interactive first screen (the login screen of a set-up workstation), median of five
//! launches, through WebDriver under Xvfb. Target: 1 s (issue 23).
//!
//! Install the package first (`bash package-app`, then
//! `sudo apt-get install ./target/release/bundle/deb/Guichet_*.deb`), then
//! `cargo bench -p guichet-app --bench installed` (needs Xvfb, tauri-driver, WebKitWebDriver).

use std::io::Write as _;

use guichet_tests::window::{App, Display, installed_app, percentile};
use tempfile::TempDir;

const LAUNCHES: usize = 5;
const START_TARGET_MS: f64 = 1000.0;

#[tokio::main]
async fn main() {
    let (_, binary) = installed_app();
    let display = Display::start();
    let dir = TempDir::new().unwrap();
    let mut out = std::io::stdout().lock();

    let first = App::launch(&binary, &display, dir.path()).await;
    writeln!(
        out,
        "{}: first launch on a new workstation to its set-up screen: {:.0} ms",
        binary.display(),
        first.started_in.as_secs_f64() * 1000.0
    )
    .unwrap();
    first.set_up_standalone("eleni", "Eleni").await;
    first.quit().await;

    let mut starts = Vec::new();
    for _ in 0..LAUNCHES {
        let app = App::launch(&binary, &display, dir.path()).await;
        starts.push(app.started_in.as_secs_f64() * 1000.0);
        app.quit().await;
    }
    let median = percentile(&mut starts.clone(), 50.0);
    let met = median <= START_TARGET_MS;
    writeln!(
        out,
        "start of the installed app to the interactive login screen: median {median:.0} ms of {LAUNCHES} launches (target {START_TARGET_MS} ms: {}); all {starts:.0?}",
        if met { "met" } else { "NOT met" }
    )
    .unwrap();
    drop(display);
    if !met {
        std::process::exit(1);
    }
}
