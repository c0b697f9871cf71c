//! The `guichet-backoffice` commands (clerk accounts, agency credentials, the fleet's health,
//! serve's TLS files), run as the real binary on a SQLite file in a temporary directory: what
//! they print, and that every refusal says what was wrong and changes nothing.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

const PASSWORD: &str = "correct horse battery staple";

/// The result of one run of the binary.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A back office database of its own, removed at the end of the test.
struct BackOffice {
    dir: TempDir,
}

impl BackOffice {
    /// A database with centres ATH-01 and THE-01.
    fn with_centres() -> Self {
        let office = BackOffice {
            dir: TempDir::new().unwrap(),
        };
        for (code, name) in [("ATH-01", "Athens Central"), ("THE-01", "Thessaloniki")] {
            office.add_centre(code, name);
        }
        office
    }

    /// Adds a stationary centre in Athens' time zone that counts in euros.
    fn add_centre(&self, code: &str, name: &str) {
        self.ok(
            &[
                "center",
                "add",
                code,
                "--name",
                name,
                "--kind",
                "stationary",
                "--time-zone",
                "Europe/Athens",
                "--currency",
                "EUR",
            ],
            None,
        );
    }

    /// Runs `guichet-backoffice --database sqlite://... ARGS...` with `stdin` as its standard
    /// input (closed when `None`).
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let url = format!("sqlite://{}", self.dir.path().join("bo.sqlite3").display());
        let mut child = Command::new(env!("CARGO_BIN_EXE_guichet-backoffice"))
            .arg("--database")
            .arg(url)
            .args(args)
            .env_remove("GUICHET_DATABASE_URL")
            .env_remove("GUICHET_ADMIN_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the guichet-backoffice binary runs");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // A command refused before it reads its input closes the pipe early.
            if let Err(e) = input.write_all(text.as_bytes()) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let run = self.run(args, stdin);
        assert_eq!(
            run.code, 0,
            "{args:?} failed:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run
    }

    /// Every account as `clerk list --json` prints it.
    fn accounts(&self) -> Value {
        let run = self.ok(&["clerk", "list", "--json"], None);
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
    }

    /// Runs a command that must be refused with exit code `code`, mention `needle` on stderr
    /// and leave every account as it was.
    fn refused(&self, args: &[&str], stdin: Option<&str>, code: i32, needle: &str) {
        let before = self.accounts();
        let run = self.run(args, stdin);
        assert_eq!(
            run.code, code,
            "{args:?} should exit {code}:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.contains(needle),
            "{args:?}: stderr should mention {needle:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
        assert_eq!(self.accounts(), before, "{args:?} changed the accounts");
    }
}

fn line(password: &str) -> String {
    format!("{password}\n")
}

#[test]
fn clerk_commands_add_list_and_change_accounts() {
    let office = BackOffice::with_centres();
    let empty = office.ok(&["clerk", "list"], None);
    assert!(
        empty.stdout.contains("add the first administrator"),
        "{}",
        empty.stdout
    );

    let added = office.ok(
        &[
            "clerk",
            "add",
            "ada",
            "--name",
            "Ada Lovelace",
            "--role",
            "administrator",
            "--centre",
            "THE-01",
            "--centre",
            "ATH-01",
            "--password-stdin",
        ],
        Some(&line(PASSWORD)),
    );
    assert_eq!(
        added.stdout.trim(),
        "administrator ada (Ada Lovelace) added for ATH-01, THE-01"
    );
    // A line ending from Windows is not part of the password.
    office.ok(
        &[
            "clerk",
            "add",
            "eleni",
            "--name",
            "Eleni Papadopoulou",
            "--role",
            "clerk",
            "--center",
            "ATH-01",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\r\n")),
    );

    let table = office.ok(&["clerk", "list"], None).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("USERNAME  ROLE"), "{table}");
    assert!(lines[1].starts_with("ada  "), "{table}");
    assert!(lines[1].contains("ATH-01,THE-01"), "{table}");
    assert!(lines[2].starts_with("eleni"), "{table}");
    assert!(lines[2].contains("active"), "{table}");
    assert!(lines[2].ends_with("Eleni Papadopoulou"), "{table}");
    assert_eq!(lines[3], "2 accounts");
    assert!(!table.contains("argon2"), "{table}");

    let json = office.accounts();
    let text = json.to_string();
    assert!(
        !text.contains("argon2") && !text.contains("verifier"),
        "{text}"
    );
    assert_eq!(json[1]["username"], "eleni");
    assert_eq!(json[1]["role"], "clerk");
    assert_eq!(json[1]["centres"], serde_json::json!(["ATH-01"]));

    let thessaloniki = office.ok(&["clerk", "list", "--centre", "THE-01", "--json"], None);
    let only: Value = serde_json::from_str(&thessaloniki.stdout).unwrap();
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["username"], "ada");

