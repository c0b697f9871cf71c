//! The report's figures of each day, kept so that a report over months reads one row per
//! day (`schema/workstation/0010_report_days.sql`). The report reads them, and the marks, in
//! its read transaction; the store keeps new ones only while their day's mark is the one they
//! were read at, so that figures never hide a change committed after they were read.

use chrono::NaiveDate;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

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

/// The days from `from` to `to` that have a mark or kept figures, in the caller's read
/// transaction (`Workstation::read`): a day with neither has mark 0 and nothing kept.
pub fn report_days(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    basis: &str,
) -> Result<Vec<DayMark>> {
    let mut stmt = conn.prepare(
        "SELECT m.day, m.mark, k.figures FROM report_day_marks m
            LEFT JOIN report_days k ON k.day = m.day AND k.basis = ?3 AND k.mark = m.mark
         WHERE m.day >= ?1 AND m.day <= ?2
         UNION ALL
         SELECT k.day, 0, k.figures FROM report_days k
         WHERE k.day >= ?1 AND k.day <= ?2 AND k.basis = ?3 AND k.mark = 0
           AND NOT EXISTS (SELECT 1 FROM report_day_marks m WHERE m.day = k.day)",
    )?;
    let mut rows = stmt.query(params![from.to_string(), to.to_string(), basis])?;
    let mut days = Vec::new();
    while let Some(r) = rows.next()? {
        days.push(DayMark {
            day: r.get(0)?,
            mark: r.get(1)?,
            figures: r.get(2)?,
        });
    }
    Ok(days)
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
