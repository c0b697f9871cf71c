//! The queue at the counters: tickets, call next, recall, no-show, transfer, service, and the
//! visit that links a ticket to the requests taken while the citizen is at the counter; and the
//! citizen's feedback at the end of it.
//!
//! A ticket is named by its display code for the day ("B017"); codes restart each day.

use guichet_domain::account::Act;
use guichet_domain::approval::ApprovedAct;
use guichet_domain::catalogue::Channel;
use guichet_domain::feedback::Feedback;
use guichet_domain::queue::{
    Counter, CounterScope, Lane, Moment, QueueTarget, TicketAction, TicketStatus, Waiting,
    display_code, elapsed_ms, select_next, ticket_transition, waiting_ms,
};
use guichet_domain::zone::Zone;
use guichet_protocol::Change;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::approval::{Approval, approver_for};
use super::{ActionTx, Workstation, read_config};
use crate::error::{Error, Kind, Refused, Result};

/// A ticket to issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicket {
    pub target: QueueTarget,
    pub lane: String,
}

/// Where a transferred ticket goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Transfer {
    /// Back in line, for another service or category.
    Queue(QueueTarget),
    /// To one counter in particular.
    Counter(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TicketView {
    pub id: String,
    pub code: String,
    pub day: String,
    pub target: QueueTarget,
    pub lane: String,
    pub status: TicketStatus,
    pub counter: Option<String>,
    pub calls: u32,
    pub no_shows: u32,
    pub issued_at: String,
    pub waiting_ms: Option<u64>,
    pub service_ms: Option<u64>,
    pub visit: Option<String>,
}

/// A line of the waiting list, with how long the citizen has waited so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WaitingEntry {
    pub code: String,
    pub target: QueueTarget,
    pub lane: String,
    pub status: TicketStatus,
    pub counter: Option<String>,
    pub waited_ms: u64,
}

/// A ticket called to a counter, as the waiting room's display shows it: no name, only the
/// code printed on the citizen's ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Call {
    pub code: String,
    pub counter: String,
    /// The counter as the centre names it.
    pub counter_name: String,
    /// How many times it was called: a recall is a new call.
    pub calls: u32,
    /// When it was last called (RFC 3339).
    pub at: String,
    /// Called and not yet at the counter: the citizen is expected there now.
    pub expected: bool,
}

/// What the waiting room's display shows: the day's latest calls, newest first, and how
/// many wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CallingBoard {
    pub center_name: String,
    /// The centre's time zone, which the times of the calls are shown in.
    pub time_zone: Zone,
    pub day: String,
    pub calls: Vec<Call>,
    pub waiting: u64,
}

const TICKET_COLUMNS: &str = "t.id, t.code, t.day, t.target_kind, t.target_code, t.lane, t.status,
    t.counter, t.calls, t.no_shows, t.issued_at, t.waiting_ms, t.service_ms,
    (SELECT v.id FROM visits v WHERE v.ticket_id = t.id ORDER BY v.started_at DESC, v.rowid DESC LIMIT 1)";

impl Workstation {
    /// Adds a counter (window) and what it serves.
    pub fn add_counter(&mut self, counter: &Counter) -> Result<()> {
        self.write_for(Act::Administer, |change| {
            add_counter_in(change, counter, true)
        })
    }

    /// Adds a priority lane or changes one (its name and rank). Lower ranks are called first.
    pub fn set_lane(&mut self, lane: &Lane) -> Result<()> {
        if !guichet_domain::catalogue::is_valid_code(&lane.code) {
            return Err(Error::Invalid(format!(
                "lane code '{}' is not valid: use letters, digits, '-', '_' or '.'",
                lane.code
            )));
        }
        if let Some(lang) = lane.name.missing_languages().first() {
            return Err(Error::Invalid(format!(
                "lane '{}' needs a name in '{lang}' too",
                lane.code
            )));
        }
        for name in lane.name.0.values() {
            check_label("lane", &lane.code, name)?;
        }
        self.write_for(Act::Administer, |change| {
            change.tx.execute(
                "INSERT INTO lanes (code, name, rank) VALUES (?1, ?2, ?3)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, rank = excluded.rank",
                params![lane.code, serde_json::to_string(&lane.name)?, lane.rank],
            )?;
            change.record_local("lane.set", "lane", &lane.code, serde_json::to_value(lane)?)?;
            Ok(())
        })
    }

