//! `guichet request`: intake, the list, the full view, and the centre's moves.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use guichet_domain::money::Money;
use guichet_workstation::store::{
    NewRefund, NewRequest, RequestDetail, RequestFilter, RequestSummary,
};
use guichet_workstation::{Error as CoreError, Workstation};

use super::Context;
use super::session::{Secrets, approval};
use crate::cli::{RequestCommand, RequestCreateArgs};
use crate::error::{CliError, Result};
use crate::output::{Report, Table, fee_state, fields, join_or_none, when, wire_name};

pub fn run(
    ws: &mut Workstation,
    ctx: &Context,
    cmd: &RequestCommand,
    secrets: &mut Secrets,
) -> Result<Report> {
    match cmd {
        RequestCommand::Create(args) => create(ws, ctx, args),
        RequestCommand::List(args) => {
            let list = ws.list_requests(&RequestFilter {
                status: args.status,
                service: args.service.clone(),
                citizen: args.citizen.clone(),
                overdue: args.overdue,
                limit: args.limit,
                visit: None,
                text: None,
            })?;
            if let (true, Some(service)) = (list.is_empty(), &args.service) {
                known_service(ws, service)?;
            }
            Report::new(&list, |out| {
                if list.is_empty() {
                    return writeln!(out, "no request matches");
                }
                list_table(&list, ctx.lang).write(out, "")
            })
        }
        RequestCommand::Show { receipt } => {
            let detail = ws.request(receipt)?;
            Report::new(&detail, |out| write_detail(out, &detail, ctx.lang))
        }
        RequestCommand::Advance {
            receipt,
            action,
            reason,
            approver,
        } => {
            let approval = approval(approver.as_deref(), secrets)?;
            let detail = ws.advance(receipt, *action, reason.as_deref(), approval.as_ref())?;
            Report::new(&detail, |out| {
                let from = detail
                    .timeline
                    .last()
                    .and_then(|e| e.from)
                    .map(|f| format!("{f} -> "))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{} {action}: {from}{}",
                    detail.summary.receipt, detail.summary.status
                )?;
                writeln!(out, "  next: {}", next_actions(&detail))
            })
        }
        RequestCommand::Document {
            receipt,
            code,
            received,
            missing: _,
        } => {
            let detail = ws.mark_document(receipt, code, *received)?;
            Report::new(&detail, |out| {
                writeln!(
                    out,
                    "{}: document {code} marked {}",
                    detail.summary.receipt,
                    if *received { "received" } else { "missing" }
                )?;
                writeln!(out, "  still missing: {}", join_or_none(&missing(&detail)))
            })
        }
        RequestCommand::Pay {
            receipt,
            amount,
            method,
        } => {
            let payment = ws.pay(receipt, amount, *method)?;
            Report::new(&payment, |out| {
                writeln!(
                    out,
                    "{}: paid {} by {}",
                    payment.request_receipt,
                    payment.amount,
                    method.as_str()
                )?;
                fields(
                    out,
                    "  ",
                    &[
                        ("payment receipt", payment.receipt.clone()),
                        (
                            "still owed",
                            Money::new(payment.outstanding_minor, payment.amount.currency.clone())
                                .to_string(),
                        ),
                    ],
                )
            })
        }
        RequestCommand::Waive {
            receipt,
            ground,
            approver,
        } => {
            let approval = approval(approver.as_deref(), secrets)?;
            let detail = ws.waive(receipt, ground, approval.as_ref())?;
            Report::new(&detail, |out| {
                writeln!(out, "{}: fee waived ({ground})", detail.summary.receipt)
            })
        }
        RequestCommand::Refund {
            receipt,
            payment,
            amount,
            reason,
            approver,
        } => {
            let approval = approval(approver.as_deref(), secrets)?;
            let refund = ws.refund(
                receipt,
                &NewRefund {
                    payment: payment.clone(),
                    amount: amount.clone(),
                    reason: reason.clone(),
                },
                approval.as_ref(),
            )?;
            Report::new(&refund, |out| {
                writeln!(
                    out,
                    "{}: refunded {} of payment {}",
                    refund.request_receipt, refund.amount, refund.payment_receipt
                )?;
                fields(
                    out,
                    "  ",
                    &[
                        ("refund receipt", refund.receipt.clone()),
                        ("approved by", refund.approver.clone()),
                        ("reason", refund.reason.clone()),
                    ],
                )
            })
        }
    }
}

