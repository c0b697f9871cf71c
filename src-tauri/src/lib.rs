//! Guichet's desktop shell: a Tauri 2 window over the workstation core.
//!
//! The shell owns one `Workstation` (the local SQLite replica) behind a mutex, and, once the
//! device is enrolled with a back office, the background sync task over its own connection.
//! Commands (`commands.rs`) are short adapters: they call the core and return what it says;
//! the rules live in the core. The sync task's state reaches the window as `status` events.

// Before the modules: the commands' list is a macro, which `commands`' tests use too.
include!("command_list.rs");

mod commands;
mod shell;
mod trouble;

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
    lean_engine();
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
    let builder = tauri::Builder::default();
    #[cfg(feature = "bench-driver")]
    let builder = bench_driver(builder);
    let built = builder
        .setup(move |app| {
            if let Some(window) = app.get_webview_window("main") {
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
        .build(tauri::generate_context!());
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

/// Settings of WebKit's processes that keep memory down, read from the environment they
/// inherit (so this runs before they start); a value already in the environment wins.
/// Figures after 40 visits on a machine without a GPU:
/// - the window's scripts are small and run on a clerk's click: JavaScriptCore's interpreter
///   serves them within the action target, and its JIT (compiled code and the profiles that
///   feed it) cost about 17 MB more in the web process;
/// - the view draws in software (`tune_webview`), so handing frames to the UI process as
///   DMA-BUF buffers brings nothing, and it cost 9 MB more than shared memory;
/// - JavaScriptCore keeps the bytecode of every script it evaluated, keyed by its text, to
///   serve the same text again (up to 2,000 scripts). The window's bundle runs once, and the
///   status bar's events come as scripts that each carry their own payload, so none is ever
///   served again: with the cache off, 211 MB after 100 visits against 213 to 215 MB.
///
/// The window's own process then draws nothing with OpenGL either, yet two probes load the
/// system's GL driver into it (with Mesa, its LLVM too: 17 MB of the empty page's 179 MB PSS):
/// GTK looks for GL visuals when it opens the display, unless `GDK_GL=disable`; WebKit asks
/// EGL for the GPU's render node to tell the web process, unless it is named in
/// `WEBKIT_WEB_RENDER_DEVICE_FILE`. It is named here: the first render node, or `none`
/// where there is none. The web process only uses it to share buffers with the GPU, which
/// the shared-memory frames above never do. The web process still loads the driver: WebKit
/// composites the page with it.
///
/// glibc's malloc gives the top of its heap back to the system once 128 KiB are free there,
/// but raises that threshold each time a large block is freed, up to 64 MiB; the web process
/// (fonts, ICU, GLib) then kept its heap at its high-water mark, 7 MB after 100 visits where
/// a fixed threshold (`GLIBC_TUNABLES`) leaves 3.4 MB. It also gives each thread that
/// allocates an arena of its own, up to eight per core, each keeping its free memory apart;
/// these processes allocate little outside WebKit's own allocator, so one arena serves them
/// all (here and in the app's process, by `one_malloc_arena`).
pub fn lean_engine() {
    one_malloc_arena();
    let render_node = first_render_node(std::path::Path::new("/dev/dri"));
    let settings = [
        (
            "GLIBC_TUNABLES",
            "glibc.malloc.trim_threshold=131072:glibc.malloc.arena_max=1",
        ),
        ("JSC_useJIT", "0"),
        ("JSC_useCodeCache", "0"),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
        ("GDK_GL", "disable"),
        ("WEBKIT_WEB_RENDER_DEVICE_FILE", render_node.as_str()),
    ];
    for (name, value) in settings {
        if std::env::var_os(name).is_none() {
            // SAFETY: callers run this first thing in `main` (`run` does), before anything
            // starts a thread, so no other thread can read the environment while it is written.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(name, value);
            }
        }
    }
}

/// One malloc arena for the app's own process: its threads (the async runtime's workers, the
/// sync task, WebKit's and GTK's) hold about 1 MB each of their arenas otherwise. Set here as
/// glibc reads `GLIBC_TUNABLES` only when a process starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn one_malloc_arena() {
    // SAFETY: `mallopt` only sets a parameter of the allocator; it runs before any thread
    // other than `main` exists (see `lean_engine`).
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn one_malloc_arena() {}

/// The first DRM render node in `dir` (`/dev/dri/renderD128` on most machines with a GPU),
/// or `none`.
fn first_render_node(dir: &std::path::Path) -> String {
    let nodes = std::fs::read_dir(dir).into_iter().flatten().flatten();
    nodes
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("renderD"))
        })
        .min()
        .and_then(|path| path.to_str().map(str::to_owned))
        .unwrap_or_else(|| "none".to_owned())
}

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

#[cfg(test)]
mod render_node_tests {
    use super::first_render_node;

    #[test]
    fn the_first_render_node_is_named_and_none_without_one() {
        let dir = tempfile::TempDir::new().unwrap();
        assert_eq!(first_render_node(dir.path()), "none");
        assert_eq!(first_render_node(&dir.path().join("missing")), "none");
        for name in ["card0", "renderD129", "renderD128", "by-path"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(
            first_render_node(dir.path()),
            dir.path().join("renderD128").to_str().unwrap()
        );
    }
}