    let run = office.ok(&["clerk", "disable", "eleni"], None);
    assert_eq!(run.stdout.trim(), "eleni is disabled");
    assert_eq!(office.accounts()[1]["active"], false);
    assert!(
        office
            .ok(&["clerk", "list"], None)
            .stdout
            .contains("disabled")
    );
    let run = office.ok(&["clerk", "enable", "eleni"], None);
    assert_eq!(run.stdout.trim(), "eleni is active again");
    assert_eq!(office.accounts()[1]["active"], true);

    let run = office.ok(&["clerk", "role", "eleni", "supervisor"], None);
    assert_eq!(run.stdout.trim(), "eleni is now a supervisor");
    assert_eq!(office.accounts()[1]["role"], "supervisor");

    let before = office.accounts();
    let run = office.ok(
        &["clerk", "reset-password", "eleni", "--password-stdin"],
        Some(&line("a new and longer passphrase")),
    );
    assert_eq!(run.stdout.trim(), "eleni has a new password");
    assert_ne!(
        office.accounts()[1]["updated_at"],
        before[1]["updated_at"],
        "the reset is recorded"
    );
}

#[test]
fn clerk_commands_refuse_bad_input_and_change_nothing() {
    let office = BackOffice::with_centres();
    let add = |username: &'static str, role: &'static str, centres: &[&'static str]| {
        let mut args = vec![
            "clerk",
            "add",
            username,
            "--name",
            "Someone Else",
            "--role",
            role,
        ];
        for centre in centres {
            args.extend(["--centre", centre]);
        }
        args.push("--password-stdin");
        args
    };
    office.ok(&add("eleni", "clerk", &["ATH-01"]), Some(&line(PASSWORD)));
    let password = line(PASSWORD);
    let cases: &[(Vec<&str>, Option<&str>, i32, &str)] = &[
        (
            add("maria", "clerk", &["ATH-01"]),
            None,
            1,
            "no password on standard input",
        ),
        (
            add("maria", "clerk", &["ATH-01"]),
            Some("\n"),
            1,
            "no password on standard input",
        ),
        (
            add("maria", "clerk", &["ATH-01"]),
            Some("short\n"),
            1,
            "at least 10 characters",
        ),
        (
            add("maria", "clerk", &["ATH-01"]),
            Some("maria's own passphrase\n"),
            1,
            "must not contain the user name",
        ),
        (
            add("maria", "clerk", &["NOPE-01"]),
            Some(&password),
            1,
            "no centre 'NOPE-01'",
        ),
        (
            add("maria", "clerk", &["ATH-01", "THE-01"]),
            Some(&password),
            1,
            "a clerk belongs to exactly one",
        ),
        (
            add("eleni", "supervisor", &["ATH-01"]),
            Some(&password),
            1,
            "clerk 'eleni' already exists",
        ),
        (
            add("Maria", "clerk", &["ATH-01"]),
            Some(&password),
            1,
            "'Maria' is not a user name",
        ),
        (
            add("maria", "boss", &["ATH-01"]),
            Some(&password),
            1,
            "clerk, supervisor, administrator",
        ),
        (add("maria", "clerk", &[]), Some(&password), 2, "--centre"),
        (
            vec![
                "clerk", "add", "maria", "--name", "Maria", "--role", "clerk", "--centre", "ATH-01",
            ],
            Some(&password),
            2,
            "--password-stdin",
        ),
        (
            vec!["clerk", "disable", "ghost"],
            None,
            1,
            "no clerk 'ghost'",
        ),
        (
            vec!["clerk", "enable", "eleni"],
            None,
            1,
            "clerk 'eleni' is already active",
        ),
        (
            vec!["clerk", "role", "eleni", "clerk"],
            None,
            1,
            "already a clerk",
        ),
        (
            vec!["clerk", "role", "eleni", "chief"],
            None,
            1,
            "clerk, supervisor, administrator",
        ),
        (
            vec!["clerk", "reset-password", "eleni", "--password-stdin"],
            Some("short\n"),
            1,
            "at least 10 characters",
        ),
        (
            vec!["clerk", "reset-password", "ghost", "--password-stdin"],
            Some(&password),
            1,
            "no clerk 'ghost'",
        ),
        (
            vec!["clerk", "list", "--centre", "NOPE-01"],
            None,
            1,
            "no centre 'NOPE-01'",
        ),
    ];
    for (args, stdin, code, needle) in cases {
        office.refused(args, *stdin, *code, needle);
    }
}