fn create(ws: &mut Workstation, ctx: &Context, args: &RequestCreateArgs) -> Result<Report> {
    let mut form = BTreeMap::new();
    for (code, value) in &args.fields {
        if form.insert(code.clone(), value.clone()).is_some() {
            return Err(CliError::Usage(format!(
                "form field '{code}' is given twice: give each --field once"
            )));
        }
    }
    let visit = args
        .ticket
        .as_deref()
        .map(|ticket| ws.open_visit(ticket))
        .transpose()?;
    let detail = ws.create_request(&NewRequest {
        citizen: args.citizen.clone(),
        service: args.service.clone(),
        form,
        documents_received: args.documents.clone(),
        visit,
        submit: args.submit,
    })?;
    Report::new(&detail, |out| {
        let s = &detail.summary;
        writeln!(
            out,
            "Request taken for {}: {}",
            s.citizen_name,
            s.service_title.get(ctx.lang)
        )?;
        let bar = "━".repeat(s.receipt.chars().count() + 4);
        writeln!(out)?;
        writeln!(out, "    ┏{bar}┓")?;
        writeln!(out, "    ┃  {}  ┃", s.receipt)?;
        writeln!(out, "    ┗{bar}┛")?;
        writeln!(out)?;
        fields(
            out,
            "  ",
            &[
                ("receipt", s.receipt.clone()),
                ("due", s.due_date.to_string()),
                ("status", s.status.to_string()),
                (
                    "fee",
                    fee_state(s.fee.as_ref(), s.paid_minor, s.waiver_ground.as_deref()),
                ),
                ("missing", join_or_none(&missing(&detail))),
            ],
        )
    })
}

fn missing(detail: &RequestDetail) -> Vec<String> {
    detail
        .documents
        .iter()
        .filter(|d| !d.received)
        .map(|d| d.code.clone())
        .collect()
}

fn next_actions(detail: &RequestDetail) -> String {
    join_or_none(
        &detail
            .next_actions
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect::<Vec<_>>(),
    )
}

/// Refuses a service code that is neither in the catalogue held here nor on any request (a
/// typo), rather than saying that no request matches it. A service a newer catalogue dropped
/// still lists the requests taken for it.
fn known_service(ws: &Workstation, code: &str) -> Result<()> {
    let unknown = match ws.service(code) {
        Ok(_) => return Ok(()),
        Err(e @ (CoreError::NotFound { .. } | CoreError::NoCatalogue)) => e,
        Err(other) => return Err(other.into()),
    };
    let taken = ws.list_requests(&RequestFilter {
        service: Some(code.to_owned()),
        limit: Some(1),
        ..RequestFilter::default()
    })?;
    if taken.is_empty() {
        Err(unknown.into())
    } else {
        Ok(())
    }
}

fn list_table(list: &[RequestSummary], lang: &str) -> Table {
    let mut table = Table::new(&[
        "RECEIPT", "STATUS", "SERVICE", "CITIZEN", "INTAKE", "DUE", "LATE", "FEE",
    ]);
    for r in list {
        table.row(vec![
            r.receipt.clone(),
            r.status.to_string(),
            format!("{} {}", r.service_code, r.service_title.get(lang)),
            r.citizen_name.clone(),
            r.intake_date.to_string(),
            r.due_date.to_string(),
            if r.days_overdue > 0 {
                format!("{}d", r.days_overdue)
            } else {
                String::new()
            },
            fee_state(r.fee.as_ref(), r.paid_minor, r.waiver_ground.as_deref()),
        ]);
    }
    table
}

