//! Showing results: text for a clerk at a counter, or one JSON document for a script.
//!
//! Every command returns a `Report` holding both forms; `commands::run` prints the one asked
//! for. Human text is compact: aligned columns for lists, money with its currency, ISO dates,
//! receipts in their grouped display form.

use std::fmt::Write as _;
use std::io::Write as _;

use guichet_domain::catalogue::Fee;
use guichet_domain::money::Money;
use guichet_domain::queue::QueueTarget;
use serde::Serialize;

use crate::error::Result;

/// What a command produced, in both forms.
#[derive(Debug)]
pub struct Report {
    pub json: serde_json::Value,
    pub human: String,
}

impl Report {
    /// A report whose JSON is `value` and whose text `render` writes.
    pub fn new(
        value: &impl Serialize,
        render: impl FnOnce(&mut String) -> std::fmt::Result,
    ) -> Result<Self> {
        let mut human = String::new();
        render(&mut human)?;
        Ok(Report {
            json: serde_json::to_value(value).map_err(guichet_workstation::Error::from)?,
            human,
        })
    }
}

/// Writes to stdout. A reader that went away (a closed pipe, `guichet request list | head`)
/// is not an error worth a message: it read what it wanted. Any other failure, such as a full
/// disk under `> file`, is returned: what was written is cut short, and a script must not take
/// it for the whole output.
pub fn to_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
}

/// Writes to stderr; if even that fails there is nowhere left to say so.
pub fn to_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ignored = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Rows printed in aligned columns under a header.
#[derive(Debug)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn write(&self, out: &mut String, indent: &str) -> std::fmt::Result {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::from(indent);
            for (c, cell) in row.iter().enumerate() {
                if c + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let width = widths.get(c).copied().unwrap_or(0);
                    write!(line, "{cell:<width$}  ")?;
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Label-value lines with the values aligned.
pub fn fields(out: &mut String, indent: &str, pairs: &[(&str, String)]) -> std::fmt::Result {
    let width = pairs
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in pairs {
        writeln!(out, "{indent}{label:<width$}  {value}")?;
    }
    Ok(())
}

pub fn fee(fee: &Fee) -> String {
    match fee {
        Fee::Free => "free".to_owned(),
        Fee::Charged { amount, .. } => amount.to_string(),
    }
}

/// Where a request stands with its fee: free, waived, paid, or how much of it is paid.
pub fn fee_state(fee: Option<&Money>, paid_minor: i64, waiver: Option<&str>) -> String {
    match (fee, waiver) {
        (None, _) => "free".to_owned(),
        (Some(fee), Some(ground)) => format!("{fee} waived ({ground})"),
        (Some(fee), None) if paid_minor >= fee.minor => format!("{fee} paid"),
        (Some(fee), None) if paid_minor == 0 => format!("{fee} unpaid"),
        (Some(fee), None) => format!(
            "{} of {fee} paid",
            Money::new(paid_minor, fee.currency.clone()).decimal()
        ),
    }
}

pub fn target(target: &QueueTarget) -> String {
    match target {
        QueueTarget::Service(code) => format!("service {code}"),
        QueueTarget::Category(code) => format!("category {code}"),
    }
}

pub fn minutes(ms: u64) -> u64 {
    ms / 60_000
}

pub fn join_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The name a value has on the wire (its serde form), for enums the core names only there.
pub fn wire_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A stored RFC 3339 instant as a clerk reads it: ISO date and minute, in UTC as stored.
pub fn when(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| at.to_owned())
}

#[cfg(test)]
mod tests {
    use guichet_domain::money::Currency;

    use super::*;

    #[test]
    fn tables_align_on_the_widest_cell() {
        let mut table = Table::new(&["CODE", "NAME"]);
        table.row(vec!["W1".into(), "Window 1".into()]);
        table.row(vec!["W-LONG".into(), "Élise's window".into()]);
        let mut out = String::new();
        table.write(&mut out, "  ").unwrap();
        assert_eq!(
            out,
            "  CODE    NAME\n  W1      Window 1\n  W-LONG  Élise's window\n"
        );
    }

    #[test]
    fn fee_states_say_what_is_owed() {
        let eur = Currency::parse("EUR").unwrap();
        let fee = Money::new(1250, eur);
        assert_eq!(fee_state(None, 0, None), "free");
        assert_eq!(fee_state(Some(&fee), 0, None), "12.50 EUR unpaid");
        assert_eq!(fee_state(Some(&fee), 500, None), "5.00 of 12.50 EUR paid");
        assert_eq!(fee_state(Some(&fee), 1250, None), "12.50 EUR paid");
        assert_eq!(
            fee_state(Some(&fee), 0, Some("older-people")),
            "12.50 EUR waived (older-people)"
        );
    }

    #[test]
    fn instants_read_to_the_minute() {
        assert_eq!(when("2026-03-10T09:05:59.123+00:00"), "2026-03-10 09:05");
        assert_eq!(when("not a time"), "not a time");
    }
}
