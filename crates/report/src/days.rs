//! A report's figures day by day, so that they can be kept and a report over months reads one
//! row per day instead of every ticket, request and feedback
//! (`schema/workstation/0010_report_days.sql`). Every day a report reads up to today is kept:
//! the supervisor's report at closing time keeps the day, and the next change to one of its
//! tickets, requests or feedback moves its mark, so that the next report reads it again.
//!
//! A day's figures are counts, sums and sparse waiting-time sketches by code (service,
//! category, agency, lane, clerk), never names: names are found in the report's language
//! when the days are added up, from the catalogue as it is then. The statuses, and what the
//! requests are paid and waived, are the requests' current ones: a request that moves, is paid
//! or waived moves its day's mark, so kept figures hold those of the snapshot that reads them,
//! and the report turns them into those at the end of its period as it would turn the rows'. Days are the centre's local days, and
//! hours and waits above the target depend on the zone and the target: both are the figures'
//! basis, and figures of another basis are read again.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use guichet_workstation::store::{KeptDay, ReportRead};
use serde::{Deserialize, Serialize};

use crate::compute::{parse_day, parse_time, stored};
use crate::error::{Error, Result};
use crate::stats::Sketch;

/// Tickets of a group: a service, a category, a lane or an hour.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Group {
    pub issued: u64,
    pub served: u64,
    pub no_shows: u64,
    pub transferred: u64,
    pub waits: Sketch,
}

/// One ticket, as the queue's figures count it.
pub(crate) struct Ticket {
    pub served: bool,
    pub no_show: bool,
    pub transferred: bool,
    pub wait_ms: Option<u64>,
    pub target_ms: u64,
}

impl Group {
    pub fn add(&mut self, t: &Ticket) {
        self.issued += 1;
        self.served += u64::from(t.served);
        self.no_shows += u64::from(t.no_show);
        self.transferred += u64::from(t.transferred);
        if let Some(w) = t.wait_ms {
            self.waits.add(w, t.target_ms);
        }
    }

    fn seal(&mut self) {
        self.waits.seal();
    }
}

/// The tickets issued on a day.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct QueueDay {
    pub issued: u64,
    pub served: u64,
    pub no_shows: u64,
    pub served_after_no_show: u64,
    pub transferred: u64,
    pub not_served: u64,
    pub waits: Sketch,
    /// By the local hour the ticket was issued at.
    pub hours: BTreeMap<u8, Group>,
    /// Tickets for a service, by its code.
    pub services: BTreeMap<String, Group>,
    /// Tickets for a whole category, by its code.
    pub categories: BTreeMap<String, Group>,
    pub lanes: BTreeMap<String, Group>,
}

/// Requests of a group, and the fees they carry.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Taken {
    pub taken: u64,
    pub fees_due_minor: i64,
}

/// The requests taken on a day.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct RequestsDay {
    pub taken: u64,
    pub services: BTreeMap<String, Taken>,
    pub categories: BTreeMap<String, Taken>,
    pub agencies: BTreeMap<String, Taken>,
    /// By current status.
    pub statuses: BTreeMap<String, u64>,
    pub fees_due_minor: i64,
    pub with_fee: u64,
    pub paid_on_due_minor: i64,
    /// By waiver ground: requests and the fees waived.
    pub waived: BTreeMap<String, (u64, i64)>,
}

/// A clerk at a counter on a day: "clerk SEP counter" (empty for none).
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct ClerkDay {
    pub served: u64,
    pub finished: u64,
    pub service_ms: u64,
    pub requests: u64,
    /// From the first to the last queue event of the day, when there was one.
    pub open_s: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Rating {
    pub count: u64,
    pub sum: u64,
}

impl Rating {
    pub fn add(&mut self, rating: u8) {
        self.count += 1;
        self.sum += u64::from(rating);
    }

    pub fn merge(&mut self, other: Rating) {
        self.count += other.count;
        self.sum += other.sum;
    }

    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

/// The feedback given on a day.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct FeedbackDay {
    pub all: Rating,
    pub distribution: [u64; 5],
    /// By what the visit's ticket waited for: "kind SEP code" (SEP alone without a ticket).
    pub targets: BTreeMap<String, Rating>,
    pub clerks: BTreeMap<String, Rating>,
}

/// Everything a report counts of one day.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct DayFigures {
    pub queue: QueueDay,
    pub requests: RequestsDay,
    pub clerks: BTreeMap<String, ClerkDay>,
    pub feedback: FeedbackDay,
}

/// Separates the parts of a key: clerk and counter, kind and code.
pub(crate) const SEP: char = '\u{1f}';

/// The value under `key`, made with its default the first time: no key is allocated for a
/// row whose group is already there.
pub(crate) fn entry<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key)
        .unwrap_or_else(|| unreachable!("inserted just above"))
}

/// One day of the period.
pub(crate) struct Day {
    pub date: NaiveDate,
    name: String,
    pub figures: DayFigures,
    /// Read from the kept figures: its rows are not read.
    kept: bool,
    /// The day's mark in the report's snapshot.
    mark: i64,
    /// The first and last queue event of a clerk at a counter, as stored (UTC RFC 3339 text,
    /// which sorts as time does), while the day is read.
    spans: HashMap<String, (String, String)>,
}

