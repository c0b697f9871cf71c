//! The floor under the app's memory figure: WebKitGTK showing one line of text, tuned as the
//! app tunes its own web view (`lean_engine`, `tune_webview`), with no Tauri, no UI and no
//! workstation. After five seconds it prints the resident memory of its processes and quits.
//!
//! `cargo run --release -p guichet-app --example blank_webview` (needs a display: under Xvfb,
//! `xvfb-run -a` before it).

#[cfg(target_os = "linux")]
fn main() {
    use std::io::Write as _;

    use gtk::prelude::*;
    use webkit2gtk::{WebView, WebViewExt};

    guichet_app::lean_engine();
    gtk::init().expect("no display: run this under Xvfb (xvfb-run -a) or in a desktop session");
    let window = gtk::Window::new(gtk::WindowType::Toplevel);
    window.set_default_size(1280, 800);
    let view = WebView::new();
    guichet_app::tune_webview(&view);
    view.load_html(
        "<!doctype html><html lang=en><title>Blank</title><p>Nothing here.</p></html>",
        None,
    );
    window.add(&view);
    window.show_all();
    gtk::glib::timeout_add_seconds_local_once(5, move || {
        let mb = |b: u64| b as f64 / 1_048_576.0;
        let mut processes = guichet_tests::window::descendants_memory(std::process::id());
        processes.push(guichet_tests::window::own_memory());
        let pss: u64 = processes.iter().map(|(_, _, pss)| pss).sum();
        let mut report = format!("blank web view: {:.0} MB PSS in all\n", mb(pss));
        for (name, rss, pss) in &processes {
            report += &format!(
                "  {name:<16} RSS {:>4.0} MB  PSS {:>4.0} MB\n",
                mb(*rss),
                mb(*pss)
            );
        }
        // A closed pipe (`| head`) is no reason to fail.
        let _ = std::io::stdout().lock().write_all(report.as_bytes());
        gtk::main_quit();
    });
    gtk::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {}
