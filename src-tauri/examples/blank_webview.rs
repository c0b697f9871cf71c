//! The floor under the app's memory figure: WebKitGTK showing one line of text, tuned as the
//! app tunes its own web view (`lean_allocator`, `tune_webview`), with no Tauri, no UI and no
//! workstation. Five seconds after the page is done it prints the resident memory of its
//! processes and quits.
//!
//! With `TAG COUNT` (`input`, `form`, `button`, `div`...) the page first makes COUNT such
//! elements, 40 at a time every 30 ms, each batch replacing the last in the page: what the
//! web process keeps of them shows in its figure.
//!
//! `cargo run --release -p guichet-app --example blank_webview [-- TAG COUNT]` (needs a
//! display: under Xvfb, `xvfb-run -a` before it).

#[cfg(target_os = "linux")]
fn main() {
    use std::io::Write as _;

    use gtk::prelude::*;
    use webkit2gtk::{WebView, WebViewExt};

    let mut args = std::env::args().skip(1);
    let churn = match (args.next(), args.next().map(|n| n.parse::<u32>())) {
        (None, _) => None,
        (Some(tag), Some(Ok(count)))
            if !tag.is_empty() && tag.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Some((tag, count))
        }
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "usage: blank_webview [TAG COUNT], e.g. blank_webview input 12000"
            );
            std::process::exit(2);
        }
    };
    let script = churn.map_or_else(String::new, |(tag, count)| {
        format!(
            "<script>
             let left = {count};
             const batch = () => {{
               const box = document.createElement('section');
               for (let i = 0; i < 40 && left > 0; i++, left--) box.append(document.createElement('{tag}'));
               document.body.replaceChildren(box);
               if (left > 0) setTimeout(batch, 30); else document.title = 'done';
             }};
             batch();
             </script>"
        )
    });
    guichet_app::lean_allocator();
    gtk::init().expect("no display: run this under Xvfb (xvfb-run -a) or in a desktop session");
    let window = gtk::Window::new(gtk::WindowType::Toplevel);
    window.set_default_size(1280, 800);
    let view = WebView::new();
    guichet_app::tune_webview(&view);
    view.load_html(
        &format!(
            "<!doctype html><html lang=en><title>Blank</title><p>Nothing here.</p>{script}</html>"
        ),
        None,
    );
    window.add(&view);
    window.show_all();
    if script.is_empty() {
        report_later();
    } else {
        view.connect_title_notify(|view| {
            if view.title().is_some_and(|t| t == "done") {
                report_later();
            }
        });
    }
    gtk::main();
}

/// Prints the memory of this process and of WebKit's five seconds from now, and quits.
#[cfg(target_os = "linux")]
fn report_later() {
    use std::io::Write as _;

    use guichet_tests::window::{mb, memory_table, tree_memory};

    gtk::glib::timeout_add_seconds_local_once(5, move || {
        let processes = tree_memory(std::process::id());
        let pss: u64 = processes.iter().map(|(_, _, pss)| pss).sum();
        let report = format!(
            "blank web view: {:.0} MB PSS in all\n{}",
            mb(pss),
            memory_table(&processes)
        );
        // A closed pipe (`| head`) is no reason to fail.
        let _ = std::io::stdout().lock().write_all(report.as_bytes());
        gtk::main_quit();
    });
}

#[cfg(not(target_os = "linux"))]
fn main() {}
