//! Requests: intake, the checklist of documents, payment or waiver, and the centre's moves in
//! the lifecycle. The state machine itself lives in the domain; this module feeds it the
//! guards it needs (fee settled, documents complete) and writes what it decides.
//!
//! A payment is never edited: one recorded by mistake is given back by a refund, which names
//! it. `requests.paid_minor` is what is paid net of refunds. A waiver, a cancellation after
//! payment and a refund need a supervisor's approval (`super::approval`); the rules of the act
//! are checked before the approver's password is asked for, and again in its transaction.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use guichet_domain::DomainError;
use guichet_domain::account::Act;
use guichet_domain::approval::{ApprovedAct, check_refund};
use guichet_domain::catalogue::DocumentKind;
use guichet_domain::feedback::{PaymentMethod, check_payment};
use guichet_domain::form::{FieldProblem, FormContext, FormField, validate_at_entry};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::{Currency, Money};
use guichet_domain::receipt::ReceiptNumber;
use guichet_domain::request::{
    Action, Guards, Party, Refusal, RequestStatus, cancel_needs_reason, transition,
};
use guichet_domain::text::{Text, fold};
use guichet_protocol::Change;
use rusqlite::{OptionalExtension, ToSql, params};
use serde::{Deserialize, Serialize};

use super::approval::{Approval, approver_for};
use super::audit::OutboxState;
use super::catalogue::{MAX_SEARCH_CHARS, holidays, match_expression};
use super::rows::{self, CreatedRequest, Origin, Refund};
use super::{ActionTx, Workstation};
use crate::error::{Error, Kind, Refused, Result, TextOf, TextProblem};

/// What the clerk fills in at intake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewRequest {
    pub citizen: String,
    pub service: String,
    pub form: BTreeMap<String, String>,
    /// Codes of the required documents the citizen brought.
    pub documents_received: Vec<String>,
    /// The visit (ticket being served) this request is taken during, if any.
    pub visit: Option<String>,
    /// Submit at once (every document must then be received).
    pub submit: bool,
}

/// Filters for the request list; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub service: Option<String>,
    pub citizen: Option<String>,
    /// Only requests past their due date and still open.
    pub overdue: bool,
    /// At most this many, newest first (default 100).
    pub limit: Option<usize>,
    /// Only the requests taken during this visit (a ticket's `visit`).
    #[serde(default)]
    pub visit: Option<String>,
    /// What a clerk types to find a request: its receipt number (as read aloud: any case, O
    /// for 0), or the citizen's national id or names, or words of the service's title in any
    /// language.
    #[serde(default)]
    pub text: Option<String>,
}

/// One line of the request list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestSummary {
    pub id: String,
    pub receipt: String,
    pub service_code: String,
    pub service_title: Text,
    pub citizen_id: String,
    pub citizen_name: String,
    pub status: RequestStatus,
    pub intake_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Working days past the due date, for open requests.
    pub days_overdue: u32,
    pub fee: Option<Money>,
    pub paid_minor: i64,
    pub waiver_ground: Option<String>,
}

/// A received-or-missing line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DocumentCheck {
    pub code: String,
    pub name: Text,
    pub kind: DocumentKind,
    pub received: bool,
}

/// One status change in the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestEvent {
    pub action: String,
    pub from: Option<RequestStatus>,
    pub to: RequestStatus,
    pub party: Party,
    pub actor: String,
    pub reason: Option<String>,
    pub at: String,
    pub hlc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PaymentView {
    pub receipt: String,
    pub request_receipt: String,
    pub amount: Money,
    pub method: PaymentMethod,
    pub clerk: String,
    pub at: String,
    /// What was still owed after this payment, when it was made.
    pub outstanding_minor: i64,
    /// How much of it was given back since.
    pub refunded_minor: i64,
}

/// A refund the clerk asks for: which payment (its receipt number), how much, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewRefund {
    pub payment: String,
    pub amount: String,
    pub reason: String,
}

/// A payment given back, in part or in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefundView {
    /// The refund's own receipt number, for the slip the citizen signs.
    pub receipt: String,
    pub payment_receipt: String,
    pub request_receipt: String,
    pub amount: Money,
    pub method: PaymentMethod,
    pub reason: String,
    pub clerk: String,
    pub approver: String,
    pub at: String,
}

/// The sync state of one change made to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeState {
    pub kind: String,
    pub state: OutboxState,
    /// The back office's sentence, in English.
    pub reason: Option<String>,
    /// Why the back office refused it, for the window to say in the clerk's language.
    pub refusal_code: Option<guichet_protocol::wire::RefusalCode>,
    /// For a conflict: the request's status at the back office, or the status another party's
    /// move, overtaken by this centre's, gave it.
    pub server_status: Option<RequestStatus>,
    /// For a move pulled from the back office that this centre's later move overtook: who
    /// made it.
    pub overtaken_by: Option<String>,
    pub at: String,
    /// For a conflict a clerk has resolved: their note.
    pub resolution: Option<String>,
}

