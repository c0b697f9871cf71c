//! `guichet enroll` and `guichet sync`: the workstation's link to its back office.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::time::Duration;

use guichet_domain::text::english_plural;
use guichet_workstation::Workstation;
use guichet_workstation::store::Erased;
use guichet_workstation::sync::{
    self, BackOffice, Link, Progress, SyncError, SyncReport, rotate_credential, sync_once,
};
use serde::Serialize;

use super::session::{Secrets, forget_session};
use crate::cli::{EnrollArgs, SyncArgs};
use crate::error::{CliError, Result};
use crate::input::{Bounded, read_bounded, size};
use crate::output::{Report, fields, to_stderr};

/// What `enroll` and `sync` say when the link is plain HTTP to another machine.
const INSECURE_WARNING: &str = "warning: the back office is reached over plain http:// (allowed \
     at enrolment): what crosses the network can be read on the way\n";

/// The time an enrolment call may take.
const ENROLL_TIMEOUT: Duration = Duration::from_secs(60);

/// Enrols this device; the code is read from `secrets` once every check that needs no back
/// office has passed, so that nobody types it for a command refused anyway.
pub fn enroll(ws: &mut Workstation, args: &EnrollArgs, secrets: &mut Secrets) -> Result<Report> {
    // Before the code is sent: a back office uses it up whatever this device does next.
    ws.refuse_if_set_up()?;
    let ca_cert = args.ca_cert.as_deref().map(read_ca_cert).transpose()?;
    let link = Link {
        allow_insecure_http: args.allow_insecure_http,
        ca_cert,
    };
    // Checked before anything is written: a refused address leaves this device as it was.
    let office = BackOffice::with_link(&args.server, None, ENROLL_TIMEOUT, &link)?;
    let code = secrets.next("the one-time enrolment code")?;
    let (enrolled, recovery) =
        runtime()?.block_on(sync::enroll(&office, &code, args.label.as_deref()))?;
    ws.enroll(&enrolled, office.base_url(), &[], &recovery)?;
    ws.set_link(&link)?;
    if office.is_insecure() {
        to_stderr(INSECURE_WARNING);
    }
    #[derive(Serialize)]
    struct Enrolled<'a> {
        server: &'a str,
        center: &'a str,
        device: &'a str,
        receipt_prefix: String,
    }
    let shown = Enrolled {
        server: office.base_url(),
        center: &enrolled.center_code,
        device: &enrolled.device_code,
        receipt_prefix: enrolled.receipt_prefix.to_string(),
    };
    let active = enrolled.accounts.iter().filter(|a| a.active).count() as u64;
    Report::new(&shown, |out| {
        writeln!(
            out,
            "Enrolled with {}: centre {} ({}), device {}, receipt prefix {}",
            shown.server,
            enrolled.center_code,
            enrolled.center_name,
            shown.device,
            shown.receipt_prefix
        )?;
        writeln!(
            out,
            "{active} {} of the centre can log in here (`guichet login NAME`; the first login of each on this device needs the back office). Then `guichet sync` sends waiting changes and fetches the catalogue.",
            english_plural(active, "account", "accounts")
        )
    })
}

/// The most a CA certificate file may hold: a whole system bundle of roots takes a few hundred
/// KiB.
const MAX_CA_CERT_BYTES: u64 = 1 << 20;

