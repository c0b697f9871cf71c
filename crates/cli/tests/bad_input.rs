//! Bad input through the real binary: each refusal exits non-zero, names the problem on
//! stderr, and leaves the database as it was (the outbox and the audit chain unchanged).

mod common;

use common::{
    Guichet, MARI, add_kostas, charged_service, create_args, register_mari, strs, today,
    valid_fields,
};
use guichet_fixtures::DEMO_PASSWORD;

/// A workstation with Mari registered and one draft request for a charged service; returns
/// the request's receipt.
fn with_draft(g: &Guichet) -> String {
    register_mari(g);
    let created = g.json(&strs(&create_args(&charged_service(), today())));
    created["receipt"].as_str().expect("a receipt").to_owned()
}

#[test]
fn unknown_service() {
    let g = Guichet::demo();
    register_mari(&g);
    g.refused(
        &[
            "request",
            "create",
            "--citizen",
            MARI,
            "--service",
            "no-such-service",
        ],
        2,
        "no service 'no-such-service'",
    );
    g.refused(
        &["queue", "issue", "--service", "no-such-service"],
        2,
        "no service 'no-such-service'",
    );
    let run = g.refused(&["catalogue", "show", "no-such-service"], 2, "no service");
    // The core says what to do in words; the command line adds its command.
    assert!(
        run.stderr.contains("search the catalogue for it")
            && run
                .stderr
                .contains("hint: see `guichet catalogue search WORDS`"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_national_id() {
    let g = Guichet::demo();
    let args = |id| {
        [
            "citizen",
            "add",
            "--id",
            id,
            "--given",
            "Mari",
            "--family",
            "Tamm",
            "--born",
            "1976-05-03",
        ]
    };
    // The last digit changed: the check digit no longer matches.
    g.refused(&args("37605030298"), 2, "check digit");
    g.refused(&args("3760503029"), 2, "11 digits");
    // A valid code for another birth date.
    let other = guichet_fixtures::history::personal_code(
        chrono::NaiveDate::from_ymd_opt(1980, 1, 1).expect("a date"),
        12,
    );
    g.refused(&args(&other), 2, "encodes the birth date");
    g.refused(&["citizen", "find", "--id", "123"], 2, "national id '123'");
}

#[test]
fn form_field_errors() {
    let g = Guichet::demo();
    register_mari(&g);
    let service = charged_service();
    let required = service
        .form
        .iter()
        .find(|f| f.required)
        .expect("a required field");
    // Leave out one required field.
    let prefix = format!("{}=", required.code);
    let mut args_missing: Vec<String> = ["request", "create", "--citizen", MARI, "--service"]
        .map(str::to_owned)
        .to_vec();
    args_missing.push(service.code.clone());
    for field in valid_fields(&service, today()) {
        if !field.starts_with(&prefix) {
            args_missing.extend(["--field".to_owned(), field]);
        }
    }
    g.refused(&strs(&args_missing), 2, &required.code);
    g.refused(
        &strs(&args_missing),
        2,
        "hint: give each field as --field CODE=VALUE; `guichet catalogue show SERVICE` lists",
    );

    // A field the form does not have.
    let mut args = create_args(&service, today());
    args.extend(["--field".into(), "no_such_field=1".into()]);
    g.refused(&strs(&args), 2, "no_such_field");

    // Not code=value at all: clap refuses it before anything runs.
    let mut args = create_args(&service, today());
    args.extend(["--field".into(), "just-a-value".into()]);
    g.refused(&strs(&args), 2, "code=value");

    // The JSON error names the field too.
    let mut args = vec!["--json".to_owned()];
    args.extend(args_missing);
    let run = g.run(&strs(&args));
    assert_eq!(run.code, 2);
    let doc = run.json();
    assert_eq!(doc["error"]["kind"], "form");
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&required.code))
    );
    assert_eq!(
        doc["error"]["details"]["problems"][0]["field"],
        required.code.as_str()
    );
}

