//! `guichet report daily` through the real binary: each format is written whole, and bad
//! input is refused with a clear message before anything is written.

mod common;

use common::{Guichet, today};

#[test]
fn writes_each_format() {
    let g = Guichet::demo();
    g.ok(&["queue", "issue", "--service", "birth-certificate"]);
    let day = today().to_string();
    let out = g.data_dir().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let pdf = out.join("day.pdf");
    let run = g.ok(&[
        "report",
        "daily",
        "--date",
        &day,
        "--format",
        "pdf",
        "--out",
        pdf.to_str().unwrap(),
        "--cash-counted",
        "12.50",
    ]);
    assert!(run.stdout.contains("pdf report for"), "{}", run.stdout);
    assert!(
        run.stdout.contains("cash difference  12.50 EUR"),
        "{}",
        run.stdout
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));

    let xlsx = out.join("day.xlsx");
    let json = g.json(&[
        "report",
        "daily",
        "--date",
        &day,
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert_eq!(json["tickets_issued"], 1);
    // A standalone workstation has no back office to send to: its day is complete.
    assert_eq!(json["clean"], true);
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));

    let csv = out.join("csv");
    let run = g.ok(&[
        "--lang",
        "fr",
        "report",
        "daily",
        "--date",
        &day,
        "--format",
        "csv",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(run.stdout.contains("Poste autonome"), "{}", run.stdout);
    let summary = std::fs::read_to_string(csv.join("summary.csv")).unwrap();
    assert!(summary.contains("Tickets émis;1"), "{summary}");
}

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let g = Guichet::demo();
    let out = g.data_dir().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let pdf = out.join("r.pdf");
    let pdf = pdf.to_str().unwrap();
    let day = today().to_string();
    let base = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = ["report", "daily", "--date", &day, "--out", pdf]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let run = |args: Vec<String>, code: i32, needle: &str| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        g.refused(&refs, code, needle);
    };
    run(
        base(&["--format", "pdf", "--to", "2000-01-01"]),
        2,
        "give --to on or after --date",
    );
    // A day still to come would give an empty report that looks like a quiet day.
    let tomorrow = today().succ_opt().unwrap().to_string();
    let mut ahead = base(&["--format", "pdf", "--to"]);
    ahead.push(tomorrow);
    run(ahead, 2, "after today");
    run(base(&["--format", "docx"]), 2, "invalid value 'docx'");
    run(
        base(&["--format", "pdf", "--cash-counted", "12,345"]),
        2,
        "12,345",
    );
    run(base(&["--format", "pdf", "--cash-counted", "-5"]), 2, "-5");
    g.refused(
        &[
            "report",
            "daily",
            "--date",
            "30/02/2026",
            "--format",
            "pdf",
            "--out",
            pdf,
        ],
        2,
        "30/02/2026",
    );
    let nowhere = out.join("missing").join("r.pdf");
    for (to, said) in [
        (nowhere.to_str().unwrap(), "does not exist"),
        ("/proc/r.pdf", "the folder /proc cannot be written to"),
    ] {
        g.refused(
            &[
                "report", "daily", "--date", &day, "--format", "pdf", "--out", to,
            ],
            2,
            said,
        );
    }
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    g.refused(
        &[
            "report",
            "daily",
            "--date",
            &day,
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
        2,
        "not an empty directory",
    );
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec!["keep.txt".to_owned()],
        "nothing else was written"
    );
}

#[test]
fn needs_a_workstation() {
    let g = Guichet::new();
    let run = g.run(&[
        "report",
        "daily",
        "--date",
        "2026-11-30",
        "--format",
        "pdf",
        "--out",
        "r.pdf",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not set up"), "{}", run.stderr);
}
