//! Guichet's desktop shell: a Tauri 2 window over the workstation core.
//!
//! The shell owns one `Workstation` (the local SQLite replica) behind a mutex, and, once the
//! device is enrolled with a back office, the background sync task over its own connection.
//! Commands (`commands.rs`) are short adapters: they call the core and return what it says;
//! the rules live in the core. The sync task's state reaches the window as `status` events.

// Before the modules: the commands' list is a macro, which `commands`' tests use too.
include!("command_list.rs");

#[cfg(test)]
mod bindings;
mod commands;
mod kiosk;
mod shell;
mod trouble;
mod update;

/// Registers the functions of `commands.rs` named in `command_list.rs`.
macro_rules! handler {
    ($($name:ident),* $(,)?) => {
        tauri::generate_handler![$(commands::$name),*]
    };
}

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use tauri::Manager;

pub use shell::{Shell, StatusBar};
use trouble::StartProblem;

/// The log file inside the data directory.
pub const LOG_FILE: &str = "guichet-app.log";

/// Runs the app until its window is closed. A start that fails (a data directory that cannot
/// be written, a damaged database) still opens the window, which says what is wrong and what
/// to do (`trouble`); only a window that cannot open at all is told on the terminal.
pub fn run() {
    lean_allocator();
    let dir = data_dir();
    let ready = match &dir {
        Ok(dir) => data_dir_ready(dir).and_then(|()| init_logging(dir)),
        Err(problem) => Err(problem.clone()),
    };
    if let Err(problem) = &ready {
        // No log file to write to: the terminal, if any, hears why.
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .init();
        tracing::error!(detail = %problem.detail, "Guichet cannot use its data directory");
    }
    let dir = dir.ok();
    let context = tauri::generate_context!();
    tracing::info!(version = %context.package_info().version, "Guichet starts");
    let mut builder = tauri::Builder::default();
    // Only a package built with the release key has the updater (see `update.rs`).
    if context.config().plugins.0.contains_key("updater") {
        builder = builder.plugin(tauri_plugin_updater::Builder::new().build());
    }
    #[cfg(feature = "bench-driver")]
    let builder = bench_driver(builder);
    let built = builder
        .setup(move |app| {
            if let Some(window) = app.get_webview_window(commands::MAIN_WINDOW) {
                window.with_webview(lean_webview)?;
            }
            let problem = match (&dir, ready) {
                (Some(dir), Ok(())) => trouble::start(app.handle(), dir).err(),
                (_, Err(problem)) => Some(problem),
                (None, Ok(())) => None,
            };
            app.manage(trouble::Trouble::new(dir.clone(), problem));
            Ok(())
        })
        .invoke_handler(with_commands!(handler))
        // The waiting room's display and the ticket kiosk live while the clerk's window does:
        // closing it quits Guichet, so no public window is left giving tickets in the name of
        // a clerk whose session nobody can see nor lock any more. (Not while it stops to start
        // again on an update: the restart is what happens next.)
        .on_window_event(|window, event| {
            if window.label() == commands::MAIN_WINDOW
                && matches!(event, tauri::WindowEvent::Destroyed)
                && !update::RESTARTING.load(std::sync::atomic::Ordering::SeqCst)
            {
                window.app_handle().exit(0);
            }
        })
        .build(context);
    let app = match built {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start the window: {e}");
            // The window could not open: the terminal is the only place left to say why.
            let _ = writeln!(
                std::io::stderr(),
                "guichet-app: cannot start the window: {e}"
            );
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(shell) = handle.try_state::<Arc<Shell>>()
        {
            shell.stop_sync();
        }
    });
}

/// The window benchmark's driver (feature `bench-driver`, never in a release): the script in
/// the file `GUICHET_BENCH_DRIVER` names runs in the page each time it has loaded. The
/// session whose memory the benchmark measures is driven without WebDriver: while its
/// automation is attached, WebKit keeps even form controls the page made and never showed.
#[cfg(feature = "bench-driver")]
fn bench_driver<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    let Some(path) = std::env::var_os("GUICHET_BENCH_DRIVER") else {
        return builder;
    };
    let script = match std::fs::read_to_string(&path) {
        Ok(script) => script,
        Err(e) => {
            tracing::error!("cannot read the benchmark driver {path:?}: {e}");
            return builder;
        }
    };
    builder.on_page_load(move |webview, payload| {
        if payload.event() == tauri::webview::PageLoadEvent::Finished
            && let Err(e) = webview.eval(&script)
        {
            tracing::error!("cannot start the benchmark driver: {e}");
        }
    })
}

/// The app's own allocator, set through glibc's `mallopt` before any other thread exists:
/// - one arena: each thread that allocates (the async runtime's workers, the sync task, GTK's
///   and WebKit's threads in this process) would otherwise get an arena of its own, up to
///   eight per core, each keeping about 1 MB of free memory apart;
/// - a fixed trim threshold of 128 KiB: glibc raises it each time a large block is freed,
///   up to 64 MiB, and the heap then stays at its high-water mark.
///
/// WebKit's own processes are not touched: nothing is set in the environment they inherit.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn lean_allocator() {
    // SAFETY: `mallopt` only sets parameters of the allocator; `run` calls this first, before
    // any thread other than `main` exists.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn lean_allocator() {}

#[cfg(target_os = "linux")]
fn lean_webview(webview: tauri::webview::PlatformWebview) {
    tune_webview(&webview.inner());
}

#[cfg(not(target_os = "linux"))]
fn lean_webview(_webview: tauri::webview::PlatformWebview) {}

/// The window shows forms and lists: it needs no GPU compositing (which, on the machines
/// without a GPU that centres often have, costs about 100 MB in WebKit's web process for a
/// software-rendered surface) and no page cache beyond the one document it shows.
#[cfg(target_os = "linux")]
pub fn tune_webview(view: &webkit2gtk::WebView) {
    use webkit2gtk::{
        CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
    };
    if let Some(settings) = WebViewExt::settings(view) {
        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
    }
    if let Some(context) = view.context() {
        context.set_cache_model(CacheModel::DocumentViewer);
    }
}

/// `GUICHET_DATA_DIR` when set (tests, several devices on one machine), else the platform's
/// per-user data directory.
fn data_dir() -> Result<PathBuf, StartProblem> {
    match std::env::var_os("GUICHET_DATA_DIR") {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => guichet_workstation::store::default_data_dir().ok_or_else(|| {
            StartProblem::data_dir(
                None,
                "no home directory to keep the data in: set GUICHET_DATA_DIR to a directory",
            )
        }),
    }
}

/// Makes the data directory (readable by its user alone) and checks that files can be
/// written in it: a read-only or full disk is found at the start, not at the first save.
pub(crate) fn data_dir_ready(dir: &std::path::Path) -> Result<(), StartProblem> {
    let refused = |e: std::io::Error| StartProblem::data_dir(Some(dir), e);
    guichet_workstation::files::private_dir(dir).map_err(refused)?;
    let probe = dir.join(".guichet-write-check");
    guichet_workstation::files::write_private(&probe, b"ok").map_err(refused)?;
    std::fs::remove_file(&probe).map_err(refused)
}

fn init_logging(dir: &std::path::Path) -> Result<(), StartProblem> {
    let path = dir.join(LOG_FILE);
    let refused = |e: std::io::Error| {
        StartProblem::data_dir(Some(dir), format!("the log file {}: {e}", path.display()))
    };
    // Readable by its user alone, like everything in the data directory.
    guichet_workstation::files::private_file(&path).map_err(refused)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(refused)?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("GUICHET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    tracing::info!(data_dir = %dir.display(), "Guichet starting");
    Ok(())
}
