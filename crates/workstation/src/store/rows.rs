//! The rows of each kind of change, written by one function per kind: the clerk's own action
//! on this device and the same change made on another device of the centre, pulled from the
//! back office, go through the same function. They differ only in their `Origin`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use guichet_domain::catalogue::{Fee, Service};
use guichet_domain::citizen::Citizen;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::Money;
use guichet_domain::receipt::ReceiptNumber;
use guichet_domain::request::{Party, RequestStatus};
use rusqlite::params;

use super::ActionTx;
use super::citizens::name_key;
use super::requests::timeline_entry;
use crate::error::Result;

/// Who made the change being written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    /// This device's clerk (`ActionTx::actor`): the rows carry a stamp of this device's clock,
    /// and a row that is already there is an error.
    Here,
    /// Device `device` of this centre, pulled from the back office: applied once (a row
    /// already there is kept as it is), with no stamp of this device's clock, and the device
    /// named where a clerk would be. `made` is the stamp the change came with: of the clock
    /// of the device that made it (the back office's, for an agency's decision).
    Pulled { device: &'a str, made: &'a HlcStamp },
}

impl<'a> Origin<'a> {
    fn insert(self) -> &'static str {
        match self {
            Origin::Here => "INSERT",
            Origin::Pulled { .. } => "INSERT OR IGNORE",
        }
    }

    /// A fresh stamp for the rows a clerk writes here; none for a pulled change.
    fn stamp(self, change: &mut ActionTx<'_>) -> Option<String> {
        match self {
            Origin::Here => Some(change.stamp().to_string()),
            Origin::Pulled { .. } => None,
        }
    }

    /// The stamp a payment or a refund keeps: when it was made, by the clock of the device
    /// that made it (this one's `stamp`, or the pulled change's), not when it arrived here.
    fn made(self, stamp: Option<&str>) -> String {
        match self {
            Origin::Here => stamp.unwrap_or_default().to_owned(),
            Origin::Pulled { made, .. } => made.to_string(),
        }
    }

    /// The stamp a pulled change came with, of the clock of the device that made it; none
    /// for a change made here.
    fn made_there(self) -> Option<&'a HlcStamp> {
        match self {
            Origin::Here => None,
            Origin::Pulled { made, .. } => Some(made),
        }
    }

    /// Who the rows name as having done it.
    fn author(self, change: &ActionTx<'_>) -> String {
        match self {
            Origin::Here => change.actor.clone(),
            Origin::Pulled { device, .. } => device.to_owned(),
        }
    }
}

/// `Change::CitizenRegistered`.
pub(super) fn citizen_registered(
    change: &mut ActionTx<'_>,
    citizen: &Citizen,
    origin: Origin<'_>,
) -> Result<()> {
    let stamp = origin.stamp(change).unwrap_or_default();
    change.tx.execute(
        &format!(
            "{} INTO citizens (national_id, given_name, family_name, name_key, birth_date,
                phone, email, address, created_at, hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            origin.insert()
        ),
        params![
            citizen.national_id,
            citizen.given_name,
            citizen.family_name,
            name_key(&citizen.family_name, &citizen.given_name),
            citizen.birth_date.to_string(),
            citizen.phone,
            citizen.email,
            citizen.address,
            change.at(),
            stamp,
        ],
    )?;
    Ok(())
}

/// `Change::RequestCreated`, field by field.
#[derive(Debug)]
pub(super) struct CreatedRequest<'a> {
    pub id: &'a str,
    pub receipt: &'a ReceiptNumber,
    pub service: &'a str,
    pub catalogue_version: u32,
    pub citizen: &'a str,
    pub center: &'a str,
    pub device: &'a str,
    pub clerk: &'a str,
    pub visit: Option<&'a str>,
    pub form: &'a BTreeMap<String, String>,
    pub documents_received: &'a [String],
    pub fee: &'a Fee,
    pub intake_date: NaiveDate,
    pub due_date: NaiveDate,
}

/// `Change::RequestCreated`: the request, the first line of its timeline, and its checklist
/// of documents from the service as `service` describes it (the catalogue held here). A
/// request pulled from another device is not part of a visit here (visits stay
/// on their device); one whose service this catalogue lacks keeps the service's code as its
/// title and no checklist.
pub(super) fn request_created(
    change: &mut ActionTx<'_>,
    request: &CreatedRequest<'_>,
    service: Option<&Service>,
    origin: Origin<'_>,
) -> Result<()> {
    let stamp = origin.stamp(change).unwrap_or_default();
    let (title, category, agency, exemptions) = match service {
        Some(s) => (
            serde_json::to_string(&s.title)?,
            s.category.as_str(),
            s.agency.as_str(),
            serde_json::to_string(&s.exemptions)?,
        ),
        None => (
            serde_json::json!({"en": request.service, "fr": request.service}).to_string(),
            "",
            "",
            "[]".to_owned(),
        ),
    };
    let visit = match origin {
        Origin::Here => request.visit,
        Origin::Pulled { .. } => None,
    };
    let fee = request.fee.amount();
    let written = change.tx.execute(
        &format!(
            "{} INTO requests (id, receipt, service_code, service_title, category, agency,
                catalogue_version, citizen_id, center_code, device_code, clerk, visit_id, form,
                fee_minor, fee_currency, fee_tier, fee_exemptions, status, intake_date,
                due_date, created_at, created_hlc, updated_hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, 'draft', ?18, ?19, ?20, ?21, ?21)",
            origin.insert()
        ),
        params![
            request.id,
            request.receipt.as_str(),
            request.service,
            title,
            category,
            agency,
            request.catalogue_version,
            request.citizen,
            request.center,
            request.device,
            request.clerk,
            visit,
            serde_json::to_string(request.form)?,
            fee.map(|m| m.minor),
            fee.map(|m| m.currency.code().to_owned()),
            request.fee.tier().map(|t| t.as_str()),
            exemptions,
            request.intake_date.to_string(),
            request.due_date.to_string(),
            change.at(),
            stamp,
        ],
    )?;
    if written == 0 {
        return Ok(());
    }
    let author = origin.author(change);
    timeline_entry(
        change,
        request.id,
        "create",
        (None, RequestStatus::Draft),
        None,
        Party::Center,
        (&author, origin.made_there()),
    )?;
    for (position, doc) in service.iter().flat_map(|s| s.documents.iter()).enumerate() {
        change.tx.execute(
            "INSERT INTO request_documents (request_id, code, position, name, kind, received)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                request.id,
                doc.code,
                position,
                serde_json::to_string(&doc.name)?,
                doc.kind.as_str(),
                request.documents_received.contains(&doc.code),
            ],
        )?;
    }
    Ok(())
}

