//! Computing a report from the workstation's local replica, so that it works offline.
//!
//! Every read runs in one read transaction of the store (`Workstation::report_read`), so the
//! figures agree with each other even while clerks keep working. Rows are streamed and folded into counters and
//! bounded histograms as they come: a year of a busy centre is summarised in memory that does
//! not grow with the number of rows. Lists (overdue requests, decisions, comments, refused
//! changes) keep at most `LIST_CAP` lines; their totals are always exact.
//!
//! Days are the centre's local days, in its time zone, as on tickets and receipts; a timestamp
//! (stored in UTC) belongs to the local day it falls on there. The status "at the
//! end of the period" is the status of the request's last event before the end; for a period
//! that ends today or later it is the current status. So are the money figures of the
//! requests taken in the period (paid, waived, still owed): for a period that has ended, what
//! was paid, refunded or waived after its end is taken back out of them.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;

use chrono::{DateTime, NaiveDate, Utc};
use guichet_domain::calendar::Holidays;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::receipt::ReceiptNumber;
use guichet_domain::request::RequestStatus;
use guichet_domain::text::Text;
use guichet_domain::zone::Zone;
use guichet_workstation::Workstation;
use guichet_workstation::store::{DueRow, ReportRead};

use crate::days::{ClerkDay, DayBook, Group, Rating, SEP, Taken, Ticket, entry};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::model::*;
use crate::stats::WaitHistogram;

/// At most this many lines in each list of a report.
pub const LIST_CAP: usize = 1000;

/// The longest period one report covers.
pub const MAX_DAYS: i64 = 3700;

/// Rows between two progress reports within a stage.
const PROGRESS_EVERY: u64 = 65_536;

/// What to report on, and how.
#[derive(Clone, Copy)]
pub struct ReportOptions<'a> {
    pub from: NaiveDate,
    /// Last day included; the same as `from` for a daily report.
    pub to: NaiveDate,
    pub locale: Locale,
    /// The cash the supervisor counted in the drawer, in minor units.
    pub cash_counted_minor: Option<i64>,
    /// Called as the report advances, for long ranges.
    pub progress: Option<&'a dyn Fn(Progress)>,
}

impl std::fmt::Debug for ReportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportOptions")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("locale", &self.locale)
            .field("cash_counted_minor", &self.cash_counted_minor)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl<'a> ReportOptions<'a> {
    /// One day, in English, without a cash count or progress.
    pub fn day(day: NaiveDate) -> Self {
        ReportOptions {
            from: day,
            to: day,
            locale: Locale::En,
            cash_counted_minor: None,
            progress: None,
        }
    }
}

/// Checks a period before anything is read.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if to < from {
        return Err(Error::Period { from, to });
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_DAYS {
        return Err(Error::PeriodTooLong {
            days,
            max: MAX_DAYS,
        });
    }
    Ok(())
}

/// Computes the report of this workstation's centre for the period in `options`.
pub fn build(ws: &Workstation, options: &ReportOptions<'_>) -> Result<Report> {
    check_period(options.from, options.to)?;
    let config = ws.config()?;
    let now = ws.now().wall;
    let holidays = ws.holidays()?;
    let catalogue_version = ws.catalogue_version()?;
    let header = Header {
        center_code: config.center_code.clone(),
        center_name: config.center_name.clone(),
        device_code: config.device_code.clone(),
        from: options.from,
        to: options.to,
        made_at: now,
        catalogue_version,
        currency: config.currency.clone(),
        waiting_target_min: config.waiting_target_min,
        locale: options.locale,
        time_zone: config.time_zone,
    };
    let zone = config.time_zone;
    let ctx = Ctx {
        options,
        from: options.from.to_string(),
        to: options.to.to_string(),
        start: zone.start_of(options.from),
        end: zone.end_of(options.to),
        zone,
        target_ms: u64::from(config.waiting_target_min) * 60_000,
        now,
        holidays,
        finished: Cell::new(0),
    };
    let today = zone.day_of(now);
    let ended = header.ended();
    let (report, keep) = ws.report_read(|conn| {
        let end = EndStatus::read(conn, !ended, ctx.end)?;
        let names = Names::load(conn, options.locale)?;
        let basis = format!("{} {}", zone.name(), ctx.target_ms);
        ctx.begin(Stage::Queue);
        let mut book = DayBook::load(conn, options.from, options.to, basis)?;
        let runs = book.unread();
        let mut n = 0;
        for run in &runs {
            queue_days(conn, &ctx, *run, &mut book, &mut n)?;
        }
        ctx.done();
        ctx.begin(Stage::Requests);
        let mut n = 0;
        for run in &runs {
            request_days(conn, &ctx, *run, &mut book, &mut n)?;
        }
        ctx.done();
        ctx.begin(Stage::Feedback);
        let mut n = 0;
        for run in &runs {
            feedback_days(conn, &ctx, *run, &mut book, &mut n)?;
        }
        book.seal()?;
        let mut feedback = feedback_section(&book, &names);
        feedback.comments = comments(conn, &ctx)?;
        ctx.done();
        ctx.begin(Stage::Overdue);
        let mut taken = TakenAcc::merge(&book);
        let (overdue_count, overdue) = at_end(conn, &ctx, &end, &names, &mut taken.statuses)?;
        let (mut requests, mut money) = taken.finish(conn, &ctx, &names);
        requests.overdue_count = overdue_count;
        requests.overdue = overdue;
        ctx.done();
        ctx.begin(Stage::Decisions);
        let decisions = decisions(conn, &ctx)?;
        requests.rejected = decisions.rejected;
        requests.returned_for_correction = decisions.returned;
        requests.decisions = decisions.lines;
        ctx.done();
        ctx.begin(Stage::Money);
        if ended {
            money.as_at_end(conn, &ctx)?;
        }
        let money = payments(conn, &ctx, money, &config.currency, &names)?;
        ctx.done();
        ctx.begin(Stage::Sync);
        let sync = sync_health(conn, &ctx)?;
        let late = if ended && sync.enrolled {
            arrived_late(conn, &ctx, &config.currency)?
        } else {
            LateSection::default()
        };
        ctx.done();
        let queue = queue_section(&book, &names);
        let empty = queue.issued == 0
            && requests.taken == 0
            && money.by_method.is_empty()
            && feedback.count == 0
            && requests.decisions.is_empty();
        let report = Report {
            header,
            empty,
            queue,
            requests,
            clerks: clerk_lines(&book),
            money,
            feedback,
            sync,
            late,
        };
        Ok::<_, Error>((report, book.to_keep(today)?))
    })?;
    ctx.begin(Stage::Done);
    ws.keep_report_days(&keep)?;
    Ok(report)
}

