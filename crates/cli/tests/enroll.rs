//! `guichet enroll` against a real back office, its one-time code read from standard input
//! (`--code-stdin`): never on the command line, where other users' `ps` would see it.

use std::io::Write;
use std::process::{Command, Stdio};

use guichet_tests::Server;
use tempfile::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_enrolled_with_its_code_on_standard_input() {
    let server = Server::start("ATH-01").await;
    let code = server
        .office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .expect("an enrolment code");
    let dir = TempDir::new().expect("a temporary directory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_guichet"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "enroll",
            "--server",
            &server.url,
            "--code-stdin",
            "--label",
            "bus 1",
        ])
        .env_remove("GUICHET_DATA_DIR")
        .env_remove("GUICHET_USER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the guichet binary runs");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(format!("{}\n", code.code).as_bytes())
        .expect("the code is sent");
    let out = child.wait_with_output().expect("the guichet binary ends");
    let said = String::from_utf8_lossy(&out.stdout);
    let complained = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}{complained}");
    assert!(
        said.starts_with(&format!("Enrolled with {}: centre ATH-01", server.url)),
        "{said}"
    );
    assert!(!said.contains(&code.code), "{said}");
}