    /// The priority lanes, in the order they are called.
    pub fn lanes(&self) -> Result<Vec<Lane>> {
        let mut stmt = self
            .conn()?
            .prepare("SELECT code, name, rank FROM lanes ORDER BY rank, code")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (code, name, rank) = row?;
            out.push(Lane {
                code,
                name: serde_json::from_str(&name)?,
                rank,
            });
        }
        Ok(out)
    }

    pub fn counters(&self) -> Result<Vec<Counter>> {
        let mut stmt = self
            .conn()?
            .prepare("SELECT code, name, scope FROM counters ORDER BY code")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (code, name, scope) = row?;
            out.push(Counter {
                code,
                name,
                scope: serde_json::from_str(&scope)?,
            });
        }
        Ok(out)
    }

    /// Issues a ticket for a service or a category, in a priority lane.
    pub fn issue_ticket(&mut self, new: &NewTicket) -> Result<TicketView> {
        let category = match &new.target {
            QueueTarget::Service(s) => self.service(s)?.category,
            QueueTarget::Category(c) => {
                self.check_code("categories", Kind::Category, c)?;
                c.clone()
            }
        };
        let id = uuid::Uuid::now_v7().to_string();
        self.write(|change| {
            let lane_known: bool = change.tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM lanes WHERE code = ?1)",
                [&new.lane],
                |r| r.get(0),
            )?;
            if !lane_known {
                let lanes: Vec<String> = change
                    .tx
                    .prepare("SELECT code FROM lanes ORDER BY rank, code")?
                    .query_map([], |r| r.get(0))?
                    .collect::<std::result::Result<_, _>>()?;
                return Err(Error::not_found(
                    Kind::Lane,
                    new.lane.clone(),
                    &format!("; lanes are: {}", lanes.join(", ")),
                ));
            }
            let letter: String = change.tx.query_row(
                "SELECT queue_letter FROM categories WHERE code = ?1",
                [&category],
                |r| r.get(0),
            )?;
            let day = read_config(change.tx)?
                .map(|c| c.time_zone)
                .unwrap_or_default()
                .day_of(change.now.wall)
                .to_string();
            let number: u32 = change.tx.query_row(
                "INSERT INTO ticket_numbers (day, letter, last) VALUES (?1, ?2, 1)
                 ON CONFLICT (day, letter) DO UPDATE SET last = last + 1
                 RETURNING last",
                params![day, letter],
                |r| r.get(0),
            )?;
            let code = display_code(letter.chars().next().unwrap_or('X'), number);
            let (kind, target) = target_columns(&new.target);
            change.tx.execute(
                "INSERT INTO tickets (id, day, code, target_kind, target_code, lane, status,
                    issued, issued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'waiting', ?7, ?8)",
                params![
                    id,
                    day,
                    code,
                    kind,
                    target,
                    new.lane,
                    serde_json::to_string(&change.now)?,
                    change.at(),
                ],
            )?;
            change.record(&Change::TicketIssued {
                id: id.clone(),
                code,
                target: new.target.clone(),
                lane: new.lane.clone(),
            })?;
            Ok(())
        })?;
        self.ticket_by_id(&id)
    }

    /// Calls the next citizen this counter can serve: priority lanes first, then arrival.
    /// Returns None when nobody is waiting for it.
    pub fn call_next(&mut self, counter: &str) -> Result<Option<TicketView>> {
        let counter = self.counter(counter)?;
        let categories = self.service_categories()?;
        let called = self.write(|change| {
            busy_check(change, &counter.code)?;
            let waiting = waiting_tickets(change.tx)?;
            let Some(next) = select_next(&waiting, &counter, |s| categories.get(s).cloned()) else {
                return Ok(None);
            };
            let id = next.id.clone();
            ticket_step(change, &id, TicketAction::Call, Some(&counter.code), None)?;
            Ok(Some(id))
        })?;
        called.map(|id| self.ticket_by_id(&id)).transpose()
    }

    /// Calls the same ticket again (the citizen did not come, or came back after a no-show).
    /// Recalling a no-show puts the citizen before those waiting, so it needs a supervisor's
    /// `approval`; a recall of a ticket still called ignores it.
    pub fn recall(&mut self, ticket: &str, approval: Option<&Approval>) -> Result<TicketView> {
        self.require(Act::Counter)?;
        let id = self.ticket_id(ticket)?;
        let from = ticket_status(self.conn()?, &id)?;
        ticket_transition(ticket, from, TicketAction::Recall)?;
        let approver = match ApprovedAct::for_ticket_step(TicketAction::Recall, from) {
            Some(act) => Some(self.approve(act, approval)?),
            None => None,
        };
        self.write(|change| {
            ticket_step(change, &id, TicketAction::Recall, None, approver.as_deref())
        })?;
        self.ticket_by_id(&id)
    }

    /// The citizen did not come when called.
    pub fn no_show(&mut self, ticket: &str) -> Result<TicketView> {
        self.ticket_action(ticket, TicketAction::NoShow)
    }

    /// The citizen is at the counter: service starts and a visit opens.
    pub fn start_service(&mut self, ticket: &str) -> Result<TicketView> {
        self.ticket_action(ticket, TicketAction::Start)
    }

    /// Service ends and the visit closes.
    pub fn finish_service(&mut self, ticket: &str) -> Result<TicketView> {
        self.ticket_action(ticket, TicketAction::Finish)
    }

    /// Sends a ticket to another queue or counter; it keeps its place in arrival order.
    pub fn transfer(&mut self, ticket: &str, to: &Transfer) -> Result<TicketView> {
        match to {
            Transfer::Queue(QueueTarget::Service(s)) => {
                self.service(s)?;
            }
            Transfer::Queue(QueueTarget::Category(c)) => {
                self.check_code("categories", Kind::Category, c)?;
            }
            Transfer::Counter(c) => {
                self.counter(c)?;
            }
        }
        let id = self.ticket_id(ticket)?;
        self.write(|change| {
            let from = ticket_status(change.tx, &id)?;
            ticket_transition(ticket, from, TicketAction::Transfer)?;
            match to {
                Transfer::Queue(target) => {
                    let (kind, code) = target_columns(target);
                    change.tx.execute(
                        "UPDATE tickets SET status = 'waiting', target_kind = ?2, target_code = ?3,
                            counter = NULL, transfers = transfers + 1 WHERE id = ?1",
                        params![id, kind, code],
                    )?;
                }
                Transfer::Counter(counter) => {
                    change.tx.execute(
                        "UPDATE tickets SET status = 'waiting', counter = ?2,
                            transfers = transfers + 1 WHERE id = ?1",
                        params![id, counter],
                    )?;
                }
            }
            close_visit(change, &id)?;
            let (to_queue, to_counter) = match to {
                Transfer::Queue(target) => (Some(target.clone()), None),
                Transfer::Counter(counter) => (None, Some(counter.clone())),
            };
            change.record(&Change::TicketTransferred {
                id: id.clone(),
                from,
                to_queue,
                to_counter,
            })?;
            Ok(())
        })?;
        self.ticket_by_id(&id)
    }

    /// Tickets not yet served, in the order they would be called, with live waiting times.
    pub fn waiting_list(&self) -> Result<Vec<WaitingEntry>> {
        let now = self.now();
        let mut stmt = self.conn()?.prepare_cached(
            "SELECT t.code, t.target_kind, t.target_code, t.lane, t.status, t.counter, t.issued
             FROM tickets t JOIN lanes l ON l.code = t.lane
             WHERE t.status IN ('waiting', 'called', 'no_show')
             ORDER BY t.status <> 'called', l.rank, t.arrival",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (code, kind, target, lane, status, counter, issued) = row?;
            let issued: Moment = serde_json::from_str(&issued)?;
            out.push(WaitingEntry {
                code,
                target: target_from(&kind, target),
                lane,
                status: TicketStatus::parse(&status)?,
                counter,
                waited_ms: elapsed_ms(&issued, &now),
            });
        }
        Ok(out)
    }

    /// The waiting room's display: the last `last` calls of the day, newest first. It needs
    /// the database open (a clerk logged in here), not a session of its own: it shows codes
    /// and counters, nothing about anyone.
    pub fn calling_board(&self, last: usize) -> Result<CallingBoard> {
        let day = self.today().to_string();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT t.code, t.counter, c.name, t.calls, json_extract(t.last_call, '$.wall'),
                t.status
             FROM tickets t JOIN counters c ON c.code = t.counter
             WHERE t.day = ?1 AND t.last_call IS NOT NULL
             ORDER BY json_extract(t.last_call, '$.wall') DESC, t.arrival DESC LIMIT ?2",
        )?;
        let last = i64::try_from(last).unwrap_or(i64::MAX);
        let calls = stmt
            .query_map(params![day, last], |r| {
                Ok(Call {
                    code: r.get(0)?,
                    counter: r.get(1)?,
                    counter_name: r.get(2)?,
                    calls: r.get(3)?,
                    at: r.get(4)?,
                    expected: r.get::<_, String>(5)? == TicketStatus::Called.as_str(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let waiting = conn.query_row(
            "SELECT count(*) FROM tickets WHERE day = ?1 AND status = 'waiting'",
            [&day],
            |r| r.get(0),
        )?;
        let center_name = read_config(conn)?
            .map(|c| c.center_name)
            .unwrap_or_default();
        Ok(CallingBoard {
            center_name,
            time_zone: self.zone(),
            day,
            calls,
            waiting,
        })
    }

    /// How many wait before the ticket with this display code today, in the order they would
    /// be called (all who wait, when it is not waiting).
    pub fn people_ahead(&self, code: &str) -> Result<usize> {
        let waiting = self.waiting_list()?;
        Ok(waiting
            .iter()
            .position(|w| w.code == code)
            .unwrap_or(waiting.len()))
    }

    /// The ticket with this display code today (or this id).
    pub fn ticket(&self, ticket: &str) -> Result<TicketView> {
        let id = self.ticket_id(ticket)?;
        self.ticket_by_id(&id)
    }

    /// The ticket a counter has called or is serving now, if any (the newest when several).
    pub fn counter_ticket(&self, counter: &str) -> Result<Option<TicketView>> {
        let id: Option<String> = self
            .conn()?
            .query_row(
                "SELECT id FROM tickets WHERE counter = ?1 AND status IN ('called', 'serving')
                 ORDER BY day DESC, rowid DESC LIMIT 1",
                [counter.trim()],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|id| self.ticket_by_id(&id)).transpose()
    }

    /// The tickets of the local day that a counter has called or is serving: citizens at a
    /// counter of this workstation now (an update waits for them).
    pub fn tickets_at_counters(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn()?.prepare(
            "SELECT code FROM tickets WHERE day = ?1 AND status IN ('called', 'serving')
             ORDER BY code",
        )?;
        let codes = stmt
            .query_map([self.today().to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(codes)
    }

    /// The open visit of a ticket being served, for linking requests to it.
    pub fn open_visit(&self, ticket: &str) -> Result<String> {
        let view = self.ticket(ticket)?;
        match (view.status, view.visit) {
            (TicketStatus::Serving, Some(visit)) => Ok(visit),
            _ => Err(Error::Invalid(format!(
                "ticket {} is {}, not being served: start serving it first",
                view.code,
                view.status.as_str()
            ))),
        }
    }

    /// Records the citizen's rating of a visit (identified by its ticket).
    pub fn record_feedback(
        &mut self,
        ticket: &str,
        rating: u8,
        comment: Option<&str>,
        channel: Channel,
    ) -> Result<()> {
        if let Some(comment) = comment {
            super::requests::plain_text(crate::error::TextOf::Comment, comment, true)?;
        }
        let feedback = Feedback::new(rating, comment, channel)?;
        let view = self.ticket(ticket)?;
        let Some(visit) = view.visit else {
            return Err(Refused::NeverServed { ticket: view.code }.into());
        };
        self.write(|change| {
            let stamp = change.stamp();
            let id = uuid::Uuid::now_v7().to_string();
            let added = change.tx.execute(
                "INSERT OR IGNORE INTO feedback (id, visit_id, rating, comment, channel, at, hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    visit,
                    feedback.rating,
                    feedback.comment,
                    feedback.channel.as_str(),
                    change.at(),
                    stamp.to_string(),
                ],
            )?;
            if added == 0 {
                return Err(Error::Duplicate {
                    kind: Kind::Feedback,
                    key: view.code.clone(),
                });
            }
            change.record(&Change::FeedbackRecorded {
                id,
                visit: visit.clone(),
                feedback: feedback.clone(),
            })?;
            Ok(())
        })
    }

    fn ticket_action(&mut self, ticket: &str, action: TicketAction) -> Result<TicketView> {
        let id = self.ticket_id(ticket)?;
        self.write(|change| ticket_step(change, &id, action, None, None))?;
        self.ticket_by_id(&id)
    }

    fn counter(&self, code: &str) -> Result<Counter> {
        self.counters()?
            .into_iter()
            .find(|c| c.code == code)
            .ok_or_else(|| Error::not_found(Kind::Counter, code, "; add the counter first"))
    }

    fn service_categories(&self) -> Result<std::collections::HashMap<String, String>> {
        let mut stmt = self
            .conn()?
            .prepare_cached("SELECT code, category FROM services")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn ticket_id(&self, ticket: &str) -> Result<String> {
        let code = ticket.trim().to_ascii_uppercase();
        let today = self.today().to_string();
        self.conn()?
            .query_row(
                "SELECT id FROM tickets WHERE (day = ?1 AND code = ?2) OR id = ?3
                 ORDER BY day DESC LIMIT 1",
                params![today, code, ticket.trim()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                Error::not_found(
                    Kind::Ticket,
                    ticket.trim(),
                    " today; check its code in the waiting list",
                )
            })
    }

    fn ticket_by_id(&self, id: &str) -> Result<TicketView> {
        let row = self.conn()?.query_row(
            &format!("SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = ?1"),
            [id],
            |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ),
                    (
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, u32>(8)?,
                        r.get::<_, u32>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, Option<u64>>(11)?,
                        r.get::<_, Option<u64>>(12)?,
                        r.get::<_, Option<String>>(13)?,
                    ),
                ))
            },
        )?;
        let ((id, code, day, kind, target, lane, status), (counter, calls, no_shows, at, w, s, v)) =
            row;
        Ok(TicketView {
            id,
            code,
            day,
            target: target_from(&kind, target),
            lane,
            status: TicketStatus::parse(&status)?,
            counter,
            calls,
            no_shows,
            issued_at: at,
            waiting_ms: w,
            service_ms: s,
            visit: v,
        })
    }
}

/// Adds a counter inside an open change, checking what it serves against the catalogue held
/// in that same transaction.
/// Adds a counter in a change. `shared`: the change goes to the back office under the clerk's
/// name; the counters an enrolled device gets at enrolment have no clerk yet, and stay an
/// audited local set-up.
pub(crate) fn add_counter_in(
    change: &mut ActionTx<'_>,
    counter: &Counter,
    shared: bool,
) -> Result<()> {
    if !guichet_domain::catalogue::is_valid_code(&counter.code) {
        return Err(Error::Invalid(format!(
            "counter code '{}' is not valid: use letters, digits, '-', '_' or '.'",
            counter.code
        )));
    }
    check_label("counter", &counter.code, &counter.name)?;
    if let CounterScope::Listed {
        services,
        categories,
    } = &counter.scope
    {
        if services.is_empty() && categories.is_empty() {
            return Err(Error::Invalid(
                "a counter must serve something: list services or categories, or serve all".into(),
            ));
        }
        for (table, kind, codes) in [
            ("services", Kind::Service, services),
            ("categories", Kind::Category, categories),
        ] {
            for code in codes {
                let known: bool = change.tx.query_row(
                    &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE code = ?1)"),
                    [code],
                    |r| r.get(0),
                )?;
                if !known {
                    return Err(Error::not_found(
                        kind,
                        code.clone(),
                        "; the catalogue lists them",
                    ));
                }
            }
        }
    }
    let added = change.tx.execute(
        "INSERT OR IGNORE INTO counters (code, name, scope) VALUES (?1, ?2, ?3)",
        params![
            counter.code,
            counter.name,
            serde_json::to_string(&counter.scope)?
        ],
    )?;
    if added == 0 {
        return Err(Error::Duplicate {
            kind: Kind::Counter,
            key: counter.code.clone(),
        });
    }
    let added = Change::CounterAdded {
        counter: counter.clone(),
    };
    if shared {
        change.record(&added)?;
    } else {
        change.record_local(
            added.kind(),
            "counter",
            &counter.code,
            serde_json::to_value(&added)?,
        )?;
    }
    Ok(())
}

