//! What reports and dashboards read (`guichet-report`), as typed rows, in one read
//! transaction: every read of a report sees the same snapshot while clerks keep working, and
//! only the store knows the tables.
//!
//! The long reads stream: each row is handed to the caller as it comes, its text borrowed from
//! the row, so that a year of a busy centre is folded into figures without being held in
//! memory. Texts are as stored: days `YYYY-MM-DD`, times RFC 3339 in UTC, codes and statuses
//! as the domain writes them.

use std::collections::HashSet;
use std::ops::ControlFlow;

use chrono::{DateTime, NaiveDate, Utc};
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::Currency;
use guichet_domain::text::Text;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Params, Row, Statement, ToSql, params};

use super::Workstation;
use super::report_days::DayMark;
use crate::error::{Error, Result};

/// From this many days on, a period is read by scanning tables rather than their indexes.
const LONG_PERIOD_DAYS: i64 = 60;

/// A report's view of the replica, open for one read transaction (`Workstation::report_read`).
#[derive(Debug)]
pub struct ReportRead<'c> {
    conn: &'c Connection,
}

/// The names of the catalogue's codes, in every language they are written in.
#[derive(Debug, Default)]
pub struct CatalogueNames {
    pub services: Vec<ServiceNames>,
    pub categories: Vec<(String, Text)>,
    pub agencies: Vec<(String, Text)>,
    pub lanes: Vec<(String, Text)>,
    pub target_groups: Vec<(String, Text)>,
}

#[derive(Debug)]
pub struct ServiceNames {
    pub code: String,
    pub title: Text,
    pub category: String,
    pub agency: String,
}

/// A ticket issued on one of the days read.
#[derive(Debug)]
pub struct TicketRow<'r> {
    pub day: &'r str,
    /// Issued for a category (the clerk chose the service at the counter), not a service.
    pub for_category: bool,
    pub target_code: &'r str,
    pub lane: &'r str,
    pub status: &'r str,
    pub counter: Option<&'r str>,
    pub clerk: Option<&'r str>,
    pub no_shows: u32,
    pub transfers: u32,
    /// From issue to first call; none for a ticket never called.
    pub waiting_ms: Option<u64>,
    /// From first call to the end of service; none while it lasts.
    pub service_ms: Option<u64>,
    pub issued_at: &'r str,
    /// For a ticket a clerk took: when it was first called, and last called or ended.
    pub first_call: Option<&'r str>,
    pub last_call: Option<&'r str>,
}

/// A request taken on one of the days read, with the counter of its visit.
#[derive(Debug)]
pub struct TakenRow<'r> {
    pub intake_date: &'r str,
    pub status: &'r str,
    pub service_code: &'r str,
    pub category: &'r str,
    pub agency: &'r str,
    pub fee_minor: Option<i64>,
    pub waiver_ground: Option<&'r str>,
    pub paid_minor: i64,
    pub clerk: &'r str,
    pub counter: Option<&'r str>,
}

/// A request as the overdue list reads it.
#[derive(Debug)]
pub struct DueRow<'r> {
    pub id: &'r str,
    /// The current status.
    pub status: &'r str,
    /// The status of the last move before the instant asked for, if it moved before it.
    pub status_then: Option<&'r str>,
    pub receipt: &'r str,
    pub service_code: &'r str,
    pub intake_date: &'r str,
    pub due_date: &'r str,
}

/// A request's current status and, if it moved before the instant asked for, its status then.
#[derive(Debug)]
pub struct StatusRow<'r> {
    pub id: &'r str,
    pub status: &'r str,
    pub status_then: Option<&'r str>,
}

/// A request returned for correction or rejected.
#[derive(Debug)]
pub struct DecisionRow<'r> {
    /// The timeline event's number: decisions at the same instant keep their order.
    pub event: i64,
    pub request_id: &'r str,
    pub to_status: &'r str,
    pub reason: Option<&'r str>,
    pub at: &'r str,
}

/// A citizen's rating, with the visit's clerk and the ticket's target.
#[derive(Debug)]
pub struct RatingRow<'r> {
    pub rating: u8,
    pub at: &'r str,
    pub clerk: &'r str,
    pub target_kind: Option<&'r str>,
    pub target_code: Option<&'r str>,
}

/// A citizen's written comment.
#[derive(Debug)]
pub struct CommentRow {
    pub rating: u8,
    pub comment: String,
    pub at: String,
    pub clerk: String,
    pub service: Option<String>,
}

/// The payments of one method.
#[derive(Debug)]
pub struct MethodTotal {
    pub method: String,
    pub payments: u64,
    pub amount_minor: i64,
}

/// Refunds: their sum, and the part paid back in cash.
#[derive(Debug, Clone, Copy)]
pub struct RefundTotals {
    pub amount_minor: i64,
    pub cash_minor: i64,
}

/// What was made in a period on other devices and reached this one only after it ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ArrivedLate {
    pub payments: u64,
    pub paid_minor: i64,
    pub refunds: u64,
    pub refunded_minor: i64,
    /// Requests taken.
    pub requests: u64,
    /// Moves of requests (a status changed).
    pub moves: u64,
}

impl ArrivedLate {
    /// Whether anything came late.
    pub fn any(&self) -> bool {
        self.payments + self.refunds + self.requests + self.moves > 0
    }
}