/// Everything about one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub summary: RequestSummary,
    pub agency: String,
    pub category: String,
    pub catalogue_version: u32,
    pub center_code: String,
    pub device_code: String,
    pub clerk: String,
    pub visit_id: Option<String>,
    pub form: BTreeMap<String, String>,
    pub documents: Vec<DocumentCheck>,
    pub fee_exemptions: Vec<String>,
    pub status_reason: Option<String>,
    pub payments: Vec<PaymentView>,
    pub refunds: Vec<RefundView>,
    pub timeline: Vec<RequestEvent>,
    pub changes: Vec<ChangeState>,
    /// What the centre can do next.
    pub next_actions: Vec<Action>,
    /// Of the next actions, those a supervisor must approve now.
    pub approval_needed: Vec<Action>,
}

/// The columns needed to decide a transition.
struct Row {
    id: String,
    status: RequestStatus,
    fee: Option<Money>,
    paid_minor: i64,
    waiver: Option<String>,
    exemptions: Vec<String>,
}

impl Row {
    fn fee_settled(&self) -> bool {
        match &self.fee {
            None => true,
            Some(fee) => self.waiver.is_some() || self.paid_minor >= fee.minor,
        }
    }
}

impl Workstation {
    /// Takes a request: checks the citizen, the service and what this channel can do with it,
    /// validates the form, copies the fee and computes the due date, then issues the receipt.
    pub fn create_request(&mut self, new: &NewRequest) -> Result<RequestDetail> {
        let config = self.config()?;
        let citizen = self.citizen(&new.citizen)?;
        let service = self.service(&new.service)?;
        match service.depth(config.channel) {
            Some(depth) if depth.takes_requests() => {}
            other => {
                return Err(Refused::NotTakenHere {
                    service: service.code.clone(),
                    depth: other,
                    channel: config.channel,
                }
                .into());
            }
        }
        let today = self.today();
        let form = self
            .validate_form(&service.form, &new.form)?
            .map_err(|problems| DomainError::Form { problems })?;
        for code in &new.documents_received {
            if !service.documents.iter().any(|d| &d.code == code) {
                return Err(Error::not_found(
                    Kind::Document,
                    code.clone(),
                    &format!(
                        " for service '{}'; its documents are: {}",
                        service.code,
                        join(service.documents.iter().map(|d| d.code.as_str()))
                    ),
                ));
            }
        }
        let due = holidays(self.conn()?)?.due_date(today, service.processing_days);
        let version = self.catalogue_version()?.ok_or(Error::NoCatalogue)?;
        let id = uuid::Uuid::now_v7().to_string();
        self.write(|change| {
            if let Some(visit) = &new.visit {
                check_visit_open(change, visit)?;
            }
            let receipt = change.next_receipt()?;
            let clerk = change.actor.clone();
            rows::request_created(
                change,
                &CreatedRequest {
                    id: &id,
                    receipt: &receipt,
                    service: &service.code,
                    catalogue_version: version,
                    citizen: &citizen.national_id,
                    center: &config.center_code,
                    device: &config.device_code,
                    clerk: &clerk,
                    visit: new.visit.as_deref(),
                    form: &form,
                    documents_received: &new.documents_received,
                    fee: &service.fee,
                    intake_date: today,
                    due_date: due,
                },
                Some(&service),
                Origin::Here,
            )?;
            change.record(&Change::RequestCreated {
                id: id.clone(),
                receipt,
                service: service.code.clone(),
                catalogue_version: version,
                citizen: citizen.national_id.clone(),
                center: config.center_code.clone(),
                device: config.device_code.clone(),
                clerk,
                visit: new.visit.clone(),
                form: form.clone(),
                documents_received: new.documents_received.clone(),
                fee: service.fee.clone(),
                intake_date: today,
                due_date: due,
            })?;
            if new.submit {
                move_status(change, &id, Action::Submit, None, None)?;
            }
            Ok(())
        })?;
        self.request_by_id(&id)
    }

