//! PDF: a printable A4 report with charts, written with `printpdf`. The text is set in
//! Liberation Sans (SIL Open Font License, `fonts/`), embedded in the file so that it prints
//! and extracts the same everywhere, accents included.
//!
//! Page one holds the header, the sync statement, the headline figures and the charts
//! (waiting time by hour against the target, requests by status, payments by method, ratings);
//! the tables follow. Long lists show their first `PDF_LIST_ROWS` lines; the CSV and XLSX
//! files have them all.

use printpdf::path::PaintMode;
use printpdf::{
    Color, IndirectFontRef, Line, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference, Point,
    Rect, Rgb,
};

use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::model::Report;
use crate::table::{Cell, Table, tables};

pub(crate) const REGULAR: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
pub(crate) const BOLD: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 15.0;
const PT_MM: f32 = 0.3528;
/// Lines of a long list printed in the PDF.
pub const PDF_LIST_ROWS: usize = 60;

const INK: (f32, f32, f32) = (0.1, 0.1, 0.1);
const BLUE: (f32, f32, f32) = (0.16, 0.38, 0.67);
const LIGHT_BLUE: (f32, f32, f32) = (0.62, 0.75, 0.9);
const RED: (f32, f32, f32) = (0.78, 0.1, 0.1);
const GREEN: (f32, f32, f32) = (0.1, 0.5, 0.2);
const GREY: (f32, f32, f32) = (0.6, 0.6, 0.6);

/// The report as a PDF document.
pub fn pdf_bytes(report: &Report) -> Result<Vec<u8>> {
    let l = report.header.locale;
    let h = &report.header;
    let title = if h.from == h.to {
        l.t("pdf.daily_report")
    } else {
        l.t("pdf.period_report")
    };
    let (doc, page, layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "report");
    let regular = doc.add_external_font(REGULAR).map_err(pdf_error)?;
    let bold = doc.add_external_font(BOLD).map_err(pdf_error)?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut pdf = Writer {
        doc,
        layer,
        regular,
        bold,
        y: PAGE_H - MARGIN,
        locale: l,
        currency: report.header.currency.clone(),
    };
    front_page(&mut pdf, report, title);
    for table in tables(report).iter().skip(1) {
        pdf.table(table);
    }
    pdf.doc.save_to_bytes().map_err(pdf_error)
}

fn pdf_error(e: impl std::fmt::Display) -> Error {
    Error::Pdf(e.to_string())
}

struct Writer {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
    /// The top of the next thing to draw, in mm from the bottom of the page.
    y: f32,
    locale: Locale,
    currency: guichet_domain::money::Currency,
}

fn rgb((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
}

/// About how wide a text is in Liberation Sans, in mm.
fn text_width(text: &str, size: f32) -> f32 {
    let ems: f32 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.28,
            'f' | 't' | 'r' | 'I' | '(' | ')' | '-' => 0.36,
            'm' | 'w' | 'M' | 'W' => 0.85,
            c if c.is_ascii_uppercase() => 0.68,
            _ => 0.56,
        })
        .sum();
    ems * size * PT_MM
}

/// `text` cut to fit `width` mm, with an ellipsis when cut.
fn fit(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if text_width(&out, size) > width - text_width("…", size) {
            out.pop();
            break;
        }
    }
    format!("{out}…")
}

