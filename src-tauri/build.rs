//! Builds the UI (`ui/`, with npm) when its sources changed, then runs Tauri's build step with
//! an application manifest that lists the commands the UI may call: the capability files grant
//! exactly these, and nothing else is reachable from the window.

use std::path::Path;
use std::process::Command;

/// Every command of `src/commands.rs`; `capabilities/main.json` grants them to the window.
const COMMANDS: &[&str] = &[
    "start_problem",
    "retry_start",
    "keep_aside",
    "quit",
    "app_state",
    "setup_standalone",
    "enroll",
    "login",
    "lock",
    "unlock",
    "logout",
    "sync_now",
    "issue_ticket",
    "call_next",
    "recall",
    "no_show",
    "start_service",
    "finish_service",
    "transfer",
    "queue_view",
    "browse",
    "search_services",
    "service",
    "check_form",
    "find_citizens",
    "register_citizen",
    "create_request",
    "pay",
    "waive",
    "refund",
    "mark_document",
    "list_requests",
    "request",
    "advance",
    "resolve_conflict",
    "feedback",
    "dashboard",
    "export_report",
    "set_rules",
];

fn main() {
    build_ui();
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri build step failed: {e:#}");
    }
}

/// Runs `npm ci` (first time) and `npm run build` in `ui/`, so that `cargo build` alone gives
/// an app with its UI. Set GUICHET_UI_PREBUILT=1 to use an existing `ui/dist` as it is.
fn build_ui() {
    let ui = Path::new("../ui");
    for watched in [
        "src",
        "locales",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed=../ui/{watched}");
    }
    println!("cargo:rerun-if-env-changed=GUICHET_UI_PREBUILT");
    if std::env::var_os("GUICHET_UI_PREBUILT").is_some() && ui.join("dist/index.html").exists() {
        return;
    }
    if !ui.join("node_modules").exists() {
        npm(ui, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(ui, &["run", "build"]);
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm").args(args).current_dir(dir).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm {}` in ui/ failed ({s}); run it there to see why",
            args.join(" ")
        ),
        Err(e) => panic!(
            "cannot run npm ({e}): the desktop app's UI is built with Node.js 18 or newer and npm; \
             install them (Debian: sudo apt-get install nodejs npm) and build again"
        ),
    }
}
