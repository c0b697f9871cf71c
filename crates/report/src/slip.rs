//! The slips a counter prints: the citizen's queue ticket and the receipt for a request, on an
//! 80 mm thermal roll or on A4, in the clerk's language.
//!
//! A slip is built from the workstation's data ([`ticket`], [`receipt`]) as lines of text,
//! then laid out as a PDF ([`pdf`]) with the report's embedded fonts, so that it prints the same
//! on any printer and is never written to the data directory: the bytes go to the printing
//! system and nowhere else.

use chrono::DateTime;
use guichet_domain::money::Money;
use guichet_domain::queue::QueueTarget;
use guichet_workstation::Workstation;
use printpdf::{IndirectFontRef, Mm, PdfDocument};

use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::pdf::{BOLD, REGULAR};

/// What a slip is printed on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// An 80 mm thermal roll: 72 mm printable, as long as the slip needs.
    Roll80,
    /// A sheet of A4.
    A4,
}

/// One line of a slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The centre's name, at the top.
    Heading(String),
    /// What the citizen reads from across the room: the ticket's code, the receipt number.
    Big(String),
    /// A label and its value on one line ("Due: 12 Dec 2026").
    Pair(String, String),
    /// Running text, wrapped to the paper.
    Text(String),
    /// A small empty space.
    Gap,
}

/// A slip to print: its title (the PDF's) and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slip {
    pub title: String,
    pub lines: Vec<Line>,
    /// Between a label and its value: ": " in English, " : " in French.
    pub colon: &'static str,
}

