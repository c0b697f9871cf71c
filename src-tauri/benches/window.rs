//! The desktop app's figures, measured in the real window under Xvfb: time from launch to an
//! interactive first screen, resident memory after a session of 100 requests, and the time
//! of every clerk action (event to updated screen, through the core) at p50 and p95.
//!
//! `cargo bench -p guichet-app --bench window` (needs Xvfb, tauri-driver, WebKitWebDriver).

use std::io::Write as _;

use guichet_fixtures::history::citizen;
use guichet_tests::window::{App, Display, percentile};
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

#[tokio::main]
async fn main() {
    let display = Display::start();
    let mut out = std::io::stdout().lock();

    // Start: the median of fresh launches on a set-up workstation.
    let dir = TempDir::new().unwrap();
    let app = App::launch(app_binary(), &display, dir.path()).await;
    app.type_into("#setup-standalone input[name=clerk]", "Eleni")
        .await;
    app.click("#setup-standalone button[type=submit]").await;
    app.wait_for_css("#issue-ticket").await;
    app.quit().await;
    let mut starts = Vec::new();
    for _ in 0..LAUNCHES {
        let app = App::launch(app_binary(), &display, dir.path()).await;
        starts.push(app.started_in.as_secs_f64() * 1000.0);
        app.quit().await;
    }
    let median_start = percentile(&mut starts.clone(), 50.0);
    writeln!(
        out,
        "start to interactive queue screen: median {median_start:.0} ms of {LAUNCHES} launches (target 1500 ms); all {starts:.0?}"
    )
    .unwrap();

    // A session of 100 requests: for each, a ticket issued, called, served, one request taken
    // (citizen found or registered, service searched, form filled, paid, submitted), finished
    // and rated.
    let app = App::launch(app_binary(), &display, dir.path()).await;
    let requests = requests();
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
        app.type_into("#service-search", "photos").await;
        app.click("#service-results button[data-code='id-photos']")
            .await;
        app.type_into("#form-prints", "1").await;
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
    let memory = app.memory();
    let mb = |b: u64| b as f64 / 1_048_576.0;
    let (rss, pss) = memory
        .iter()
        .fold((0, 0), |(r, p), (_, rss, pss)| (r + rss, p + pss));
    writeln!(
        out,
        "memory after {requests} requests: {:.0} MB proportional (PSS, shared pages counted once), {:.0} MB summed RSS (target 200 MB)",
        mb(pss),
        mb(rss)
    )
    .unwrap();
    for (name, rss, pss) in &memory {
        writeln!(
            out,
            "  {name:<16} RSS {:>4.0} MB  PSS {:>4.0} MB",
            mb(*rss),
            mb(*pss)
        )
        .unwrap();
    }

    let timings = app.timings().await;
    let mut all: Vec<f64> = timings.iter().map(|(_, ms)| *ms).collect();
    let mut labels: Vec<&str> = timings.iter().map(|(l, _)| l.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    writeln!(
        out,
        "clerk actions: {} timed, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (target p95 100 ms)",
        all.len(),
        percentile(&mut all, 50.0),
        percentile(&mut all, 95.0),
        percentile(&mut all, 100.0)
    )
    .unwrap();
    for label in labels {
        let mut samples: Vec<f64> = timings
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, ms)| *ms)
            .collect();
        writeln!(
            out,
            "  {label:<16} n={:<4} p50 {:>6.1} ms  p95 {:>6.1} ms",
            samples.len(),
            percentile(&mut samples, 50.0),
            percentile(&mut samples, 95.0)
        )
        .unwrap();
    }
    app.quit().await;
}
