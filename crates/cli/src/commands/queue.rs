//! `guichet counter`, `guichet queue` and `guichet feedback`: the counters, the tickets, and
//! the citizen's rating at the end of a visit.

use std::fmt::Write as _;

use guichet_domain::queue::{Counter, CounterScope, Lane, QueueTarget};
use guichet_domain::text::Text;
use guichet_workstation::Workstation;
use guichet_workstation::store::{NewTicket, TicketView, Transfer};

use super::Context;
use super::session::{Secrets, approval};
use crate::cli::{CounterCommand, FeedbackArgs, QueueCommand};
use crate::error::{CliError, Result};
use crate::output::{Report, Table, minutes, target, when};

pub fn counter(ws: &mut Workstation, cmd: &CounterCommand) -> Result<Report> {
    match cmd {
        CounterCommand::Add {
            code,
            name,
            all,
            services,
            categories,
        } => {
            let counter = Counter {
                code: code.trim().to_owned(),
                name: name.trim().to_owned(),
                scope: if *all {
                    CounterScope::All
                } else {
                    CounterScope::Listed {
                        services: services.clone(),
                        categories: categories.clone(),
                    }
                },
            };
            ws.add_counter(&counter)?;
            Report::new(&counter, |out| {
                writeln!(
                    out,
                    "counter {} ({}) added: serves {}",
                    counter.code,
                    counter.name,
                    scope(&counter.scope)
                )
            })
        }
        CounterCommand::List => {
            let counters = ws.counters()?;
            Report::new(&counters, |out| {
                if counters.is_empty() {
                    return writeln!(
                        out,
                        "no counters yet; add one with `guichet counter add CODE --name NAME --all`"
                    );
                }
                let mut table = Table::new(&["COUNTER", "NAME", "SERVES"]);
                for c in &counters {
                    table.row(vec![c.code.clone(), c.name.clone(), scope(&c.scope)]);
                }
                table.write(out, "")
            })
        }
    }
}

/// What a counter serves, in a few words.
pub fn scope(scope: &CounterScope) -> String {
    match scope {
        CounterScope::All => "all services".to_owned(),
        CounterScope::Listed {
            services,
            categories,
        } => {
            let mut parts = Vec::new();
            if !categories.is_empty() {
                parts.push(format!("categories {}", categories.join(", ")));
            }
            if !services.is_empty() {
                parts.push(format!("services {}", services.join(", ")));
            }
            parts.join("; ")
        }
    }
}