/// A refund, with the receipts of its payment and its request.
#[derive(Debug)]
pub struct RefundRow {
    pub receipt: String,
    pub payment_receipt: String,
    pub request_receipt: String,
    pub method: String,
    pub amount_minor: i64,
    pub clerk: String,
    pub approver: String,
    pub reason: String,
    pub at: String,
}

/// Changes not yet accepted by the back office, and the last exchange.
#[derive(Debug)]
pub struct OutboxHealth {
    pub unsent: u64,
    pub refused: u64,
    /// Conflicts no clerk has resolved yet.
    pub conflicts: u64,
    pub oldest_unsent_at: Option<String>,
    /// Whether the device is enrolled with a back office (it has a sync state).
    pub enrolled: bool,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    /// Refused changes and open conflicts, oldest first, at most the limit asked for.
    pub problems: Vec<ProblemRow>,
}

/// A change the back office refused, or a conflict left open.
#[derive(Debug)]
pub struct ProblemRow {
    pub seq: u64,
    pub state: String,
    pub kind: String,
    pub entity_id: String,
    pub reason: String,
    pub created_at: String,
}

impl Workstation {
    /// Runs a report's reads in one read transaction, so that every read sees the same
    /// snapshot while clerks keep working. Nothing is written through it.
    pub fn report_read<T, E: From<Error>>(
        &self,
        read: impl FnOnce(&ReportRead<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.conn()?.unchecked_transaction().map_err(Error::from)?;
        let out = read(&ReportRead { conn: &tx });
        tx.rollback().map_err(Error::from)?;
        out
    }
}

impl<'c> ReportRead<'c> {
    fn statement(&self, sql: &str) -> Result<Statement<'c>> {
        Ok(self.conn.prepare(sql)?)
    }

