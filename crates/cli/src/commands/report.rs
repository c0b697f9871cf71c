//! `guichet report daily`: the supervisor's report of this centre, written as CSV, XLSX or
//! PDF. Everything typed is checked before anything is computed or written, and the output
//! appears whole or not at all.

use std::fmt::Write as _;

use guichet_report::{ExportRequest, Format, Locale};
use guichet_workstation::Workstation;

use super::Context;
use crate::cli::{ReportCommand, ReportDailyArgs, ReportFormat};
use crate::error::Result;
use crate::output::{Report, fields};

pub fn run(ws: &Workstation, ctx: &Context, cmd: &ReportCommand) -> Result<Report> {
    match cmd {
        ReportCommand::Daily(args) => daily(ws, ctx, args),
    }
}

fn daily(ws: &Workstation, ctx: &Context, args: &ReportDailyArgs) -> Result<Report> {
    let to = args.to.unwrap_or(args.date);
    let format = match args.format {
        ReportFormat::Csv => Format::Csv,
        ReportFormat::Xlsx => Format::Xlsx,
        ReportFormat::Pdf => Format::Pdf,
    };
    let locale = Locale::parse(ctx.lang)?;
    let report = guichet_report::export(
        ws,
        &ExportRequest {
            from: args.date,
            to,
            format,
            locale,
            cash_counted: args.cash_counted.as_deref(),
            out: &args.out,
            replace: false,
            progress: None,
        },
    )?;
    let money = |minor: i64| locale.money(minor, &report.money.currency);
    let value = serde_json::json!({
        "format": format,
        "out": args.out,
        "from": report.header.from,
        "to": report.header.to,
        "empty": report.empty,
        "clean": report.sync.clean,
        "sync": report.sync.statement,
        "arrived_late": report.late,
        "tickets_issued": report.queue.issued,
        "requests_taken": report.requests.taken,
        "collected_minor": report.money.collected_minor,
        "cash_difference_minor": report.money.cash_difference_minor,
    });
    Report::new(&value, |out| {
        writeln!(
            out,
            "{} report for {} to {} written to {}",
            format.as_str(),
            report.header.from,
            report.header.to,
            args.out.display()
        )?;
        let mut lines = vec![
            ("tickets", report.queue.issued.to_string()),
            ("requests", report.requests.taken.to_string()),
            ("overdue", report.requests.overdue_count.to_string()),
            ("collected", money(report.money.collected_minor)),
        ];
        if let Some(diff) = report.money.cash_difference_minor {
            lines.push(("cash difference", money(diff)));
        }
        lines.push(("sync", report.sync.statement.clone()));
        if let Some(late) = report.late.news() {
            lines.push(("came late", late.to_owned()));
        }
        fields(out, "  ", &lines)?;
        if report.empty {
            writeln!(out, "  nothing was recorded in this period")?;
        }
        Ok(())
    })
}