    /// Checks a form as the clerk fills it in, with the same rules intake applies: every
    /// problem found, or none.
    pub fn check_form(
        &self,
        service: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<Vec<FieldProblem>> {
        let service = self.service(service)?;
        Ok(self
            .validate_form(&service.form, values)?
            .err()
            .unwrap_or_default())
    }

    /// The day a request for `service` taken today is due, counted in working days.
    pub fn due_date(&self, service: &str) -> Result<NaiveDate> {
        let service = self.service(service)?;
        Ok(holidays(self.conn()?)?.due_date(self.today(), service.processing_days))
    }

    fn validate_form(
        &self,
        fields: &[FormField],
        values: &BTreeMap<String, String>,
    ) -> Result<std::result::Result<BTreeMap<String, String>, Vec<FieldProblem>>> {
        let ctx = FormContext {
            today: self.today(),
            national_ids: self.national_ids()?,
        };
        Ok(validate_at_entry(fields, values, &ctx))
    }

    /// Moves a request one step as the centre (submit, dispatch, resubmit, deliver, cancel).
    /// A cancellation after payment needs `approval`; other moves ignore it.
    pub fn advance(
        &mut self,
        receipt: &str,
        action: Action,
        reason: Option<&str>,
        approval: Option<&Approval>,
    ) -> Result<RequestDetail> {
        self.require(Act::Counter)?;
        let id = self.request_id(receipt)?;
        let planned = plan_move(self.conn()?, &id, action, reason)?;
        let approver = match planned.needs {
            Some(act) => Some(self.approve(act, approval)?),
            None => None,
        };
        self.write(|change| move_status(change, &id, action, reason, approver.as_deref()))?;
        self.request_by_id(&id)
    }

    /// Marks the request's open conflicts as resolved, with the clerk's note on how the matter
    /// was settled (the back office's decision stands; any new step is a new action).
    pub fn resolve_conflicts(&mut self, receipt: &str, note: &str) -> Result<RequestDetail> {
        let note = note.trim();
        if note.is_empty() {
            return Err(Refused::ConflictNote.into());
        }
        // Kept in the audit trail and shown with the request from then on: as a reason is.
        reason_text(TextOf::Note, note)?;
        let id = self.request_id(receipt)?;
        self.write_for(Act::Supervise, |change| {
            let at = change.at();
            let resolved = change.tx.execute(
                "UPDATE outbox SET resolved_at = ?1, resolution = ?2
                 WHERE entity_id = ?3 AND state = 'conflict' AND resolved_at IS NULL",
                params![at, note, id],
            )?;
            if resolved == 0 {
                return Err(Refused::NoOpenConflict {
                    request: receipt.to_owned(),
                }
                .into());
            }
            change.record_local(
                "request.conflict_resolved",
                "request",
                &id,
                serde_json::json!({ "changes": resolved, "note": note }),
            )?;
            Ok(())
        })?;
        self.request_by_id(&id)
    }

    /// Marks a required document as received or missing (while the application can change).
    pub fn mark_document(
        &mut self,
        receipt: &str,
        document: &str,
        received: bool,
    ) -> Result<RequestDetail> {
        let id = self.request_id(receipt)?;
        self.write(|change| {
            let row = load_row(change.tx, &id)?;
            if !matches!(
                row.status,
                RequestStatus::Draft | RequestStatus::ReturnedForCorrection
            ) {
                return Err(Refused::DocumentsFixed {
                    request: receipt.to_owned(),
                    status: row.status,
                }
                .into());
            }
            if !rows::document_marked(change, &id, document, received)? {
                return Err(Error::not_found(
                    Kind::Document,
                    document,
                    &format!(" on request {receipt}; its documents are listed with the request"),
                ));
            }
            change.record(&Change::DocumentMarked {
                id: id.clone(),
                document: document.to_owned(),
                received,
            })?;
            Ok(())
        })?;
        self.request_by_id(&id)
    }

    /// Records a payment towards the fee, and issues its payment receipt.
    pub fn pay(
        &mut self,
        receipt: &str,
        amount: &str,
        method: PaymentMethod,
    ) -> Result<PaymentView> {
        let id = self.request_id(receipt)?;
        self.write(|change| {
            let row = load_row(change.tx, &id)?;
            let Some(fee) = row.fee.clone() else {
                return Err(Refused::NothingToPay {
                    request: receipt.to_owned(),
                }
                .into());
            };
            if let Some(ground) = &row.waiver {
                return Err(Refused::FeeWaived {
                    request: receipt.to_owned(),
                    ground: ground.clone(),
                }
                .into());
            }
            if row.status.is_final() {
                return Err(Refused::PaymentsClosed {
                    request: receipt.to_owned(),
                    status: row.status,
                }
                .into());
            }
            let paid = Money::parse_decimal(amount, &fee.currency)?;
            check_payment(receipt, &fee, row.paid_minor, &paid)?;
            let payment_receipt = change.next_receipt()?;
            let payment_id = uuid::Uuid::now_v7().to_string();
            rows::payment_recorded(
                change,
                (&payment_id, &id),
                &paid,
                method,
                &payment_receipt,
                Origin::Here,
            )?;
            change.record(&Change::PaymentRecorded {
                id: payment_id,
                request: id.clone(),
                amount: paid.clone(),
                method,
                receipt: payment_receipt.clone(),
            })?;
            Ok(PaymentView {
                receipt: payment_receipt.to_string(),
                request_receipt: receipt.to_owned(),
                outstanding_minor: fee.minor - row.paid_minor - paid.minor,
                refunded_minor: 0,
                amount: paid,
                method,
                clerk: change.actor.clone(),
                at: change.at(),
            })
        })
    }

    /// Waives the fee on the ground that the citizen belongs to an exempt target group, with
    /// a supervisor's approval.
    pub fn waive(
        &mut self,
        receipt: &str,
        ground: &str,
        approval: Option<&Approval>,
    ) -> Result<RequestDetail> {
        self.require(Act::Counter)?;
        let id = self.request_id(receipt)?;
        check_waiver(&load_row(self.conn()?, &id)?, receipt, ground)?;
        let approver = self.approve(ApprovedAct::Waiver, approval)?;
        self.write(|change| {
            check_waiver(&load_row(change.tx, &id)?, receipt, ground)?;
            rows::fee_waived(change, &id, ground, Origin::Here)?;
            change.record(&Change::FeeWaived {
                id: id.clone(),
                ground: ground.to_owned(),
                approver: Some(approver.clone()),
            })?;
            Ok(())
        })?;
        self.request_by_id(&id)
    }

    /// Gives back (part of) a payment of the request, with a supervisor's approval: how a
    /// payment recorded by mistake is undone.
    pub fn refund(
        &mut self,
        receipt: &str,
        refund: &NewRefund,
        approval: Option<&Approval>,
    ) -> Result<RefundView> {
        self.require(Act::Counter)?;
        plain_text(TextOf::RefundReason, &refund.reason, false)?;
        let id = self.request_id(receipt)?;
        check_refund_of(self.conn()?, &id, receipt, refund)?;
        let approver = self.approve(ApprovedAct::Refund, approval)?;
        self.write(|change| {
            let checked = check_refund_of(change.tx, &id, receipt, refund)?;
            let refund_receipt = change.next_receipt()?;
            let refund_id = uuid::Uuid::now_v7().to_string();
            rows::payment_refunded(
                change,
                &Refund {
                    id: &refund_id,
                    payment: &checked.payment_id,
                    request: &id,
                    amount: &checked.amount,
                    reason: &checked.reason,
                    receipt: &refund_receipt,
                    approver: &approver,
                },
                Origin::Here,
            )?;
            change.record(&Change::PaymentRefunded {
                id: refund_id,
                payment: checked.payment_id,
                request: id.clone(),
                amount: checked.amount.clone(),
                reason: checked.reason.clone(),
                receipt: refund_receipt.clone(),
                approver: approver.clone(),
            })?;
            Ok(RefundView {
                receipt: refund_receipt.to_string(),
                payment_receipt: checked.payment_receipt.to_string(),
                request_receipt: receipt.to_owned(),
                amount: checked.amount,
                method: checked.method,
                reason: checked.reason,
                clerk: change.actor.clone(),
                approver: approver.clone(),
                at: change.at(),
            })
        })
    }

    /// Requests matching the filter, newest first.
    pub fn list_requests(&self, filter: &RequestFilter) -> Result<Vec<RequestSummary>> {
        let today = self.today();
        let mut sql = format!("{SUMMARY_SELECT} WHERE 1 = 1");
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(status) = filter.status {
            sql.push_str(" AND r.status = ?");
            args.push(Box::new(status.as_str()));
        }
        if let Some(service) = &filter.service {
            sql.push_str(" AND r.service_code = ?");
            args.push(Box::new(service.clone()));
        }
        if let Some(citizen) = &filter.citizen {
            sql.push_str(" AND r.citizen_id = ?");
            args.push(Box::new(self.national_ids()?.normalize(citizen)?));
        }
        if let Some(visit) = &filter.visit {
            sql.push_str(" AND r.visit_id = ?");
            args.push(Box::new(visit.clone()));
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            // As the catalogue's search: each word is looked for in every name and title, and
            // a pasted page would hold the workstation for every other command.
            let chars = text.chars().count();
            if chars > MAX_SEARCH_CHARS {
                return Err(Refused::SearchTooLong {
                    chars,
                    max: MAX_SEARCH_CHARS,
                }
                .into());
            }
            self.find_text(text, &mut sql, &mut args)?;
        }
        if filter.overdue {
            sql.push_str(
                " AND r.due_date < ? AND r.status NOT IN ('ready', 'delivered', 'rejected', 'cancelled')",
            );
            args.push(Box::new(today.to_string()));
        }
        sql.push_str(" ORDER BY r.created_hlc DESC LIMIT ?");
        args.push(Box::new(
            filter.limit.unwrap_or(100).clamp(1, 100_000) as i64
        ));
        let holidays = self.holidays()?;
        let mut stmt = self.conn()?.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            summary_columns,
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.into_summary(&holidays, today)?);
        }
        Ok(out)
    }

    /// Narrows the request list to what `text` names: the request whose receipt number it is,
    /// else the requests of a citizen (national id, or every word in their names) or of a
    /// service (words of its title, keywords or description, by the catalogue's search).
    fn find_text(
        &self,
        text: &str,
        sql: &mut String,
        args: &mut Vec<Box<dyn ToSql>>,
    ) -> Result<()> {
        if let Ok(receipt) = ReceiptNumber::parse(text) {
            sql.push_str(" AND r.receipt = ?");
            args.push(Box::new(receipt.as_str().to_owned()));
            return Ok(());
        }
        let mut any: Vec<String> = Vec::new();
        if let Ok(id) = self.national_ids()?.normalize(text) {
            any.push("r.citizen_id = ?".into());
            args.push(Box::new(id));
        }
        let words: Vec<String> = fold(text).split_whitespace().map(str::to_owned).collect();
        if !words.is_empty() {
            any.push(vec!["c.name_key LIKE ?"; words.len()].join(" AND "));
            for word in &words {
                args.push(Box::new(format!("%{word}%")));
            }
        }
        if let Some(terms) = match_expression(text) {
            any.push(
                "r.service_code IN (SELECT s.code FROM service_search f
                    JOIN services s ON s.id = f.rowid WHERE service_search MATCH ?)"
                    .into(),
            );
            args.push(Box::new(terms));
        }
        if any.is_empty() {
            // Nothing in it to search by (only punctuation): nothing matches.
            any.push("0".into());
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        Ok(())
    }

    /// Everything about the request with this receipt number.
    pub fn request(&self, receipt: &str) -> Result<RequestDetail> {
        let id = self.request_id(receipt)?;
        self.request_by_id(&id)
    }

    fn request_id(&self, receipt: &str) -> Result<String> {
        let number = ReceiptNumber::parse(receipt)?;
        self.conn()?
            .query_row(
                "SELECT id FROM requests WHERE receipt = ?1",
                [number.as_str()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                Error::not_found(
                    Kind::Request,
                    number.to_string(),
                    "; check the receipt number, or find the request by its citizen or service",
                )
            })
    }

    pub(crate) fn request_by_id(&self, id: &str) -> Result<RequestDetail> {
        let conn = self.conn()?;
        let raw = conn.query_row(
            &format!("{SUMMARY_SELECT} WHERE r.id = ?1"),
            [id],
            summary_columns,
        )?;
        let summary = raw.into_summary(&self.holidays()?, self.today())?;
        let extra = conn.query_row(
            "SELECT agency, category, catalogue_version, center_code, device_code, clerk,
                    visit_id, form, fee_exemptions, status_reason
             FROM requests WHERE id = ?1",
            [id],
            |r| {
                Ok(Extra {
                    agency: r.get(0)?,
                    category: r.get(1)?,
                    version: r.get(2)?,
                    center: r.get(3)?,
                    device: r.get(4)?,
                    clerk: r.get(5)?,
                    visit: r.get(6)?,
                    form: r.get(7)?,
                    exemptions: r.get(8)?,
                    reason: r.get(9)?,
                })
            },
        )?;
        let mut documents = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT code, name, kind, received FROM request_documents WHERE request_id = ?1 ORDER BY position",
        )?;
        for row in stmt.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })? {
            let (code, name, kind, received) = row?;
            documents.push(DocumentCheck {
                code,
                name: serde_json::from_str(&name)?,
                kind: serde_json::from_value(serde_json::Value::String(kind))?,
                received,
            });
        }
        let mut payments = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT p.receipt, p.amount_minor, p.currency, p.method, p.clerk, p.at,
                coalesce((SELECT sum(f.amount_minor) FROM refunds f WHERE f.payment_id = p.id), 0)
             FROM payments p WHERE p.request_id = ?1 ORDER BY p.hlc",
        )?;
        let mut paid_so_far = 0;
        for row in stmt.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })? {
            let (receipt, minor, currency, method, clerk, at, refunded_minor) = row?;
            paid_so_far += minor;
            payments.push(PaymentView {
                receipt: ReceiptNumber::parse(&receipt)?.to_string(),
                request_receipt: summary.receipt.clone(),
                amount: Money::new(minor, Currency::parse(&currency)?),
                method: PaymentMethod::parse(&method)?,
                clerk,
                at,
                outstanding_minor: summary.fee.as_ref().map_or(0, |f| f.minor) - paid_so_far,
                refunded_minor,
            });
        }
        let mut refunds = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT f.receipt, p.receipt, f.amount_minor, f.currency, f.method, f.reason, f.clerk,
                f.approver, f.at
             FROM refunds f JOIN payments p ON p.id = f.payment_id
             WHERE f.request_id = ?1 ORDER BY f.hlc, f.at",
        )?;
        for row in stmt.query_map([id], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ),
                (
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                ),
            ))
        })? {
            let ((receipt, payment, minor, currency, method), (reason, clerk, approver, at)) = row?;
            refunds.push(RefundView {
                receipt: ReceiptNumber::parse(&receipt)?.to_string(),
                payment_receipt: ReceiptNumber::parse(&payment)?.to_string(),
                request_receipt: summary.receipt.clone(),
                amount: Money::new(minor, Currency::parse(&currency)?),
                method: PaymentMethod::parse(&method)?,
                reason,
                clerk,
                approver,
                at,
            });
        }
        let mut timeline = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT action, from_status, to_status, party, actor, reason, at, hlc
             FROM request_events WHERE request_id = ?1 ORDER BY hlc, id",
        )?;
        for row in stmt.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })? {
            let (action, from, to, party, actor, reason, at, hlc) = row?;
            timeline.push(RequestEvent {
                action,
                from: from.as_deref().map(RequestStatus::parse).transpose()?,
                to: RequestStatus::parse(&to)?,
                party: serde_json::from_value(serde_json::Value::String(party))?,
                actor,
                reason,
                at,
                hlc,
            });
        }
        let changes = self.changes_of(id)?;
        let next_actions = guichet_domain::request::possible_actions(summary.status, Party::Center);
        let approval_needed = next_actions
            .iter()
            .copied()
            .filter(|a| ApprovedAct::for_request_action(*a, summary.paid_minor).is_some())
            .collect();
        Ok(RequestDetail {
            next_actions,
            approval_needed,
            summary,
            agency: extra.agency,
            category: extra.category,
            catalogue_version: extra.version,
            center_code: extra.center,
            device_code: extra.device,
            clerk: extra.clerk,
            visit_id: extra.visit,
            form: serde_json::from_str(&extra.form)?,
            documents,
            fee_exemptions: serde_json::from_str(&extra.exemptions)?,
            status_reason: extra.reason,
            payments,
            refunds,
            timeline,
            changes,
        })
    }
}