#[test]
fn wrong_receipt_check_character() {
    let g = Guichet::demo();
    let receipt = with_draft(&g);
    let last = receipt.chars().last().expect("a check character");
    let replacement = if last == '0' { '1' } else { '0' };
    let typo = format!("{}{replacement}", &receipt[..receipt.len() - 1]);
    g.refused(&["request", "show", &typo], 2, "fails its check");
    g.refused(
        &["request", "advance", &typo, "submit"],
        2,
        "fails its check",
    );
    g.refused(
        &["request", "pay", &typo, "1", "--method", "cash"],
        2,
        "fails its check",
    );
    // Two swapped characters are caught as well.
    let mut chars: Vec<char> = receipt.chars().collect();
    let (a, b) = (chars[5], chars[6]);
    if a != b {
        chars.swap(5, 6);
        let swapped: String = chars.into_iter().collect();
        g.refused(&["request", "show", &swapped], 2, "fails its check");
    }
}

#[test]
fn payment_amounts() {
    let g = Guichet::demo();
    let receipt = with_draft(&g);
    let fee = charged_service().fee.amount().expect("a fee").clone();
    for bad in ["12.5O", "-3", "1.234", "ten", "1e3"] {
        g.refused(
            &["request", "pay", &receipt, bad, "--method", "cash"],
            2,
            "is not an amount",
        );
    }
    let over = guichet_domain::money::Money::new(fee.minor + 1, fee.currency.clone());
    g.refused(
        &[
            "request",
            "pay",
            &receipt,
            &over.decimal(),
            "--method",
            "cash",
        ],
        2,
        "more than",
    );
    g.refused(
        &["request", "pay", &receipt, "1", "--method", "cheque"],
        2,
        "payment method",
    );
    let run = g.refused(
        &[
            "--json",
            "request",
            "pay",
            &receipt,
            &over.decimal(),
            "--method",
            "cash",
        ],
        2,
        "more than",
    );
    assert_eq!(run.json()["error"]["kind"], "payment");
}

#[test]
fn dispatch_before_payment_and_agency_actions() {
    let g = Guichet::demo();
    let receipt = with_draft(&g);
    g.refused(
        &["request", "advance", &receipt, "dispatch"],
        2,
        "not possible from draft",
    );
    g.ok(&["request", "advance", &receipt, "submit"]);
    g.refused(
        &["request", "advance", &receipt, "dispatch"],
        2,
        "the fee is not paid",
    );
    g.refused(
        &["request", "advance", &receipt, "take_in_processing"],
        2,
        "only the agency may take_in_processing",
    );
    g.refused(
        &["request", "advance", &receipt, "fly"],
        2,
        "is not a known action",
    );
}

#[test]
fn unknown_counter() {
    let g = Guichet::demo();
    g.refused(&["queue", "next", "--counter", "W9"], 2, "no counter 'W9'");
    g.refused(
        &[
            "counter",
            "add",
            "W3",
            "--name",
            "Window 3",
            "--category",
            "no-such-category",
        ],
        2,
        "no category 'no-such-category'",
    );
    g.refused(
        &["counter", "add", "W1", "--name", "Again", "--all"],
        2,
        "already exists",
    );
    g.refused(
        &["counter", "add", "W3", "--name", "Window 3"],
        2,
        "required arguments were not provided",
    );
}

#[test]
fn commands_before_setup_write_nothing() {
    let g = Guichet::new();
    for args in [
        &["status"][..],
        &["request", "list"],
        &["catalogue", "browse"],
        &["queue", "list"],
        &["citizen", "find", "--id", MARI],
        &["audit", "verify"],
        &["outbox"],
    ] {
        let run = g.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .starts_with("error: this workstation is not set up yet"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("hint: run `guichet setup --center CODE --device CODE`")
                && run.stderr.contains("the data directory is"),
            "{}",
            run.stderr
        );
    }
    let run = g.run(&["--json", "status"]);
    assert_eq!(run.json()["error"]["kind"], "not_set_up");
    assert!(
        std::fs::read_dir(g.data_dir())
            .expect("the data directory")
            .next()
            .is_none(),
        "nothing may be written before setup"
    );
}