fn write_detail(out: &mut String, d: &RequestDetail, lang: &str) -> std::fmt::Result {
    let s = &d.summary;
    writeln!(out, "Request {}  {}", s.receipt, s.status)?;
    let mut due = s.due_date.to_string();
    if s.days_overdue > 0 {
        write!(due, " ({} working days late)", s.days_overdue)?;
    }
    let mut lines = vec![
        (
            "service",
            format!("{} {}", s.service_code, s.service_title.get(lang)),
        ),
        ("category", d.category.clone()),
        ("agency", d.agency.clone()),
        ("citizen", format!("{} ({})", s.citizen_name, s.citizen_id)),
        ("intake", s.intake_date.to_string()),
        ("due", due),
        (
            "fee",
            fee_state(s.fee.as_ref(), s.paid_minor, s.waiver_ground.as_deref()),
        ),
        ("exempt groups", join_or_none(&d.fee_exemptions)),
        (
            "taken by",
            format!(
                "{} at {} on {} (catalogue version {})",
                d.clerk, d.center_code, d.device_code, d.catalogue_version
            ),
        ),
        ("visit", d.visit_id.clone().unwrap_or_else(|| "none".into())),
    ];
    if let Some(reason) = &d.status_reason {
        lines.push(("reason", reason.clone()));
    }
    lines.push(("next", next_actions(d)));
    fields(out, "  ", &lines)?;

    writeln!(out, "\nForm")?;
    if d.form.is_empty() {
        writeln!(out, "  no fields")?;
    } else {
        let mut table = Table::new(&["FIELD", "VALUE"]);
        for (code, value) in &d.form {
            table.row(vec![code.clone(), value.clone()]);
        }
        table.write(out, "  ")?;
    }

    writeln!(out, "\nDocuments")?;
    if d.documents.is_empty() {
        writeln!(out, "  none required")?;
    } else {
        let mut table = Table::new(&["", "CODE", "DOCUMENT"]);
        for doc in &d.documents {
            table.row(vec![
                if doc.received { "[x]" } else { "[ ]" }.to_owned(),
                doc.code.clone(),
                doc.name.get(lang).to_owned(),
            ]);
        }
        table.write(out, "  ")?;
    }

    if !d.payments.is_empty() {
        writeln!(out, "\nPayments")?;
        let mut table = Table::new(&[
            "RECEIPT",
            "AMOUNT",
            "METHOD",
            "CLERK",
            "AT",
            "OWED AFTER",
            "REFUNDED",
        ]);
        for p in &d.payments {
            table.row(vec![
                p.receipt.clone(),
                p.amount.to_string(),
                p.method.as_str().to_owned(),
                p.clerk.clone(),
                when(&p.at),
                Money::new(p.outstanding_minor, p.amount.currency.clone()).to_string(),
                Money::new(p.refunded_minor, p.amount.currency.clone()).to_string(),
            ]);
        }
        table.write(out, "  ")?;
    }

    if !d.refunds.is_empty() {
        writeln!(out, "\nRefunds")?;
        let mut table = Table::new(&[
            "RECEIPT", "PAYMENT", "AMOUNT", "CLERK", "APPROVER", "AT", "REASON",
        ]);
        for r in &d.refunds {
            table.row(vec![
                r.receipt.clone(),
                r.payment_receipt.clone(),
                r.amount.to_string(),
                r.clerk.clone(),
                r.approver.clone(),
                when(&r.at),
                r.reason.clone(),
            ]);
        }
        table.write(out, "  ")?;
    }

    writeln!(out, "\nTimeline")?;
    let mut table = Table::new(&["AT", "ACTION", "FROM", "TO", "BY", "REASON"]);
    for e in &d.timeline {
        table.row(vec![
            when(&e.at),
            e.action.clone(),
            e.from.map(|f| f.to_string()).unwrap_or_default(),
            e.to.to_string(),
            format!("{} ({})", e.actor, e.party),
            e.reason.clone().unwrap_or_default(),
        ]);
    }
    table.write(out, "  ")?;

    writeln!(out, "\nSync")?;
    let mut table = Table::new(&["AT", "CHANGE", "STATE", "REASON"]);
    for c in &d.changes {
        table.row(vec![
            when(&c.at),
            c.kind.clone(),
            wire_name(&c.state),
            c.reason.clone().unwrap_or_default(),
        ]);
    }
    table.write(out, "  ")
}