impl Writer {
    /// Starts a new page when less than `height` mm is left.
    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN {
            let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "report");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.y = PAGE_H - MARGIN;
        }
    }

    fn text(&self, x: f32, y: f32, size: f32, bold: bool, color: (f32, f32, f32), text: &str) {
        self.layer.set_fill_color(rgb(color));
        let font = if bold { &self.bold } else { &self.regular };
        self.layer.use_text(text, size, Mm(x), Mm(y), font);
    }

    fn rect(&self, x: f32, y: f32, w: f32, h: f32, color: (f32, f32, f32)) {
        self.layer.set_fill_color(rgb(color));
        self.layer
            .add_rect(Rect::new(Mm(x), Mm(y), Mm(x + w), Mm(y + h)).with_mode(PaintMode::Fill));
    }

    fn line(&self, from: (f32, f32), to: (f32, f32), width: f32, color: (f32, f32, f32)) {
        self.layer.set_outline_color(rgb(color));
        self.layer.set_outline_thickness(width);
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(from.0), Mm(from.1)), false),
                (Point::new(Mm(to.0), Mm(to.1)), false),
            ],
            is_closed: false,
        });
    }

    /// A line of text at the left margin, moving down.
    fn say(&mut self, size: f32, bold: bool, color: (f32, f32, f32), text: &str) {
        let height = size * PT_MM * 1.45;
        for line in wrap(text, size, PAGE_W - 2.0 * MARGIN) {
            self.room(height);
            self.y -= height;
            self.text(MARGIN, self.y, size, bold, color, &line);
        }
    }

    fn heading(&mut self, text: &str, needs: f32) {
        self.room(needs + 10.0);
        self.y -= 3.0;
        self.say(12.0, true, INK, text);
        self.y -= 1.0;
    }

    fn cell(&self, cell: &Cell) -> String {
        let l = self.locale;
        match cell {
            Cell::Text(t) => t.clone(),
            Cell::Count(n) => l.count(*n),
            Cell::Money(m) => l.money(*m, &self.currency),
            Cell::Minutes(s) => l.plain(s / 60.0, 1),
            Cell::Hours(s) => l.plain(s / 3600.0, 2),
            Cell::Share(v) => l.percent(*v),
            Cell::Decimal(v, d) => l.plain(*v, *d),
            Cell::Date(d) => d.to_string(),
            Cell::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            Cell::Empty => "–".to_owned(),
        }
    }

    /// A table with its title, columns sized to their content, cut across pages.
    fn table(&mut self, table: &Table) {
        let size = 7.0;
        let row_h = size * PT_MM * 1.6;
        self.heading(&table.title, row_h * 3.0);
        if table.rows.is_empty() {
            let none = self.locale.t("pdf.nothing_to_show");
            self.say(8.0, false, GREY, none);
            return;
        }
        let shown: Vec<Vec<String>> = table
            .rows
            .iter()
            .take(PDF_LIST_ROWS)
            .map(|r| r.iter().map(|c| self.cell(c)).collect())
            .collect();
        let numeric: Vec<bool> = (0..table.columns.len())
            .map(|i| {
                table.rows.iter().all(|r| {
                    !matches!(
                        r.get(i),
                        Some(Cell::Text(_)) | Some(Cell::Date(_)) | Some(Cell::Time(_))
                    )
                })
            })
            .collect();
        let mut content = vec![0.0_f32; table.columns.len()];
        for row in &shown {
            for (i, text) in row.iter().enumerate() {
                if let Some(w) = content.get_mut(i) {
                    *w = w.max(text_width(text, size).min(70.0));
                }
            }
        }
        let gap = 2.5;
        let avail = PAGE_W - 2.0 * MARGIN;
        let spaced = |widths: &[f32]| widths.iter().sum::<f32>() + gap * widths.len() as f32;
        // Headers wrap on two lines, or three where two leave the table too wide for the page.
        let sized = |lines: usize| -> Vec<f32> {
            table
                .columns
                .iter()
                .zip(&content)
                .map(|(c, content)| title_width(c, size, lines).min(28.0).max(*content))
                .collect()
        };
        let mut header_lines = 2;
        let mut widths = sized(header_lines);
        if spaced(&widths) > avail {
            header_lines = 3;
            widths = sized(header_lines);
        }
        let total = spaced(&widths);
        if total > avail {
            let scale = (avail - gap * widths.len() as f32) / (total - gap * widths.len() as f32);
            widths.iter_mut().for_each(|w| *w *= scale);
        }
        let header = |w: &mut Writer| {
            w.room(row_h * (header_lines as f32 + 1.0));
            let mut x = MARGIN;
            for (i, title) in table.columns.iter().enumerate() {
                let lines = header_title(title, size, widths[i], header_lines);
                for (n, line) in lines.iter().enumerate() {
                    let dx = if numeric[i] {
                        widths[i] - text_width(line, size)
                    } else {
                        0.0
                    };
                    w.text(
                        x + dx,
                        w.y - row_h * (n as f32 + 1.0),
                        size,
                        true,
                        INK,
                        line,
                    );
                }
                x += widths[i] + gap;
            }
            w.y -= row_h * header_lines as f32;
            w.line((MARGIN, w.y - 1.0), (PAGE_W - MARGIN, w.y - 1.0), 0.4, GREY);
        };
        header(self);
        for row in &shown {
            if self.y - row_h < MARGIN {
                self.room(row_h * 2.0);
                header(self);
            }
            self.y -= row_h;
            let mut x = MARGIN;
            for (i, text) in row.iter().enumerate() {
                let text = fit(text, size, widths[i]);
                let dx = if numeric[i] {
                    widths[i] - text_width(&text, size)
                } else {
                    0.0
                };
                self.text(x + dx, self.y, size, false, INK, &text);
                x += widths[i] + gap;
            }
        }
        if table.rows.len() > PDF_LIST_ROWS {
            let more = table.rows.len() - PDF_LIST_ROWS;
            let note = self.locale.counted("pdf.more_lines", more as u64, &[]);
            self.say(7.0, false, GREY, &note);
        }
    }

    /// Vertical bars with labels under them, and an optional horizontal target line.
    fn bar_chart(&mut self, chart: &BarChart) {
        let height = 45.0;
        self.heading(&chart.title, height + 12.0);
        if chart
            .bars
            .iter()
            .all(|b| b.values.iter().all(|v| *v <= 0.0))
        {
            let none = self.locale.t("pdf.nothing_to_show");
            self.say(8.0, false, GREY, none);
            return;
        }
        let top = self.y - 2.0;
        let bottom = top - height;
        let left = MARGIN + 12.0;
        let width = PAGE_W - 2.0 * MARGIN - 14.0;
        let max = chart
            .bars
            .iter()
            .flat_map(|b| b.values.iter().copied())
            .chain(chart.target)
            .fold(0.0_f64, f64::max);
        // Four steps up the axis; a count's steps are whole numbers.
        let mut step = nice_ceiling(max * 1.1 / 4.0);
        if chart.digits == 0 {
            step = step.ceil();
        }
        let max = step * 4.0;
        let to_y = |v: f64| bottom + (v / max) as f32 * height;
        for n in 0..=4 {
            let v = step * f64::from(n);
            let y = to_y(v);
            self.line((left, y), (left + width, y), 0.2, (0.88, 0.88, 0.88));
            let label = self.locale.plain(v, usize::from(step.fract() != 0.0));
            self.text(MARGIN, y - 1.0, 6.0, false, GREY, &label);
        }
        let n = chart.bars.len().max(1) as f32;
        let slot = width / n;
        let series = chart.series.len().max(1) as f32;
        let bar_w = (slot * 0.8 / series).min(14.0);
        for (i, bar) in chart.bars.iter().enumerate() {
            let x0 = left + slot * i as f32 + (slot - bar_w * series) / 2.0;
            for (s, value) in bar.values.iter().enumerate() {
                let color = if s == 0 { BLUE } else { LIGHT_BLUE };
                let h = to_y(*value) - bottom;
                if h > 0.0 {
                    self.rect(x0 + bar_w * s as f32, bottom, bar_w * 0.95, h, color);
                }
            }
            let label = fit(&bar.label, 6.0, slot);
            let lw = text_width(&label, 6.0);
            self.text(
                left + slot * i as f32 + (slot - lw) / 2.0,
                bottom - 3.5,
                6.0,
                false,
                INK,
                &label,
            );
            if let Some(v) = bar.values.first() {
                let value = self.locale.plain(*v, chart.digits);
                let vw = text_width(&value, 5.5);
                self.text(
                    x0 + (bar_w - vw) / 2.0,
                    to_y(*v) + 0.8,
                    5.5,
                    false,
                    INK,
                    &value,
                );
            }
        }
        self.line((left, bottom), (left + width, bottom), 0.5, INK);
        if let Some(target) = chart.target {
            let y = to_y(target);
            self.line((left, y), (left + width, y), 0.9, RED);
        }
        let mut x = left;
        let legend_y = bottom - 8.0;
        for (s, name) in chart.series.iter().enumerate() {
            let color = if s == 0 { BLUE } else { LIGHT_BLUE };
            self.rect(x, legend_y, 3.0, 2.5, color);
            self.text(x + 4.0, legend_y + 0.3, 7.0, false, INK, name);
            x += text_width(name, 7.0) + 10.0;
        }
        if let Some(label) = &chart.target_label {
            self.line((x, legend_y + 1.2), (x + 5.0, legend_y + 1.2), 0.9, RED);
            self.text(x + 6.0, legend_y + 0.3, 7.0, false, INK, label);
        }
        self.y = legend_y - 3.0;
    }
}