/// Requests moved after the end of the period, in memory, at most this many; beyond it each
/// request's status at the end is looked up in its timeline.
const MOVED_CAP: usize = 200_000;

/// How a request's status at the end of the period is known.
enum EndStatus {
    /// The period reaches today: the current status is the status at its end.
    Current,
    /// The status at the end, by request id, for the requests with a move recorded since: the
    /// status left by the first move after the end; or, for a request with a move another
    /// device made before the end that arrived after it, the status of its last move made
    /// before the end, looked up in its timeline. The others have not moved, so their current
    /// status is the one at the end.
    Moved(HashMap<String, Option<String>>),
    /// Too many moved since: the last timeline event made before the end, request by request.
    Lookup,
}

impl EndStatus {
    fn read(conn: &ReportRead<'_>, current: bool, end: DateTime<Utc>) -> Result<Self> {
        if current {
            return Ok(EndStatus::Current);
        }
        let mut moved: HashMap<String, Option<String>> = HashMap::new();
        let mut made_before: HashSet<String> = HashSet::new();
        let mut too_many = false;
        conn.moves_since(end, |id, from, made_then| -> Result<_> {
            if !moved.contains_key(id) {
                if moved.len() >= MOVED_CAP {
                    too_many = true;
                    return Ok(ControlFlow::Break(()));
                }
                moved.insert(id.to_owned(), from.map(str::to_owned));
            }
            if made_then {
                made_before.insert(id.to_owned());
            }
            Ok(ControlFlow::Continue(()))
        })?;
        if too_many {
            return Ok(EndStatus::Lookup);
        }
        for id in made_before {
            let then = conn.status_then(&id, end)?;
            moved.insert(id, then);
        }
        Ok(EndStatus::Moved(moved))
    }

    /// The status at the end, from the row's id, current status and status then, as the
    /// store looked it up.
    fn of<'r>(&'r self, id: &str, current: &'r str, looked_up: Option<&'r str>) -> &'r str {
        match self {
            EndStatus::Current => current,
            EndStatus::Moved(moved) => match moved.get(id) {
                Some(Some(before)) => before,
                _ => current,
            },
            EndStatus::Lookup => looked_up.unwrap_or(current),
        }
    }
}

/// What every stage needs to know.
struct Ctx<'a> {
    options: &'a ReportOptions<'a>,
    /// The first and last day of the period, as stored dates are written.
    from: String,
    to: String,
    /// The first instant of the period and the first after it, in the centre's time zone:
    /// times from `start` and before `end` are in the period.
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    zone: Zone,
    target_ms: u64,
    now: DateTime<Utc>,
    holidays: Holidays,
    /// Stages finished so far.
    finished: Cell<u32>,
}

impl Ctx<'_> {
    fn progress(&self, stage: Stage, rows: u64) {
        if let Some(report) = self.options.progress {
            let step = self.finished.get();
            report(Progress { stage, step, rows });
        }
    }

    /// A stage starts.
    fn begin(&self, stage: Stage) {
        self.progress(stage, 0);
    }

    /// A stage has read `rows` rows so far.
    fn tick(&self, stage: Stage, rows: u64) {
        if rows.is_multiple_of(PROGRESS_EVERY) {
            self.progress(stage, rows);
        }
    }

    /// A stage is finished.
    fn done(&self) {
        self.finished.set(self.finished.get() + 1);
    }

    fn locale(&self) -> Locale {
        self.options.locale
    }
}

/// Names of the catalogue's codes, in the report's language.
struct Names {
    services: HashMap<String, (String, String, String)>,
    categories: HashMap<String, String>,
    agencies: HashMap<String, String>,
    lanes: HashMap<String, String>,
    groups: HashMap<String, String>,
}

