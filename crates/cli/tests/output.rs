//! What a script reads on standard output is whole, or the command says it is not: a write
//! that fails (a full disk, here `/dev/full`) exits non-zero and says so on stderr; a reader
//! that went away (a closed pipe, `guichet request list | head`) ends the command quietly.

mod common;

use std::fs::OpenOptions;
use std::process::{Command, Stdio};

use common::Guichet;

/// Runs `guichet ARGS...` with `stdout` as its standard output; returns its exit code and
/// stderr.
fn run_into(g: &Guichet, args: &[&str], stdout: impl Into<Stdio>) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_guichet"))
        .arg("--data-dir")
        .arg(g.data_dir())
        .args(args)
        .env_remove("GUICHET_DATA_DIR")
        .env_remove("GUICHET_USER")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("the guichet binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn full_disk() -> std::fs::File {
    OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full opens for writing")
}

#[test]
fn output_that_cannot_be_written_fails_the_command_and_says_so() {
    let g = Guichet::demo();
    for args in [&["request", "list", "--json"][..], &["catalogue", "browse"]] {
        let (code, said) = run_into(&g, args, full_disk());
        assert_eq!(code, Some(1), "{args:?}: {said}");
        assert!(
            said.starts_with(
                "error: the output could not be written to standard output (No space left on \
                 device"
            ) && said.contains("what was written there is cut short"),
            "{args:?}: {said}"
        );
        assert!(
            said.contains(
                "hint: the command itself was carried out, so do not repeat one that changes data"
            ),
            "{args:?}: {said}"
        );
    }
    // A refusal keeps its own exit code; its JSON lost on the way is said too.
    let (code, said) = run_into(
        &g,
        &["--json", "request", "show", "K7XA-0000-0"],
        full_disk(),
    );
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("error: the output could not be written to standard output"),
        "{said}"
    );
    assert!(
        !said.contains("the command itself was carried out"),
        "{said}"
    );
}

#[test]
fn a_reader_that_went_away_ends_the_command_quietly() {
    let g = Guichet::demo();
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let (code, said) = run_into(&g, &["catalogue", "browse"], writer);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(said, "");
}