struct BarChart {
    title: String,
    series: Vec<String>,
    bars: Vec<Bar>,
    target: Option<f64>,
    target_label: Option<String>,
    digits: usize,
}

struct Bar {
    label: String,
    values: Vec<f64>,
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten at or above `v` (at least 1), so that
/// a chart's four grid steps fall on round numbers.
fn nice_ceiling(v: f64) -> f64 {
    let v = v.max(1.0);
    let power = 10f64.powi(v.log10().floor() as i32);
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * power)
}

fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size) > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line = word.to_owned();
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

/// The narrowest width at which `title` wraps on at most `lines` lines, no word cut.
fn title_width(title: &str, size: f32, lines: usize) -> f32 {
    let word = title
        .split(' ')
        .map(|w| text_width(w, size))
        .fold(0.0, f32::max);
    if wrap(title, size, word).len() <= lines {
        return word;
    }
    let (mut narrow, mut wide) = (word, text_width(title, size));
    while wide - narrow > 0.2 {
        let mid = (narrow + wide) / 2.0;
        if wrap(title, size, mid).len() <= lines {
            wide = mid;
        } else {
            narrow = mid;
        }
    }
    wide
}

/// A column's title on exactly `lines` lines, set at their foot: the last line takes what
/// does not fit above, cut with an ellipsis where the column is narrower than its words.
fn header_title(title: &str, size: f32, width: f32, lines: usize) -> Vec<String> {
    let mut wrapped = wrap(title, size, width);
    if wrapped.len() > lines {
        let rest = wrapped.split_off(lines - 1).join(" ");
        wrapped.push(rest);
    }
    let mut out = vec![String::new(); lines - wrapped.len()];
    out.extend(wrapped.iter().map(|l| fit(l, size, width)));
    out
}