impl Slip {
    /// The slip's words, one line each, for a screen reader or a test.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| match l {
                Line::Heading(t) | Line::Big(t) | Line::Text(t) => t.clone(),
                Line::Pair(a, b) => format!("{a}{}{b}", self.colon),
                Line::Gap => String::new(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The queue ticket `ticket` (its id, or its code today) as the citizen takes it: the code,
/// what it waits for, the time it was issued and how many wait before it.
pub fn ticket(ws: &Workstation, ticket: &str, l: Locale) -> Result<Slip> {
    let t = ws.ticket(ticket)?;
    let config = ws.config()?;
    let lang = l.code();
    let waits_for = match &t.target {
        QueueTarget::Service(code) => ws.service(code)?.title.get(lang).to_owned(),
        QueueTarget::Category(code) => ws
            .browse()?
            .categories
            .into_iter()
            .find(|c| &c.code == code)
            .map_or_else(|| code.clone(), |c| c.name.get(lang).to_owned()),
    };
    let lane = ws
        .lanes()?
        .into_iter()
        .find(|x| x.code == t.lane)
        .map_or_else(|| t.lane.clone(), |x| x.name.get(lang).to_owned());
    let ahead = ws.people_ahead(&t.code)?;
    let issued = DateTime::parse_from_rfc3339(&t.issued_at)
        .map(|at| config.time_zone.local(at.to_utc()))
        .map_err(|e| Error::Stored(format!("stored time '{}': {e}", t.issued_at)))?;
    Ok(Slip {
        colon: l.t("slip.colon"),
        title: l.t("slip.queue_ticket").to_owned(),
        lines: vec![
            Line::Heading(config.center_name),
            Line::Text(l.t("slip.your_number").to_owned()),
            Line::Big(t.code),
            Line::Text(waits_for),
            Line::Pair(l.t("slip.queue").to_owned(), lane),
            Line::Pair(l.t("slip.issued").to_owned(), l.date_time(issued)),
            Line::Pair(l.t("slip.people_ahead").to_owned(), ahead.to_string()),
            Line::Gap,
            Line::Text(l.t("slip.please_wait").to_owned()),
        ],
    })
}

/// The citizen's receipt for request `receipt`: its number, the service, the documents
/// received, the fee paid, the due date and how to follow up. A draft has none: it was never
/// handed in.
pub fn receipt(ws: &Workstation, receipt: &str, l: Locale) -> Result<Slip> {
    let r = ws.request(receipt)?;
    if r.summary.status == guichet_domain::request::RequestStatus::Draft {
        return Err(Error::DraftHasNoReceipt {
            receipt: r.summary.receipt,
        });
    }
    let config = ws.config()?;
    let lang = l.code();
    let s = &r.summary;
    let mut lines = vec![
        Line::Heading(format!("{} ({})", config.center_name, config.center_code)),
        Line::Text(l.t("slip.receipt").to_owned()),
        Line::Big(s.receipt.clone()),
        Line::Text(s.service_title.get(lang).to_owned()),
        Line::Pair(l.t("slip.for").to_owned(), s.citizen_name.clone()),
        Line::Pair(l.t("slip.taken_on").to_owned(), l.date(s.intake_date)),
        Line::Pair(l.t("slip.expected_by").to_owned(), l.date(s.due_date)),
    ];
    let received: Vec<String> = r
        .documents
        .iter()
        .filter(|d| d.received)
        .map(|d| d.name.get(lang).to_owned())
        .collect();
    let missing: Vec<String> = r
        .documents
        .iter()
        .filter(|d| !d.received)
        .map(|d| d.name.get(lang).to_owned())
        .collect();
    if !received.is_empty() {
        lines.push(Line::Gap);
        lines.push(Line::Text(l.t("slip.documents_received").to_owned()));
        lines.extend(received.into_iter().map(|d| Line::Text(format!("- {d}"))));
    }
    if !missing.is_empty() {
        lines.push(Line::Text(l.t("slip.still_to_bring").to_owned()));
        lines.extend(missing.into_iter().map(|d| Line::Text(format!("- {d}"))));
    }
    lines.push(Line::Gap);
    match &s.fee {
        None => lines.push(Line::Pair(
            l.t("slip.fee").to_owned(),
            l.t("slip.free").to_owned(),
        )),
        Some(fee) => {
            lines.push(Line::Pair(
                l.t("slip.fee").to_owned(),
                l.money(fee.minor, &fee.currency),
            ));
            if s.waiver_ground.is_some() {
                lines.push(Line::Text(l.t("slip.fee_waived").to_owned()));
            } else {
                lines.push(Line::Pair(
                    l.t("slip.paid").to_owned(),
                    l.money(s.paid_minor, &fee.currency),
                ));
                let due = Money::new(fee.minor - s.paid_minor, fee.currency.clone());
                if due.minor > 0 {
                    lines.push(Line::Pair(
                        l.t("slip.still_to_pay").to_owned(),
                        l.money(due.minor, &due.currency),
                    ));
                }
            }
        }
    }
    lines.push(Line::Gap);
    lines.push(Line::Text(l.t("slip.keep_receipt").to_owned()));
    Ok(Slip {
        title: l.t("slip.receipt").to_owned(),
        lines,
        colon: l.t("slip.colon"),
    })
}

/// Sizes of one paper: page width, margins, font sizes.
struct Layout {
    width: f32,
    margin: f32,
    text: f32,
    heading: f32,
    big: f32,
}

const POINT_MM: f32 = 0.3528;

impl Layout {
    fn of(paper: Paper) -> Layout {
        match paper {
            Paper::Roll80 => Layout {
                width: 80.0,
                margin: 4.0,
                text: 9.0,
                heading: 11.0,
                big: 26.0,
            },
            Paper::A4 => Layout {
                width: 210.0,
                margin: 20.0,
                text: 12.0,
                heading: 16.0,
                big: 40.0,
            },
        }
    }

    /// The height of a line of `size` points, with its leading.
    fn step(size: f32) -> f32 {
        size * POINT_MM * 1.35
    }

    /// How many characters of `size` points fit the printable width (Liberation Sans averages
    /// about half an em per character).
    fn chars(&self, size: f32) -> usize {
        ((self.width - 2.0 * self.margin) / (size * POINT_MM * 0.52)).floor() as usize
    }
}

/// Words of `text` in lines of at most `width` characters (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(head);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One laid-out line: its text, size, boldness.
type Placed = (String, f32, bool);

/// The lines as they go on paper.
fn placed(slip: &Slip, layout: &Layout) -> Vec<Option<Placed>> {
    let mut out = Vec::new();
    for line in &slip.lines {
        match line {
            Line::Heading(t) => out.extend(
                wrap(t, layout.chars(layout.heading))
                    .into_iter()
                    .map(|t| Some((t, layout.heading, true))),
            ),
            Line::Big(t) => out.push(Some((t.clone(), layout.big, true))),
            Line::Pair(a, b) => out.extend(
                wrap(&format!("{a}{}{b}", slip.colon), layout.chars(layout.text))
                    .into_iter()
                    .map(|t| Some((t, layout.text, false))),
            ),
            Line::Text(t) => out.extend(
                wrap(t, layout.chars(layout.text))
                    .into_iter()
                    .map(|t| Some((t, layout.text, false))),
            ),
            Line::Gap => out.push(None),
        }
    }
    out
}

/// The slip as a PDF for `paper`: a roll as long as the slip, or an A4 page.
pub fn pdf(slip: &Slip, paper: Paper) -> Result<Vec<u8>> {
    let layout = Layout::of(paper);
    let lines = placed(slip, &layout);
    let gap = Layout::step(layout.text) / 2.0;
    let content: f32 = lines
        .iter()
        .map(|l| l.as_ref().map_or(gap, |(_, size, _)| Layout::step(*size)))
        .sum();
    let height = match paper {
        Paper::Roll80 => (content + 2.0 * layout.margin).max(60.0),
        Paper::A4 => 297.0,
    };
    let (doc, page, layer) = PdfDocument::new(&slip.title, Mm(layout.width), Mm(height), "slip");
    let regular: IndirectFontRef = doc
        .add_external_font(REGULAR)
        .map_err(|e| Error::Pdf(e.to_string()))?;
    let bold: IndirectFontRef = doc
        .add_external_font(BOLD)
        .map_err(|e| Error::Pdf(e.to_string()))?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut y = height - layout.margin;
    for line in lines {
        match line {
            None => y -= gap,
            Some((text, size, strong)) => {
                y -= Layout::step(size);
                let font = if strong { &bold } else { &regular };
                // The baseline sits a quarter of the step above the line's bottom, so that
                // descenders stay within it.
                let baseline = y + Layout::step(size) * 0.25;
                layer.use_text(text, size, Mm(layout.margin), Mm(baseline), font);
            }
        }
    }
    doc.save_to_bytes().map_err(|e| Error::Pdf(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_to_the_paper() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert!(wrap("   ", 10).is_empty());
        let roll = Layout::of(Paper::Roll80);
        assert!(
            (40..=50).contains(&roll.chars(roll.text)),
            "{}",
            roll.chars(roll.text)
        );
    }
}
