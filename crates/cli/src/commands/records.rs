//! `guichet holiday`, `guichet audit verify` and `guichet outbox`.

use std::fmt::Write as _;

use guichet_workstation::Workstation;

use crate::cli::{AuditCommand, HolidayCommand, OutboxArgs};
use crate::error::{CliError, Result};
use crate::output::{Report, Table, when, wire_name};

pub fn holiday(ws: &mut Workstation, cmd: &HolidayCommand) -> Result<Report> {
    match cmd {
        HolidayCommand::Add { date, name } => {
            let name = name.join(" ");
            ws.add_holiday(*date, &name)?;
            let value = serde_json::json!({ "date": date, "name": name.trim() });
            Report::new(&value, |out| {
                writeln!(
                    out,
                    "holiday {date} ({}) added: due dates skip it from now on",
                    name.trim()
                )
            })
        }
    }
}

pub fn audit(ws: &Workstation, cmd: &AuditCommand) -> Result<Report> {
    match cmd {
        AuditCommand::Verify => match ws.verify_audit()?.result {
            Ok(summary) => Report::new(&summary, |out| {
                writeln!(out, "audit chain intact: {} events", summary.events)
            }),
            Err(broken) => Err(CliError::AuditBroken(broken)),
        },
    }
}

pub fn outbox(ws: &Workstation, args: &OutboxArgs) -> Result<Report> {
    let entries = ws.outbox(args.state.map(Into::into), args.limit)?;
    Report::new(&entries, |out| {
        if entries.is_empty() {
            return writeln!(out, "the outbox is empty");
        }
        let mut table = Table::new(&["SEQ", "AT", "CHANGE", "ENTITY", "STATE", "REASON"]);
        for e in &entries {
            table.row(vec![
                e.seq.to_string(),
                when(&e.created_at),
                e.kind.clone(),
                e.entity_id.clone(),
                wire_name(&e.state),
                e.reason.clone().unwrap_or_default(),
            ]);
        }
        table.write(out, "")
    })
}
