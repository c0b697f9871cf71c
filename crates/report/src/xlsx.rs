//! XLSX: one sheet per table, written with `rust_xlsxwriter`. Counts, money, times and shares
//! are numbers with number formats, dates and times are real spreadsheet dates, so that a
//! supervisor can sum, sort and chart them.

use rust_xlsxwriter::{Format, Workbook};

use crate::error::Result;
use crate::model::Report;
use crate::table::{Cell, tables};

/// The report as an XLSX workbook.
pub fn xlsx_bytes(report: &Report) -> Result<Vec<u8>> {
    let exponent = report.header.currency.exponent() as usize;
    let money_format = if exponent == 0 {
        "#,##0".to_owned()
    } else {
        format!("#,##0.{}", "0".repeat(exponent))
    };
    let scale = 10f64.powi(exponent as i32);
    let header = Format::new().set_bold();
    let money = Format::new().set_num_format(&money_format);
    let one = Format::new().set_num_format("0.0");
    let two = Format::new().set_num_format("0.00");
    let share = Format::new().set_num_format("0.0%");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut workbook = Workbook::new();
    for table in tables(report) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name(&table.title))?;
        let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
        for (col, title) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, title, &header)?;
        }
        for (i, row) in table.rows.iter().enumerate() {
            let r = i as u32 + 1;
            for (col, cell) in row.iter().enumerate() {
                let c = col as u16;
                let width = match cell {
                    Cell::Text(t) => {
                        sheet.write_string(r, c, t)?;
                        t.chars().count()
                    }
                    Cell::Count(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                        n.to_string().len()
                    }
                    Cell::Money(m) => {
                        sheet.write_number_with_format(r, c, *m as f64 / scale, &money)?;
                        12
                    }
                    Cell::Minutes(s) => {
                        sheet.write_number_with_format(r, c, s / 60.0, &one)?;
                        6
                    }
                    Cell::Hours(s) => {
                        sheet.write_number_with_format(r, c, s / 3600.0, &two)?;
                        6
                    }
                    Cell::Share(v) => {
                        sheet.write_number_with_format(r, c, *v, &share)?;
                        6
                    }
                    Cell::Decimal(v, digits) => {
                        let format = if *digits == 1 { &one } else { &two };
                        sheet.write_number_with_format(r, c, *v, format)?;
                        6
                    }
                    Cell::Date(d) => {
                        sheet.write_datetime_with_format(r, c, d, &date)?;
                        10
                    }
                    Cell::Time(t) => {
                        sheet.write_datetime_with_format(r, c, t, &time)?;
                        16
                    }
                    Cell::Empty => 0,
                };
                if let Some(w) = widths.get_mut(col) {
                    *w = (*w).max(width);
                }
            }
        }
        for (col, width) in widths.iter().enumerate() {
            sheet.set_column_width(col as u16, (*width).clamp(6, 60) as f64 + 1.0)?;
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// A sheet name spreadsheets accept: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect()
}
