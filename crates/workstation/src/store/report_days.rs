//! The report's figures of each day, kept so that a report over months reads one row per
//! day (`schema/workstation/0010_report_days.sql`). The report reads them, and the marks, in
//! its read transaction; the store keeps new ones only while their day's mark is the one they
//! were read at, so that figures never hide a change committed after they were read.

use chrono::NaiveDate;
use rusqlite::{Transaction, TransactionBehavior, params};

use super::Workstation;
use crate::error::Result;

/// One day's report figures, read at the day's `mark`.
#[derive(Debug, Clone)]
pub struct KeptDay {
    pub day: NaiveDate,
    /// What the figures depend on beyond the day's rows (the time zone, the waiting target).
    pub basis: String,
    pub mark: i64,
    /// The figures, as the report writes them.
    pub figures: String,
}

/// A day's mark in a report's snapshot, with the figures kept of its basis at that mark.
#[derive(Debug, Clone)]
pub struct DayMark {
    /// As stored: `YYYY-MM-DD`.
    pub day: String,
    pub mark: i64,
    pub figures: Option<String>,
}

impl Workstation {
    /// Keeps the figures of days a report read, each only if its day has not changed since:
    /// returns how many were kept. Kept figures are derived from rows the device already
    /// holds: nothing is audited or sent.
    pub fn keep_report_days(&self, days: &[KeptDay]) -> Result<usize> {
        if days.is_empty() {
            return Ok(0);
        }
        let tx = Transaction::new_unchecked(self.conn()?, TransactionBehavior::Immediate)?;
        let mut kept = 0;
        {
            let mut keep = tx.prepare(
                "INSERT INTO report_days (day, basis, mark, figures)
                 SELECT ?1, ?2, ?3, ?4
                 WHERE coalesce((SELECT mark FROM report_day_marks WHERE day = ?1), 0) = ?3
                 ON CONFLICT (day) DO UPDATE SET basis = excluded.basis, mark = excluded.mark,
                    figures = excluded.figures",
            )?;
            for d in days {
                kept += keep.execute(params![d.day.to_string(), d.basis, d.mark, d.figures])?;
            }
        }
        tx.commit()?;
        Ok(kept)
    }
}