#[test]
fn agency_credentials_are_listed_revoked_and_counted_in_the_health() {
    let office = BackOffice::with_centres();
    // Only for an agency of the published catalogue.
    let catalogue = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/demo-catalogue.json"
    );
    office.refused(
        &["agency", "token", "civil-registry"],
        None,
        1,
        "no catalogue is published yet",
    );
    office.ok(&["catalogue", "publish", catalogue], None);
    office.refused(
        &["agency", "token", "civil-registr"],
        None,
        1,
        "agency 'civil-registr' is not in the catalogue (version 1)",
    );
    let none = office.ok(&["agency", "credentials"], None);
    assert!(none.stdout.contains("0 credentials"), "{}", none.stdout);
    let issued = office.ok(
        &["agency", "token", "civil-registry", "--valid-days", "30"],
        None,
    );
    let token = issued.stdout.trim().to_owned();
    assert_eq!(token.len(), 64, "{}", issued.stdout);
    assert!(issued.stderr.contains("expires at"), "{}", issued.stderr);

    let listed = office.ok(&["agency", "credentials"], None);
    assert!(!listed.stdout.contains(&token), "{}", listed.stdout);
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert!(lines[0].starts_with("ID"), "{}", listed.stdout);
    assert!(lines[1].contains("civil-registry"), "{}", listed.stdout);
    assert!(lines[1].contains("valid"), "{}", listed.stdout);
    let id = lines[1].split_whitespace().next().unwrap().to_owned();

    let revoked = office.ok(&["agency", "revoke", &id], None);
    assert!(revoked.stdout.contains("is revoked"), "{}", revoked.stdout);
    let json = office.ok(&["agency", "credentials", "--json"], None);
    let value: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(value[0]["revoked_at"].is_string(), "{value}");
    let table = office.ok(&["agency", "credentials"], None);
    assert!(table.stdout.contains("revoked"), "{}", table.stdout);

    let unknown = office.run(&["agency", "revoke", "nope"], None);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("no agency credential 'nope'"),
        "{}",
        unknown.stderr
    );
    // No validity of none, nor one past the calendar's end (which crashed the command).
    for days in ["0", "99999999999"] {
        let refused = office.run(
            &["agency", "token", "civil-registry", "--valid-days", days],
            None,
        );
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("--valid-days must be 1 to 3650; nothing was issued"),
            "{}",
            refused.stderr
        );
    }

    let health = office.ok(&["health"], None);
    assert!(
        health.stdout.contains("0 devices, 0 flagged"),
        "{}",
        health.stdout
    );
    assert!(
        health.stdout.contains("agency_credential_revoked: 0"),
        "{}",
        health.stdout
    );
    let health = office.ok(&["health", "--json"], None);
    let value: Value = serde_json::from_str(&health.stdout).unwrap();
    assert_eq!(value["failed_logins"], 0);
}

#[test]
fn serve_refuses_tls_files_it_cannot_use_with_the_reason() {
    let office = BackOffice::with_centres();
    let missing = office.dir.path().join("absent.crt");
    let run = office.run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            missing.to_str().unwrap(),
            "--tls-key",
            missing.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read the TLS certificate file")
            && run.stderr.contains("absent.crt"),
        "{}",
        run.stderr
    );
    // A certificate without its key is a usage error.
    let run = office.run(&["serve", "--tls-cert", missing.to_str().unwrap()], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--tls-key"), "{}", run.stderr);
}

