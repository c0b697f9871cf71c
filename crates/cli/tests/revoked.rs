//! A device the back office revoked (without a wipe): `guichet sync` says so, and how to use
//! the computer again, since `enroll` refuses a data directory already set up.

use std::process::{Command, Stdio};
use std::sync::Arc;

use guichet_tests::{Device, Server};
use guichet_workstation::SystemClock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_told_how_to_enrol_again() {
    let server = Server::start("ATH-01").await;
    let mut device = Device::enroll(&server, "ATH-01", Arc::new(SystemClock)).await;
    device.sync().await.expect("first sync");
    // `guichet sync` runs in the clerk's command line session.
    let token = device.ws.open_cli_session().expect("session");
    std::fs::write(device.dir.path().join("session"), token).expect("session file");
    let code = device.ws.config().expect("config").device_code;
    server
        .office
        .revoke_device(&code, false)
        .await
        .expect("revoke");

    let out = Command::new(env!("CARGO_BIN_EXE_guichet"))
        .arg("--data-dir")
        .arg(device.dir.path())
        .args(["sync", "--timeout", "5"])
        .stdin(Stdio::null())
        .output()
        .expect("guichet sync runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("the back office refused this device"),
        "{said}"
    );
    assert!(
        said.contains("to use this computer again, enrol it in a new data directory"),
        "{said}"
    );
}
