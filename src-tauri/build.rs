//! Builds the UI (`ui/`, with npm) when its sources changed, then runs Tauri's build step with
//! an application manifest that lists the commands the UI may call: the capability files grant
//! exactly these, and nothing else is reachable from the window.

use std::path::Path;
use std::process::Command;

include!("src/command_list.rs");

macro_rules! names {
    ($($name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}

/// Every command of `src/commands.rs`, from `src/command_list.rs`.
const COMMANDS: &[&str] = with_commands!(names);

/// What the window may do besides calling the commands: hear the status events.
const CORE_PERMISSIONS: &[&str] = &["core:event:allow-listen", "core:event:allow-unlisten"];

/// What the waiting room's display may do besides its command: go full screen, and back.
const FULL_SCREEN: &[&str] = &[
    "core:window:allow-is-fullscreen",
    "core:window:allow-set-fullscreen",
];

/// The public windows (the waiting room's display, the ticket kiosk), each with the only
/// commands it may call (the clerk's window is not granted them) and its core permissions.
/// The kiosk has none: on its touch screen, it is full screen from the start, and only the
/// clerk's window ends it.
const PUBLIC_WINDOWS: &[(&str, &[&str], &[&str])] = &[
    ("display", &["calling_board"], FULL_SCREEN),
    (
        "kiosk",
        &["kiosk_menu", "kiosk_ticket", "kiosk_reprint"],
        &[],
    ),
];

fn main() {
    build_ui();
    check_capability();
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri build step failed: {e:#}");
    }
}

/// Each capability grants its window exactly its commands and core permissions: one more is a
/// door nobody meant to open, one fewer a command the window cannot call. The clerk's window
/// gets every command but the public windows'; each public window, its own only. Tauri loads
/// every file of `capabilities/`, so there are these files and no other, each for its window.
fn check_capability() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    println!("cargo:rerun-if-changed=capabilities");
    let public = |c: &&&str| PUBLIC_WINDOWS.iter().any(|(_, own, _)| own.contains(c));
    check_grants(
        "main",
        COMMANDS.iter().filter(|c| !public(c)),
        CORE_PERMISSIONS,
    );
    for (window, own, core) in PUBLIC_WINDOWS {
        for command in *own {
            assert!(
                COMMANDS.contains(command),
                "{command} is not in src/command_list.rs"
            );
        }
        check_grants(window, own.iter(), core);
    }
    let mut files: Vec<String> = std::fs::read_dir("capabilities")
        .expect("the capabilities folder")
        .map(|f| {
            f.expect("a capability file")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let mut wanted: Vec<String> = std::iter::once("main")
        .chain(PUBLIC_WINDOWS.iter().map(|(w, _, _)| *w))
        .map(|w| format!("{w}.json"))
        .collect();
    wanted.sort();
    assert_eq!(
        files, wanted,
        "capabilities/ should hold one file per window, no other"
    );
}

/// Checks that `capabilities/{window}.json` is for the window `window` alone and grants
/// exactly `commands` and `core`.
fn check_grants<'a>(window: &str, commands: impl Iterator<Item = &'a &'a str>, core: &[&str]) {
    let path = format!("capabilities/{window}.json");
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let file: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
    assert_eq!(
        file["windows"],
        serde_json::json!([window]),
        "{path} should be for the window {window} alone"
    );
    for key in ["webviews", "remote", "platforms"] {
        assert!(
            file.get(key).is_none(),
            "{path} should not say {key:?}: one window, local only"
        );
    }
    let granted: std::collections::BTreeSet<String> = file["permissions"]
        .as_array()
        .unwrap_or_else(|| panic!("{path} has no list of permissions"))
        .iter()
        .map(|p| {
            p.as_str()
                .unwrap_or_else(|| panic!("{path}: a permission with a scope: {p}"))
                .to_owned()
        })
        .collect();
    let wanted: std::collections::BTreeSet<String> = commands
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .chain(core.iter().map(|p| (*p).to_owned()))
        .collect();
    let missing: Vec<_> = wanted.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&wanted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{path} does not grant exactly what src/command_list.rs and build.rs give it: \
         missing {missing:?}, not its own {extra:?}"
    );
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