/// The detail columns beyond the summary.
struct Extra {
    agency: String,
    category: String,
    version: u32,
    center: String,
    device: String,
    clerk: String,
    visit: Option<String>,
    form: String,
    exemptions: String,
    reason: Option<String>,
}

const SUMMARY_SELECT: &str = "SELECT r.id, r.receipt, r.service_code, r.service_title,
        r.citizen_id, c.given_name || ' ' || c.family_name, r.status, r.intake_date, r.due_date,
        r.fee_minor, r.fee_currency, r.paid_minor, r.waiver_ground
     FROM requests r JOIN citizens c ON c.national_id = r.citizen_id";

struct RawSummary {
    id: String,
    receipt: String,
    service_code: String,
    service_title: String,
    citizen_id: String,
    citizen_name: String,
    status: String,
    intake_date: String,
    due_date: String,
    fee_minor: Option<i64>,
    fee_currency: Option<String>,
    paid_minor: i64,
    waiver_ground: Option<String>,
}

fn summary_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSummary> {
    Ok(RawSummary {
        id: r.get(0)?,
        receipt: r.get(1)?,
        service_code: r.get(2)?,
        service_title: r.get(3)?,
        citizen_id: r.get(4)?,
        citizen_name: r.get(5)?,
        status: r.get(6)?,
        intake_date: r.get(7)?,
        due_date: r.get(8)?,
        fee_minor: r.get(9)?,
        fee_currency: r.get(10)?,
        paid_minor: r.get(11)?,
        waiver_ground: r.get(12)?,
    })
}