    /// The names of services, categories, agencies and lanes. A name stored before names had
    /// languages is read as its text in every language.
    pub fn catalogue_names(&self) -> Result<CatalogueNames> {
        let mut names = CatalogueNames::default();
        let mut stmt = self.statement("SELECT code, title, category, agency FROM services")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            names.services.push(ServiceNames {
                code: r.get(0)?,
                title: serde_json::from_str(text(r, 1)?)?,
                category: r.get(2)?,
                agency: r.get(3)?,
            });
        }
        let named = |table: &str| -> Result<Vec<(String, Text)>> {
            let mut stmt = self.statement(&format!("SELECT code, name FROM {table}"))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let name = text(r, 1)?;
                let name = serde_json::from_str(name).unwrap_or_else(|_| plain(name));
                out.push((r.get(0)?, name));
            }
            Ok(out)
        };
        names.categories = named("categories")?;
        names.agencies = named("agencies")?;
        names.lanes = named("lanes")?;
        names.target_groups = named("target_groups")?;
        Ok(names)
    }

    /// The title of a service no longer in the catalogue, as a request taken for it keeps it.
    pub fn former_service_title(&self, code: &str) -> Result<Option<Text>> {
        let title: Option<String> = self
            .conn
            .query_row(
                "SELECT service_title FROM requests WHERE service_code = ?1 LIMIT 1",
                [code],
                |r| r.get(0),
            )
            .optional()?;
        Ok(title.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// The tickets issued on the days from `days.0` to `days.1`.
    pub fn tickets<E: From<Error>>(
        &self,
        days: (NaiveDate, NaiveDate),
        mut each: impl FnMut(TicketRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(&format!(
            "SELECT day, target_kind, target_code, lane, status, counter, clerk, no_shows,
                transfers, waiting_ms, service_ms, issued_at,
                CASE WHEN clerk IS NOT NULL THEN json_extract(first_call, '$.wall') END,
                CASE WHEN clerk IS NOT NULL
                    THEN coalesce(json_extract(ended, '$.wall'), json_extract(last_call, '$.wall'))
                END
             FROM tickets WHERE {day} >= ?1 AND {day} <= ?2",
            day = scan("day", days)
        ))?;
        stream(
            &mut stmt,
            params![days.0.to_string(), days.1.to_string()],
            |r| each(ticket_row(r)?),
        )
    }

    /// The requests taken on the days from `days.0` to `days.1`.
    pub fn requests_taken<E: From<Error>>(
        &self,
        days: (NaiveDate, NaiveDate),
        mut each: impl FnMut(TakenRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(&format!(
            "SELECT r.intake_date, r.status, r.service_code, r.category, r.agency, r.fee_minor,
                r.waiver_ground, r.paid_minor, r.clerk, v.counter
             FROM requests r LEFT JOIN visits v ON v.id = r.visit_id
             WHERE {intake} >= ?1 AND {intake} <= ?2",
            intake = scan("r.intake_date", days),
        ))?;
        stream(
            &mut stmt,
            params![days.0.to_string(), days.1.to_string()],
            |r| each(taken_row(r)?),
        )
    }

    /// The moves recorded here at or after `since`, in the order they were recorded: each
    /// one's request id, the status it left (none for a request's creation), and whether
    /// another device of the centre made it before `since`, by the stamp it came with
    /// (`made_hlc`, `made_since`): such a move counts before `since`, though it arrived after.
    /// Stops when `each` breaks.
    pub fn moves_since<E: From<Error>>(
        &self,
        since: DateTime<Utc>,
        mut each: impl FnMut(&str, Option<&str>, bool) -> std::result::Result<ControlFlow<()>, E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(MOVES_SINCE)?;
        let (then, made) = (since.to_rfc3339(), made_since(since));
        let named: [(&str, &dyn ToSql); 2] = [(":then", &then), (":made", &made)];
        let mut rows = stmt.query(named.as_slice()).map_err(Error::from)?;
        while let Some(r) = rows.next().map_err(Error::from)? {
            let made_before = r.get(2).map_err(Error::from)?;
            if each(text(r, 0)?, opt_text(r, 1)?, made_before)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// One request's status just before `then` (`STATUS_THEN`); none if it did not move
    /// before then, or there is no such request.
    pub fn status_then(&self, id: &str, then: DateTime<Utc>) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {STATUS_THEN} FROM requests r WHERE r.id = :id"
        ))?;
        let (then, made) = (then.to_rfc3339(), made_since(then));
        let named: [(&str, &dyn ToSql); 3] = [(":id", &id), (":then", &then), (":made", &made)];
        let status: Option<Option<String>> =
            stmt.query_row(named.as_slice(), |r| r.get(0)).optional()?;
        Ok(status.flatten())
    }

    /// The requests with a fee taken from `days.0` to `days.1` that were paid or refunded at
    /// or after `since`: for each, its fee, what it is paid now net of refunds, and the part of
    /// that paid from `since` on, less what was refunded from then on. A payment or a refund is
    /// from `since` on when it was recorded here from then on and, if another device made it,
    /// made there from then on too, by the stamp it came with (`made_since`).
    pub fn paid_since<E: From<Error>>(
        &self,
        days: (NaiveDate, NaiveDate),
        since: DateTime<Utc>,
        mut each: impl FnMut(i64, i64, i64) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(PAID_SINCE)?;
        let taken = TakenThen::new(days, since);
        stream(&mut stmt, taken.named().as_slice(), |r| {
            each(
                r.get(0).map_err(Error::from)?,
                r.get(1).map_err(Error::from)?,
                r.get(2).map_err(Error::from)?,
            )
        })
    }

    /// The requests with a fee taken from `days.0` to `days.1` whose fee was waived at or
    /// after `since`: for each, the waiver's ground and the fee. A waiver's time is kept only
    /// in the audit trail: a `fee.waived` event, or a `peer.change` event carrying another
    /// device's waiver, from `since` on when the stamp it came with (`hlc`, in events written
    /// since it is kept) is from then on too (`made_since`). The trail is read newest first,
    /// down to the first event stamped before `since`: its stamps only grow with its order
    /// (one writer at a time, each stamp past the last), and a stamp is never before the time
    /// written beside it, so every event from `since` on is above that one. `read` is told
    /// how many events have been read so far, as they are read.
    pub fn waived_since<E: From<Error>>(
        &self,
        days: (NaiveDate, NaiveDate),
        since: DateTime<Utc>,
        mut read: impl FnMut(u64) -> std::result::Result<(), E>,
        mut each: impl FnMut(&str, i64) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let since_ms = u64::try_from(since.timestamp_millis()).unwrap_or(0);
        let (made, since_text) = (made_since(since), since.to_rfc3339());
        let mut waived: HashSet<String> = HashSet::new();
        let mut stmt = self.statement(
            "SELECT hlc, at, entity_id,
                action = 'fee.waived' OR (action = 'peer.change'
                    AND json_extract(change, '$.change.kind') IS 'fee.waived'),
                CASE WHEN action = 'peer.change' THEN json_extract(change, '$.hlc') END
             FROM audit_events ORDER BY seq DESC",
        )?;
        let mut rows = stmt.query([]).map_err(Error::from)?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(Error::from)? {
            n += 1;
            read(n)?;
            if text(r, 0)?
                .parse::<HlcStamp>()
                .map_err(Error::from)?
                .wall_ms
                < since_ms
            {
                break;
            }
            if r.get(3).map_err(Error::from)?
                && text(r, 1)? >= since_text.as_str()
                && opt_text(r, 4)?.is_none_or(|stamp| stamp >= made.as_str())
            {
                waived.insert(text(r, 2)?.to_owned());
            }
        }
        let mut request = self.statement(
            "SELECT waiver_ground, fee_minor FROM requests
             WHERE id = ?1 AND intake_date >= ?2 AND intake_date <= ?3
               AND waiver_ground IS NOT NULL AND fee_minor IS NOT NULL",
        )?;
        let (from, to) = (days.0.to_string(), days.1.to_string());
        for id in &waived {
            stream(&mut request, params![id, from, to], |r| {
                each(text(r, 0)?, r.get(1).map_err(Error::from)?)
            })?;
        }
        Ok(())
    }

    /// The requests taken from `days.0` to `days.1`, with their status just before `then`
    /// (`STATUS_THEN`).
    pub fn statuses_then<E: From<Error>>(
        &self,
        days: (NaiveDate, NaiveDate),
        then: DateTime<Utc>,
        mut each: impl FnMut(StatusRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(&format!(
            "SELECT r.id, r.status, {STATUS_THEN} FROM requests r
             WHERE {intake} >= :from AND {intake} <= :to",
            intake = scan("r.intake_date", days),
        ))?;
        let taken = TakenThen::new(days, then);
        stream(&mut stmt, taken.named().as_slice(), |r| {
            each(StatusRow {
                id: text(r, 0)?,
                status: text(r, 1)?,
                status_then: opt_text(r, 2)?,
            })
        })
    }

    /// The requests taken by `day` and due before it, with their status just before `then`
    /// (`STATUS_THEN`): the candidates for the overdue list of a period in the past.
    pub fn due_before_then<E: From<Error>>(
        &self,
        day: NaiveDate,
        then: DateTime<Utc>,
        mut each: impl FnMut(DueRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(&format!(
            "SELECT r.id, r.status, {STATUS_THEN}, r.receipt, r.service_code, r.intake_date,
                r.due_date
             FROM requests r WHERE r.intake_date <= :to AND r.due_date < :to"
        ))?;
        let (to, made, then) = (day.to_string(), made_since(then), then.to_rfc3339());
        let named: [(&str, &dyn ToSql); 3] = [(":to", &to), (":then", &then), (":made", &made)];
        stream(&mut stmt, named.as_slice(), |r| each(due_row(r, true)?))
    }

    /// The requests open now, taken by `day` and due before it.
    pub fn open_due_before<E: From<Error>>(
        &self,
        day: NaiveDate,
        mut each: impl FnMut(DueRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(
            "SELECT id, status, receipt, service_code, intake_date, due_date FROM requests
             WHERE status IN ('draft', 'submitted', 'dispatched', 'in_processing',
                'returned_for_correction')
               AND due_date < ?1 AND intake_date <= ?1",
        )?;
        stream(&mut stmt, [day.to_string()], |r| each(due_row(r, false)?))
    }

    /// One request as the overdue list reads it, handed to `read`; none if there is no such
    /// request.
    pub fn due<T, E: From<Error>>(
        &self,
        id: &str,
        read: impl FnOnce(DueRow<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<Option<T>, E> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, status, receipt, service_code, intake_date, due_date FROM requests
                 WHERE id = ?1",
            )
            .map_err(Error::from)?;
        let mut rows = stmt.query([id]).map_err(Error::from)?;
        match rows.next().map_err(Error::from)? {
            Some(r) => read(due_row(r, false)?).map(Some),
            None => Ok(None),
        }
    }

    /// Requests returned for correction or rejected from `start` to before `end`.
    pub fn decisions<E: From<Error>>(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        mut each: impl FnMut(DecisionRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(
            "SELECT id, request_id, to_status, reason, at FROM request_events
             WHERE at >= ?1 AND at < ?2 AND to_status IN ('returned_for_correction', 'rejected')",
        )?;
        stream(
            &mut stmt,
            params![start.to_rfc3339(), end.to_rfc3339()],
            |r| each(decision_row(r)?),
        )
    }

    /// A request's receipt number (as stored) and service code.
    pub fn receipt_and_service(&self, request_id: &str) -> Result<(String, String)> {
        Ok(self
            .conn
            .prepare_cached("SELECT receipt, service_code FROM requests WHERE id = ?1")?
            .query_row([request_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    /// Ratings given from `start` to before `end`; `days` are the local days they fall on,
    /// which tell how to read them.
    pub fn ratings<E: From<Error>>(
        &self,
        days: (NaiveDate, NaiveDate),
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        mut each: impl FnMut(RatingRow<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut stmt = self.statement(&format!(
            "SELECT f.rating, f.at, v.clerk, t.target_kind, t.target_code
             FROM feedback f JOIN visits v ON v.id = f.visit_id
             LEFT JOIN tickets t ON t.id = v.ticket_id
             WHERE {at} >= ?1 AND {at} < ?2",
            at = scan("f.at", days)
        ))?;
        stream(
            &mut stmt,
            params![start.to_rfc3339(), end.to_rfc3339()],
            |r| each(rating_row(r)?),
        )
    }

    /// The first `limit` comments written from `start` to before `end`, oldest first;
    /// blank ones are left out.
    pub fn comments(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<CommentRow>> {
        let mut stmt = self.statement(
            "SELECT f.rating, f.comment, f.at, v.clerk, t.target_code
             FROM feedback f JOIN visits v ON v.id = f.visit_id
             LEFT JOIN tickets t ON t.id = v.ticket_id
             WHERE f.at >= ?1 AND f.at < ?2 AND trim(coalesce(f.comment, '')) <> ''
             ORDER BY f.at, f.id",
        )?;
        let mut rows = stmt.query(params![start.to_rfc3339(), end.to_rfc3339()])?;
        let mut lines = Vec::new();
        while lines.len() < limit
            && let Some(r) = rows.next()?
        {
            let comment = text(r, 1)?;
            if comment.trim().is_empty() {
                continue;
            }
            lines.push(CommentRow {
                rating: r.get(0)?,
                comment: comment.to_owned(),
                at: r.get(2)?,
                clerk: r.get(3)?,
                service: r.get(4)?,
            });
        }
        Ok(lines)
    }

    /// Payments in `currency` made from `start` to before `end` (`MadeBetween`), by method,
    /// in the order of the methods' names.
    pub fn payments_by_method(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        currency: &Currency,
    ) -> Result<Vec<MethodTotal>> {
        let made = MadeBetween::new(start, end);
        let mut stmt = self.statement(&format!(
            "SELECT method, count(*), sum(amount_minor) FROM payments
             WHERE {made} AND currency = :currency GROUP BY method ORDER BY method",
            made = made.condition("payments"),
        ))?;
        let currency = currency.code();
        let rows = stmt.query_map(made.named(&[(":currency", &currency)]).as_slice(), |r| {
            Ok(MethodTotal {
                method: r.get(0)?,
                payments: r.get(1)?,
                amount_minor: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What was made from `start` to before `end` on other devices, by the stamps it came
    /// with, and recorded here only from `end` on: payments and refunds in `currency` (the
    /// ones `MadeBetween` takes by their stamp), requests taken and moves of requests; and when
    /// the last of them was recorded here. A report of the period made before they arrived did
    /// not count them.
    pub fn arrived_late(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        currency: &Currency,
    ) -> Result<(ArrivedLate, Option<String>)> {
        let long = (end - start).num_days() >= LONG_PERIOD_DAYS;
        let (made_start, made_end) = (made_since(start), made_since(end));
        let (end, currency) = (end.to_rfc3339(), currency.code());
        let named: [(&str, &dyn ToSql); 4] = [
            (":made_start", &made_start),
            (":made_end", &made_end),
            (":end", &end),
            (":currency", &currency),
        ];
        let money = |table: &str| -> Result<(u64, i64, Option<String>)> {
            Ok(self
                .conn
                .query_row(&money_arrived_late(table, long), named.as_slice(), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?)
        };
        let (payments, paid_minor, paid_last) = money("payments")?;
        let (refunds, refunded_minor, refunded_last) = money("refunds")?;
        let (requests, moves, moved_last): (u64, u64, Option<String>) =
            self.conn.query_row(MOVES_ARRIVED_LATE, &named[..3], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        // RFC 3339 in UTC, as every time here is written: the greatest text is the latest.
        let last_at = [paid_last, refunded_last, moved_last]
            .into_iter()
            .flatten()
            .max();
        let arrived = ArrivedLate {
            payments,
            paid_minor,
            refunds,
            refunded_minor,
            requests,
            moves,
        };
        Ok((arrived, last_at))
    }

    /// The refunds in `currency` made from `start` to before `end` (`MadeBetween`): their
    /// totals, and the first `limit` of them.
    pub fn refunds(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        currency: &Currency,
        limit: usize,
    ) -> Result<(RefundTotals, Vec<RefundRow>)> {
        let made = MadeBetween::new(start, end);
        let (currency, cash) = (currency.code(), PaymentMethod::Cash.as_str());
        let totals = self.conn.query_row(
            &format!(
                "SELECT coalesce(sum(amount_minor), 0),
                    coalesce(sum(CASE WHEN method = :cash THEN amount_minor ELSE 0 END), 0)
                 FROM refunds WHERE {made} AND currency = :currency",
                made = made.condition("refunds"),
            ),
            made.named(&[(":currency", &currency), (":cash", &cash)])
                .as_slice(),
            |r| {
                Ok(RefundTotals {
                    amount_minor: r.get(0)?,
                    cash_minor: r.get(1)?,
                })
            },
        )?;
        let mut stmt = self.statement(&format!(
            "SELECT f.receipt, p.receipt, q.receipt, f.method, f.amount_minor, f.clerk,
                f.approver, f.reason, f.at
             FROM refunds f JOIN payments p ON p.id = f.payment_id
                JOIN requests q ON q.id = f.request_id
             WHERE {made} AND f.currency = :currency
             ORDER BY f.at, f.id LIMIT :limit",
            made = made.condition("f"),
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let named = made.named(&[(":currency", &currency), (":limit", &limit)]);
        let rows = stmt.query_map(named.as_slice(), |r| {
            Ok(RefundRow {
                receipt: r.get(0)?,
                payment_receipt: r.get(1)?,
                request_receipt: r.get(2)?,
                method: r.get(3)?,
                amount_minor: r.get(4)?,
                clerk: r.get(5)?,
                approver: r.get(6)?,
                reason: r.get(7)?,
                at: r.get(8)?,
            })
        })?;
        Ok((totals, rows.collect::<rusqlite::Result<_>>()?))
    }

    /// What waits to be sent, what was refused, and the last exchange; at most `limit`
    /// problems listed.
    pub fn outbox_health(&self, limit: usize) -> Result<OutboxHealth> {
        let count = |state: &str| -> Result<u64> {
            Ok(self.conn.query_row(
                "SELECT count(*) FROM outbox WHERE state = ?1",
                [state],
                |r| r.get(0),
            )?)
        };
        let conflicts: u64 = self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE state = 'conflict' AND resolved_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        let oldest_unsent_at: Option<String> = self
            .conn
            .query_row(
                "SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let point: Option<(Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT last_success, last_error FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let enrolled = point.is_some();
        let (last_success, last_error) = point.unwrap_or((None, None));
        let mut stmt = self.statement(
            "SELECT seq, state, kind, entity_id, coalesce(reason, ''), created_at FROM outbox
             WHERE state = 'refused' OR (state = 'conflict' AND resolved_at IS NULL)
             ORDER BY seq LIMIT ?1",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let problems = stmt
            .query_map([limit], |r| {
                Ok(ProblemRow {
                    seq: r.get(0)?,
                    state: r.get(1)?,
                    kind: r.get(2)?,
                    entity_id: r.get(3)?,
                    reason: r.get(4)?,
                    created_at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(OutboxHealth {
            unsent: count("pending")?,
            refused: count("refused")?,
            conflicts,
            oldest_unsent_at,
            enrolled,
            last_success,
            last_error,
            problems,
        })
    }

    /// How many requests are in each status now (statuses with none left out).
    pub fn requests_by_status(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.statement("SELECT status, count(*) FROM requests GROUP BY status")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The days from `from` to `to` that have a mark or kept figures: a day with neither has
    /// mark 0 and nothing kept (see `report_days`).
    pub fn day_marks(&self, from: NaiveDate, to: NaiveDate, basis: &str) -> Result<Vec<DayMark>> {
        let mut stmt = self.statement(
            "SELECT m.day, m.mark, k.figures FROM report_day_marks m
                LEFT JOIN report_days k ON k.day = m.day AND k.basis = ?3 AND k.mark = m.mark
             WHERE m.day >= ?1 AND m.day <= ?2
             UNION ALL
             SELECT k.day, 0, k.figures FROM report_days k
             WHERE k.day >= ?1 AND k.day <= ?2 AND k.basis = ?3 AND k.mark = 0
               AND NOT EXISTS (SELECT 1 FROM report_day_marks m WHERE m.day = k.day)",
        )?;
        let rows = stmt.query_map(params![from.to_string(), to.to_string(), basis], |r| {
            Ok(DayMark {
                day: r.get(0)?,
                mark: r.get(1)?,
                figures: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// What the requests with a fee taken from `:from` to `:to` were paid from `:then` on, net
/// of refunds, by the indexes by time of payments and refunds (`paid_since`).
const PAID_SINCE: &str = "SELECT r.fee_minor, r.paid_minor, m.minor
    FROM (SELECT request_id, sum(minor) AS minor
          FROM (SELECT request_id, amount_minor AS minor FROM payments
                WHERE at >= :then AND (hlc = '' OR hlc >= :made)
                UNION ALL
                SELECT request_id, -amount_minor FROM refunds
                WHERE at >= :then AND (hlc = '' OR hlc >= :made))
          GROUP BY request_id) m
       JOIN requests r ON r.id = m.request_id
    WHERE r.intake_date >= :from AND r.intake_date <= :to AND r.fee_minor IS NOT NULL";

/// The moves recorded here from `:then` on, by the index by time (`moves_since`): ordered by
/// id, the planner would rather read every event of every year in id order than sort the few
/// that follow the period. The third column tells a move made before then on another device
/// (`made_hlc`, against `:made`, `made_since(then)`).
const MOVES_SINCE: &str = "SELECT request_id, from_status,
        made_hlc IS NOT NULL AND made_hlc < :made
    FROM request_events INDEXED BY request_events_by_time
    WHERE at >= :then ORDER BY id";

/// The status of a request's last move made before `:then`, from its timeline: a move recorded
/// here before then, or made before then on another device of the centre, by the stamp it came
/// with (`made_hlc`, against `:made`, `made_since(then)`), however late it arrived; a move made
/// here from then on does not count, even if recorded before such a move. The last in the
/// order this device learnt of them, the timeline's: stamps of different devices' clocks
/// would not tell which came first.
const STATUS_THEN: &str = "(SELECT e.to_status FROM request_events e
    WHERE e.request_id = r.id AND (e.at < :then OR e.made_hlc < :made)
    ORDER BY e.id DESC LIMIT 1)";

fn ticket_row<'r>(r: &'r Row<'_>) -> Result<TicketRow<'r>> {
    Ok(TicketRow {
        day: text(r, 0)?,
        for_category: text(r, 1)? == "category",
        target_code: text(r, 2)?,
        lane: text(r, 3)?,
        status: text(r, 4)?,
        counter: opt_text(r, 5)?,
        clerk: opt_text(r, 6)?,
        no_shows: r.get(7)?,
        transfers: r.get(8)?,
        waiting_ms: r.get(9)?,
        service_ms: r.get(10)?,
        issued_at: text(r, 11)?,
        first_call: opt_text(r, 12)?,
        last_call: opt_text(r, 13)?,
    })
}

fn taken_row<'r>(r: &'r Row<'_>) -> Result<TakenRow<'r>> {
    Ok(TakenRow {
        intake_date: text(r, 0)?,
        status: text(r, 1)?,
        service_code: text(r, 2)?,
        category: text(r, 3)?,
        agency: text(r, 4)?,
        fee_minor: r.get(5)?,
        waiver_ground: opt_text(r, 6)?,
        paid_minor: r.get(7)?,
        clerk: text(r, 8)?,
        counter: opt_text(r, 9)?,
    })
}

fn decision_row<'r>(r: &'r Row<'_>) -> Result<DecisionRow<'r>> {
    Ok(DecisionRow {
        event: r.get(0)?,
        request_id: text(r, 1)?,
        to_status: text(r, 2)?,
        reason: opt_text(r, 3)?,
        at: text(r, 4)?,
    })
}

fn rating_row<'r>(r: &'r Row<'_>) -> Result<RatingRow<'r>> {
    Ok(RatingRow {
        rating: r.get(0)?,
        at: text(r, 1)?,
        clerk: text(r, 2)?,
        target_kind: opt_text(r, 3)?,
        target_code: opt_text(r, 4)?,
    })
}

/// A `DueRow` from `id, status, [status then,] receipt, service_code, intake_date, due_date`.
fn due_row<'r>(r: &'r Row<'_>, with_status_then: bool) -> Result<DueRow<'r>> {
    // With the status then, its column comes third and the others one further.
    let at = |i: usize| if with_status_then { i + 1 } else { i };
    Ok(DueRow {
        id: text(r, 0)?,
        status: text(r, 1)?,
        status_then: if with_status_then {
            opt_text(r, 2)?
        } else {
            None
        },
        receipt: text(r, at(2))?,
        service_code: text(r, at(3))?,
        intake_date: text(r, at(4))?,
        due_date: text(r, at(5))?,
    })
}

/// The least text of a stamp made at or after `since`: a stamp's text begins with its wall
/// part, so one made from `since` on sorts at or after this one, and one made before sorts
/// before it. A payment or refund pulled before stamps were kept with it has none (`''`):
/// when it came is all that is known of it.
fn made_since(since: DateTime<Utc>) -> String {
    HlcStamp {
        wall_ms: u64::try_from(since.timestamp_millis()).unwrap_or(0),
        counter: 0,
        node: String::new(),
    }
    .to_string()
}

/// The parameters of a read of the requests taken from `days.0` to `days.1` as they stood at
/// an instant: `:from`, `:to`, `:then` (the instant) and `:made` (`made_since` it).
struct TakenThen {
    from: String,
    to: String,
    then: String,
    made: String,
}

impl TakenThen {
    fn new(days: (NaiveDate, NaiveDate), then: DateTime<Utc>) -> Self {
        TakenThen {
            from: days.0.to_string(),
            to: days.1.to_string(),
            then: then.to_rfc3339(),
            made: made_since(then),
        }
    }

    fn named(&self) -> [(&str, &dyn ToSql); 4] {
        [
            (":from", &self.from),
            (":to", &self.to),
            (":then", &self.then),
            (":made", &self.made),
        ]
    }
}

/// The payments or refunds (`table`) in `:currency` made from `:made_start` to before
/// `:made_end` by their stamp and recorded here from `:end` on: their count, sum and the last
/// time one was recorded. Through the index on the stamp; over a `long` period, whose stamps
/// are many, through the index on the time recorded, from the end on.
fn money_arrived_late(table: &str, long: bool) -> String {
    let hlc = if long { "+hlc" } else { "hlc" };
    format!(
        "SELECT count(*), coalesce(sum(amount_minor), 0), max(at) FROM {table}
         WHERE {hlc} >= :made_start AND {hlc} < :made_end AND at >= :end
            AND currency = :currency"
    )
}

/// The timeline lines pulled from other devices made from `:made_start` to before `:made_end`
/// by the stamp they came with and recorded here from `:end` on: the requests taken (the
/// line of a creation has no status before it), the moves, and the last time one was
/// recorded. Through the index on that stamp, which only such lines have.
const MOVES_ARRIVED_LATE: &str = "SELECT coalesce(sum(from_status IS NULL), 0),
        coalesce(sum(from_status IS NOT NULL), 0), max(at)
    FROM request_events
    WHERE made_hlc >= :made_start AND made_hlc < :made_end AND at >= :end";

/// Payments or refunds made from `start` to before `end`: recorded here in that time and, if
/// another device made them, made there from `start` on too; or made there in that time, by
/// the stamp they came with, and recorded here only after it (a payment taken at another
/// counter on the last evening and synced here the next morning). So a payment or refund
/// counts in the period it was made in, as `paid_since` takes back what was made after one.
/// Over a long period the table is read straight through instead of by its indexes.
struct MadeBetween {
    start: String,
    end: String,
    made_start: String,
    made_end: String,
    long: bool,
}

impl MadeBetween {
    fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        MadeBetween {
            start: start.to_rfc3339(),
            end: end.to_rfc3339(),
            made_start: made_since(start),
            made_end: made_since(end),
            long: (end - start).num_days() >= LONG_PERIOD_DAYS,
        }
    }

    /// The condition on the rows of `table` (a table's name or alias), with the parameters
    /// of `named`: by the index on the time recorded for what was recorded in the period, by
    /// the index on the stamp for what came after it.
    fn condition(&self, table: &str) -> String {
        let column = |name: &str| {
            let column = format!("{table}.{name}");
            if self.long {
                format!("+{column}")
            } else {
                column
            }
        };
        let (at, hlc) = (column("at"), column("hlc"));
        format!(
            "(({at} >= :start AND {at} < :end AND ({table}.hlc = '' OR {table}.hlc >= :made_start))
              OR ({hlc} >= :made_start AND {hlc} < :made_end AND {table}.at >= :end))"
        )
    }

    /// The parameters of `condition`, followed by `more`.
    fn named<'p>(&'p self, more: &[(&'p str, &'p dyn ToSql)]) -> Vec<(&'p str, &'p dyn ToSql)> {
        let mut named: Vec<(&str, &dyn ToSql)> = vec![
            (":start", &self.start),
            (":end", &self.end),
            (":made_start", &self.made_start),
            (":made_end", &self.made_end),
        ];
        named.extend_from_slice(more);
        named
    }
}

/// Hands each row of `stmt` to `each`, as it comes.
fn stream<E: From<Error>>(
    stmt: &mut Statement<'_>,
    params: impl Params,
    mut each: impl FnMut(&Row<'_>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut rows = stmt.query(params).map_err(Error::from)?;
    while let Some(r) = rows.next().map_err(Error::from)? {
        each(r)?;
    }
    Ok(())
}

/// A text column, borrowed from the row.
fn text<'r>(r: &'r Row<'_>, i: usize) -> Result<&'r str> {
    r.get_ref(i)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)).into())
}

/// A nullable text column, borrowed from the row.
fn opt_text<'r>(r: &'r Row<'_>, i: usize) -> Result<Option<&'r str>> {
    r.get_ref(i)?
        .as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)).into())
}

/// A name written before names had languages, the same in every language.
fn plain(name: &str) -> Text {
    let mut text = Text::default();
    text.0.insert("en".to_owned(), name.to_owned());
    text
}

/// `column` for a range condition: as it is for a short run of days, so that SQLite reads its
/// index; with a unary plus for a long one, so that it reads the table straight through
/// instead of jumping from the index to each row.
fn scan(column: &str, days: (NaiveDate, NaiveDate)) -> String {
    if (days.1 - days.0).num_days() >= LONG_PERIOD_DAYS {
        format!("+{column}")
    } else {
        column.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{Days, TimeZone};

    use super::*;
    use crate::clock::ManualClock;

    /// The steps of the plan SQLite makes for `sql`, one a line.
    fn plan(conn: &Connection, sql: &str, named: &[(&str, &dyn ToSql)]) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let steps = stmt.query_map(named, |r| r.get::<_, String>(3)).unwrap();
        steps
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .join("\n")
    }

    #[test]
    fn money_by_time_is_read_through_its_indexes() {
        let start = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let ws = Workstation::open_in_memory(Arc::new(ManualClock::at(start))).unwrap();
        let conn = ws.conn().unwrap();
        let day = MadeBetween::new(start, start + Days::new(1));
        let year = MadeBetween::new(start, start + Days::new(365));
        for table in ["payments", "refunds"] {
            // A day's payments or refunds: those recorded in it by the index by time, those
            // made in it and recorded after it by the index by stamp.
            let steps = |made: &MadeBetween| {
                let sql = format!(
                    "SELECT sum(amount_minor) FROM {table} WHERE {}",
                    made.condition(table)
                );
                plan(conn, &sql, &made.named(&[]))
            };
            let of_a_day = steps(&day);
            for index in ["by_time", "by_stamp"] {
                assert!(of_a_day.contains(&format!("{table}_{index}")), "{of_a_day}");
            }
            // A year's: the table straight through.
            assert_eq!(steps(&year), format!("SCAN {table}"));
        }
        // What was paid or refunded after the end of a period.
        let days = (
            start.date_naive() - Days::new(29),
            start.date_naive() - Days::new(1),
        );
        let steps = plan(conn, PAID_SINCE, &TakenThen::new(days, start).named());
        for index in ["payments_by_time", "refunds_by_time"] {
            assert!(steps.contains(index), "{steps}");
        }
    }

    #[test]
    fn what_arrived_after_a_period_is_read_through_the_indexes_on_stamps() {
        let end = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let ws = Workstation::open_in_memory(Arc::new(ManualClock::at(end))).unwrap();
        let conn = ws.conn().unwrap();
        let (made_start, made_end) = (made_since(end - Days::new(1)), made_since(end));
        let (end, currency) = (end.to_rfc3339(), "EUR");
        let named: [(&str, &dyn ToSql); 4] = [
            (":made_start", &made_start),
            (":made_end", &made_end),
            (":end", &end),
            (":currency", &currency),
        ];
        for table in ["payments", "refunds"] {
            let steps = plan(conn, &money_arrived_late(table, false), &named);
            assert!(steps.contains(&format!("{table}_by_stamp")), "{steps}");
            // A long period's: what was recorded from its end on.
            let steps = plan(conn, &money_arrived_late(table, true), &named);
            assert_eq!(
                steps,
                format!("SEARCH {table} USING INDEX {table}_by_time (at>?)")
            );
        }
        let steps = plan(conn, MOVES_ARRIVED_LATE, &named[..3]);
        assert!(steps.contains("request_events_by_made"), "{steps}");
    }

    #[test]
    fn moves_since_an_end_and_a_status_then_are_read_through_their_indexes() {
        let end = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let ws = Workstation::open_in_memory(Arc::new(ManualClock::at(end))).unwrap();
        let conn = ws.conn().unwrap();
        let (then, made) = (end.to_rfc3339(), made_since(end));
        let named: [(&str, &dyn ToSql); 3] = [(":id", &"r"), (":then", &then), (":made", &made)];
        let since = plan(conn, MOVES_SINCE, &named[1..]);
        assert!(
            since.starts_with("SEARCH request_events USING INDEX request_events_by_time"),
            "{since}"
        );
        let sql = format!("SELECT {STATUS_THEN} FROM requests r WHERE r.id = :id");
        let one = plan(conn, &sql, &named);
        assert!(
            one.contains("USING INDEX request_events_by_request"),
            "{one}"
        );
        assert!(!one.contains("SCAN"), "{one}");
    }
}
