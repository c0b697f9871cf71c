//! The supervisor's daily report: one centre, one day or a range of days, computed from the
//! workstation's local replica so that it works with no link; and today's figures for the
//! dashboard of the desktop app.
//!
//! - [`daily_report`] computes a [`Report`] (serialisable: the app shows it, scripts read it
//!   as JSON), streaming the rows so that a year fits in bounded memory.
//! - [`write`] puts it on disk as CSV (a directory, one file per table), XLSX (one sheet per
//!   table) or PDF (printable A4 with charts), all or nothing; [`render`] gives the bytes.
//! - [`dashboard`] gives today's figures, cheap enough to refresh while the day goes on.
//!
//! Money is in minor units throughout and formatted per locale (English or French) only in
//! the outputs. The report says plainly when the day is not clean: changes not yet sent,
//! refused by the back office, or in conflict.

mod compute;
mod csv;
mod dashboard;
mod days;
mod error;
mod export;
mod locale;
mod model;
mod output;
mod pdf;
pub mod slip;
mod stats;
mod table;
mod xlsx;

pub use compute::{LIST_CAP, MAX_DAYS, ReportOptions, build as daily_report, check_period};
pub use dashboard::{DASHBOARD_OVERDUE, Dashboard, dashboard};
pub use error::{Error, Result};
pub use export::{ExportRequest, export, file_name};
pub use locale::Locale;
pub use model::*;
pub use output::{Format, check_destination, render, write};
pub use pdf::PDF_LIST_ROWS;
pub use stats::WaitSummary;
pub use table::{Cell, Table, tables};
