//! The app as installed from its Debian package: started from its desktop entry's command under
//! Xvfb, it shows a new workstation's first screen, and a centre can be set up on it (the
//! encrypted database created, the recovery key shown, the counter reached).
//!
//! Then an update from the back office: one signed with another key refused, one signed with
//! the release key installed, and the app started again on it with its data.
//!
//! It needs the package installed, so `cargo test` leaves it out: `bash .ci/package-test`
//! builds the package, installs it and runs this (as root; CI does).

use guichet_backoffice::service::NewRelease;
use guichet_domain::account::Role;
use guichet_fixtures::DEMO_PASSWORD;
use guichet_tests::Server;
use guichet_tests::window::{
    App, DESKTOP_ENTRY, Display, WAIT, installed_app, keys, wait_until_within,
};
use tempfile::TempDir;

/// How long an install and the app's start again may take.
const INSTALL_WAIT: std::time::Duration = std::time::Duration::from_secs(180);

fn wait(what: &str, ready: impl FnMut() -> bool) {
    wait_until_within(INSTALL_WAIT, what, ready);
}

const CENTER: &str = "ATH-01";

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

/// Updates from the back office, as a centre's IT officer ships them: the installed app (built
/// with the release key) refuses a package signed with another key, then installs one signed
/// with the right key when the clerk accepts the offer, starts again on it, and the clerk finds
/// their work on the new version, which the back office hears of at the next sync.
///
/// `bash .ci/package-test` builds the second package, makes the two keys, signs it with both,
/// and names them in the environment.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the Debian package installed and a second release: bash .ci/package-test"]
async fn the_installed_app_refuses_a_foreign_update_and_installs_a_signed_one() {
    let given = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} is not set: run this through bash .ci/package-test"))
    };
    let read = |name: &str| {
        std::fs::read_to_string(given(name))
            .unwrap_or_else(|e| panic!("{}: {e}", given(name)))
            .trim()
            .to_owned()
    };
    let package = std::fs::read(given("GUICHET_UPDATE_PACKAGE")).unwrap();
    let next = given("GUICHET_UPDATE_VERSION");
    let foreign = given("GUICHET_UPDATE_FOREIGN_VERSION");
    let (_, binary) = installed_app();
    let before = installed_version();
    assert_ne!(
        before, next,
        "the update must be another version than the one installed"
    );

    let server = Server::start(CENTER).await;
    server
        .add_clerk(CENTER, "nikos", "Nikos Georgiou", Role::Clerk)
        .await;
    // A back office holding another key than the one built into the app (a mistake, or an
    // intruder's key): it publishes what that key signed, and the app refuses it.
    server
        .office
        .set_release_key(&read("GUICHET_UPDATE_FOREIGN_KEY"))
        .await
        .unwrap();
    publish(
        &server,
        &foreign,
        &package,
        read("GUICHET_UPDATE_FOREIGN_SIGNATURE"),
    )
    .await;

    let display = Display::start();
    let data = TempDir::new().unwrap();
    let code = server
        .office
        .issue_enrolment_code(CENTER, chrono::Duration::hours(1))
        .await
        .unwrap();
    let app = App::launch(&binary, &display, data.path()).await;
    app.enrol(&server.url, &code.code).await;
    app.log_in("nikos", DEMO_PASSWORD).await;
    app.wait_for_text("#status-detail", &format!("Update {foreign} refused"))
        .await;
    assert!(
        app.text("#update-offer").await.is_empty(),
        "a refused update is not offered"
    );
    // A ticket for the first category of the catalogue the back office sent.
    let category = app
        .wait_for_css("#ticket-target option[value^='category:']")
        .await
        .attr("value")
        .await
        .unwrap()
        .expect("a category's value");
    app.select("#ticket-target", &category).await;
    app.click("#issue-ticket").await;
    let issued = app.wait_for_text("#issued-ticket", "Ticket").await;
    let ticket = issued.trim_start_matches("Ticket").trim().to_owned();
    assert_eq!(installed_version(), before, "nothing was installed");

    // The right key, and a release signed with it: offered at the next sync, installed when
    // the clerk accepts, and the app starts again on it.
    server
        .office
        .set_release_key(&read("GUICHET_UPDATE_KEY"))
        .await
        .unwrap();
    publish(&server, &next, &package, read("GUICHET_UPDATE_SIGNATURE")).await;
    app.press(keys::F5).await;
    app.wait_for_text(
        "#update-text",
        &format!("Guichet {next} is ready to install"),
    )
    .await;
    app.wait_for_css("#update-install:not([disabled])").await;
    app.screenshot("30-update-offered").await;
    app.click("#update-install").await;
    wait("the new version installed", || installed_version() == next);
    let log = data.path().join(guichet_app::LOG_FILE);
    wait("the app started again on the new version", || {
        std::fs::read_to_string(&log).is_ok_and(|text| {
            text.lines()
                .any(|l| l.contains("Guichet starts") && l.contains(&format!("version={next}")))
        })
    });
    let restarted = Restarted(wait_for_process(data.path()));
    drop(app);
    drop(restarted);

    // The new version over the same data: the clerk logs in again, the ticket is there, and
    // the back office hears the new version at the sync.
    let app = App::launch(&binary, &display, data.path()).await;
    app.log_in("nikos", DEMO_PASSWORD).await;
    app.wait_for_text("#waiting-rows", &ticket).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let fleet = server.office.fleet(Some(CENTER)).await.unwrap();
        let reported = fleet[0]
            .last_contact
            .as_ref()
            .map(|c| c.app_version.clone());
        if reported.as_deref() == Some(next.as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the back office still hears {reported:?}, not {next}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    app.quit().await;
    server.shutdown().await;
}

async fn publish(server: &Server, version: &str, package: &[u8], signature: String) {
    server
        .office
        .publish_release(NewRelease {
            version: version.to_owned(),
            file_name: format!("Guichet_{version}_amd64.deb"),
            package: package.to_vec(),
            signature,
            centres: None,
            notes: String::new(),
        })
        .await
        .unwrap();
}

/// The version of the package `guichet` that dpkg holds as installed.
fn installed_version() -> String {
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "guichet"])
        .output()
        .expect("dpkg-query");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The app the update started again, which no WebDriver session holds: stopped when dropped,
/// whether the test got that far or failed on the way.
struct Restarted(u32);

impl Drop for Restarted {
    fn drop(&mut self) {
        let pid = self.0;
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::path::Path::new(&format!("/proc/{pid}")).exists()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// The installed app's process running over `data` (the one the update started, which no
/// WebDriver session holds).
fn wait_for_process(data: &std::path::Path) -> u32 {
    let wanted = format!("GUICHET_DATA_DIR={}", data.display());
    let find = || {
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .find_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
                let environ = std::fs::read(entry.path().join("environ")).ok()?;
                let ours = exe == std::path::Path::new("/usr/bin/guichet-app")
                    && environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes());
                ours.then_some(pid)
            })
    };
    wait("the restarted app's process", || find().is_some());
    find().expect("the restarted app's process")
}
