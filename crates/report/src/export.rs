//! The export use case, once for the window and the command line: check what was asked,
//! compute the period's report, write it whole.

use std::path::Path;

use chrono::NaiveDate;
use guichet_domain::money::Money;
use guichet_workstation::Workstation;

use crate::compute::{ReportOptions, build, check_period};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::model::{Progress, Report};
use crate::output::{Format, check_destination, write};

/// What to export.
pub struct ExportRequest<'a> {
    pub from: NaiveDate,
    /// Last day included; the same as `from` for one day.
    pub to: NaiveDate,
    pub format: Format,
    pub locale: Locale,
    /// The cash the supervisor counted, as typed ("84.50"), in the centre's currency.
    pub cash_counted: Option<&'a str>,
    pub out: &'a Path,
    /// An earlier export at `out` is replaced (the window's reports folder, one file per
    /// period); otherwise a CSV directory must be new or empty.
    pub replace: bool,
    pub progress: Option<&'a dyn Fn(Progress)>,
}

impl std::fmt::Debug for ExportRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportRequest")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("format", &self.format)
            .field("locale", &self.locale)
            .field("cash_counted", &self.cash_counted)
            .field("out", &self.out)
            .field("replace", &self.replace)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The file name of a period's report: `guichet-ATH-01-2026-12-05`, or with a range
/// `guichet-ATH-01-2026-12-01_2026-12-05`; a directory for CSV, else with its extension.
pub fn file_name(center: &str, from: NaiveDate, to: NaiveDate, format: Format) -> String {
    let name = if from == to {
        format!("guichet-{center}-{from}")
    } else {
        format!("guichet-{center}-{from}_{to}")
    };
    match format {
        Format::Csv => name,
        _ => format!("{name}.{}", format.as_str()),
    }
}

/// Checks everything asked before anything is computed, then writes the report whole.
pub fn export(ws: &Workstation, request: &ExportRequest<'_>) -> Result<Report> {
    check_period(request.from, request.to)?;
    // The centre's today: on a bus whose clock is read in UTC, tomorrow's date would give an
    // empty report that looks like a quiet day.
    let today = ws.today();
    if request.to > today {
        return Err(Error::PeriodAhead {
            to: request.to,
            today,
            zone: ws.zone().name().to_owned(),
        });
    }
    let currency = ws.config()?.currency;
    let cash_counted_minor = request
        .cash_counted
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| Money::parse_decimal(c, &currency).map(|m| m.minor))
        .transpose()?;
    if !request.replace {
        check_destination(request.format, request.out)?;
    }
    let report = build(
        ws,
        &ReportOptions {
            from: request.from,
            to: request.to,
            locale: request.locale,
            cash_counted_minor,
            progress: request.progress,
        },
    )?;
    // `write` replaces a PDF or XLSX file whole; a CSV directory from an earlier export of the
    // same days must go first, as it takes only an empty one.
    if request.replace && request.format == Format::Csv && request.out.is_dir() {
        std::fs::remove_dir_all(request.out).map_err(|source| Error::Write {
            path: request.out.to_owned(),
            source,
        })?;
    }
    write(&report, request.format, request.out)?;
    Ok(report)
}