impl RawSummary {
    fn into_summary(
        self,
        holidays: &guichet_domain::calendar::Holidays,
        today: NaiveDate,
    ) -> Result<RequestSummary> {
        let status = RequestStatus::parse(&self.status)?;
        let due: NaiveDate = parse_day(&self.due_date)?;
        let fee = match (self.fee_minor, self.fee_currency) {
            (Some(minor), Some(currency)) => Some(Money::new(minor, Currency::parse(&currency)?)),
            _ => None,
        };
        Ok(RequestSummary {
            receipt: ReceiptNumber::parse(&self.receipt)?.to_string(),
            id: self.id,
            service_code: self.service_code,
            service_title: serde_json::from_str(&self.service_title)?,
            citizen_id: self.citizen_id,
            citizen_name: self.citizen_name,
            days_overdue: if status.is_open() {
                holidays.working_days_late(due, today)
            } else {
                0
            },
            status,
            intake_date: parse_day(&self.intake_date)?,
            due_date: due,
            fee,
            paid_minor: self.paid_minor,
            waiver_ground: self.waiver_ground,
        })
    }
}

fn parse_day(text: &str) -> Result<NaiveDate> {
    text.parse()
        .map_err(|_| Error::Invalid(format!("stored date '{text}' is not a date")))
}

