//! The report laid out as tables: one per CSV file and per XLSX sheet, and the body of the
//! PDF. Cells keep their kind (count, money, minutes, share, date, time), so each format can
//! write real numbers and dates and format them for the locale.

use chrono::{NaiveDate, NaiveDateTime};

use crate::compute::status_name;
use crate::locale::Locale;
use crate::model::Report;
use crate::stats::WaitSummary;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(i64),
    /// Minor units of the report's currency.
    Money(i64),
    /// A duration in seconds, shown in minutes with one decimal.
    Minutes(f64),
    /// A duration in seconds, shown in hours with two decimals.
    Hours(f64),
    /// A share from 0 to 1, shown as a percentage.
    Share(f64),
    /// A number with this many decimals.
    Decimal(f64, usize),
    Date(NaiveDate),
    /// A local date and time, in the centre's time zone.
    Time(NaiveDateTime),
    Empty,
}

/// One table of the report.
#[derive(Debug, Clone)]
pub struct Table {
    /// A stable name, for CSV file names and scripts ("queue-by-hour").
    pub id: &'static str,
    /// Its title in the report's language; also the sheet name (at most 31 characters).
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(id: &'static str, title: &str, columns: &[&str]) -> Self {
        Table {
            id,
            title: title.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn count(n: u64) -> Cell {
    Cell::Count(i64::try_from(n).unwrap_or(i64::MAX))
}

fn opt_minutes(s: Option<u64>) -> Cell {
    s.map_or(Cell::Empty, |s| Cell::Minutes(s as f64))
}

fn opt_share(s: Option<f64>) -> Cell {
    s.map_or(Cell::Empty, Cell::Share)
}

fn opt_decimal(v: Option<f64>, digits: usize) -> Cell {
    v.map_or(Cell::Empty, |v| Cell::Decimal(v, digits))
}

fn wait_cells(w: &WaitSummary) -> [Cell; 5] {
    [
        opt_minutes(w.median_s),
        opt_minutes(w.p90_s),
        opt_minutes(w.max_s),
        count(w.above_target),
        opt_share(w.share_above_target),
    ]
}

/// The tables of a report, in the order they are shown.
pub fn tables(report: &Report) -> Vec<Table> {
    let zone = report.header.time_zone;
    let l = report.header.locale;
    let wait_cols = [
        l.t("table.median_wait_min"),
        l.t("table.90th_pct_wait_min"),
        l.t("table.longest_wait_min"),
        l.t("table.above_target"),
        l.t("table.share_above_target"),
    ];
    let mut out = vec![summary(report)];

    let mut hours = Table::new(
        "queue-by-hour",
        l.t("table.queue_hour"),
        &[
            &[l.t("table.hour"), l.t("table.issued"), l.t("table.served")][..],
            &wait_cols[..],
        ]
        .concat(),
    );
    for h in &report.queue.by_hour {
        let mut row = vec![
            text(format!("{:02}:00", h.hour)),
            count(h.issued),
            count(h.served),
        ];
        row.extend(wait_cells(&h.waiting));
        hours.rows.push(row);
    }
    out.push(hours);

    let group_cols = |first: &[&'static str]| -> Vec<&'static str> {
        [
            first,
            &[
                l.t("table.issued"),
                l.t("table.served"),
                l.t("table.no_shows"),
                l.t("table.transferred"),
            ][..],
            &wait_cols[..],
        ]
        .concat()
    };
    for (id, title, groups, with_kind) in [
        (
            "queue-by-service",
            l.t("table.queue_service"),
            &report.queue.by_target,
            true,
        ),
        (
            "queue-by-category",
            l.t("table.queue_category"),
            &report.queue.by_category,
            false,
        ),
        (
            "queue-by-lane",
            l.t("table.queue_priority_lane"),
            &report.queue.by_lane,
            false,
        ),
    ] {
        let first: Vec<&'static str> = if with_kind {
            vec![l.t("table.kind"), l.t("table.code"), l.t("table.name")]
        } else {
            vec![l.t("table.code"), l.t("table.name")]
        };
        let mut t = Table::new(id, title, &group_cols(&first));
        for g in groups {
            let mut row = Vec::new();
            if with_kind {
                row.push(text(match g.kind.as_str() {
                    "category" => l.t("table.kind_category"),
                    _ => l.t("table.kind_service"),
                }));
            }
            row.extend([
                text(&g.code),
                text(&g.name),
                count(g.issued),
                count(g.served),
                count(g.no_shows),
                count(g.transferred),
            ]);
            row.extend(wait_cells(&g.waiting));
            t.rows.push(row);
        }
        out.push(t);
    }

    for (id, title, groups) in [
        (
            "requests-by-service",
            l.t("table.requests_service"),
            &report.requests.by_service,
        ),
        (
            "requests-by-category",
            l.t("table.requests_category"),
            &report.requests.by_category,
        ),
        (
            "requests-by-agency",
            l.t("table.requests_agency"),
            &report.requests.by_agency,
        ),
    ] {
        let mut t = Table::new(
            id,
            title,
            &[
                l.t("table.code"),
                l.t("table.name"),
                l.t("table.taken"),
                l.t("table.fees_due"),
            ],
        );
        for g in groups {
            t.rows.push(vec![
                text(&g.code),
                text(&g.name),
                count(g.taken),
                Cell::Money(g.fees_due_minor),
            ]);
        }
        out.push(t);
    }

    let mut status = Table::new(
        "requests-by-status",
        l.t("table.requests_status"),
        &[
            l.t("table.status"),
            l.t("table.name"),
            l.t("table.requests"),
        ],
    );
    for s in &report.requests.by_status {
        status
            .rows
            .push(vec![text(s.status.as_str()), text(&s.name), count(s.count)]);
    }
    out.push(status);

    let mut overdue = Table::new(
        "overdue",
        l.t("table.overdue_requests"),
        &[
            l.t("table.receipt"),
            l.t("table.service"),
            l.t("table.name"),
            l.t("table.status"),
            l.t("table.taken_on"),
            l.t("table.due_on"),
            l.t("table.working_days_overdue"),
        ],
    );
    for o in &report.requests.overdue {
        overdue.rows.push(vec![
            text(&o.receipt),
            text(&o.service_code),
            text(&o.service_name),
            text(status_name(o.status, l)),
            Cell::Date(o.intake_date),
            Cell::Date(o.due_date),
            count(u64::from(o.days_overdue)),
        ]);
    }
    out.push(overdue);

    let mut decisions = Table::new(
        "returned-rejected",
        l.t("table.returned_rejected"),
        &[
            l.t("table.receipt"),
            l.t("table.service"),
            l.t("table.decision"),
            l.t("table.reason"),
            l.t("table.at_local"),
        ],
    );
    for d in &report.requests.decisions {
        decisions.rows.push(vec![
            text(&d.receipt),
            text(&d.service_code),
            text(status_name(d.status, l)),
            text(&d.reason),
            Cell::Time(zone.local(d.at)),
        ]);
    }
    out.push(decisions);

    let mut clerks = Table::new(
        "clerks",
        l.t("table.clerks"),
        &[
            l.t("table.clerk"),
            l.t("table.counter"),
            l.t("table.served"),
            l.t("table.avg_service_min"),
            l.t("table.requests_taken"),
            l.t("table.open_h"),
            l.t("table.busy_h"),
            l.t("table.idle_share"),
        ],
    );
    for c in &report.clerks {
        clerks.rows.push(vec![
            text(&c.clerk),
            c.counter.as_ref().map_or(Cell::Empty, text),
            count(c.served),
            c.avg_service_s.map_or(Cell::Empty, Cell::Minutes),
            count(c.requests_taken),
            Cell::Hours(c.open_s as f64),
            Cell::Hours(c.busy_s as f64),
            opt_share(c.idle_share),
        ]);
    }
    out.push(clerks);

    let mut methods = Table::new(
        "payments",
        l.t("table.payments_method"),
        &[
            l.t("table.method"),
            l.t("table.name"),
            l.t("table.payments"),
            l.t("table.amount"),
        ],
    );
    for m in &report.money.by_method {
        methods.rows.push(vec![
            text(&m.method),
            text(&m.name),
            count(m.payments),
            Cell::Money(m.amount_minor),
        ]);
    }
    out.push(methods);

    let mut refunds = Table::new(
        "refunds",
        l.t("table.refunds"),
        &[
            l.t("table.refund_receipt"),
            l.t("table.payment_receipt"),
            l.t("table.request"),
            l.t("table.method"),
            l.t("table.amount"),
            l.t("table.clerk"),
            l.t("table.approved_by"),
            l.t("table.reason"),
            l.t("table.at_local"),
        ],
    );
    for f in &report.money.refunds {
        refunds.rows.push(vec![
            text(&f.receipt),
            text(&f.payment_receipt),
            text(&f.request_receipt),
            text(&f.method),
            Cell::Money(f.amount_minor),
            text(&f.clerk),
            text(&f.approver),
            text(&f.reason),
            Cell::Time(zone.local(f.at)),
        ]);
    }
    out.push(refunds);

    let mut waivers = Table::new(
        "waivers",
        l.t("table.fees_waived_ground"),
        &[
            l.t("table.code"),
            l.t("table.ground"),
            l.t("table.requests"),
            l.t("table.amount"),
        ],
    );
    for w in &report.money.waivers {
        waivers.rows.push(vec![
            text(&w.ground),
            text(&w.name),
            count(w.requests),
            Cell::Money(w.amount_minor),
        ]);
    }
    out.push(waivers);

    let mut ratings = Table::new(
        "feedback-ratings",
        l.t("table.feedback_ratings"),
        &[l.t("table.rating"), l.t("table.count")],
    );
    for (i, n) in report.feedback.distribution.iter().enumerate() {
        ratings.rows.push(vec![count(i as u64 + 1), count(*n)]);
    }
    out.push(ratings);

    let mut by_service = Table::new(
        "feedback-by-service",
        l.t("table.feedback_service"),
        &[
            l.t("table.code"),
            l.t("table.name"),
            l.t("table.ratings"),
            l.t("table.average"),
        ],
    );
    for g in &report.feedback.by_service {
        by_service.rows.push(vec![
            text(&g.code),
            text(&g.name),
            count(g.count),
            opt_decimal(g.average, 2),
        ]);
    }
    out.push(by_service);

    let mut by_clerk = Table::new(
        "feedback-by-clerk",
        l.t("table.feedback_clerk"),
        &[
            l.t("table.clerk"),
            l.t("table.ratings"),
            l.t("table.average"),
        ],
    );
    for g in &report.feedback.by_clerk {
        by_clerk.rows.push(vec![
            text(&g.code),
            count(g.count),
            opt_decimal(g.average, 2),
        ]);
    }
    out.push(by_clerk);

    let mut comments = Table::new(
        "comments",
        l.t("table.comments"),
        &[
            l.t("table.at_local"),
            l.t("table.rating"),
            l.t("table.service"),
            l.t("table.clerk"),
            l.t("table.comment"),
        ],
    );
    for c in &report.feedback.comments {
        comments.rows.push(vec![
            Cell::Time(zone.local(c.at)),
            count(u64::from(c.rating)),
            text(&c.service),
            text(&c.clerk),
            text(&c.comment),
        ]);
    }
    out.push(comments);

    let mut problems = Table::new(
        "sync-problems",
        l.t("table.refused_conflicts"),
        &[
            l.t("table.change_no"),
            l.t("table.state"),
            l.t("table.change"),
            l.t("table.entity"),
            l.t("table.reason"),
            l.t("table.made_at_local"),
        ],
    );
    for p in &report.sync.problems {
        problems.rows.push(vec![
            count(p.seq),
            text(match p.state.as_str() {
                "refused" => l.t("table.refused"),
                _ => l.t("table.conflict"),
            }),
            text(&p.kind),
            text(&p.entity_id),
            text(&p.reason),
            Cell::Time(zone.local(p.at)),
        ]);
    }
    out.push(problems);
    out
}

/// The first table: who, when, and the headline figures, one per line.
fn summary(report: &Report) -> Table {
    let zone = report.header.time_zone;
    let l: Locale = report.header.locale;
    let h = &report.header;
    let q = &report.queue;
    let m = &report.money;
    let mut t = Table::new(
        "summary",
        l.t("table.summary"),
        &[l.t("table.item"), l.t("table.value")],
    );
    let mut row = |label: &str, cell: Cell| t.rows.push(vec![text(label), cell]);
    row(
        l.t("table.centre"),
        text(format!("{} ({})", h.center_name, h.center_code)),
    );
    row(l.t("table.device"), text(&h.device_code));
    row(l.t("table.from"), Cell::Date(h.from));
    row(l.t("table.to"), Cell::Date(h.to));
    row(l.t("table.made_at"), Cell::Time(zone.local(h.made_at)));
    row(
        l.t("table.catalogue_version"),
        h.catalogue_version
            .map_or(Cell::Empty, |v| count(u64::from(v))),
    );
    row(l.t("table.currency"), text(h.currency.code()));
    row(
        l.t("table.waiting_time_target_min"),
        count(u64::from(h.waiting_target_min)),
    );
    row(
        l.t("table.activity"),
        text(if report.empty {
            l.t("table.nothing_recorded")
        } else {
            l.t("table.recorded")
        }),
    );
    row(l.t("table.sync"), text(&report.sync.statement));
    row(
        l.t("table.arrived_late"),
        report.late.statement.as_deref().map_or(Cell::Empty, text),
    );
    row(l.t("table.tickets_issued"), count(q.issued));
    row(l.t("table.tickets_served"), count(q.served));
    row(l.t("table.no_shows"), count(q.no_shows));
    row(
        l.t("table.served_after_no_show"),
        count(q.served_after_no_show),
    );
    row(l.t("table.transferred"), count(q.transferred));
    row(l.t("table.not_served"), count(q.not_served));
    row(
        l.t("table.median_wait_min"),
        opt_minutes(q.waiting.median_s),
    );
    row(l.t("table.90th_pct_wait_min"), opt_minutes(q.waiting.p90_s));
    row(l.t("table.longest_wait_min"), opt_minutes(q.waiting.max_s));
    row(
        l.t("table.waited_above_target"),
        count(q.waiting.above_target),
    );
    row(
        l.t("table.share_above_target"),
        opt_share(q.waiting.share_above_target),
    );
    let r = &report.requests;
    row(l.t("table.requests_taken"), count(r.taken));
    row(l.t("table.overdue_requests"), count(r.overdue_count));
    row(
        l.t("table.returned_correction"),
        count(r.returned_for_correction),
    );
    row(l.t("table.rejected"), count(r.rejected));
    row(l.t("table.fees_due"), Cell::Money(m.fees_due_minor));
    row(l.t("table.collected"), Cell::Money(m.collected_minor));
    row(l.t("table.refunded"), Cell::Money(m.refunded_minor));
    row(
        l.t("table.net_collected"),
        Cell::Money(m.net_collected_minor),
    );
    row(l.t("table.waived"), Cell::Money(m.waived_minor));
    let owed = if h.ended() {
        l.t("table.outstanding_at_end")
    } else {
        l.t("table.outstanding")
    };
    row(owed, Cell::Money(m.outstanding_minor));
    row(l.t("table.as_at"), Cell::Date(h.as_at()));
    row(
        l.t("table.cash_expected_drawer"),
        Cell::Money(m.cash_expected_minor),
    );
    row(
        l.t("table.cash_counted"),
        m.cash_counted_minor.map_or(Cell::Empty, Cell::Money),
    );
    row(
        l.t("table.cash_difference"),
        m.cash_difference_minor.map_or(Cell::Empty, Cell::Money),
    );
    row(l.t("table.ratings_received"), count(report.feedback.count));
    row(
        l.t("table.average_rating_1_5"),
        opt_decimal(report.feedback.average, 2),
    );
    row(l.t("table.changes_not_sent"), count(report.sync.unsent));
    row(
        l.t("table.oldest_unsent_change_local"),
        report
            .sync
            .oldest_unsent_at
            .map_or(Cell::Empty, |t| Cell::Time(zone.local(t))),
    );
    row(l.t("table.refused_changes"), count(report.sync.refused));
    row(l.t("table.open_conflicts"), count(report.sync.conflicts));
    row(
        l.t("table.last_successful_sync_local"),
        match report.sync.last_success {
            Some(t) => Cell::Time(zone.local(t)),
            None if report.sync.enrolled => text(l.t("table.never")),
            None => text(l.t("table.never_enrolled")),
        },
    );
    row(
        l.t("table.open_time_clerks"),
        text(l.t("table.open_time_note")),
    );
    t
}