#[test]
fn setup_is_refused_cleanly() {
    let g = Guichet::new();
    let run = g.run(&[
        "setup",
        "--center",
        "bad code!",
        "--device",
        "D1",
        "--admin",
        "eleni",
        "--password-stdin",
        "--demo",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("centre code 'bad code!'"),
        "{}",
        run.stderr
    );
    let run = g.run(&["status"]);
    assert_eq!(
        run.code, 1,
        "a refused setup leaves the workstation not set up"
    );

    let g = Guichet::demo();
    g.refused(
        &[
            "setup",
            "--center",
            "ATH-02",
            "--device",
            "D2",
            "--admin",
            "eleni",
            "--password-stdin",
            "--demo",
        ],
        1,
        "already set up",
    );
    g.refused(
        &[
            "setup", "--center", "ATH-02", "--device", "D2", "--admin", "eleni", "--kind", "boat",
        ],
        2,
        "is not a known centre kind",
    );
}

#[test]
fn an_unknown_time_zone_is_refused_and_the_machine_s_is_the_default() {
    let g = Guichet::new();
    fn setup(zone: Option<&str>) -> Vec<&str> {
        let mut args = vec![
            "setup", "--center", "BAK-01", "--device", "D1", "--admin", "eleni",
        ];
        if let Some(zone) = zone {
            args.extend(["--time-zone", zone]);
        }
        args.push("--password-stdin");
        args
    }
    let refused = g.run(&setup(Some("Asia/Bakou")));
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused.stderr.starts_with(
            "error: 'Asia/Bakou' is not a time zone: give its IANA name, such as Europe/Paris"
        ),
        "{}",
        refused.stderr
    );
    // Three letters that are no currency's: kept for good, every fee would be counted in it.
    let mut typo = setup(Some("Asia/Baku"));
    typo.extend(["--currency", "AZM"]);
    let refused = g.run(&typo);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .starts_with("error: 'AZM' is not a currency code"),
        "{}",
        refused.stderr
    );
    let status = g.run(&["status"]);
    assert_ne!(status.code, 0, "still not set up: {}", status.stdout);
    let done = g.ok(&setup(Some(" Asia/Baku ")));
    assert!(done.stdout.contains("time zone"), "{}", done.stdout);
    assert!(done.stdout.contains("Asia/Baku"), "{}", done.stdout);
    // Without the option, the machine's own zone (UTC where it names none).
    let other = Guichet::new();
    let done = other.json(&setup(None));
    let expected = guichet_workstation::store::default_time_zone().to_string();
    assert_eq!(done["config"]["time_zone"], expected.as_str());
}

#[test]
fn bad_dates() {
    let g = Guichet::demo();
    g.refused(
        &["holiday", "add", "2031-02-30", "Nope"],
        2,
        "is not a date",
    );
    g.refused(&["holiday", "add", "tomorrow", "Nope"], 2, "is not a date");
    let run = g.refused(
        &["--json", "holiday", "add", "2031-13-01", "Nope"],
        2,
        "is not a date",
    );
    assert_eq!(run.json()["error"]["kind"], "usage");
    g.refused(
        &[
            "citizen",
            "add",
            "--id",
            MARI,
            "--given",
            "Mari",
            "--family",
            "Tamm",
            "--born",
            "1976-13-03",
        ],
        2,
        "birth date",
    );
    register_mari(&g);
    g.refused(
        &["citizen", "find", "--name", "Tamm", "--born", "03-05-76"],
        2,
        "is not a date",
    );
}

