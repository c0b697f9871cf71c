//! The report's errors: the store's, a period that makes no sense, and an output that could not
//! be written. Each says what was wrong and what to do.

use std::path::PathBuf;

use chrono::NaiveDate;
use guichet_domain::message::Message;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] guichet_workstation::Error),

    #[error(transparent)]
    Domain(#[from] guichet_domain::DomainError),

    #[error(
        "the report's period ends ({to}) before it starts ({from}): give --to on or after --date"
    )]
    Period { from: NaiveDate, to: NaiveDate },

    #[error(
        "the report's period is {days} days long; at most {max} days (about ten years) fit in one report"
    )]
    PeriodTooLong { days: i64, max: i64 },

    #[error(
        "the report's period ends on {to}, after today ({today} in {zone}): give a day up to today; a day still to come has nothing to report"
    )]
    PeriodAhead {
        to: NaiveDate,
        today: NaiveDate,
        zone: String,
    },

    #[error("the report language '{0}' is not known: use en or fr")]
    UnknownLocale(String),

    #[error("stored data could not be read: {0}")]
    Stored(String),

    #[error("request {receipt} is a draft and has no receipt yet: submit it first")]
    DraftHasNoReceipt { receipt: String },

    #[error("cannot write the report to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{} already exists and is not an empty directory: a CSV report is a directory of files; choose a new path or empty it", path.display())]
    OutputNotEmpty { path: PathBuf },

    #[error("the XLSX workbook could not be made: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),

    #[error("the PDF could not be made: {0}")]
    Pdf(String),
}

impl Error {
    /// The error as the window translates it (see `guichet_domain::message`); `None` for what
    /// the window never asks for (a language it does not send, a CSV directory it empties
    /// itself).
    pub fn message(&self) -> Option<Message> {
        Some(match self {
            Error::Store(e) => return e.message(),
            Error::Domain(e) => return e.message(),
            Error::Period { from, to } => Message::new("error.report.period")
                .text("from", from)
                .text("to", to),
            Error::PeriodTooLong { days, max } => Message::new("error.report.too_long")
                .text("days", days)
                .text("max", max),
            Error::PeriodAhead { to, today, zone } => Message::new("error.report.ahead")
                .text("to", to)
                .text("today", today)
                .text("zone", zone),
            Error::Write { path, source } => Message::new("error.report.write")
                .text("path", path.display())
                .text("detail", source),
            Error::DraftHasNoReceipt { receipt } => {
                Message::new("error.slip.draft").text("receipt", receipt)
            }
            Error::Stored(_) | Error::Xlsx(_) | Error::Pdf(_) => Message::internal(self),
            Error::UnknownLocale(_) | Error::OutputNotEmpty { .. } => return None,
        })
    }
}