impl Day {
    /// A clerk's first and last queue events at a counter, as a ticket's are read.
    pub fn span(&mut self, key: &str, first: &str, last: &str) {
        match self.spans.get_mut(key) {
            Some(span) => {
                if first < span.0.as_str() {
                    first.clone_into(&mut span.0);
                }
                if last > span.1.as_str() {
                    last.clone_into(&mut span.1);
                }
            }
            None => {
                self.spans
                    .insert(key.to_owned(), (first.to_owned(), last.to_owned()));
            }
        }
    }
}

/// The days of a report's period: kept ones read from the table, the others from their rows.
pub(crate) struct DayBook {
    days: Vec<Day>,
    basis: String,
    /// The day of the last row, which the next row is most likely on.
    last: usize,
}

impl DayBook {
    /// The period's days, with the figures kept of the basis `basis` whose mark is still the
    /// day's.
    pub fn load(
        conn: &ReportRead<'_>,
        from: NaiveDate,
        to: NaiveDate,
        basis: String,
    ) -> Result<Self> {
        let mut days: Vec<Day> = from
            .iter_days()
            .take_while(|d| *d <= to)
            .map(|date| Day {
                date,
                name: date.to_string(),
                figures: DayFigures::default(),
                kept: false,
                mark: 0,
                spans: HashMap::new(),
            })
            .collect();
        for kept in conn.day_marks(from, to, &basis)? {
            let Some(i) = index(&days, parse_day(&kept.day)?) else {
                continue;
            };
            let day = &mut days[i];
            day.mark = kept.mark;
            if let Some(figures) = kept.figures {
                day.figures = serde_json::from_str(&figures).map_err(|e| {
                    Error::Stored(format!(
                        "the kept report figures of {} do not read: {e}",
                        kept.day
                    ))
                })?;
                day.kept = true;
            }
        }
        Ok(DayBook {
            days,
            basis,
            last: 0,
        })
    }

    /// The days whose rows are to be read, as runs of consecutive days: (first, last).
    pub fn unread(&self) -> Vec<(NaiveDate, NaiveDate)> {
        let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
        for day in self.days.iter().filter(|d| !d.kept) {
            match runs.last_mut() {
                Some(run) if run.1.succ_opt() == Some(day.date) => run.1 = day.date,
                _ => runs.push((day.date, day.date)),
            }
        }
        runs
    }

    /// The day named `day` (as dates are stored), if it is one whose rows are read.
    pub fn on(&mut self, day: &str) -> Result<Option<&mut Day>> {
        let i = if self.days.get(self.last).is_some_and(|d| d.name == day) {
            Some(self.last)
        } else {
            index(&self.days, parse_day(day)?)
        };
        Ok(self.read(i))
    }

    /// The day `date`, if it is one whose rows are read.
    pub fn at(&mut self, date: NaiveDate) -> Option<&mut Day> {
        let i = index(&self.days, date);
        self.read(i)
    }

    fn read(&mut self, i: Option<usize>) -> Option<&mut Day> {
        let i = i?;
        self.last = i;
        let day = &mut self.days[i];
        (!day.kept).then_some(day)
    }

    /// Ends the reading of rows: the days read get their sealed sketches and open spans.
    pub fn seal(&mut self) -> Result<()> {
        for day in self.days.iter_mut().filter(|d| !d.kept) {
            let q = &mut day.figures.queue;
            q.waits.seal();
            for g in q.hours.values_mut() {
                g.seal();
            }
            for map in [&mut q.services, &mut q.categories, &mut q.lanes] {
                for g in map.values_mut() {
                    g.seal();
                }
            }
            for (key, (first, last)) in std::mem::take(&mut day.spans) {
                let span = (parse_time(&last)? - parse_time(&first)?).num_seconds();
                entry(&mut day.figures.clerks, &key).open_s =
                    Some(u64::try_from(span).unwrap_or(0));
            }
        }
        Ok(())
    }

    /// Every day's figures, in order.
    pub fn figures(&self) -> impl Iterator<Item = &DayFigures> {
        self.days.iter().map(|d| &d.figures)
    }

    /// The figures read from rows of days up to `today` (later ones are still to come), to
    /// keep.
    pub fn to_keep(&self, today: NaiveDate) -> Result<Vec<KeptDay>> {
        self.days
            .iter()
            .filter(|d| !d.kept && d.date <= today)
            .map(|d| {
                Ok(KeptDay {
                    day: d.date,
                    basis: self.basis.clone(),
                    mark: d.mark,
                    figures: serde_json::to_string(&d.figures).map_err(stored)?,
                })
            })
            .collect()
    }
}

/// The position of `date` among the period's `days`, if it is one of them.
fn index(days: &[Day], date: NaiveDate) -> Option<usize> {
    usize::try_from((date - days.first()?.date).num_days())
        .ok()
        .filter(|i| *i < days.len())
}