fn front_page(pdf: &mut Writer, report: &Report, title: &str) {
    let l = pdf.locale;
    let h = &report.header;
    pdf.say(18.0, true, INK, &format!("{title} — {}", h.center_name));
    let period = if h.from == h.to {
        h.from.to_string()
    } else {
        l.fill("pdf.period", &[("from", &h.from), ("to", &h.to)])
    };
    let version = h
        .catalogue_version
        .map_or_else(|| "–".to_owned(), |v| v.to_string());
    let made = h.time_zone.local(h.made_at).format("%Y-%m-%d %H:%M");
    let facts = l.fill(
        "pdf.facts",
        &[
            ("centre", &h.center_code),
            ("device", &h.device_code),
            ("period", &period),
            ("made", &made),
            ("zone", &h.time_zone),
            ("version", &version),
            ("target", &h.waiting_target_min),
        ],
    );
    pdf.say(9.0, false, INK, &facts);
    pdf.y -= 2.0;
    let sync_color = if report.sync.clean { GREEN } else { RED };
    pdf.say(10.0, true, sync_color, &report.sync.statement);
    if let Some(late) = report.late.news() {
        pdf.say(10.0, true, INK, late);
    }
    if report.empty {
        pdf.say(10.0, true, INK, l.t("pdf.no_activity"));
    }
    let summary = &tables(report)[0];
    pdf.heading(l.t("pdf.key_figures"), 40.0);
    // The rows up to the statements are the header and the statements, already above; the
    // last one explains open time.
    let statements = summary
        .rows
        .iter()
        .position(|r| matches!(r.first(), Some(Cell::Text(t)) if t == l.t("table.arrived_late")))
        .map_or(0, |i| i + 1);
    let rows: Vec<&Vec<Cell>> = summary
        .rows
        .iter()
        .skip(statements)
        .take(summary.rows.len().saturating_sub(statements + 1))
        .collect();
    let half = rows.len().div_ceil(2);
    let col_w = (PAGE_W - 2.0 * MARGIN) / 2.0;
    let row_h = 8.0 * PT_MM * 1.5;
    let top = pdf.y;
    let mut foot = top;
    // Two columns of label and value; a label or value too long for its place wraps.
    for (col, items) in rows.chunks(half.max(1)).enumerate() {
        let x = MARGIN + col_w * col as f32;
        let mut y = top;
        for row in items {
            if let (Some(Cell::Text(label)), Some(value)) = (row.first(), row.get(1)) {
                let labels = wrap(label, 8.0, col_w * 0.55 - 2.0);
                let values = wrap(&pdf.cell(value), 8.0, col_w * 0.44);
                for (n, line) in labels.iter().enumerate() {
                    pdf.text(x, y - row_h * (n as f32 + 1.0), 8.0, false, INK, line);
                }
                for (n, line) in values.iter().enumerate() {
                    let at = y - row_h * (n as f32 + 1.0);
                    pdf.text(x + col_w * 0.55, at, 8.0, true, INK, line);
                }
                y -= row_h * labels.len().max(values.len()) as f32;
            }
        }
        foot = foot.min(y);
    }
    pdf.y = foot - row_h * 0.5;

    let q = &report.queue;
    let minutes = |s: Option<u64>| s.map_or(0.0, |s| s as f64 / 60.0);
    pdf.bar_chart(&BarChart {
        title: l.t("pdf.waiting_by_hour").to_owned(),
        series: vec![
            l.t("pdf.median").to_owned(),
            l.t("pdf.90th_percentile").to_owned(),
        ],
        bars: q
            .by_hour
            .iter()
            .map(|hl| Bar {
                label: format!("{:02}h", hl.hour),
                values: vec![minutes(hl.waiting.median_s), minutes(hl.waiting.p90_s)],
            })
            .collect(),
        target: Some(f64::from(h.waiting_target_min)),
        target_label: Some(l.fill("pdf.target", &[("target", &h.waiting_target_min)])),
        digits: 1,
    });
    pdf.bar_chart(&BarChart {
        title: l.t("pdf.requests_by_status_at_end").to_owned(),
        series: vec![l.t("pdf.requests").to_owned()],
        bars: report
            .requests
            .by_status
            .iter()
            .map(|s| Bar {
                label: s.name.clone(),
                values: vec![s.count as f64],
            })
            .collect(),
        target: None,
        target_label: None,
        digits: 0,
    });
    let scale = 10f64.powi(h.currency.exponent() as i32);
    pdf.bar_chart(&BarChart {
        title: l.fill("pdf.fees_by_method", &[("currency", &h.currency)]),
        series: vec![l.t("pdf.collected").to_owned()],
        bars: report
            .money
            .by_method
            .iter()
            .map(|m| Bar {
                label: m.name.clone(),
                values: vec![m.amount_minor as f64 / scale],
            })
            .collect(),
        target: None,
        target_label: None,
        digits: h.currency.exponent() as usize,
    });
    pdf.bar_chart(&BarChart {
        title: l.t("pdf.citizen_ratings").to_owned(),
        series: vec![l.t("pdf.ratings").to_owned()],
        bars: report
            .feedback
            .distribution
            .iter()
            .enumerate()
            .map(|(i, n)| Bar {
                label: (i + 1).to_string(),
                values: vec![*n as f64],
            })
            .collect(),
        target: None,
        target_label: None,
        digits: 0,
    });
}