/// `Change::DocumentMarked`. Returns whether the request has that document on its checklist.
pub(super) fn document_marked(
    change: &mut ActionTx<'_>,
    id: &str,
    document: &str,
    received: bool,
) -> Result<bool> {
    let updated = change.tx.execute(
        "UPDATE request_documents SET received = ?3 WHERE request_id = ?1 AND code = ?2",
        params![id, document, received],
    )?;
    Ok(updated > 0)
}

/// The request's status after `Change::RequestTransition` (or an agency's decision), with its
/// reason when one is given. Returns whether the request is here.
pub(super) fn status_moved(
    change: &mut ActionTx<'_>,
    id: &str,
    to: RequestStatus,
    reason: Option<&str>,
    origin: Origin<'_>,
) -> Result<bool> {
    let stamp = origin.stamp(change);
    let moved = change.tx.execute(
        "UPDATE requests SET status = ?2, status_reason = coalesce(?3, status_reason),
            updated_hlc = coalesce(?4, updated_hlc)
         WHERE id = ?1",
        params![id, to.as_str(), reason, stamp],
    )?;
    Ok(moved > 0)
}

/// `Change::PaymentRecorded`: the payment, and what the request has been paid. A payment of a
/// request that is not here is left out.
pub(super) fn payment_recorded(
    change: &mut ActionTx<'_>,
    (id, request): (&str, &str),
    amount: &Money,
    method: PaymentMethod,
    receipt: &ReceiptNumber,
    origin: Origin<'_>,
) -> Result<()> {
    let stamp = origin.stamp(change);
    let clerk = origin.author(change);
    let added = change.tx.execute(
        &format!(
            "{} INTO payments (id, request_id, amount_minor, currency, method, receipt, clerk,
                at, hlc)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
             WHERE EXISTS (SELECT 1 FROM requests WHERE id = ?2)",
            origin.insert()
        ),
        params![
            id,
            request,
            amount.minor,
            amount.currency.code(),
            method.as_str(),
            receipt.as_str(),
            clerk,
            change.at(),
            origin.made(stamp.as_deref()),
        ],
    )?;
    if added > 0 {
        add_paid(change, request, amount.minor, stamp.as_deref())?;
    }
    Ok(())
}

/// What the request has been paid moves by `minor` (negative for a refund).
fn add_paid(
    change: &mut ActionTx<'_>,
    request: &str,
    minor: i64,
    stamp: Option<&str>,
) -> Result<()> {
    change.tx.execute(
        "UPDATE requests SET paid_minor = paid_minor + ?2, updated_hlc = coalesce(?3, updated_hlc)
         WHERE id = ?1",
        params![request, minor, stamp],
    )?;
    Ok(())
}

/// `Change::PaymentRefunded`, field by field.
#[derive(Debug)]
pub(super) struct Refund<'a> {
    pub id: &'a str,
    pub payment: &'a str,
    pub request: &'a str,
    pub amount: &'a Money,
    pub reason: &'a str,
    pub receipt: &'a ReceiptNumber,
    pub approver: &'a str,
}

/// `Change::PaymentRefunded`: the refund, by the payment's method, and what the request has
/// been paid. A refund of a payment that is not here (or not of that request) is left out.
pub(super) fn payment_refunded(
    change: &mut ActionTx<'_>,
    refund: &Refund<'_>,
    origin: Origin<'_>,
) -> Result<()> {
    let stamp = origin.stamp(change);
    let clerk = origin.author(change);
    let added = change.tx.execute(
        &format!(
            "{} INTO refunds (id, payment_id, request_id, amount_minor, currency, method,
                reason, receipt, clerk, approver, at, hlc)
             SELECT ?1, p.id, p.request_id, ?3, ?4, p.method, ?5, ?6, ?7, ?8, ?9, ?10
             FROM payments p WHERE p.id = ?2 AND p.request_id = ?11",
            origin.insert()
        ),
        params![
            refund.id,
            refund.payment,
            refund.amount.minor,
            refund.amount.currency.code(),
            refund.reason,
            refund.receipt.as_str(),
            clerk,
            refund.approver,
            change.at(),
            origin.made(stamp.as_deref()),
            refund.request,
        ],
    )?;
    if added > 0 {
        add_paid(
            change,
            refund.request,
            -refund.amount.minor,
            stamp.as_deref(),
        )?;
    }
    Ok(())
}

/// `Change::FeeWaived`.
pub(super) fn fee_waived(
    change: &mut ActionTx<'_>,
    id: &str,
    ground: &str,
    origin: Origin<'_>,
) -> Result<()> {
    let stamp = origin.stamp(change);
    change.tx.execute(
        "UPDATE requests SET waiver_ground = ?2, updated_hlc = coalesce(?3, updated_hlc)
         WHERE id = ?1",
        params![id, ground, stamp],
    )?;
    Ok(())
}