#[test]
fn ratings_out_of_range() {
    let g = Guichet::demo();
    let service = charged_service();
    let ticket = g.json(&["queue", "issue", "--service", &service.code]);
    let code = ticket["code"].as_str().expect("a code").to_owned();
    g.ok(&["queue", "next", "--counter", "W1"]);
    g.ok(&["queue", "start", &code]);
    g.ok(&["queue", "finish", &code]);
    g.refused(
        &["feedback", &code, "--rating", "6"],
        2,
        "rating 6 is out of range",
    );
    g.refused(
        &["feedback", &code, "--rating", "0"],
        2,
        "rating 0 is out of range",
    );
    g.refused(&["feedback", &code, "--rating", "-1"], 2, "--rating");
    g.refused(
        &["feedback", &code, "--rating", "5", "--channel", "pigeon"],
        2,
        "is not a known channel",
    );
    g.refused(
        &["feedback", "Z999", "--rating", "5"],
        2,
        "no ticket 'Z999'",
    );
    g.ok(&["feedback", &code, "--rating", "5"]);
}

#[test]
fn ticket_moves_out_of_order() {
    let g = Guichet::demo();
    let service = charged_service();
    let ticket = g.json(&["queue", "issue", "--service", &service.code]);
    let code = ticket["code"].as_str().expect("a code").to_owned();
    g.refused(&["queue", "start", &code], 2, "cannot be start");
    g.refused(
        &[
            "queue",
            "issue",
            "--service",
            &service.code,
            "--lane",
            "vip",
        ],
        2,
        "no priority lane 'vip'",
    );
    g.refused(
        &[
            "request",
            "create",
            "--citizen",
            MARI,
            "--service",
            &service.code,
            "--ticket",
            &code,
        ],
        2,
        "not being served",
    );
}

#[test]
fn plain_http_to_another_machine_is_refused_and_nothing_is_written() {
    let g = Guichet::new();
    let run = g.refused_saying(
        &["enroll", "--server", "http://192.0.2.10:8080"],
        2,
        "plain http://",
    );
    assert!(
        run.stderr.contains("--allow-insecure-http"),
        "{}",
        run.stderr
    );
    assert!(!g.data_dir().join("credential.json").exists());
    // A CA certificate file that cannot be read is refused before any call, too.
    let absent = g.data_dir().join("absent-ca.pem");
    g.refused_saying(
        &[
            "enroll",
            "--server",
            "https://192.0.2.10",
            "--ca-cert",
            absent.to_str().unwrap(),
        ],
        2,
        "CA certificate",
    );
    assert!(!g.data_dir().join("credential.json").exists());
    g.refused_saying(&["status"], 1, "this workstation is not set up yet");
}

