//! Running the real `guichet` binary in a temporary data directory, and what the tests need
//! to drive it: valid personal codes, valid form values, a demo service to work with.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::NaiveDate;
use guichet_domain::catalogue::{Channel, Fee, Service};
use guichet_domain::form::FieldKind;
use guichet_fixtures::DEMO_PASSWORD;
use serde_json::Value;
use tempfile::TempDir;

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// One workstation: its own data directory, removed at the end of the test.
pub struct Guichet {
    pub dir: TempDir,
    /// The recovery key `setup` printed, once set up by `demo`.
    recovery: Option<String>,
}

/// `guichet setup` for centre ATH-01, device ATH-01-W1, administrator eleni (her password on
/// standard input).
pub const SETUP: [&str; 16] = [
    "setup",
    "--center",
    "ATH-01",
    "--center-name",
    "Athens Central",
    "--device",
    "ATH-01-W1",
    "--receipt-prefix",
    "K7XA",
    "--admin",
    "eleni",
    "--admin-name",
    "Eleni Papadopoulou",
    "--time-zone",
    "UTC",
    "--password-stdin",
];

impl Guichet {
    pub fn new() -> Self {
        Guichet {
            dir: TempDir::new().expect("a temporary directory"),
            recovery: None,
        }
    }

    /// A workstation set up with `--demo` for centre ATH-01, default clerk eleni.
    pub fn demo() -> Self {
        let mut g = Guichet::new();
        let mut args = SETUP.to_vec();
        args.push("--demo");
        let done = g.json(&args);
        g.recovery = done["recovery_key"].as_str().map(str::to_owned);
        g
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A connection of the test's own to the encrypted database, opened with the recovery key
    /// `setup` printed: what a test uses to tamper with it behind the workstation's back.
    pub fn raw(&self) -> rusqlite::Connection {
        let key = self.recovery.as_deref().expect("set up by Guichet::demo");
        guichet_workstation::store::open_with_recovery_key(
            self.dir.path(),
            &guichet_domain::keyslot::RecoveryKey::parse(key).expect("a recovery key"),
        )
        .expect("the recovery key opens the database")
    }

    /// Runs `guichet --data-dir DIR ARGS...` with no GUICHET_* variables from outside, and
    /// the demo password on standard input (read only with --password-stdin).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_input(args, &format!("{DEMO_PASSWORD}\n{DEMO_PASSWORD}\n"))
    }

    /// Runs the binary as `run` does, with `input` on its standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_guichet"))
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env_remove("GUICHET_DATA_DIR")
            .env_remove("GUICHET_USER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the guichet binary runs");
        let mut stdin = child.stdin.take().expect("a pipe");
        // The binary may exit without reading (no --password-stdin): a closed pipe is fine.
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        let out = child.wait_with_output().expect("the guichet binary ends");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs a command that must succeed, and returns its run.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "guichet {args:?} failed:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run
    }

    /// Runs a command with `--json` that must succeed, and returns its document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(&all).json()
    }

    /// What a refused command must leave as it was: every change waiting to leave the device
    /// and the length of the audit chain.
    pub fn state(&self) -> (Value, Value) {
        (
            self.json(&["outbox"]),
            self.json(&["audit", "verify"])["events"].clone(),
        )
    }

    /// Runs a command that must be refused with `code`, say `needle` on stderr, and change
    /// nothing; returns its run.
    pub fn refused(&self, args: &[&str], code: i32, needle: &str) -> Run {
        let before = self.state();
        let run = self.refused_saying(args, code, needle);
        assert_eq!(
            self.state(),
            before,
            "guichet {args:?} changed the database"
        );
        run
    }

    /// Runs a command that must be refused with `code` and say `needle` on stderr (for a
    /// workstation with no database to compare: one not set up).
    pub fn refused_saying(&self, args: &[&str], code: i32, needle: &str) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "guichet {args:?} should exit {code}:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.starts_with("error: "),
            "guichet {args:?}: stderr should start with 'error: ': {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(needle),
            "guichet {args:?}: stderr should mention {needle:?}: {}",
            run.stderr
        );
        run
    }
}

/// Adds kostas, a supervisor, with the demo password.
pub fn add_kostas(g: &Guichet) {
    g.ok(&[
        "clerk",
        "add",
        "kostas",
        "--name",
        "Kostas Georgiou",
        "--role",
        "supervisor",
        "--password-stdin",
    ]);
}

/// Mari Tamm, born 1976-05-03.
pub const MARI: &str = "37605030299";

pub fn register_mari(g: &Guichet) {
    g.ok(&[
        "citizen",
        "add",
        "--id",
        MARI,
        "--given",
        "Mari",
        "--family",
        "Tamm",
        "--born",
        "1976-05-03",
    ]);
}

/// A demo service with a fee, documents and a form, that a stationary centre can take.
pub fn charged_service() -> Service {
    guichet_fixtures::demo_catalogue()
        .services
        .into_iter()
        .filter(|s| s.availability.offered_at("ATH-01"))
        .filter(|s| {
            s.depth(Channel::StationaryCenter)
                .is_some_and(|d| d.takes_requests())
        })
        .find(|s| {
            matches!(s.fee, Fee::Charged { .. })
                && !s.documents.is_empty()
                && s.form.iter().any(|f| f.required)
        })
        .expect("the demo catalogue has a charged service with documents and a form")
}

/// `--field code=value` arguments that pass the service's form.
pub fn valid_fields(service: &Service, today: NaiveDate) -> Vec<String> {
    service
        .form
        .iter()
        .map(|f| {
            let value = match &f.kind {
                FieldKind::Text { min_length, .. } => {
                    "x".repeat(min_length.unwrap_or(1).max(1) as usize)
                }
                // A month ahead: valid for "not in the past" even if the day turns mid-test.
                FieldKind::Date { not_past: true, .. } => {
                    (today + chrono::Days::new(30)).to_string()
                }
                FieldKind::Date { .. } => "2000-01-01".into(),
                FieldKind::Number { min, .. } => min.unwrap_or(1).max(0).to_string(),
                FieldKind::Choice { options } => {
                    options.first().map(|o| o.code.clone()).unwrap_or_default()
                }
                FieldKind::NationalId => MARI.into(),
                FieldKind::Phone => "+30 210 123 4567".into(),
            };
            format!("{}={value}", f.code)
        })
        .collect()
}

/// The arguments of `request create` for `service` with a valid form and every document.
pub fn create_args(service: &Service, today: NaiveDate) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "request".into(),
        "create".into(),
        "--citizen".into(),
        MARI.into(),
        "--service".into(),
        service.code.clone(),
    ];
    for field in valid_fields(service, today) {
        args.push("--field".into());
        args.push(field);
    }
    for doc in &service.documents {
        args.push("--document".into());
        args.push(doc.code.clone());
    }
    args
}

pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Today as the workstation sees it (its wall clock is this machine's, in UTC).
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}
