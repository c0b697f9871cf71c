//! The app as installed from its Debian package: started from its desktop entry's command under
//! Xvfb, it shows a new workstation's first screen, and a centre can be set up on it (the
//! encrypted database created, the recovery key shown, the counter reached).
//!
//! It needs the package installed, so `cargo test` leaves it out: `bash .ci/package-test`
//! builds the package, installs it and runs this (as root; CI does).

use guichet_tests::window::{App, DESKTOP_ENTRY, Display, installed_app};
use tempfile::TempDir;

#[tokio::test]
#[ignore = "needs the Debian package installed: bash .ci/package-test"]
async fn the_installed_app_starts_from_its_desktop_entry_and_sets_a_centre_up() {
    let (entry, binary) = installed_app();
    assert!(
        binary.starts_with("/usr/bin"),
        "the desktop entry should start the packaged app, not {}",
        binary.display()
    );
    for key in ["Type=Application", "Name=Guichet", "Icon=", "Comment[fr]="] {
        assert!(entry.contains(key), "{DESKTOP_ENTRY} lacks {key}:\n{entry}");
    }

    let display = Display::start();
    let data = TempDir::new().unwrap();
    let app = App::launch(&binary, &display, data.path()).await;
    // A new workstation: set up standalone or enrol with a back office.
    app.wait_for_css("#setup-standalone").await;
    app.wait_for_css("#setup-id-scheme").await;
    app.wait_for_css("#enroll-link").await;
    app.screenshot("installed-first-screen").await;
    app.set_up_standalone("eleni", "Eleni Papadopoulou").await;
    app.quit().await;
    assert!(
        data.path()
            .join(guichet_workstation::store::DATABASE_FILE)
            .is_file(),
        "the set-up should have created the workstation's database"
    );
}