fn target_columns(target: &QueueTarget) -> (&'static str, &str) {
    match target {
        QueueTarget::Service(s) => ("service", s),
        QueueTarget::Category(c) => ("category", c),
    }
}

fn target_from(kind: &str, code: String) -> QueueTarget {
    if kind == "category" {
        QueueTarget::Category(code)
    } else {
        QueueTarget::Service(code)
    }
}

fn ticket_status(tx: &rusqlite::Connection, id: &str) -> Result<TicketStatus> {
    let status: String = tx.query_row("SELECT status FROM tickets WHERE id = ?1", [id], |r| {
        r.get(0)
    })?;
    Ok(TicketStatus::parse(&status)?)
}

/// A counter calls one citizen at a time.
fn busy_check(change: &ActionTx<'_>, counter: &str) -> Result<()> {
    let busy: Option<(String, String)> = change
        .tx
        .query_row(
            "SELECT code, status FROM tickets
             WHERE counter = ?1 AND status IN ('called', 'serving') LIMIT 1",
            [counter],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match busy {
        Some((ticket, status)) => Err(Refused::CounterBusy {
            counter: counter.to_owned(),
            ticket,
            status: TicketStatus::parse(&status)?,
        }
        .into()),
        None => Ok(()),
    }
}

fn waiting_tickets(tx: &rusqlite::Connection) -> Result<Vec<Waiting>> {
    let mut stmt = tx.prepare_cached(
        "SELECT t.id, l.rank, t.arrival, t.target_kind, t.target_code, t.counter
         FROM tickets t JOIN lanes l ON l.code = t.lane WHERE t.status = 'waiting'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u8>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, rank, arrival, kind, code, counter) = row?;
        out.push(Waiting {
            id,
            lane_rank: rank,
            arrival,
            target: target_from(&kind, code),
            counter,
        });
    }
    Ok(out)
}