/// The admin token never goes on the command line (`ps` shows it), and a token file others
/// can read, or a token short enough to guess, is refused; an enrolment code valid for more
/// than 30 days is refused too.
#[cfg(unix)]
#[test]
fn serve_refuses_an_admin_token_others_can_see_and_codes_valid_too_long() {
    use std::os::unix::fs::PermissionsExt;
    let office = BackOffice::with_centres();
    let serve = |more: &[&str]| {
        office.run(
            &[&["serve", "--listen", "127.0.0.1:0"], more].concat(),
            None,
        )
    };
    let run = serve(&["--admin-token", "s3cret"]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("GUICHET_ADMIN_TOKEN") && run.stderr.contains("--admin-token-file"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    let file = office.dir.path().join("admin-token");
    std::fs::write(&file, "s3cret\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let from_file = ["--admin-token-file", file.to_str().unwrap()];
    let run = serve(&from_file);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    // Private, but short enough to guess: refused too.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = serve(&from_file);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("the admin token has 6 characters")
            && run.stderr.contains("openssl rand -hex 16"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);

    for hours in ["0", "721", "100000000"] {
        let run = office.run(&["enroll-code", "ATH-01", "--valid-hours", hours], None);
        assert_ne!(run.code, 0, "{hours}: {}", run.stdout);
        assert!(run.stderr.contains("30 days"), "{hours}: {}", run.stderr);
    }
}

#[cfg(unix)]
#[test]
fn the_database_file_is_its_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let office = BackOffice::with_centres();
    let file = office.dir.path().join("bo.sqlite3");
    assert_eq!(mode(&file), 0o600);
    // A file left readable by others (an earlier release, a copy) is made private at open.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    office.ok(&["center", "list"], None);
    assert_eq!(mode(&file), 0o600);
    for sidecar in ["bo.sqlite3-wal", "bo.sqlite3-shm"] {
        let path = office.dir.path().join(sidecar);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{sidecar}");
        }
    }
}

/// A database path typed wrong is not taken for an empty back office: a command that reads
/// says there is none and makes none; the first centre added makes it.
#[test]
fn a_database_that_is_not_there_is_made_only_by_what_starts_one() {
    let office = BackOffice {
        dir: TempDir::new().unwrap(),
    };
    let file = office.dir.path().join("bo.sqlite3");
    for args in [&["devices", "list"][..], &["center", "list"], &["health"]] {
        let run = office.run(args, None);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("there is no back-office database at")
                && run.stderr.contains("Nothing was created"),
            "{}",
            run.stderr
        );
        assert!(!file.exists(), "{args:?} made the database");
    }
    office.add_centre("ATH-01", "Athens Central");
    assert!(file.exists());
    office.ok(&["devices", "list"], None);
}

#[test]
fn a_centre_has_a_time_zone_currency_and_target_and_bad_ones_are_refused() {
    let office = BackOffice::with_centres();
    let listed = office.ok(&["center", "list"], None).stdout;
    assert!(
        listed.contains("ATH-01\tstationary\tEurope/Athens\tEUR\t15 min\tAthens Central"),
        "{listed}"
    );
    let add = |zone: &'static str, currency: &'static str, target: &'static str| {
        [
            "center",
            "add",
            "BAK-01",
            "--name",
            "Baku",
            "--kind",
            "mobile",
            "--time-zone",
            zone,
            "--currency",
            currency,
            "--waiting-target",
            target,
        ]
    };
    for (args, says) in [
        (
            add("Asia/Bakou", "AZN", "20"),
            "'Asia/Bakou' is not a time zone: give its IANA name",
        ),
        (add("Asia/Baku", "manat", "20"), "'manat'"),
        // Three letters, but no currency's: kept for good, it would count every fee wrong.
        (
            add("Asia/Baku", "AZM", "20"),
            "'AZM' is not a currency code",
        ),
        (
            add("Asia/Baku", "AZN", "0"),
            "a waiting-time target of 0 minutes is not valid: give 1 to 600",
        ),
    ] {
        let run = office.run(&args, None);
        assert_ne!(run.code, 0, "{}", run.stdout);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        assert_eq!(office.ok(&["center", "list"], None).stdout, listed);
    }
    let added = office.ok(&add("Asia/Baku", "AZN", "20"), None);
    assert!(
        added
            .stdout
            .contains("(Baku, mobile, Asia/Baku, AZN, waiting target 20 min) added"),
        "{}",
        added.stdout
    );

    // Corrected later: a bad term is refused with what to give, and nothing changes.
    let listed = office.ok(&["center", "list"], None).stdout;
    for (args, says) in [
        (
            &["center", "update", "BAK-01"][..],
            "nothing to change: give the centre's new name, time zone or waiting-time target",
        ),
        (
            &[
                "center",
                "update",
                "BAK-01",
                "--time-zone",
                "Asia/Tiflis",
                "--waiting-target",
                "25",
            ],
            "'Asia/Tiflis' is not a time zone: give its IANA name",
        ),
        (
            &["center", "update", "BAK-01", "--waiting-target", "601"],
            "a waiting-time target of 601 minutes is not valid: give 1 to 600",
        ),
        (
            &["center", "update", "BAK-09", "--waiting-target", "25"],
            "no centre 'BAK-09': `guichet-backoffice center list` lists them",
        ),
        (
            &["devices", "list", "--center", "BAK-09"],
            "no centre 'BAK-09': `guichet-backoffice center list` lists them",
        ),
    ] {
        let run = office.run(args, None);
        assert_ne!(run.code, 0, "{}", run.stdout);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        assert_eq!(office.ok(&["center", "list"], None).stdout, listed);
    }
    let updated = office.ok(
        &[
            "center",
            "update",
            "BAK-01",
            "--time-zone",
            "Asia/Tbilisi",
            "--waiting-target",
            "25",
        ],
        None,
    );
    assert!(
        updated.stdout.contains(
            "(Baku, mobile, Asia/Tbilisi, AZN, waiting target 25 min) updated; its devices take it at their next sync (a new time zone once no ticket of their day is open)"
        ),
        "{}",
        updated.stdout
    );
    assert!(
        office
            .ok(&["center", "list"], None)
            .stdout
            .contains("BAK-01\tmobile\tAsia/Tbilisi\tAZN\t25 min\tBaku")
    );
}