/// The text of the CA certificate file given with --ca-cert, refused if it is too large or not
/// text.
fn read_ca_cert(path: &Path) -> Result<String, SyncError> {
    let refused =
        |problem: String| SyncError::CaCertificate(format!("{} {problem}", path.display()));
    match File::open(path).and_then(|file| read_bounded(file, MAX_CA_CERT_BYTES)) {
        Ok(Bounded::Text(pem)) => Ok(pem),
        Ok(Bounded::TooLarge) => Err(refused(format!(
            "is larger than {}, more than a bundle of certificates takes",
            size(MAX_CA_CERT_BYTES)
        ))),
        Ok(Bounded::NotText { at }) => {
            Err(refused(format!("is not text (its byte {at} is not UTF-8)")))
        }
        Err(e) => Err(SyncError::CaCertificate(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

pub fn sync(ws: &mut Workstation, dir: &Path, args: &SyncArgs, json: bool) -> Result<Report> {
    let mut credential = ws.credential()?.ok_or(SyncError::NotEnrolled)?;
    let mut office = credential.back_office(Duration::from_secs(args.timeout.max(1)))?;
    if office.is_insecure() {
        to_stderr(INSECURE_WARNING);
    }
    let rt = runtime()?;
    if args.rotate_credential {
        rt.block_on(rotate_credential(ws, &mut credential, &mut office))?;
        to_stderr("this device's credential was replaced with a new one\n");
    }
    let show = |p: Progress| {
        if !json {
            to_stderr(&format!(
                "\rsyncing: pushed {} of {}, {} {} exchanged",
                p.pushed,
                p.to_push,
                p.pages,
                english_plural(u64::from(p.pages), "page", "pages")
            ));
        }
    };
    if !args.watch {
        let report = rt.block_on(sync_once(ws, &office, &show));
        if !json {
            to_stderr("\n");
        }
        return finish(ws, dir, &office, &rt, report?);
    }
    loop {
        match rt.block_on(sync_once(ws, &office, &show)) {
            Ok(report) if report.wipe => return finish(ws, dir, &office, &rt, report),
            Ok(report) => to_stderr(&format!("\n{}\n", summary(&report))),
            Err(e) if e.is_transient() => to_stderr(&format!("\n{e}\n")),
            Err(e) => return Err(e.into()),
        }
        std::thread::sleep(Duration::from_secs(args.interval.max(1)));
    }
}

/// What `sync` did, and whether the device's data was erased at the back office's request.
#[derive(Debug, Serialize)]
struct Synced<'a> {
    #[serde(flatten)]
    report: &'a SyncReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    erased: Option<Erased>,
}

/// Renders a sync run; when the back office revoked this device with a wipe, first delivers
/// what is left and erases the device's data, the command line session with it.
fn finish(
    ws: &mut Workstation,
    dir: &Path,
    office: &BackOffice,
    rt: &tokio::runtime::Runtime,
    report: SyncReport,
) -> Result<Report> {
    let erased = if report.wipe {
        let erased = rt.block_on(sync::complete_wipe(ws, office))?;
        if erased.is_some() {
            forget_session(dir)?;
        }
        erased
    } else {
        None
    };
    render(&Synced {
        report: &report,
        erased,
    })
}

fn render(synced: &Synced<'_>) -> Result<Report> {
    let report = synced.report;
    Report::new(synced, |out| {
        if let Some(erased) = &synced.erased {
            writeln!(
                out,
                "This device ({}, centre {}) was withdrawn by its back office: what waited on it \
                 was delivered, then its data was erased from this computer. Set it up or enrol \
                 it again to use it.",
                erased.device_code, erased.center_code
            )?;
            if !erased.confirmed {
                writeln!(
                    out,
                    "The back office has not heard yet that the data is erased: tell its \
                     administrator."
                )?;
            }
        }
        writeln!(out, "{}", summary(report))?;
        fields(
            out,
            "  ",
            &[
                ("exchanges", report.exchanges.to_string()),
                ("pushed", report.pushed.to_string()),
                ("applied", report.applied.to_string()),
                ("duplicates", report.duplicates.to_string()),
                ("refused", report.refused.to_string()),
                ("conflicts", report.conflicts.to_string()),
                ("pulled", report.pulled.to_string()),
            ],
        )
    })
}

fn summary(report: &SyncReport) -> String {
    let sent = report.applied + report.duplicates;
    let mut line = format!(
        "sync done: {sent} {} sent, {} received",
        english_plural(u64::from(sent), "change", "changes"),
        report.pulled
    );
    if report.refused + report.conflicts > 0 {
        line.push_str(&format!(
            "; {} refused and {} in conflict, kept here with their reasons: see `guichet outbox --state refused` and `--state conflict`",
            report.refused, report.conflicts
        ));
    }
    line
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}