impl Names {
    fn load(conn: &ReportRead<'_>, locale: Locale) -> Result<Self> {
        let names = conn.catalogue_names()?;
        let lang = locale.code();
        let simple = |named: Vec<(String, Text)>| -> HashMap<String, String> {
            named
                .into_iter()
                .map(|(code, name)| (code, name.get(lang).to_owned()))
                .collect()
        };
        Ok(Names {
            services: names
                .services
                .into_iter()
                .map(|s| (s.code, (s.title.get(lang).to_owned(), s.category, s.agency)))
                .collect(),
            categories: simple(names.categories),
            agencies: simple(names.agencies),
            lanes: simple(names.lanes),
            groups: simple(names.target_groups),
        })
    }

    fn service(&self, code: &str) -> String {
        self.services
            .get(code)
            .map_or_else(|| code.to_owned(), |s| s.0.clone())
    }

    fn category_of(&self, service: &str) -> Option<&str> {
        self.services.get(service).map(|s| s.1.as_str())
    }

    fn of(map: &HashMap<String, String>, code: &str) -> String {
        map.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }
}

pub(crate) fn stored(e: impl std::fmt::Display) -> Error {
    Error::Stored(e.to_string())
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Stored(format!("stored time '{text}' is not a time: {e}")))
}

pub(crate) fn parse_day(text: &str) -> Result<NaiveDate> {
    text.parse()
        .map_err(|_| Error::Stored(format!("stored date '{text}' is not a date")))
}

fn display_receipt(stored: &str) -> String {
    ReceiptNumber::parse(stored).map_or_else(|_| stored.to_owned(), |r| r.to_string())
}

pub(crate) fn status_name(status: RequestStatus, locale: Locale) -> &'static str {
    use RequestStatus as S;
    match status {
        S::Draft => locale.t("status.draft"),
        S::Submitted => locale.t("status.submitted"),
        S::Dispatched => locale.t("status.dispatched"),
        S::InProcessing => locale.t("status.processing"),
        S::ReturnedForCorrection => locale.t("status.returned_correction"),
        S::Ready => locale.t("status.ready"),
        S::Delivered => locale.t("status.delivered"),
        S::Rejected => locale.t("status.rejected"),
        S::Cancelled => locale.t("status.cancelled"),
    }
}

fn method_name(method: &str, locale: Locale) -> String {
    match PaymentMethod::parse(method) {
        Ok(PaymentMethod::Cash) => locale.t("payment.cash").to_owned(),
        Ok(PaymentMethod::Card) => locale.t("payment.card").to_owned(),
        Ok(PaymentMethod::MobileMoney) => locale.t("payment.mobile_money").to_owned(),
        Err(_) => method.to_owned(),
    }
}

/// Tickets of a group over the period, as the days add up.
#[derive(Debug, Default)]
struct GroupAcc {
    issued: u64,
    served: u64,
    no_shows: u64,
    transferred: u64,
    waits: WaitHistogram,
}

impl GroupAcc {
    fn merge(&mut self, g: &Group) {
        self.issued += g.issued;
        self.served += g.served;
        self.no_shows += g.no_shows;
        self.transferred += g.transferred;
        self.waits.merge(&g.waits);
    }

    fn line(&self, kind: &str, code: String, name: String) -> QueueGroup {
        QueueGroup {
            kind: kind.to_owned(),
            code,
            name,
            issued: self.issued,
            served: self.served,
            no_shows: self.no_shows,
            transferred: self.transferred,
            waiting: self.waits.summary(),
        }
    }
}

/// The lines of groups, in the order of their codes.
fn sorted_groups(
    map: BTreeMap<String, GroupAcc>,
    mut line: impl FnMut(String, &GroupAcc) -> QueueGroup,
) -> Vec<QueueGroup> {
    map.into_iter().map(|(k, acc)| line(k, &acc)).collect()
}

/// "first SEP second" (such as clerk and counter), in `key`.
fn pair_key(key: &mut String, first: &str, second: Option<&str>) {
    key.clear();
    key.push_str(first);
    key.push(SEP);
    key.push_str(second.unwrap_or(""));
}

/// Reads the tickets of a run of days into their days.
fn queue_days(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    run: (NaiveDate, NaiveDate),
    book: &mut DayBook,
    n: &mut u64,
) -> Result<()> {
    let mut key = String::new();
    conn.tickets(run, |r| -> Result<()> {
        *n += 1;
        ctx.tick(Stage::Queue, *n);
        let Some(day) = book.on(r.day)? else {
            return Ok(());
        };
        let t = Ticket {
            served: r.waiting_ms.is_some(),
            no_show: r.status == "no_show",
            transferred: r.transfers > 0,
            wait_ms: r.waiting_ms,
            target_ms: ctx.target_ms,
        };
        let q = &mut day.figures.queue;
        q.issued += 1;
        q.served += u64::from(t.served);
        q.no_shows += u64::from(t.no_show);
        q.served_after_no_show += u64::from(t.served && r.no_shows > 0);
        q.transferred += u64::from(t.transferred);
        q.not_served += u64::from(r.status == "waiting" || r.status == "called");
        if let Some(w) = r.waiting_ms {
            q.waits.add(w, ctx.target_ms);
        }
        let hour = ctx.zone.hour_of(parse_time(r.issued_at)?) as u8;
        q.hours.entry(hour).or_default().add(&t);
        let targets = if r.for_category {
            &mut q.categories
        } else {
            &mut q.services
        };
        entry(targets, r.target_code).add(&t);
        entry(&mut q.lanes, r.lane).add(&t);
        if let Some(clerk) = r.clerk {
            pair_key(&mut key, clerk, r.counter);
            let acc = entry(&mut day.figures.clerks, &key);
            acc.served += u64::from(t.served);
            if let Some(s) = r.service_ms {
                acc.finished += 1;
                acc.service_ms += s;
            }
            if let Some(first) = r.first_call {
                day.span(&key, first, r.last_call.unwrap_or(first));
            }
        }
        Ok(())
    })
}