fn load_row(tx: &rusqlite::Connection, id: &str) -> Result<Row> {
    let (status, fee_minor, fee_currency, paid_minor, waiver, exemptions): (
        String,
        Option<i64>,
        Option<String>,
        i64,
        Option<String>,
        String,
    ) = tx.query_row(
        "SELECT status, fee_minor, fee_currency, paid_minor, waiver_ground, fee_exemptions
         FROM requests WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    Ok(Row {
        id: id.to_owned(),
        status: RequestStatus::parse(&status)?,
        fee: match (fee_minor, fee_currency) {
            (Some(m), Some(c)) => Some(Money::new(m, Currency::parse(&c)?)),
            _ => None,
        },
        paid_minor,
        waiver,
        exemptions: serde_json::from_str(&exemptions)?,
    })
}

/// A centre action the state machine allows, and the approval it needs.
struct PlannedMove {
    row: Row,
    to: RequestStatus,
    needs: Option<ApprovedAct>,
}

/// Checks one centre action through the state machine, without writing.
fn plan_move(
    conn: &rusqlite::Connection,
    id: &str,
    action: Action,
    reason: Option<&str>,
) -> Result<PlannedMove> {
    let row = load_row(conn, id)?;
    let receipt: String =
        conn.query_row("SELECT receipt FROM requests WHERE id = ?1", [id], |r| {
            r.get(0)
        })?;
    let missing = conn
        .prepare(
            "SELECT name FROM request_documents WHERE request_id = ?1 AND NOT received
             ORDER BY position",
        )?
        .query_map([id], |r| r.get::<_, String>(0))?
        .map(|name| Ok(serde_json::from_str::<Text>(&name?)?))
        .collect::<Result<Vec<Text>>>()?;
    let receipt = ReceiptNumber::parse(&receipt)?.to_string();
    if let Some(reason) = reason {
        reason_text(TextOf::Reason, reason)?;
    }
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    if action == Action::Cancel && !has_reason && cancel_needs_reason(row.status, row.paid_minor) {
        return Err(DomainError::Transition {
            request: receipt,
            from: row.status,
            action,
            by: Party::Center,
            refusal: Refusal::ReasonRequired { action },
        }
        .into());
    }
    let to = transition(
        &receipt,
        row.status,
        action,
        Party::Center,
        Guards {
            fee_settled: row.fee_settled(),
            has_reason,
            documents_complete: missing.is_empty(),
        },
    )
    .map_err(|e| match e {
        // The clerk is told which documents, to mark them on the request's screen.
        DomainError::Transition {
            refusal: Refusal::DocumentsMissing { action },
            ..
        } => Error::from(Refused::DocumentsMissing {
            request: receipt,
            action,
            documents: missing,
        }),
        other => other.into(),
    })?;
    let needs = ApprovedAct::for_request_action(action, row.paid_minor);
    Ok(PlannedMove { row, to, needs })
}

/// Applies one centre action through the state machine and writes it, with the approver
/// checked for it when it needs one.
fn move_status(
    change: &mut ActionTx<'_>,
    id: &str,
    action: Action,
    reason: Option<&str>,
    approver: Option<&str>,
) -> Result<()> {
    let PlannedMove { row, to, needs } = plan_move(change.tx, id, action, reason)?;
    let approver = approver_for(needs, approver)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    rows::status_moved(change, &row.id, to, reason, Origin::Here)?;
    timeline(change, id, action.as_str(), Some(row.status), to, reason)?;
    change.record(&Change::RequestTransition {
        id: id.to_owned(),
        action,
        from: row.status,
        to,
        reason: reason.map(str::to_owned),
        approver,
    })?;
    Ok(())
}

/// The rules of a waiver: a fee not yet waived nor paid, and a ground the service exempts.
fn check_waiver(row: &Row, receipt: &str, ground: &str) -> Result<()> {
    if row.fee.is_none() {
        return Err(Refused::NoFeeToWaive {
            request: receipt.to_owned(),
        }
        .into());
    }
    if row.waiver.is_some() {
        return Err(Refused::AlreadyWaived {
            request: receipt.to_owned(),
        }
        .into());
    }
    if row.paid_minor > 0 {
        return Err(Refused::PartlyPaid {
            request: receipt.to_owned(),
        }
        .into());
    }
    if !row.exemptions.iter().any(|g| g == ground) {
        return Err(Refused::NotExempt {
            ground: ground.to_owned(),
            exemptions: row.exemptions.clone(),
        }
        .into());
    }
    Ok(())
}

/// A refund that passed its rules.
struct CheckedRefund {
    payment_id: String,
    payment_receipt: ReceiptNumber,
    amount: Money,
    method: PaymentMethod,
    reason: String,
}

/// Refuses a reason given for a step, or a note (`what` names it), longer than a reason may be
/// (`MAX_REASON_CHARS`) or holding a character no screen shows as it is (`plain_text`).
fn reason_text(what: TextOf, text: &str) -> Result<()> {
    let len = text.chars().count();
    let max = guichet_protocol::MAX_REASON_CHARS;
    if len > max {
        return Err(Error::Text {
            what,
            problem: TextProblem::TooLong { len, max },
        });
    }
    plain_text(what, text, false)
}

/// Refuses `text` (`what` names it) when it holds a character no screen or terminal shows as
/// it is: an escape that rewrites a terminal, a bidirectional override that makes a reason read
/// otherwise than it is stored. A line break passes where `lines` says so.
pub(crate) fn plain_text(what: TextOf, text: &str, lines: bool) -> Result<()> {
    match guichet_domain::text::hidden_character(text, lines) {
        Some(c) => Err(Error::Text {
            what,
            problem: TextProblem::HiddenCharacter(c),
        }),
        None => Ok(()),
    }
}

/// The rules of a refund: a payment of this request, in its currency, no more than what is
/// left of it, with a reason.
fn check_refund_of(
    conn: &rusqlite::Connection,
    id: &str,
    receipt: &str,
    refund: &NewRefund,
) -> Result<CheckedRefund> {
    let number = ReceiptNumber::parse(&refund.payment)?;
    let payment: Option<(String, i64, String, String, i64)> = conn
        .query_row(
            "SELECT p.id, p.amount_minor, p.currency, p.method,
                coalesce((SELECT sum(f.amount_minor) FROM refunds f WHERE f.payment_id = p.id), 0)
             FROM payments p WHERE p.receipt = ?1 AND p.request_id = ?2",
            params![number.as_str(), id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((payment_id, minor, currency, method, refunded)) = payment else {
        return Err(Error::not_found(
            Kind::Payment,
            number.to_string(),
            &format!(" for request {receipt}; its payments are listed with the request"),
        ));
    };
    let paid = Money::new(minor, Currency::parse(&currency)?);
    let amount = Money::parse_decimal(&refund.amount, &paid.currency)?;
    let reason = check_refund(
        &number.to_string(),
        &paid,
        refunded,
        &amount,
        &refund.reason,
    )?;
    Ok(CheckedRefund {
        payment_id,
        payment_receipt: number,
        amount,
        method: PaymentMethod::parse(&method)?,
        reason: reason.to_owned(),
    })
}

fn timeline(
    change: &mut ActionTx<'_>,
    id: &str,
    action: &str,
    from: Option<RequestStatus>,
    to: RequestStatus,
    reason: Option<&str>,
) -> Result<()> {
    let actor = change.actor.clone();
    timeline_entry(
        change,
        id,
        action,
        (from, to),
        reason,
        Party::Center,
        (&actor, None),
    )
}

/// Adds a line to a request's timeline, for whichever party moved it: `actor`, who made the
/// move here or, with `made`, on another device of the centre. The line is stamped as it is
/// written here, in the order this device learnt of the moves; `made` is kept beside it, the
/// stamp the move came with, of the clock of the device that made it.
pub(crate) fn timeline_entry(
    change: &mut ActionTx<'_>,
    id: &str,
    action: &str,
    (from, to): (Option<RequestStatus>, RequestStatus),
    reason: Option<&str>,
    party: Party,
    (actor, made): (&str, Option<&HlcStamp>),
) -> Result<()> {
    let stamp = change.stamp();
    change.tx.execute(
        "INSERT INTO request_events (request_id, action, from_status, to_status, party, actor,
            reason, at, hlc, made_hlc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            action,
            from.map(RequestStatus::as_str),
            to.as_str(),
            match party {
                Party::Center => "center",
                Party::Agency => "agency",
            },
            actor,
            reason,
            change.at(),
            stamp.to_string(),
            made.map(HlcStamp::to_string),
        ],
    )?;
    Ok(())
}

fn check_visit_open(change: &ActionTx<'_>, visit: &str) -> Result<()> {
    let ended: Option<Option<String>> = change
        .tx
        .query_row("SELECT ended_at FROM visits WHERE id = ?1", [visit], |r| {
            r.get(0)
        })
        .optional()?;
    match ended {
        None => Err(Error::not_found(
            Kind::Visit,
            visit,
            "; a visit opens when a ticket is being served",
        )),
        Some(Some(_)) => Err(Refused::VisitEnded {
            visit: visit.to_owned(),
        }
        .into()),
        Some(None) => Ok(()),
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