/// A set-up whose session cannot be kept (here a folder stands where the session file goes)
/// still shows the recovery key, the only moment it is shown, and says how to log in.
#[test]
fn a_set_up_whose_session_cannot_be_kept_still_shows_its_recovery_key() {
    let g = Guichet::new();
    std::fs::create_dir_all(g.data_dir().join("session").join("in-the-way")).unwrap();
    let mut args = vec!["--json"];
    args.extend(common::SETUP);
    let run = g.ok(&args);
    let done = run.json();
    assert!(
        done["recovery_key"].as_str().is_some_and(|k| !k.is_empty()),
        "{done}"
    );
    assert!(
        run.stderr
            .contains("the workstation is set up, but its administrator stays logged out"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("log in with `guichet login`"),
        "{}",
        run.stderr
    );
}

/// A limit of 0 would show nothing as if there were nothing; a timer of 0 would spin: both
/// refused with the range to give.
#[test]
fn limits_and_timers_out_of_range_are_refused() {
    let g = Guichet::demo();
    for (args, says) in [
        (
            &["outbox", "--limit", "0"][..],
            "give a number from 1 to 100000",
        ),
        (
            &["request", "list", "--limit", "0"][..],
            "give a number from 1 to 100000",
        ),
        (
            &["catalogue", "search", "photo", "--limit", "1001"][..],
            "give a number from 1 to 1000",
        ),
        (&["sync", "--timeout", "0"][..], "0 is not in 1..=3600"),
        (
            &["sync", "--watch", "--interval", "0"][..],
            "0 is not in 1..=86400",
        ),
    ] {
        g.refused(args, 2, says);
    }
}

/// A workstation set up already is not enrolled: refused before the code is asked for, and so
/// before it reaches the back office (which would use it up and issue a device this one cannot
/// become). The address here answers nothing: an attempt to reach it would fail otherwise, and
/// standard input holds no code: asking for one would fail too.
#[test]
fn a_workstation_set_up_already_is_refused_enrolment_before_any_call() {
    let g = Guichet::demo();
    g.refused(
        &["enroll", "--server", "http://127.0.0.1:9"],
        1,
        "this workstation is already set up for centre",
    );
}

/// The local rules: shown to anyone logged in, bounded, changed by an administrator, and a
/// refused value changes nothing.
#[test]
fn settings_are_bounded_and_kept() {
    let g = Guichet::demo();
    let shown = g.json(&["settings"]);
    assert_eq!(shown["idle_lock_minutes"], 5, "{shown}");
    assert_eq!(shown["max_offline_days"], 14, "{shown}");
    g.refused(
        &["settings", "--idle-lock-minutes", "0"],
        2,
        "between 1 and 240 minutes, not 0",
    );
    g.refused(
        &["settings", "--max-offline-days", "365"],
        2,
        "1 to 90 days, not 365",
    );
    let changed = g.json(&[
        "settings",
        "--idle-lock-minutes",
        "2",
        "--max-offline-days",
        "30",
    ]);
    assert_eq!(changed["changed"], true, "{changed}");
    let shown = g.json(&["settings"]);
    assert_eq!(shown["idle_lock_minutes"], 2, "{shown}");
    assert_eq!(shown["max_offline_days"], 30, "{shown}");
    let text = g.ok(&["settings"]).stdout;
    assert!(
        text.contains("after 2 minutes without a key or a click"),
        "{text}"
    );
    // The printers: a name lp would read as an option is refused, and the kiosk's never
    // stands alone beside a counter's left to the default.
    g.refused(
        &["settings", "--kiosk-printer=-oraw"],
        2,
        "is not a printer's name",
    );
    g.refused(
        &["settings", "--kiosk-printer", "Kiosk"],
        2,
        "name the counter's printer too",
    );
    let printers = g.json(&[
        "settings",
        "--counter-printer",
        "Counter_Roll",
        "--kiosk-printer",
        "Kiosk",
    ]);
    assert_eq!(printers["printers"]["kiosk"], "Kiosk", "{printers}");
    assert!(
        g.ok(&["settings"]).stdout.contains("Counter_Roll"),
        "the counter's printer is shown"
    );

    // A supervisor reads them but does not change them.
    add_kostas(&g);
    let login = g.run_with_input(&["login", "kostas", "--password-stdin"], DEMO_PASSWORD);
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert_eq!(g.json(&["settings"])["idle_lock_minutes"], 2);
    g.refused(
        &["settings", "--idle-lock-minutes", "60"],
        2,
        "only a clerk with the administrator role may",
    );
}

/// Names as a new user might type them: an empty counter or holiday name, a 10 kB family name
/// and a right-to-left override inside a name are refused with what was wrong; a name in
/// another script, with accents and an emoji, is taken.
#[test]
fn names_empty_overlong_or_with_hidden_characters_are_refused() {
    let g = Guichet::demo();
    g.refused(
        &["counter", "add", "W3", "--name", "  ", "--all"],
        2,
        "needs a name",
    );
    g.refused(&["holiday", "add", "2026-12-24", " "], 2, "needs a name");
    let long = "Tamm".repeat(2_500);
    g.refused(
        &[
            "citizen",
            "add",
            "--id",
            "37605030299",
            "--given",
            "Mari",
            "--family",
            &long,
            "--born",
            "1976-05-03",
        ],
        2,
        "family name: at most 100 characters, not 10000",
    );
    g.refused(
        &[
            "citizen",
            "add",
            "--id",
            "37605030299",
            "--given",
            "Ma\u{202E}ri",
            "--family",
            "Tamm",
            "--born",
            "1976-05-03",
        ],
        2,
        "invisible character U+202E",
    );
    g.ok(&[
        "citizen",
        "add",
        "--id",
        "37605030299",
        "--given",
        "Ελένη 🌻",
        "--family",
        "Müller-Lüdenscheidt",
        "--born",
        "1976-05-03",
    ]);
}

/// The enrolment code never goes on the command line, where `ps` and the shell's history show
/// it to others: `--code` is refused, pointing at `--code-stdin`; without a terminal to ask it
/// on, the refusal says to pass `--code-stdin`; and with it, the code is read from standard
/// input once the address has passed its checks.
#[test]
fn the_enrolment_code_is_asked_or_read_from_standard_input_never_typed_as_an_argument() {
    let g = Guichet::new();
    let run = g.run(&[
        "enroll",
        "--server",
        "http://127.0.0.1:9",
        "--code",
        "ABCD-EFGH-JKMN",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("'--code-stdin'"), "{}", run.stderr);
    g.refused_saying(
        &["enroll", "--server", "http://127.0.0.1:9"],
        2,
        "no terminal to ask the one-time enrolment code on: pass --code-stdin",
    );
    let run = g.run_with_input(
        &["enroll", "--server", "http://127.0.0.1:9", "--code-stdin"],
        "",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "standard input holds no line for the one-time enrolment code: --code-stdin reads \
             the code as one line"
        ),
        "{}",
        run.stderr
    );
    // Read, then sent to an address that answers nothing: said as the back office unreachable.
    let run = g.run_with_input(
        &[
            "enroll",
            "--server",
            "http://127.0.0.1:9",
            "--code-stdin",
            "--label",
            "bus 1",
        ],
        "ABCD-EFGH-JKMN\n",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("ABCD-EFGH-JKMN"), "{}", run.stderr);
    assert!(!g.data_dir().join("credential.json").exists());
}

/// A CA certificate file is read up to a bound: a wrong path is refused, not read whole.
#[test]
fn a_ca_certificate_file_past_its_bound_is_refused() {
    let g = Guichet::new();
    let large = g.data_dir().join("large.pem");
    std::fs::write(&large, vec![b'-'; 2 << 20]).unwrap();
    g.refused_saying(
        &[
            "enroll",
            "--server",
            "https://192.0.2.10",
            "--ca-cert",
            large.to_str().unwrap(),
        ],
        2,
        "is larger than 1 MiB",
    );
}

/// The example in the refusal of a malformed --field is a field the catalogue has, written as
/// field codes are (with hyphens).
#[test]
fn a_malformed_field_is_refused_with_an_example_the_catalogue_has() {
    let g = Guichet::demo();
    register_mari(&g);
    let mut args = create_args(&charged_service(), today());
    args.extend(["--field".into(), "just-a-value".into()]);
    g.refused(&strs(&args), 2, "such as --field birth-date=2001-02-03");
    assert!(
        guichet_fixtures::demo_catalogue()
            .services
            .iter()
            .flat_map(|s| &s.form)
            .any(|f| f.code == "birth-date"),
        "the example names a field of the demo catalogue"
    );
}

/// A service code the catalogue held here does not know, on no request either (a typo), is
/// refused with how to find the codes, rather than listed as no request matching; a known one
/// with no request says so, and one a newer catalogue dropped still lists its requests.
#[test]
fn request_list_for_an_unknown_service_is_refused() {
    let g = Guichet::demo();
    let run = g.refused(
        &["request", "list", "--service", "birth-certificat"],
        2,
        "no service 'birth-certificat' here (not in the catalogue",
    );
    assert!(
        run.stderr.contains("hint: see `guichet catalogue search"),
        "{}",
        run.stderr
    );
    let run = g.run(&["--json", "request", "list", "--service", "birth-certificat"]);
    assert_eq!(run.json()["error"]["kind"], "not_found", "{}", run.stdout);

    let service = charged_service();
    let run = g.ok(&["request", "list", "--service", &service.code]);
    assert_eq!(run.stdout, "no request matches\n");

    with_draft(&g);
    let mut catalogue: serde_json::Value =
        serde_json::from_str(guichet_fixtures::DEMO_CATALOGUE_JSON).unwrap();
    catalogue["version"] = serde_json::json!(catalogue["version"].as_u64().unwrap() + 1);
    catalogue["services"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["code"] != service.code.as_str());
    let newer = g.data_dir().join("newer-catalogue.json");
    std::fs::write(&newer, catalogue.to_string()).unwrap();
    g.ok(&["catalogue", "load", newer.to_str().unwrap()]);
    let listed = g.json(&["request", "list", "--service", &service.code]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let run = g.ok(&[
        "request",
        "list",
        "--service",
        &service.code,
        "--status",
        "cancelled",
    ]);
    assert_eq!(run.stdout, "no request matches\n");
}

/// `catalogue load` reads its file up to a bound and says when it is not the catalogue: a
/// stream without end, a file too large, a binary, and nothing is loaded.
#[test]
fn a_file_that_is_not_the_catalogue_is_refused_before_it_is_read_whole() {
    let g = Guichet::demo();
    let version = g.json(&["status"])["catalogue_version"].clone();
    let large = g.data_dir().join("large.json");
    std::fs::write(&large, vec![b' '; (64 << 20) + 1]).unwrap();
    let binary = g.data_dir().join("package.deb");
    std::fs::write(&binary, b"!<arch>\ndebian-binary\x00\xff\xfe").unwrap();
    for (file, says) in [
        ("/dev/zero", "/dev/zero is larger than 64 MiB"),
        (large.to_str().unwrap(), "is larger than 64 MiB"),
        (
            binary.to_str().unwrap(),
            "is not text (its byte 22 is not UTF-8)",
        ),
    ] {
        let run = g.refused(&["catalogue", "load", file], 2, says);
        assert!(
            run.stderr
                .contains(": is this the catalogue JSON? Nothing was loaded"),
            "{}",
            run.stderr
        );
        let run = g.run(&["--json", "catalogue", "load", file]);
        assert_eq!(
            run.json()["error"]["kind"],
            "catalogue_file",
            "{}",
            run.stdout
        );
    }
    assert_eq!(g.json(&["status"])["catalogue_version"], version);
}

/// Passwords on standard input are read up to a bound, as text: more, or bytes that are not
/// text, are refused rather than cut or garbled, and nobody is logged in.
#[test]
fn passwords_on_standard_input_are_bounded_and_text() {
    let g = Guichet::demo();
    g.ok(&["logout"]);
    let login = ["login", "eleni", "--password-stdin"];
    let long = format!("{DEMO_PASSWORD}\n{}\n", "x".repeat(5000));
    let run = g.run_with_input(&login, &long);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: standard input holds more than 4 KiB: --password-stdin reads each password \
             as one line, and nothing else"
        ),
        "{}",
        run.stderr
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_guichet"))
        .arg("--data-dir")
        .arg(g.data_dir())
        .args(login)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"pass\xffword\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("standard input is not text (its byte 4 is not UTF-8)"),
        "{said}"
    );
    g.refused_saying(&["request", "list"], 2, "nobody is logged in");
}
