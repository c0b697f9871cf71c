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
    let tr = |en, fr| l.tr(en, fr);
    let wait_cols = [
        tr("Median wait (min)", "Attente médiane (min)"),
        tr("90th pct wait (min)", "Attente 9e décile (min)"),
        tr("Longest wait (min)", "Attente max. (min)"),
        tr("Above target", "Au-delà de l'objectif"),
        tr("Share above target (%)", "Part au-delà de l'objectif (%)"),
    ];
    let mut out = vec![summary(report)];

    let mut hours = Table::new(
        "queue-by-hour",
        tr("Queue by hour", "File par heure"),
        &[
            &[
                tr("Hour", "Heure"),
                tr("Issued", "Émis"),
                tr("Served", "Servis"),
            ][..],
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
                tr("Issued", "Émis"),
                tr("Served", "Servis"),
                tr("No-shows", "Absents"),
                tr("Transferred", "Transférés"),
            ][..],
            &wait_cols[..],
        ]
        .concat()
    };
    for (id, title, groups, with_kind) in [
        (
            "queue-by-service",
            tr("Queue by service", "File par service"),
            &report.queue.by_target,
            true,
        ),
        (
            "queue-by-category",
            tr("Queue by category", "File par catégorie"),
            &report.queue.by_category,
            false,
        ),
        (
            "queue-by-lane",
            tr("Queue by priority lane", "File par voie prioritaire"),
            &report.queue.by_lane,
            false,
        ),
    ] {
        let first: Vec<&'static str> = if with_kind {
            vec![tr("Kind", "Type"), tr("Code", "Code"), tr("Name", "Nom")]
        } else {
            vec![tr("Code", "Code"), tr("Name", "Nom")]
        };
        let mut t = Table::new(id, title, &group_cols(&first));
        for g in groups {
            let mut row = Vec::new();
            if with_kind {
                row.push(text(match g.kind.as_str() {
                    "category" => tr("category", "catégorie"),
                    _ => tr("service", "service"),
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
            tr("Requests by service", "Demandes par service"),
            &report.requests.by_service,
        ),
        (
            "requests-by-category",
            tr("Requests by category", "Demandes par catégorie"),
            &report.requests.by_category,
        ),
        (
            "requests-by-agency",
            tr("Requests by agency", "Demandes par organisme"),
            &report.requests.by_agency,
        ),
    ] {
        let mut t = Table::new(
            id,
            title,
            &[
                tr("Code", "Code"),
                tr("Name", "Nom"),
                tr("Taken", "Reçues"),
                tr("Fees due", "Frais dus"),
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
        tr("Requests by status", "Demandes par statut"),
        &[
            tr("Status", "Statut"),
            tr("Name", "Nom"),
            tr("Requests", "Demandes"),
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
        tr("Overdue requests", "Demandes en retard"),
        &[
            tr("Receipt", "Récépissé"),
            tr("Service", "Service"),
            tr("Name", "Nom"),
            tr("Status", "Statut"),
            tr("Taken on", "Reçue le"),
            tr("Due on", "Due le"),
            tr("Working days overdue", "Jours ouvrés de retard"),
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
        tr("Returned and rejected", "Renvoyées et rejetées"),
        &[
            tr("Receipt", "Récépissé"),
            tr("Service", "Service"),
            tr("Decision", "Décision"),
            tr("Reason", "Motif"),
            tr("At (UTC)", "Le (UTC)"),
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
        tr("Clerks", "Agents"),
        &[
            tr("Clerk", "Agent"),
            tr("Counter", "Guichet"),
            tr("Served", "Servis"),
            tr("Avg service (min)", "Service moyen (min)"),
            tr("Requests taken", "Demandes reçues"),
            tr("Open (h)", "Ouvert (h)"),
            tr("Busy (h)", "Occupé (h)"),
            tr("Idle share (%)", "Part inactive (%)"),
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
        tr("Payments by method", "Paiements par mode"),
        &[
            tr("Method", "Mode"),
            tr("Name", "Nom"),
            tr("Payments", "Paiements"),
            tr("Amount", "Montant"),
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
        tr(
            "Refunds (each approved by a supervisor)",
            "Remboursements (chacun approuvé par un superviseur)",
        ),
        &[
            tr("Refund receipt", "Reçu du remboursement"),
            tr("Payment receipt", "Reçu du paiement"),
            tr("Request", "Demande"),
            tr("Method", "Mode"),
            tr("Amount", "Montant"),
            tr("Clerk", "Agent"),
            tr("Approved by", "Approuvé par"),
            tr("Reason", "Motif"),
            tr("At (UTC)", "Le (UTC)"),
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
        tr("Fees waived by ground", "Exonérations par motif"),
        &[
            tr("Ground", "Motif"),
            tr("Requests", "Demandes"),
            tr("Amount", "Montant"),
        ],
    );
    for w in &report.money.waivers {
        waivers.rows.push(vec![
            text(&w.ground),
            count(w.requests),
            Cell::Money(w.amount_minor),
        ]);
    }
    out.push(waivers);

    let mut ratings = Table::new(
        "feedback-ratings",
        tr("Feedback ratings", "Notes des usagers"),
        &[tr("Rating", "Note"), tr("Count", "Nombre")],
    );
    for (i, n) in report.feedback.distribution.iter().enumerate() {
        ratings.rows.push(vec![count(i as u64 + 1), count(*n)]);
    }
    out.push(ratings);

    let mut by_service = Table::new(
        "feedback-by-service",
        tr("Feedback by service", "Avis par service"),
        &[
            tr("Code", "Code"),
            tr("Name", "Nom"),
            tr("Ratings", "Notes"),
            tr("Average", "Moyenne"),
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
        tr("Feedback by clerk", "Avis par agent"),
        &[
            tr("Clerk", "Agent"),
            tr("Ratings", "Notes"),
            tr("Average", "Moyenne"),
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
        tr("Comments", "Commentaires"),
        &[
            tr("At (UTC)", "Le (UTC)"),
            tr("Rating", "Note"),
            tr("Service", "Service"),
            tr("Clerk", "Agent"),
            tr("Comment", "Commentaire"),
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
        tr("Refused and conflicts", "Refus et conflits"),
        &[
            tr("Change no.", "N° de modification"),
            tr("State", "État"),
            tr("Change", "Modification"),
            tr("Entity", "Objet"),
            tr("Reason", "Motif"),
            tr("Made at (UTC)", "Faite le (UTC)"),
        ],
    );
    for p in &report.sync.problems {
        problems.rows.push(vec![
            count(p.seq),
            text(match p.state.as_str() {
                "refused" => tr("refused", "refusée"),
                _ => tr("conflict", "conflit"),
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
    let tr = |en, fr| l.tr(en, fr);
    let h = &report.header;
    let q = &report.queue;
    let m = &report.money;
    let mut t = Table::new(
        "summary",
        tr("Summary", "Synthèse"),
        &[tr("Item", "Rubrique"), tr("Value", "Valeur")],
    );
    let mut row = |label: &str, cell: Cell| t.rows.push(vec![text(label), cell]);
    row(
        tr("Centre", "Centre"),
        text(format!("{} ({})", h.center_name, h.center_code)),
    );
    row(tr("Device", "Poste"), text(&h.device_code));
    row(tr("From", "Du"), Cell::Date(h.from));
    row(tr("To", "Au"), Cell::Date(h.to));
    row(
        tr("Made at", "Établi le"),
        Cell::Time(zone.local(h.made_at)),
    );
    row(
        tr("Catalogue version", "Version du catalogue"),
        h.catalogue_version
            .map_or(Cell::Empty, |v| count(u64::from(v))),
    );
    row(tr("Currency", "Devise"), text(h.currency.code()));
    row(
        tr("Waiting-time target (min)", "Objectif d'attente (min)"),
        count(u64::from(h.waiting_target_min)),
    );
    row(
        tr("Activity", "Activité"),
        text(if report.empty {
            tr(
                "None: nothing was recorded in this period.",
                "Aucune : rien n'a été enregistré sur cette période.",
            )
        } else {
            tr("Recorded", "Enregistrée")
        }),
    );
    row(tr("Sync", "Synchronisation"), text(&report.sync.statement));
    row(tr("Tickets issued", "Tickets émis"), count(q.issued));
    row(tr("Tickets served", "Tickets servis"), count(q.served));
    row(tr("No-shows", "Absents"), count(q.no_shows));
    row(
        tr("Served after a no-show", "Servis après une absence"),
        count(q.served_after_no_show),
    );
    row(tr("Transferred", "Transférés"), count(q.transferred));
    row(tr("Not served", "Non servis"), count(q.not_served));
    row(
        tr("Median wait (min)", "Attente médiane (min)"),
        opt_minutes(q.waiting.median_s),
    );
    row(
        tr("90th pct wait (min)", "Attente 9e décile (min)"),
        opt_minutes(q.waiting.p90_s),
    );
    row(
        tr("Longest wait (min)", "Attente max. (min)"),
        opt_minutes(q.waiting.max_s),
    );
    row(
        tr("Waited above target", "Attente au-delà de l'objectif"),
        count(q.waiting.above_target),
    );
    row(
        tr("Share above target (%)", "Part au-delà de l'objectif (%)"),
        opt_share(q.waiting.share_above_target),
    );
    let r = &report.requests;
    row(tr("Requests taken", "Demandes reçues"), count(r.taken));
    row(
        tr("Overdue requests", "Demandes en retard"),
        count(r.overdue_count),
    );
    row(
        tr("Returned for correction", "Renvoyées pour correction"),
        count(r.returned_for_correction),
    );
    row(tr("Rejected", "Rejetées"), count(r.rejected));
    row(tr("Fees due", "Frais dus"), Cell::Money(m.fees_due_minor));
    row(tr("Collected", "Encaissé"), Cell::Money(m.collected_minor));
    row(tr("Refunded", "Remboursé"), Cell::Money(m.refunded_minor));
    row(
        tr(
            "Net collected (collected - refunded)",
            "Encaissé net (encaissé - remboursé)",
        ),
        Cell::Money(m.net_collected_minor),
    );
    row(tr("Waived", "Exonéré"), Cell::Money(m.waived_minor));
    row(
        tr("Outstanding", "Restant dû"),
        Cell::Money(m.outstanding_minor),
    );
    row(
        tr("Cash expected in drawer", "Espèces attendues en caisse"),
        Cell::Money(m.cash_expected_minor),
    );
    row(
        tr("Cash counted", "Espèces comptées"),
        m.cash_counted_minor.map_or(Cell::Empty, Cell::Money),
    );
    row(
        tr(
            "Cash difference (counted - expected)",
            "Écart de caisse (compté - attendu)",
        ),
        m.cash_difference_minor.map_or(Cell::Empty, Cell::Money),
    );
    row(
        tr("Feedback ratings", "Avis reçus"),
        count(report.feedback.count),
    );
    row(
        tr("Average rating (1-5)", "Note moyenne (1-5)"),
        opt_decimal(report.feedback.average, 2),
    );
    row(
        tr("Changes not sent", "Modifications non envoyées"),
        count(report.sync.unsent),
    );
    row(
        tr(
            "Oldest unsent change (UTC)",
            "Plus ancienne non envoyée (UTC)",
        ),
        report
            .sync
            .oldest_unsent_at
            .map_or(Cell::Empty, |t| Cell::Time(zone.local(t))),
    );
    row(
        tr("Refused changes", "Modifications refusées"),
        count(report.sync.refused),
    );
    row(
        tr("Open conflicts", "Conflits ouverts"),
        count(report.sync.conflicts),
    );
    row(
        tr(
            "Last successful sync (UTC)",
            "Dernière synchronisation réussie (UTC)",
        ),
        match report.sync.last_success {
            Some(t) => Cell::Time(zone.local(t)),
            None if report.sync.enrolled => text(tr("never", "jamais")),
            None => text(tr(
                "never: not enrolled with a back office",
                "jamais : poste non inscrit auprès d'un back-office",
            )),
        },
    );
    row(
        tr("Open time (clerks)", "Temps d'ouverture (agents)"),
        text(tr(
            "from each clerk's first call to the last finish at the counter, per day",
            "du premier appel au dernier service de l'agent au guichet, par jour",
        )),
    );
    t
}