/// The queue's figures of the period, from its days.
fn queue_section(book: &DayBook, names: &Names) -> QueueSection {
    let mut section = QueueSection::default();
    let mut all = WaitHistogram::default();
    let mut hours: Vec<GroupAcc> = (0..24).map(|_| GroupAcc::default()).collect();
    let mut services: BTreeMap<String, GroupAcc> = BTreeMap::new();
    let mut category_tickets: BTreeMap<String, GroupAcc> = BTreeMap::new();
    let mut categories: BTreeMap<String, GroupAcc> = BTreeMap::new();
    let mut lanes: BTreeMap<String, GroupAcc> = BTreeMap::new();
    for q in book.figures().map(|f| &f.queue) {
        section.issued += q.issued;
        section.served += q.served;
        section.no_shows += q.no_shows;
        section.served_after_no_show += q.served_after_no_show;
        section.transferred += q.transferred;
        section.not_served += q.not_served;
        all.merge(&q.waits);
        for (hour, g) in &q.hours {
            if let Some(acc) = hours.get_mut(usize::from(*hour)) {
                acc.merge(g);
            }
        }
        for (code, g) in &q.services {
            entry(&mut services, code).merge(g);
            if let Some(category) = names.category_of(code) {
                entry(&mut categories, category).merge(g);
            }
        }
        for (code, g) in &q.categories {
            entry(&mut category_tickets, code).merge(g);
            entry(&mut categories, code).merge(g);
        }
        for (code, g) in &q.lanes {
            entry(&mut lanes, code).merge(g);
        }
    }
    section.waiting = all.summary();
    section.by_hour = hours
        .iter()
        .enumerate()
        .filter(|(_, h)| h.issued > 0)
        .map(|(hour, h)| HourLine {
            hour: hour as u8,
            issued: h.issued,
            served: h.served,
            waiting: h.waits.summary(),
        })
        .collect();
    section.by_target = sorted_groups(category_tickets, |code, acc| {
        let name = Names::of(&names.categories, &code);
        acc.line("category", code, name)
    });
    section
        .by_target
        .extend(sorted_groups(services, |code, acc| {
            let name = names.service(&code);
            acc.line("service", code, name)
        }));
    section.by_category = sorted_groups(categories, |code, acc| {
        let name = Names::of(&names.categories, &code);
        acc.line("category", code, name)
    });
    section.by_lane = sorted_groups(lanes, |code, acc| {
        let name = Names::of(&names.lanes, &code);
        acc.line("lane", code, name)
    });
    section
}