/// Applies one ticket action: the status through the domain table, then the moments and
/// durations it fixes. `approver` is the supervisor checked for a step that needs one.
fn ticket_step(
    change: &mut ActionTx<'_>,
    id: &str,
    action: TicketAction,
    counter: Option<&str>,
    approver: Option<&str>,
) -> Result<()> {
    let (code, status, issued, first_call, last_call, started, no_shows): (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        u32,
    ) = change.tx.query_row(
        "SELECT code, status, issued, first_call, last_call, started, no_shows
         FROM tickets WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        },
    )?;
    let from = TicketStatus::parse(&status)?;
    let to = ticket_transition(&code, from, action)?;
    let approver = approver_for(ApprovedAct::for_ticket_step(action, from), approver)?;
    let now = serde_json::to_string(&change.now)?;
    let tx = change.tx;
    match action {
        TicketAction::Call | TicketAction::Recall => {
            tx.execute(
                "UPDATE tickets SET status = ?2, calls = calls + 1,
                    first_call = coalesce(first_call, ?3), last_call = ?3,
                    counter = coalesce(?4, counter), clerk = ?5
                 WHERE id = ?1",
                params![id, to.as_str(), now, counter, change.actor],
            )?;
        }
        TicketAction::NoShow => {
            tx.execute(
                "UPDATE tickets SET status = ?2, no_shows = no_shows + 1 WHERE id = ?1",
                params![id, to.as_str()],
            )?;
        }
        TicketAction::Start => {
            let issued: Moment = serde_json::from_str(&issued)?;
            let first: Option<Moment> = first_call
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?;
            let last: Option<Moment> =
                last_call.as_deref().map(serde_json::from_str).transpose()?;
            let waited = waiting_ms(&issued, first.as_ref(), last.as_ref(), no_shows > 0);
            tx.execute(
                "UPDATE tickets SET status = ?2, started = ?3, waiting_ms = ?4, clerk = ?5
                 WHERE id = ?1",
                params![id, to.as_str(), now, waited, change.actor],
            )?;
            let visit = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO visits (id, ticket_id, counter, clerk, started_at)
                 SELECT ?1, id, counter, ?2, ?3 FROM tickets WHERE id = ?4",
                params![visit, change.actor, change.at(), id],
            )?;
        }
        TicketAction::Finish => {
            let started: Moment = serde_json::from_str(started.as_deref().unwrap_or("null"))?;
            let served = elapsed_ms(&started, &change.now);
            tx.execute(
                "UPDATE tickets SET status = ?2, ended = ?3, service_ms = ?4 WHERE id = ?1",
                params![id, to.as_str(), now, served],
            )?;
            close_visit(change, id)?;
        }
        TicketAction::Transfer => {
            return Err(Error::Invalid(
                "internal: transfers go through Workstation::transfer".into(),
            ));
        }
    }
    change.record(&Change::TicketStep {
        id: id.to_owned(),
        code,
        action,
        from,
        to,
        counter: counter.map(str::to_owned),
        approver,
    })?;
    Ok(())
}

fn close_visit(change: &ActionTx<'_>, ticket_id: &str) -> Result<()> {
    change.tx.execute(
        "UPDATE visits SET ended_at = ?2 WHERE ticket_id = ?1 AND ended_at IS NULL",
        params![ticket_id, change.at()],
    )?;
    Ok(())
}

/// The longest name of a counter or a holiday, in characters.
pub(crate) const MAX_LABEL_CHARS: usize = 80;

/// A counter's, a holiday's or a lane's name: said on screens and tickets, so not empty, not
/// too long, and without a character the screen would not show as it is.
pub(crate) fn check_label(kind: &str, key: &str, name: &str) -> Result<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Invalid(format!(
            "{kind} '{key}' needs a name, which the screens and tickets show: nothing was added"
        )));
    }
    let len = name.chars().count();
    if len > MAX_LABEL_CHARS {
        return Err(Error::Invalid(format!(
            "the name of {kind} '{key}' has {len} characters: at most {MAX_LABEL_CHARS}"
        )));
    }
    if let Some(problem) = guichet_domain::text::hidden_problem(name, false) {
        return Err(Error::Invalid(format!(
            "the name of {kind} '{key}' {problem}: type it again without it"
        )));
    }
    Ok(())
}