pub fn queue(
    ws: &mut Workstation,
    ctx: &Context,
    cmd: &QueueCommand,
    secrets: &mut Secrets,
) -> Result<Report> {
    match cmd {
        QueueCommand::Issue { target, lane } => {
            let target = match (&target.service, &target.category) {
                (Some(s), None) => QueueTarget::Service(s.clone()),
                (None, Some(c)) => QueueTarget::Category(c.clone()),
                _ => {
                    return Err(CliError::Usage(
                        "issue a ticket with either --service CODE or --category CODE".into(),
                    ));
                }
            };
            let ticket = ws.issue_ticket(&NewTicket {
                target,
                lane: lane.trim().to_owned(),
            })?;
            Report::new(&ticket, |out| {
                writeln!(out, "\n    Ticket  {}\n", ticket.code)?;
                writeln!(
                    out,
                    "  for {}, lane {}, issued {}",
                    crate::output::target(&ticket.target),
                    ticket.lane,
                    when(&ticket.issued_at)
                )
            })
        }
        QueueCommand::Next { counter } => {
            let called = ws.call_next(counter)?;
            let value = serde_json::json!({ "counter": counter, "called": called });
            Report::new(&value, |out| match &called {
                Some(t) => writeln!(
                    out,
                    "call {} to counter {counter} ({}, lane {})",
                    t.code,
                    crate::output::target(&t.target),
                    t.lane
                ),
                None => writeln!(out, "nobody is waiting for counter {counter}"),
            })
        }
        QueueCommand::Recall { ticket, approver } => {
            let approval = approval(approver.as_deref(), secrets)?;
            ticket_report(&ws.recall(ticket, approval.as_ref())?, "recalled")
        }
        QueueCommand::NoShow { ticket } => ticket_report(&ws.no_show(ticket)?, "marked no-show"),
        QueueCommand::Start { ticket } => {
            ticket_report(&ws.start_service(ticket)?, "now being served")
        }
        QueueCommand::Finish { ticket } => ticket_report(&ws.finish_service(ticket)?, "finished"),
        QueueCommand::Transfer {
            ticket,
            service,
            category,
            counter,
        } => {
            let to = match (service, category, counter) {
                (Some(s), None, None) => Transfer::Queue(QueueTarget::Service(s.clone())),
                (None, Some(c), None) => Transfer::Queue(QueueTarget::Category(c.clone())),
                (None, None, Some(c)) => Transfer::Counter(c.clone()),
                _ => {
                    return Err(CliError::Usage(
                        "transfer a ticket to one of --service, --category or --counter".into(),
                    ));
                }
            };
            ticket_report(&ws.transfer(ticket, &to)?, "transferred")
        }
        QueueCommand::List => {
            let waiting = ws.waiting_list()?;
            Report::new(&waiting, |out| {
                if waiting.is_empty() {
                    return writeln!(out, "nobody is waiting");
                }
                let mut table =
                    Table::new(&["TICKET", "FOR", "LANE", "STATUS", "COUNTER", "WAITED"]);
                for w in &waiting {
                    table.row(vec![
                        w.code.clone(),
                        target(&w.target),
                        w.lane.clone(),
                        w.status.as_str().to_owned(),
                        w.counter.clone().unwrap_or_default(),
                        format!("{} min", minutes(w.waited_ms)),
                    ]);
                }
                table.write(out, "")
            })
        }
        QueueCommand::Lanes => lanes(ws, ctx),
        QueueCommand::Lane {
            code,
            rank,
            name_en,
            name_fr,
        } => {
            ws.set_lane(&Lane {
                code: code.trim().to_owned(),
                name: Text::en_fr(name_en.trim(), name_fr.trim()),
                rank: *rank,
            })?;
            lanes(ws, ctx)
        }
    }
}

fn lanes(ws: &Workstation, ctx: &Context) -> Result<Report> {
    let lanes = ws.lanes()?;
    Report::new(&lanes, |out| {
        let mut table = Table::new(&["LANE", "RANK", "NAME"]);
        for lane in &lanes {
            table.row(vec![
                lane.code.clone(),
                lane.rank.to_string(),
                lane.name.get(ctx.lang).to_owned(),
            ]);
        }
        table.write(out, "")
    })
}

fn ticket_report(ticket: &TicketView, what: &str) -> Result<Report> {
    Report::new(ticket, |out| {
        write!(out, "ticket {} {what}", ticket.code)?;
        if let Some(counter) = &ticket.counter {
            write!(out, " at counter {counter}")?;
        }
        writeln!(out, " ({})", ticket.status.as_str())?;
        if let Some(ms) = ticket.waiting_ms {
            writeln!(out, "  waited {} min", minutes(ms))?;
        }
        if let Some(ms) = ticket.service_ms {
            writeln!(out, "  served in {} min", minutes(ms))?;
        }
        Ok(())
    })
}

pub fn feedback(ws: &mut Workstation, args: &FeedbackArgs) -> Result<Report> {
    let channel = match args.channel {
        Some(c) => c,
        None => ws.config()?.channel,
    };
    ws.record_feedback(&args.ticket, args.rating, args.comment.as_deref(), channel)?;
    let value = serde_json::json!({
        "ticket": args.ticket.trim().to_ascii_uppercase(),
        "rating": args.rating,
        "comment": args.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()),
        "channel": channel,
    });
    Report::new(&value, |out| {
        writeln!(
            out,
            "feedback recorded for ticket {}: {}/5",
            args.ticket.trim().to_ascii_uppercase(),
            args.rating
        )
    })
}
