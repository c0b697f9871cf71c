//! The outputs, read back the way a supervisor's programs read them: the CSV files as text,
//! the XLSX through LibreOffice (Debian `libreoffice-calc`), the PDF through `pdftotext`
//! (Debian `poppler-utils`). A missing program fails the test and says what to install.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use guichet_report::{Format, Locale, ReportOptions, daily_report, write};

fn options(locale: Locale) -> ReportOptions<'static> {
    ReportOptions {
        locale,
        cash_counted_minor: Some(8500),
        ..ReportOptions::day(common::day())
    }
}

/// The program's path, or a failure that names the Debian package to install.
fn require(program: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{program}` is not installed: this test needs it; install it with `apt-get install {package}`")
    })
}

fn read(path: &Path) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.trim_start_matches('\u{feff}').replace("\r\n", "\n")
}

fn line_of<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in:\n{text}"))
}

#[test]
fn csv_files_follow_the_locale() {
    let d = common::busy_day();
    let dir = tempfile::tempdir().unwrap();
    let en = dir.path().join("en");
    write(
        &daily_report(&d.ws, &options(Locale::En)).unwrap(),
        Format::Csv,
        &en,
    )
    .unwrap();
    // Names, refund reasons and comments: the directory and its files are their user's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&en), 0o700);
        for file in std::fs::read_dir(&en).unwrap() {
            assert_eq!(mode(&file.unwrap().path()), 0o600);
        }
    }
    let summary = read(&en.join("summary.csv"));
    assert_eq!(summary.lines().next(), Some("Item,Value"));
    assert_eq!(line_of(&summary, "Tickets issued,"), "Tickets issued,5");
    assert_eq!(
        line_of(&summary, "Median wait (min),"),
        "Median wait (min),5.0"
    );
    assert_eq!(
        line_of(&summary, "Share above target (%),"),
        "Share above target (%),25.0"
    );
    assert_eq!(line_of(&summary, "Fees due,"), "Fees due,111.00");
    assert_eq!(
        line_of(&summary, "Cash difference (counted - expected),"),
        "Cash difference (counted - expected),-1.00"
    );
    assert!(line_of(&summary, "Sync,").starts_with("Sync,NOT CLEAN: 11 changes not yet sent"));
    // The day is over: what is still owed is as at its end, under a label of every month.
    assert!(
        summary.contains("\nStill owed at the end of the period (requests taken in the period),")
    );
    assert_eq!(line_of(&summary, "As at,"), "As at,2026-11-30");
    let hours = read(&en.join("queue-by-hour.csv"));
    assert_eq!(line_of(&hours, "08:00,"), "08:00,3,3,6.0,30.0,30.0,1,33.3");
    let overdue = read(&en.join("overdue.csv"));
    assert!(overdue.contains(&format!("{},tax-clearance-certificate,", d.overdue_receipt)));
    assert!(overdue.contains(",2026-11-02,2026-11-03,19"));
    let comments = read(&en.join("comments.csv"));
    assert!(comments.contains("2026-11-30 08:40,5,birth-certificate,eleni,\"Très bien, merci\""));

    let fr = dir.path().join("fr");
    write(
        &daily_report(&d.ws, &options(Locale::Fr)).unwrap(),
        Format::Csv,
        &fr,
    )
    .unwrap();
    let summary = read(&fr.join("summary.csv"));
    assert_eq!(summary.lines().next(), Some("Rubrique;Valeur"));
    assert_eq!(line_of(&summary, "Tickets émis;"), "Tickets émis;5");
    assert_eq!(line_of(&summary, "Frais dus;"), "Frais dus;111,00");
    assert_eq!(
        line_of(&summary, "Attente médiane (min);"),
        "Attente médiane (min);5,0"
    );
    assert!(
        summary.contains("\nReste dû à la fin de la période (demandes prises sur la période);")
    );
    assert_eq!(line_of(&summary, "Arrêté au;"), "Arrêté au;2026-11-30");
    let comments = read(&fr.join("comments.csv"));
    assert!(comments.contains(";Très bien, merci"));
    let stream = String::from_utf8(
        guichet_report::render(
            &daily_report(&d.ws, &options(Locale::En)).unwrap(),
            Format::Csv,
        )
        .unwrap(),
    )
    .unwrap();
    assert!(stream.starts_with("\u{feff}Item,Value\r\n"));
    assert_eq!(stream.matches('\u{feff}').count(), 1);
    assert!(stream.contains("\r\n\r\nHour,Issued,Served,"));
    let count = std::fs::read_dir(&fr).unwrap().count();
    assert_eq!(
        count,
        guichet_report::tables(&daily_report(&d.ws, &options(Locale::Fr)).unwrap()).len()
    );
}

/// Converts every sheet of `xlsx` to CSV with LibreOffice; returns the sheet files by name.
fn sheets_via_libreoffice(xlsx: &Path) -> Vec<(String, String)> {
    let soffice = require("soffice", "libreoffice-calc");
    let out = xlsx.parent().unwrap().join("converted");
    let profile = xlsx.parent().unwrap().join("lo-profile");
    std::fs::create_dir_all(&out).unwrap();
    // Field 12 of the CSV filter options, -1, exports every sheet to its own file.
    let status = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to"])
        .arg("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1")
        .arg("--outdir")
        .arg(&out)
        .arg(xlsx)
        .output()
        .expect("LibreOffice runs");
    assert!(
        status.status.success(),
        "LibreOffice failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut sheets: Vec<(String, String)> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, read(&path))
        })
        .collect();
    sheets.sort();
    assert!(!sheets.is_empty(), "LibreOffice wrote no CSV");
    sheets
}

fn sheet<'a>(sheets: &'a [(String, String)], name: &str) -> &'a str {
    sheets
        .iter()
        .find(|(n, _)| n.ends_with(&format!("-{name}")))
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| {
            let names: Vec<_> = sheets.iter().map(|(n, _)| n).collect();
            panic!("no sheet {name}; sheets: {names:?}")
        })
}

#[test]
fn xlsx_opens_in_libreoffice_with_real_numbers_and_dates() {
    let d = common::busy_day();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xlsx");
    write(
        &daily_report(&d.ws, &options(Locale::En)).unwrap(),
        Format::Xlsx,
        &path,
    )
    .unwrap();
    let sheets = sheets_via_libreoffice(&path);
    assert_eq!(sheets.len(), 20);
    let summary = sheet(&sheets, "Summary");
    assert_eq!(line_of(summary, "Refunded,"), "Refunded,0.00");
    assert_eq!(
        line_of(summary, "Net collected (collected - refunded),"),
        "Net collected (collected - refunded),86.00"
    );
    assert_eq!(line_of(summary, "Tickets issued,"), "Tickets issued,5");
    assert_eq!(line_of(summary, "From,"), "From,2026-11-30");
    assert_eq!(line_of(summary, "As at,"), "As at,2026-11-30");
    assert_eq!(line_of(summary, "Fees due,"), "Fees due,111.00");
    assert_eq!(
        line_of(summary, "Share above target (%),"),
        "Share above target (%),25.0%"
    );
    assert_eq!(
        line_of(summary, "Cash difference (counted - expected),"),
        "Cash difference (counted - expected),-1.00"
    );
    let hours = sheet(&sheets, "Queue by hour");
    assert_eq!(line_of(hours, "08:00,"), "08:00,3,3,6.0,30.0,30.0,1,33.3%");
    let overdue = sheet(&sheets, "Overdue requests");
    assert!(overdue.contains(",2026-11-02,2026-11-03,19"), "{overdue}");
    let clerks = sheet(&sheets, "Clerks");
    assert_eq!(
        line_of(clerks, "eleni,"),
        "eleni,W1,2,10.0,2,0.58,0.33,42.9%"
    );

    // Numbers and dates are typed cells: LibreOffice's own flat XML says so.
    let soffice = require("soffice", "libreoffice-calc");
    let flat = dir.path().join("flat");
    let status = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("lo-profile").display()
        ))
        .args(["--headless", "--convert-to", "fods", "--outdir"])
        .arg(&flat)
        .arg(&path)
        .output()
        .unwrap();
    assert!(status.status.success());
    let xml = read(&flat.join("report.fods"));
    assert!(xml.contains(r#"office:value-type="date" office:date-value="2026-11-30""#));
    assert!(xml.contains(r#"office:value-type="float" office:value="111""#));
    assert!(xml.contains(r#"office:value-type="percentage" office:value="0.25""#));
}

fn pdf_text(pdf: &Path) -> String {
    let pdftotext = require("pdftotext", "poppler-utils");
    let out = Command::new(pdftotext)
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pdf_is_a4_with_the_figures_and_the_charts() {
    let d = common::busy_day();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    write(
        &daily_report(&d.ws, &options(Locale::En)).unwrap(),
        Format::Pdf,
        &path,
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_text(&path);
    for expected in [
        "Daily report — Athens Central",
        "Centre ATH-01 · device ATH-01-D1 · 2026-11-30 · made 2026-12-01 00:30 UTC",
        "NOT CLEAN: 11 changes not yet sent",
        "Waiting time by hour of arrival (minutes) against the target",
        "target 15 min",
        "Requests taken, by status at the end of the period",
        "Overdue requests",
        &d.overdue_receipt,
        "Photo not compliant",
        "Très bien, merci",
        "86.00 EUR",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is not in the PDF:\n{text}"
        );
    }
    let key = text
        .lines()
        .find(|l| l.contains("Tickets issued"))
        .expect("the key figures");
    assert!(key.contains('5'), "{key}");
    // Nothing of the day came late: the PDF says nothing of it, neither above the key figures
    // nor among them.
    for absent in [
        "Received after the period ended",
        "reached this device after",
    ] {
        assert!(!text.contains(absent), "{absent:?} is in the PDF:\n{text}");
    }
    // The day what is still owed is as at is among the key figures.
    let as_at = text
        .lines()
        .find(|l| l.contains("As at"))
        .expect("the day the money is as at");
    assert!(as_at.contains("2026-11-30"), "{as_at}");
    // A4 portrait.
    let info = String::from_utf8_lossy(&bytes);
    assert!(
        info.contains("595.") && info.contains("841."),
        "not an A4 media box"
    );

    let fr = dir.path().join("rapport.pdf");
    write(
        &daily_report(&d.ws, &options(Locale::Fr)).unwrap(),
        Format::Pdf,
        &fr,
    )
    .unwrap();
    let text = pdf_text(&fr);
    for expected in [
        "Rapport journalier",
        "JOURNÉE NON PROPRE",
        "111,00 EUR",
        "Demandes en retard",
        "version du catalogue",
        "modifications non envoyées",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is not in the French PDF:\n{text}"
        );
    }
    // Every place of the words filled.
    assert!(
        !text.contains('{') && !text.contains('}'),
        "a word's place left unfilled in the French PDF:\n{text}"
    );
}

#[test]
fn an_empty_day_gives_valid_files_that_say_so() {
    let d = common::busy_day();
    let sunday = ReportOptions::day(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
    let report = daily_report(&d.ws, &sunday).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("empty.pdf");
    write(&report, Format::Pdf, &pdf).unwrap();
    let text = pdf_text(&pdf);
    assert!(
        text.contains("No activity: nothing was recorded in this period"),
        "{text}"
    );
    let csv = dir.path().join("csv");
    write(&report, Format::Csv, &csv).unwrap();
    let summary = read(&csv.join("summary.csv"));
    assert_eq!(
        line_of(&summary, "Activity,"),
        "Activity,None: nothing was recorded in this period."
    );
    let hours = read(&csv.join("queue-by-hour.csv"));
    assert_eq!(hours.lines().count(), 1, "only the header");
    let xlsx = dir.path().join("empty.xlsx");
    write(&report, Format::Xlsx, &xlsx).unwrap();
    let sheets = sheets_via_libreoffice(&xlsx);
    assert_eq!(
        line_of(sheet(&sheets, "Summary"), "Tickets issued,"),
        "Tickets issued,0"
    );
}

#[test]
fn a_bad_destination_is_refused_and_leaves_nothing() {
    let d = common::busy_day();
    let report = daily_report(&d.ws, &options(Locale::En)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("report.pdf");
    let e = write(&report, Format::Pdf, &missing).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let full = dir.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    let e = write(&report, Format::Csv, &full).unwrap_err();
    assert!(e.to_string().contains("not an empty directory"), "{e}");
    let e = write(&report, Format::Xlsx, &full).unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["full".to_owned()]);
    assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);
}

/// The queue ticket and the receipt, printed on an 80 mm roll and on A4, in both languages,
/// read back from the PDF.
#[test]
fn slips_on_a_roll_and_on_a4_in_the_clerks_language() {
    use chrono::TimeZone;
    use guichet_domain::feedback::PaymentMethod;
    use guichet_domain::queue::QueueTarget;
    use guichet_fixtures::history::{citizen, valid_form};
    use guichet_report::slip::{self, Paper};
    use guichet_workstation::store::{NewRequest, NewTicket};

    let start = chrono::Utc
        .with_ymd_and_hms(2026, 11, 30, 7, 30, 0)
        .unwrap();
    let (_clock, mut ws) = common::centre(start);
    let ticket = |ws: &mut guichet_workstation::Workstation| {
        ws.issue_ticket(&NewTicket {
            target: QueueTarget::Category("civil-status".into()),
            lane: "standard".into(),
        })
        .unwrap()
    };
    ticket(&mut ws);
    ticket(&mut ws);
    let third = ticket(&mut ws);

    let who = ws.register_citizen(&citizen(3)).unwrap();
    let service = ws.service("sole-trader-registration").unwrap();
    let new = NewRequest {
        citizen: who.national_id.clone(),
        service: service.code.clone(),
        form: valid_form(&service, ws.today()),
        documents_received: service.documents.iter().map(|d| d.code.clone()).collect(),
        visit: None,
        submit: false,
    };
    let draft = ws.create_request(&new).unwrap().summary.receipt;
    // A draft was never handed in: it has no receipt.
    let refused = slip::receipt(&ws, &draft, Locale::En).unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!("request {draft} is a draft and has no receipt yet: submit it first")
    );
    let receipt = ws
        .create_request(&NewRequest {
            submit: true,
            ..new
        })
        .unwrap()
        .summary
        .receipt;
    ws.pay(&receipt, "25.00", PaymentMethod::Cash).unwrap();

    let dir = tempfile::TempDir::new().unwrap();
    let read = |name: &str, bytes: Vec<u8>| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let text = pdf_text(&path);
        let info = Command::new(require("pdfinfo", "poppler-utils"))
            .arg(&path)
            .output()
            .unwrap();
        (text, String::from_utf8(info.stdout).unwrap())
    };

    let t = slip::ticket(&ws, &third.id, Locale::En).unwrap();
    let (text, info) = read("ticket-80.pdf", slip::pdf(&t, Paper::Roll80).unwrap());
    for needle in [
        "Athens Central",
        "Your number",
        &third.code,
        "Civil status",
        "Issued: 30 November 2026, 07:30",
        "People ahead of you: 2",
        "Please wait until your number is shown",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not on the ticket:\n{text}"
        );
    }
    // 80 mm is 226.77 points wide.
    assert!(info.contains("Page size:       226.77"), "{info}");

    let t = slip::ticket(&ws, &third.code, Locale::Fr).unwrap();
    let (text, info) = read("ticket-a4.pdf", slip::pdf(&t, Paper::A4).unwrap());
    for needle in ["Votre numéro", "État civil", "Personnes avant vous : 2"] {
        assert!(
            text.contains(needle),
            "{needle:?} not on the ticket:\n{text}"
        );
    }
    assert!(info.contains("pts (A4)"), "{info}");

    let r = slip::receipt(&ws, &receipt, Locale::En).unwrap();
    let (text, _) = read("receipt-80.pdf", slip::pdf(&r, Paper::Roll80).unwrap());
    let document = service.documents[0].name.get("en");
    let other = service.documents[1].name.get("en");
    for needle in [
        "Receipt",
        receipt.as_str(),
        "Registering a sole proprietorship",
        "Documents received:",
        "Fee: 25.00",
        "Paid: 25.00",
        "Taken on: 30 November 2026",
        "Expected by:",
        "Keep this receipt.",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not on the receipt:\n{text}"
        );
    }
    // Document names may wrap on the roll: read them without line ends.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(document), "{document:?}:\n{text}");
    assert!(flat.contains(other), "{other:?}:\n{text}");

    let r = slip::receipt(&ws, &receipt, Locale::Fr).unwrap();
    let (text, info) = read("receipt-a4.pdf", slip::pdf(&r, Paper::A4).unwrap());
    for needle in [
        "Récépissé",
        "Pièces reçues",
        "Frais : 25,00",
        "Déposée le : 30 novembre 2026",
        "Conservez ce récépissé.",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not on the receipt:\n{text}"
        );
    }
    assert!(info.contains("(A4)"), "{info}");
}