/// Per clerk and counter, from the period's days.
fn clerk_lines(book: &DayBook) -> Vec<ClerkLine> {
    let mut lines: HashMap<&str, ClerkDay> = HashMap::new();
    for (key, c) in book.figures().flat_map(|f| &f.clerks) {
        let acc = lines.entry(key.as_str()).or_default();
        acc.served += c.served;
        acc.finished += c.finished;
        acc.service_ms += c.service_ms;
        acc.requests += c.requests;
        if let Some(open) = c.open_s {
            acc.open_s = Some(acc.open_s.unwrap_or(0) + open);
        }
    }
    let mut out: Vec<ClerkLine> = lines
        .into_iter()
        .map(|(key, acc)| {
            let (clerk, counter) = key.split_once(SEP).unwrap_or((key, ""));
            let busy_s = acc.service_ms / 1000;
            ClerkLine {
                clerk: clerk.to_owned(),
                counter: (!counter.is_empty()).then(|| counter.to_owned()),
                served: acc.served,
                avg_service_s: (acc.finished > 0)
                    .then(|| acc.service_ms as f64 / acc.finished as f64 / 1000.0),
                requests_taken: acc.requests,
                open_s: acc.open_s.unwrap_or(0),
                busy_s,
                idle_share: acc
                    .open_s
                    .filter(|o| *o > 0)
                    .map(|o| (1.0 - busy_s as f64 / o as f64).clamp(0.0, 1.0)),
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.clerk, &a.counter).cmp(&(&b.clerk, &b.counter)));
    out
}

#[derive(Debug, Default)]
struct MoneyAcc {
    fees_due: i64,
    with_fee: u64,
    waived: BTreeMap<String, (u64, i64)>,
    paid_on_due: i64,
}

impl MoneyAcc {
    /// Takes back what was paid, refunded and waived after the end of the period, for one
    /// that has ended: its money is then as it stood at its end, the same whenever the report
    /// is made. A waiver can be taken back only from a fee waived now: with none, the audit
    /// trail is not read.
    fn as_at_end(&mut self, conn: &ReportRead<'_>, ctx: &Ctx<'_>) -> Result<()> {
        let days = (ctx.options.from, ctx.options.to);
        let mut n = 0;
        conn.paid_since(days, ctx.end, |fee, paid, since| -> Result<()> {
            n += 1;
            ctx.tick(Stage::Money, n);
            self.paid_on_due += (paid - since).min(fee) - paid.min(fee);
            Ok(())
        })?;
        if self.waived.is_empty() {
            return Ok(());
        }
        let read = |events| -> Result<()> {
            ctx.tick(Stage::Money, n + events);
            Ok(())
        };
        conn.waived_since(days, ctx.end, read, |ground, fee| -> Result<()> {
            if let Some(w) = self.waived.get_mut(ground) {
                w.0 = w.0.saturating_sub(1);
                w.1 -= fee;
                if w.0 == 0 {
                    self.waived.remove(ground);
                }
            }
            Ok(())
        })
    }
}

fn add_taken(map: &mut BTreeMap<String, Taken>, code: &str, fee: i64) {
    let g = entry(map, code);
    g.taken += 1;
    g.fees_due_minor += fee;
}

/// Reads the requests taken on a run of days into their days.
fn request_days(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    run: (NaiveDate, NaiveDate),
    book: &mut DayBook,
    n: &mut u64,
) -> Result<()> {
    let mut key = String::new();
    conn.requests_taken(run, |r| -> Result<()> {
        *n += 1;
        ctx.tick(Stage::Requests, *n);
        let Some(day) = book.on(r.intake_date)? else {
            return Ok(());
        };
        let fee_minor = r.fee_minor.unwrap_or(0);
        let f = &mut day.figures.requests;
        f.taken += 1;
        add_taken(&mut f.services, r.service_code, fee_minor);
        add_taken(&mut f.categories, r.category, fee_minor);
        add_taken(&mut f.agencies, r.agency, fee_minor);
        *entry(&mut f.statuses, r.status) += 1;
        if let Some(fee) = r.fee_minor {
            f.fees_due_minor += fee;
            f.with_fee += 1;
            f.paid_on_due_minor += r.paid_minor.min(fee);
            if let Some(ground) = r.waiver_ground {
                let w = entry(&mut f.waived, ground);
                w.0 += 1;
                w.1 += fee;
            }
        }
        pair_key(&mut key, r.clerk, r.counter);
        entry(&mut day.figures.clerks, &key).requests += 1;
        Ok(())
    })
}

/// The requests taken in the period, as its days add up; statuses are the current ones until
/// `at_end` makes them the statuses at the end.
struct TakenAcc {
    taken: u64,
    services: BTreeMap<String, Taken>,
    categories: BTreeMap<String, Taken>,
    agencies: BTreeMap<String, Taken>,
    statuses: BTreeMap<String, i64>,
    money: MoneyAcc,
}

impl TakenAcc {
    fn merge(book: &DayBook) -> Self {
        let mut acc = TakenAcc {
            taken: 0,
            services: BTreeMap::new(),
            categories: BTreeMap::new(),
            agencies: BTreeMap::new(),
            statuses: BTreeMap::new(),
            money: MoneyAcc::default(),
        };
        let add = |to: &mut BTreeMap<String, Taken>, from: &BTreeMap<String, Taken>| {
            for (code, t) in from {
                let g = entry(to, code);
                g.taken += t.taken;
                g.fees_due_minor += t.fees_due_minor;
            }
        };
        for f in book.figures().map(|f| &f.requests) {
            acc.taken += f.taken;
            add(&mut acc.services, &f.services);
            add(&mut acc.categories, &f.categories);
            add(&mut acc.agencies, &f.agencies);
            for (status, count) in &f.statuses {
                *entry(&mut acc.statuses, status) += i64::try_from(*count).unwrap_or(i64::MAX);
            }
            acc.money.fees_due += f.fees_due_minor;
            acc.money.with_fee += f.with_fee;
            acc.money.paid_on_due += f.paid_on_due_minor;
            for (ground, (requests, amount)) in &f.waived {
                let w = entry(&mut acc.money.waived, ground);
                w.0 += requests;
                w.1 += amount;
            }
        }
        acc
    }

    /// The section (without the overdue and decisions) and the money figures it carries.
    fn finish(
        self,
        conn: &ReportRead<'_>,
        ctx: &Ctx<'_>,
        names: &Names,
    ) -> (RequestSection, MoneyAcc) {
        let groups = |map: BTreeMap<String, Taken>, name: &dyn Fn(&str) -> String| {
            let mut out: Vec<RequestGroup> = map
                .into_iter()
                .map(|(code, t)| RequestGroup {
                    name: name(&code),
                    code,
                    taken: t.taken,
                    fees_due_minor: t.fees_due_minor,
                })
                .collect();
            out.sort_by(|a, b| b.taken.cmp(&a.taken).then_with(|| a.code.cmp(&b.code)));
            out
        };
        let mut section = RequestSection {
            taken: self.taken,
            by_service: groups(self.services, &|code| {
                service_name(conn, names, code, ctx.locale())
            }),
            by_category: groups(self.categories, &|c| Names::of(&names.categories, c)),
            by_agency: groups(self.agencies, &|c| Names::of(&names.agencies, c)),
            ..RequestSection::default()
        };
        for status in RequestStatus::ALL {
            if let Some(count) = self.statuses.get(status.as_str()).filter(|c| **c > 0) {
                section.by_status.push(StatusCount {
                    status,
                    name: status_name(status, ctx.locale()).to_owned(),
                    count: u64::try_from(*count).unwrap_or(0),
                });
            }
        }
        (section, self.money)
    }
}

/// A service's name: from the catalogue, or as it was when a request was taken for it.
/// A service's name; for one no longer in the catalogue, its title as a request kept it.
fn service_name(conn: &ReportRead<'_>, names: &Names, code: &str, locale: Locale) -> String {
    if names.services.contains_key(code) {
        return names.service(code);
    }
    conn.former_service_title(code)
        .ok()
        .flatten()
        .map_or_else(|| code.to_owned(), |t| t.get(locale.code()).to_owned())
}

fn at_end(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    end: &EndStatus,
    names: &Names,
    statuses: &mut BTreeMap<String, i64>,
) -> Result<(u64, Vec<OverdueLine>)> {
    let mut seen = OverdueAcc::new(ctx, names);
    let mut n = 0;
    let mut add = |r: DueRow<'_>| -> Result<()> {
        n += 1;
        ctx.tick(Stage::Overdue, n);
        let status = end.of(r.id, r.status, r.status_then);
        seen.add(status, &r)
    };
    if let EndStatus::Lookup = end {
        *statuses = statuses_at_end(conn, ctx, end)?;
        conn.due_before_then(ctx.options.to, ctx.end, &mut add)?;
        return Ok(seen.finish());
    }
    conn.open_due_before(ctx.options.to, &mut add)?;
    if let EndStatus::Moved(moved) = end {
        for id in moved.keys() {
            conn.due(id, |r| -> Result<()> {
                let status = end.of(id, r.status, None);
                let intake = r.intake_date;
                if intake >= ctx.from.as_str() && intake <= ctx.to.as_str() && status != r.status {
                    *entry(statuses, r.status) -= 1;
                    *entry(statuses, status) += 1;
                }
                let open_now = RequestStatus::parse(r.status)?.is_open();
                if !open_now && intake <= ctx.to.as_str() && r.due_date < ctx.to.as_str() {
                    seen.add(status, &r)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(seen.finish())
}

fn statuses_at_end(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    end: &EndStatus,
) -> Result<BTreeMap<String, i64>> {
    let mut statuses = BTreeMap::new();
    conn.statuses_then(
        (ctx.options.from, ctx.options.to),
        ctx.end,
        |r| -> Result<()> {
            *entry(&mut statuses, end.of(r.id, r.status, r.status_then)) += 1;
            Ok(())
        },
    )?;
    Ok(statuses)
}

struct OverdueAcc<'a> {
    ctx: &'a Ctx<'a>,
    names: &'a Names,
    late_by_due: HashMap<String, u32>,
    count: u64,
    list: Vec<OverdueLine>,
    /// Once the list is full, a line less overdue than its last one cannot enter it.
    floor: u32,
}

impl<'a> OverdueAcc<'a> {
    fn new(ctx: &'a Ctx<'a>, names: &'a Names) -> Self {
        OverdueAcc {
            ctx,
            names,
            late_by_due: HashMap::new(),
            count: 0,
            list: Vec::new(),
            floor: 0,
        }
    }

    /// A request due before the end of the period, with its status at the end.
    /// Counts the request, in `status` at the end, if it was open then and late.
    fn add(&mut self, status: &str, r: &DueRow<'_>) -> Result<()> {
        let due = r.due_date;
        let status = RequestStatus::parse(status)?;
        if !status.is_open() {
            return Ok(());
        }
        let days = match self.late_by_due.get(due) {
            Some(d) => *d,
            None => {
                let d = self
                    .ctx
                    .holidays
                    .working_days_late(parse_day(due)?, self.ctx.options.to);
                self.late_by_due.insert(due.to_owned(), d);
                d
            }
        };
        if days == 0 {
            return Ok(());
        }
        self.count += 1;
        if days < self.floor {
            return Ok(());
        }
        self.list.push(OverdueLine {
            receipt: display_receipt(r.receipt),
            service_name: self.names.service(r.service_code),
            service_code: r.service_code.to_owned(),
            status,
            intake_date: parse_day(r.intake_date)?,
            due_date: parse_day(due)?,
            days_overdue: days,
        });
        if self.list.len() >= 2 * LIST_CAP {
            sort_overdue(&mut self.list);
            self.floor = self.list.last().map_or(0, |l| l.days_overdue);
        }
        Ok(())
    }

    fn finish(mut self) -> (u64, Vec<OverdueLine>) {
        sort_overdue(&mut self.list);
        (self.count, self.list)
    }
}

fn sort_overdue(list: &mut Vec<OverdueLine>) {
    list.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.receipt.cmp(&b.receipt))
    });
    list.truncate(LIST_CAP);
}

/// Returns for correction and rejections decided in the period: counted in one pass over the
/// timeline, the earliest `LIST_CAP` listed with their receipts.
fn decisions(conn: &ReportRead<'_>, ctx: &Ctx<'_>) -> Result<Decisions> {
    let mut section = Decisions::default();
    let mut earliest: Vec<(String, i64, String, RequestStatus, String)> = Vec::new();
    let mut n = 0;
    conn.decisions(ctx.start, ctx.end, |r| -> Result<()> {
        n += 1;
        ctx.tick(Stage::Decisions, n);
        let status = RequestStatus::parse(r.to_status)?;
        if status == RequestStatus::Rejected {
            section.rejected += 1;
        } else {
            section.returned += 1;
        }
        earliest.push((
            r.at.to_owned(),
            r.event,
            r.request_id.to_owned(),
            status,
            r.reason.unwrap_or_default().to_owned(),
        ));
        if earliest.len() >= 2 * LIST_CAP {
            earliest.sort();
            earliest.truncate(LIST_CAP);
        }
        Ok(())
    })?;
    earliest.sort();
    earliest.truncate(LIST_CAP);
    for (at, _, id, status, reason) in earliest {
        let (receipt, service_code) = conn.receipt_and_service(&id)?;
        section.lines.push(DecisionLine {
            receipt: display_receipt(&receipt),
            service_code,
            status,
            reason,
            at: parse_time(&at)?,
        });
    }
    Ok(section)
}

#[derive(Default)]
struct Decisions {
    rejected: u64,
    returned: u64,
    lines: Vec<DecisionLine>,
}

/// Payments received in the period, and the money figures of the requests taken.
fn payments(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    acc: MoneyAcc,
    currency: &guichet_domain::money::Currency,
    names: &Names,
) -> Result<MoneySection> {
    let by_method: Vec<MethodLine> = conn
        .payments_by_method(ctx.start, ctx.end, currency)?
        .into_iter()
        .map(|m| MethodLine {
            name: method_name(&m.method, ctx.locale()),
            method: m.method,
            payments: m.payments,
            amount_minor: m.amount_minor,
        })
        .collect();
    let collected: i64 = by_method.iter().map(|m| m.amount_minor).sum();
    let cash_in: i64 = by_method
        .iter()
        .filter(|m| m.method == PaymentMethod::Cash.as_str())
        .map(|m| m.amount_minor)
        .sum();
    let (refunds, refunded, cash_out) = refunds(conn, ctx, currency)?;
    let cash = cash_in - cash_out;
    let waivers: Vec<WaiverLine> = acc
        .waived
        .into_iter()
        .map(|(ground, (requests, amount_minor))| WaiverLine {
            name: Names::of(&names.groups, &ground),
            ground,
            requests,
            amount_minor,
        })
        .collect();
    let waived: i64 = waivers.iter().map(|w| w.amount_minor).sum();
    let counted = ctx.options.cash_counted_minor;
    Ok(MoneySection {
        currency: currency.clone(),
        fees_due_minor: acc.fees_due,
        requests_with_fee: acc.with_fee,
        collected_minor: collected,
        by_method,
        refunded_minor: refunded,
        net_collected_minor: collected - refunded,
        refunds,
        waived_minor: waived,
        waivers,
        outstanding_minor: (acc.fees_due - waived - acc.paid_on_due).max(0),
        cash_expected_minor: cash,
        cash_counted_minor: counted,
        cash_difference_minor: counted.map(|c| c - cash),
    })
}

/// Refunds given in the period: the earliest `LIST_CAP` listed, the total, and the cash part.
fn refunds(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    currency: &guichet_domain::money::Currency,
) -> Result<(Vec<RefundLine>, i64, i64)> {
    let (totals, rows) = conn.refunds(ctx.start, ctx.end, currency, LIST_CAP)?;
    let mut lines = Vec::with_capacity(rows.len());
    for r in rows {
        lines.push(RefundLine {
            receipt: display_receipt(&r.receipt),
            payment_receipt: display_receipt(&r.payment_receipt),
            request_receipt: display_receipt(&r.request_receipt),
            method: method_name(&r.method, ctx.locale()),
            amount_minor: r.amount_minor,
            clerk: r.clerk,
            approver: r.approver,
            reason: r.reason,
            at: parse_time(&r.at)?,
        });
    }
    Ok((lines, totals.amount_minor, totals.cash_minor))
}

fn feedback_days(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    run: (NaiveDate, NaiveDate),
    book: &mut DayBook,
    n: &mut u64,
) -> Result<()> {
    let start = ctx.zone.start_of(run.0);
    let end = ctx.zone.end_of(run.1);
    let mut key = String::new();
    conn.ratings(run, start, end, |r| -> Result<()> {
        *n += 1;
        ctx.tick(Stage::Feedback, *n);
        let Some(day) = book.at(ctx.zone.day_of(parse_time(r.at)?)) else {
            return Ok(());
        };
        let f = &mut day.figures.feedback;
        f.all.add(r.rating);
        if (1..=5).contains(&r.rating) {
            f.distribution[usize::from(r.rating - 1)] += 1;
        }
        pair_key(&mut key, r.target_kind.unwrap_or(""), r.target_code);
        entry(&mut f.targets, &key).add(r.rating);
        entry(&mut f.clerks, r.clerk).add(r.rating);
        Ok(())
    })
}

fn feedback_section(book: &DayBook, names: &Names) -> FeedbackSection {
    let mut section = FeedbackSection::default();
    let mut all = Rating::default();
    let mut targets: HashMap<&str, Rating> = HashMap::new();
    let mut clerks: HashMap<&str, Rating> = HashMap::new();
    for f in book.figures().map(|f| &f.feedback) {
        all.merge(f.all);
        for (sum, n) in section.distribution.iter_mut().zip(f.distribution) {
            *sum += n;
        }
        for (key, r) in &f.targets {
            targets.entry(key).or_default().merge(*r);
        }
        for (clerk, r) in &f.clerks {
            clerks.entry(clerk).or_default().merge(*r);
        }
    }
    section.count = all.count;
    section.average = all.average();
    let mut by_service: Vec<FeedbackGroup> = targets
        .into_iter()
        .map(|(key, r)| {
            let (kind, code) = key.split_once(SEP).unwrap_or(("", key));
            FeedbackGroup {
                name: if kind == "category" {
                    Names::of(&names.categories, code)
                } else {
                    names.service(code)
                },
                code: code.to_owned(),
                count: r.count,
                average: r.average(),
            }
        })
        .collect();
    by_service.sort_by(|a, b| a.code.cmp(&b.code));
    let mut by_clerk: Vec<FeedbackGroup> = clerks
        .into_iter()
        .map(|(clerk, r)| FeedbackGroup {
            name: clerk.to_owned(),
            code: clerk.to_owned(),
            count: r.count,
            average: r.average(),
        })
        .collect();
    by_clerk.sort_by(|a, b| a.code.cmp(&b.code));
    section.by_service = by_service;
    section.by_clerk = by_clerk;
    section
}

/// The earliest `LIST_CAP` comments of the period, through the index of the feedback that has
/// one.
fn comments(conn: &ReportRead<'_>, ctx: &Ctx<'_>) -> Result<Vec<CommentLine>> {
    conn.comments(ctx.start, ctx.end, LIST_CAP)?
        .into_iter()
        .map(|c| {
            Ok(CommentLine {
                at: parse_time(&c.at)?,
                rating: c.rating,
                service: c.service.unwrap_or_default(),
                clerk: c.clerk,
                comment: c.comment,
            })
        })
        .collect()
}

fn sync_health(conn: &ReportRead<'_>, ctx: &Ctx<'_>) -> Result<SyncHealth> {
    let health = conn.outbox_health(LIST_CAP)?;
    let (unsent, refused, conflicts) = (health.unsent, health.refused, health.conflicts);
    let oldest = health
        .oldest_unsent_at
        .as_deref()
        .map(parse_time)
        .transpose()?;
    let last_success = health.last_success.as_deref().map(parse_time).transpose()?;
    let mut problems = Vec::with_capacity(health.problems.len());
    for p in health.problems {
        problems.push(ChangeLine {
            seq: p.seq,
            state: p.state,
            kind: p.kind,
            entity_id: p.entity_id,
            reason: p.reason,
            at: parse_time(&p.created_at)?,
        });
    }
    let age = oldest.map(|t| u64::try_from((ctx.now - t).num_seconds()).unwrap_or(0));
    let enrolled = health.enrolled;
    let clean = !enrolled || (unsent == 0 && refused == 0 && conflicts == 0);
    let statement = if enrolled {
        sync_statement(ctx.locale(), unsent, age, refused, conflicts)
    } else {
        ctx.locale().counted("sync.standalone", unsent, &[])
    };
    Ok(SyncHealth {
        enrolled,
        unsent,
        oldest_unsent_at: oldest,
        oldest_unsent_age_s: age,
        refused,
        conflicts,
        last_success,
        last_error: health.last_error,
        clean,
        statement,
        problems,
    })
}

/// What was made in the period, which has ended, on other devices and reached this one after
/// its end, with the sentence that says so.
fn arrived_late(
    conn: &ReportRead<'_>,
    ctx: &Ctx<'_>,
    currency: &guichet_domain::money::Currency,
) -> Result<LateSection> {
    let (late, last_at) = conn.arrived_late(ctx.start, ctx.end, currency)?;
    let last_at = last_at.as_deref().map(parse_time).transpose()?;
    let l = ctx.locale();
    let mut what = Vec::new();
    if late.requests > 0 {
        what.push(l.counted("late.requests", late.requests, &[]));
    }
    if late.payments > 0 {
        let amount = l.money(late.paid_minor, currency);
        what.push(l.counted("late.payments", late.payments, &[("amount", &amount)]));
    }
    if late.refunds > 0 {
        let amount = l.money(late.refunded_minor, currency);
        what.push(l.counted("late.refunds", late.refunds, &[("amount", &amount)]));
    }
    if late.moves > 0 {
        what.push(l.counted("late.moves", late.moves, &[]));
    }
    let statement = match last_at {
        Some(last) if !what.is_empty() => {
            let what = what.join(l.t("sync.list_separator"));
            let at = l.date_time(ctx.zone.local(last));
            l.fill("late.some", &[("what", &what), ("at", &at)])
        }
        _ => l.t("late.none").to_owned(),
    };
    Ok(LateSection {
        arrived: late,
        last_at,
        statement: Some(statement),
    })
}

fn sync_statement(
    locale: Locale,
    unsent: u64,
    age_s: Option<u64>,
    refused: u64,
    conflicts: u64,
) -> String {
    if unsent == 0 && refused == 0 && conflicts == 0 {
        return locale.t("sync.clean").to_owned();
    }
    let mut why = Vec::new();
    if unsent > 0 {
        let age = age_s.map(duration_words).unwrap_or_default();
        why.push(locale.counted("sync.not_sent", unsent, &[("age", &age)]));
    }
    if refused > 0 {
        why.push(locale.counted("sync.refused", refused, &[]));
    }
    if conflicts > 0 {
        why.push(locale.counted("sync.conflicts", conflicts, &[]));
    }
    let why = why.join(locale.t("sync.list_separator"));
    locale.fill("sync.not_clean", &[("why", &why)])
}

/// "2 h 05 min", "12 min", "40 s".
fn duration_words(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