#[test]
fn a_cpsv_ap_file_is_imported_reported_and_published_once() {
    let office = BackOffice::with_centres();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/cpsv-ap/");
    let norway = format!("{fixtures}NO_cpsv-ap-no_all_classes_example.ttl");
    let run = office.ok(&["catalogue", "import", &norway], None);
    assert!(
        run.stdout.contains("(Turtle): 1 services"),
        "{}",
        run.stdout
    );
    for needle in [
        "  mapped: fee 0.51 NOK",
        "  defaulted: form: none",
        "  not mapped: cpsv:produces: 4 value(s)",
        "catalogue version 1 published (1 services)",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
    let again = office.ok(&["catalogue", "import", &norway, "--json"], None);
    let doc: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["published"], false);
    assert_eq!(
        doc["report"]["services"][0]["code"],
        "exOffentligTjeneste.ttl"
    );

    // An export imports back as the same catalogue: nothing new.
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out.ttl");
    // Without the authorities' area, which CPSV-AP requires, the export says it left it out.
    let plain = office.ok(
        &["catalogue", "export", "--output", out.to_str().unwrap()],
        None,
    );
    assert!(
        plain
            .stderr
            .contains("CPSV-AP requires the area each competent authority serves"),
        "{}",
        plain.stderr
    );
    let greece = "http://publications.europa.eu/resource/authority/country/GRC";
    let placed = office.ok(
        &[
            "catalogue",
            "export",
            "--output",
            out.to_str().unwrap(),
            "--area",
            greece,
        ],
        None,
    );
    assert!(placed.stderr.is_empty(), "{}", placed.stderr);
    assert!(std::fs::read_to_string(&out).unwrap().contains(greece));
    // A path typed wrong does not replace the back office's own database.
    let database = office.dir.path().join("bo.sqlite3");
    let over = office.run(
        &[
            "catalogue",
            "export",
            "--format",
            "json",
            "--output",
            database.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(over.code, 1, "{}", over.stderr);
    assert!(
        over.stderr
            .contains("is a file of another kind, which the export would replace"),
        "{}",
        over.stderr
    );
    office.ok(&["devices", "list"], None);
    let refused = office.run(&["catalogue", "export", "--area", "Greece"], None);
    assert!(
        refused.stderr.contains("the area 'Greece' is not an IRI"),
        "{}",
        refused.stderr
    );
    let back = office.ok(&["catalogue", "import", out.to_str().unwrap()], None);
    assert!(
        back.stdout
            .ends_with("unchanged: version 1 already says this; nothing published\n"),
        "{}",
        back.stdout
    );

    // Broken files are refused whole, with where it failed; nothing is published.
    let broken = dir.path().join("broken.ttl");
    std::fs::write(
        &broken,
        "@prefix cpsv: <http://purl.org/vocab/cpsv#> .\n<http://x/s> a cpsv:PublicService ;\n  <http://purl.org/dc/terms/title> \"open\n",
    )
    .unwrap();
    let untitled = dir.path().join("untitled.jsonld");
    std::fs::write(
        &untitled,
        r#"{"@context": {"cpsv": "http://purl.org/vocab/cpsv#"}, "@id": "http://x/untitled", "@type": "cpsv:PublicService"}"#,
    )
    .unwrap();
    let remote = dir.path().join("remote.jsonld");
    std::fs::write(
        &remote,
        r#"{"@context": "https://example.org/context.jsonld", "@id": "http://x/s"}"#,
    )
    .unwrap();
    for (file, needle) in [
        (&broken, "is not valid Turtle at line 3"),
        (
            &untitled,
            "the public service <http://x/untitled> has no title",
        ),
        (&remote, "fetches nothing from the network"),
    ] {
        let run = office.run(&["catalogue", "import", file.to_str().unwrap()], None);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        assert!(
            run.stderr.contains("nothing was published"),
            "{}",
            run.stderr
        );
    }
    let export = office.ok(&["catalogue", "export", "--format", "json"], None);
    let latest: Value = serde_json::from_str(&export.stdout).unwrap();
    assert_eq!(latest["version"], 1);
    let refused = office.run(
        &["catalogue", "import", &norway, "--format", "rdfxml"],
        None,
    );
    assert!(
        refused
            .stderr
            .contains("'rdfxml' is not a catalogue format: use turtle or jsonld"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_companion_file_fills_what_cpsv_ap_lacks_and_a_broken_one_publishes_nothing() {
    let office = BackOffice::with_centres();
    let dir = TempDir::new().unwrap();
    let semic = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/cpsv-ap/EU_semic_cpsv-ap-3.2.0_example.ttl"
    );
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{ "defaults": { "fee_tier": "luxury" } }"#).unwrap();
    let run = office.run(
        &[
            "catalogue",
            "import",
            semic,
            "--companion",
            broken.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("is not a companion file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was published"),
        "{}",
        run.stderr
    );
    let none = office.run(&["catalogue", "export"], None);
    assert!(
        none.stderr.contains("no catalogue is published yet"),
        "{}",
        none.stderr
    );

    let good = dir.path().join("companion.json");
    std::fs::write(
        &good,
        r#"{ "services": { "Tax-on-web": { "processing_days": 3 } } }"#,
    )
    .unwrap();
    let run = office.ok(
        &[
            "catalogue",
            "import",
            semic,
            "--companion",
            good.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        run.stdout
            .contains("mapped: processing time: 3 days (companion file)"),
        "{}",
        run.stdout
    );
}

#[test]
fn releases_are_published_listed_and_bad_ones_refused_changing_nothing() {
    let office = BackOffice::with_centres();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release");
    let path = |name: &str| fixtures.join(name).to_string_lossy().into_owned();
    let (old, old_sig) = (
        path("guichet_0.9.0_amd64.deb"),
        path("guichet_0.9.0_amd64.deb.sig"),
    );
    let (new, new_sig) = (
        path("guichet_0.10.0_amd64.deb"),
        path("guichet_0.10.0_amd64.deb.sig"),
    );
    let publish = |file: &str, version: &str, signature: &str, centres: Option<&str>| {
        let mut args = vec![
            "release".to_owned(),
            "publish".to_owned(),
            file.to_owned(),
            "--version".to_owned(),
            version.to_owned(),
            "--signature".to_owned(),
            signature.to_owned(),
        ];
        if let Some(centres) = centres {
            args.extend(["--centres".to_owned(), centres.to_owned()]);
        }
        args
    };
    let releases = || office.ok(&["release", "list", "--json"], None).stdout;
    let refused = |args: &[String], says: &str| {
        let before = releases();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = office.run(&args, None);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        assert_eq!(releases(), before, "{args:?} changed the releases");
    };

    let none = office.ok(&["release", "list"], None);
    assert!(
        none.stdout.contains("no release is published yet"),
        "{}",
        none.stdout
    );
    refused(
        &publish(&old, "0.9.0", &old_sig, None),
        "no release key: set it first with `guichet-backoffice release key KEY.pub`",
    );
    let set = office.ok(&["release", "key", &path("other.pub")], None);
    assert!(
        set.stdout.contains("release key CB3E061FC30D128C set"),
        "{}",
        set.stdout
    );
    refused(
        &publish(&old, "0.9.0", &old_sig, None),
        "the package is not signed with this back office's release key",
    );
    let set = office.ok(&["release", "key", &path("good.pub")], None);
    assert!(
        set.stdout
            .contains("release key D02F4EADC9A02CC7 set in place of CB3E061FC30D128C"),
        "{}",
        set.stdout
    );
    let dir = TempDir::new().unwrap();
    let empty = dir.path().join("guichet_0.9.0_amd64.deb");
    std::fs::write(&empty, b"").unwrap();
    for (args, says) in [
        (
            publish(&old, "0.9", &old_sig, None),
            "'0.9' is not a version: it needs three numbers separated by dots; write \
             MAJOR.MINOR.PATCH",
        ),
        (
            publish(&old, "0.9.0", &old_sig, Some("ATH-01,NOPE-01")),
            "no centre 'NOPE-01'",
        ),
        (
            publish(&old, "0.9.0", &new_sig, None),
            "the signature does not match the package",
        ),
        (
            publish(&old, "0.9.0", &path("good.pub"), None),
            "the signature does not parse",
        ),
        (
            publish(&path("missing.deb"), "0.9.0", &old_sig, None),
            "cannot read",
        ),
        (
            publish(&empty.to_string_lossy(), "0.9.0", &old_sig, None),
            "the package is empty",
        ),
        // The devices' updater installs a Debian package only: anything else is refused here.
        (
            publish(
                &path("guichet_0.9.0_amd64.deb.sig"),
                "0.9.0",
                &old_sig,
                None,
            ),
            "this is not a Debian package",
        ),
        (
            vec!["release".into(), "key".into(), old.clone()],
            "this is not a public key as `tauri signer generate` writes it",
        ),
    ] {
        refused(&args, says);
    }

    let args = publish(&old, "0.9.0", &old_sig, None);
    let published = office.ok(&args.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert!(
        published.stdout.starts_with(
            "release 0.9.0 published (guichet_0.9.0_amd64.deb, 3.0 KiB, sha256 ad63db17ca2c) \
             for every centre"
        ),
        "{}",
        published.stdout
    );
    let args = publish(&new, "0.10.0", &new_sig, Some("ATH-01"));
    let published = office.ok(&args.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert!(
        published.stdout.ends_with("for ATH-01\n"),
        "{}",
        published.stdout
    );
    refused(
        &publish(&old, "0.9.0", &old_sig, None),
        "version 0.9.0 is published already: publish a new version",
    );

    let table = office.ok(&["release", "list"], None).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("VERSION  FILE") && lines[0].contains("SHA256"),
        "{table}"
    );
    assert!(lines[1].starts_with("0.10.0 "), "{table}");
    assert!(lines[1].contains(" ATH-01 "), "{table}");
    assert!(lines[2].starts_with("0.9.0 "), "{table}");
    assert!(lines[2].contains("ad63db17ca2c  all "), "{table}");
    assert_eq!(lines[3], "2 releases");
    let listed: Value = serde_json::from_str(&releases()).unwrap();
    assert_eq!(listed[1]["size"], 3074);
    assert_eq!(listed[1]["centres"], Value::Null);
}

/// `--password-stdin` at a terminal asks the password twice without showing it; two that
/// differ add no account. The terminal is a pseudo-terminal that `script` (util-linux) opens
/// for the command.
#[test]
fn a_password_typed_at_a_terminal_is_asked_twice_unseen() {
    let office = BackOffice::with_centres();
    let url = format!(
        "sqlite://{}",
        office.dir.path().join("bo.sqlite3").display()
    );
    let command = format!(
        "'{}' --database '{url}' clerk add maria --name 'Maria P' --role clerk --centre ATH-01 \
         --password-stdin",
        env!("CARGO_BIN_EXE_guichet-backoffice")
    );
    // A person types each password once its question is on the screen: typed before, the
    // terminal would show it, as it shows anything typed while nothing reads unseen.
    let at_terminal = |answers: [&str; 2]| {
        let mut script = Command::new("script")
            .args(["--quiet", "--return", "--command", &command, "/dev/null"])
            .env_remove("GUICHET_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux) runs");
        let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut out = script.stdout.take().unwrap();
        let reader = {
            let screen = screen.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 256];
                while let Ok(n @ 1..) = std::io::Read::read(&mut out, &mut chunk) {
                    screen.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            })
        };
        let shown = || String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
        let mut keys = script.stdin.take().unwrap();
        for (question, answer) in ["New password for maria: ", "The same password again: "]
            .into_iter()
            .zip(answers)
        {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while !shown().contains(question) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no {question:?}: {}",
                    shown()
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            // The question is written just before the terminal stops showing what is typed:
            // a person takes longer than this to start typing.
            std::thread::sleep(std::time::Duration::from_millis(300));
            keys.write_all(line(answer).as_bytes()).unwrap();
        }
        let status = script.wait().unwrap();
        drop(keys);
        reader.join().unwrap();
        (status.code(), shown())
    };
    let (code, shown) = at_terminal([PASSWORD, "another one entirely"]);
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("the two passwords typed differ"), "{shown}");
    assert_eq!(office.accounts(), serde_json::json!([]));

    let (code, shown) = at_terminal([PASSWORD, PASSWORD]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("New password for maria"), "{shown}");
    assert!(!shown.contains(PASSWORD), "the password showed: {shown}");
    assert_eq!(office.accounts()[0]["username"], "maria");
}

/// A database URL with a mistyped scheme is refused without showing its user and password.
#[test]
fn a_mistyped_database_url_is_refused_without_its_password() {
    let run = Command::new(env!("CARGO_BIN_EXE_guichet-backoffice"))
        .args([
            "--database",
            "postgress://guichet:s3cret-pw@db.example:5432/guichet?password=other-pw",
            "center",
            "list",
        ])
        .env_remove("GUICHET_DATABASE_URL")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{said}");
    assert!(
        said.contains("'postgress://db.example:5432/guichet' is not a database URL"),
        "{said}"
    );
    assert!(
        !said.contains("s3cret-pw") && !said.contains("other-pw") && !said.contains("guichet:"),
        "{said}"
    );
}

/// An agency's steps refuse a blank actor; its listings refuse a code that the catalogue does
/// not name, where they would say "nothing" as if it were right; a device that is not there
/// is refused with where the devices are listed.
#[test]
fn agency_and_device_commands_refuse_what_is_not_there() {
    let office = BackOffice::with_centres();
    let catalogue = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/demo-catalogue.json"
    );
    office.ok(&["catalogue", "publish", catalogue], None);
    let unknown = "agency 'civil-registr' is not in the catalogue (version 1)";
    office.refused(&["agency", "list", "civil-registr"], None, 1, unknown);
    office.refused(
        &["agency", "credentials", "--agency", "civil-registr"],
        None,
        1,
        unknown,
    );
    let none = office.ok(&["agency", "list", "civil-registry"], None);
    assert!(none.stdout.contains("no request waits"), "{}", none.stdout);
    office.refused(
        &["agency", "take", "K7XA-0000-042E", "--actor", "  "],
        None,
        1,
        "the actor is blank",
    );
    office.refused(
        &["devices", "revoke", "ATH-01-NOPE"],
        None,
        1,
        "no device 'ATH-01-NOPE': check the code; `guichet-backoffice devices list`",
    );
    office.refused(
        &["agency", "take", "K7XA-0000-042E", "--actor", "Maria"],
        None,
        1,
        "`guichet-backoffice agency list AGENCY` shows an agency's requests",
    );
}

/// `serve --request-timeout` out of its range is refused by the command line, not bent into
/// it; `catalogue publish` reads at most what `catalogue import` reads.
#[test]
fn a_request_timeout_out_of_range_and_a_catalogue_too_large_are_refused() {
    let office = BackOffice::with_centres();
    for seconds in ["0", "4", "601"] {
        let run = office.run(&["serve", "--request-timeout", seconds], None);
        assert_eq!(run.code, 2, "{seconds}: {}", run.stderr);
        assert!(run.stderr.contains("5..=600"), "{}", run.stderr);
    }
    let huge = office.dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    office.refused(
        &["catalogue", "publish", huge.to_str().unwrap()],
        None,
        1,
        "is larger than 64 MiB: split the catalogue",
    );
}
