//! What the back office keeps, as plain data shared by both storage backends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use guichet_domain::catalogue::CenterKind;
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::Money;
use guichet_domain::receipt::ReceiptPrefix;
use guichet_domain::request::RequestStatus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Center {
    pub code: String,
    pub name: String,
    pub kind: CenterKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub code: String,
    pub center: String,
    pub receipt_prefix: ReceiptPrefix,
    pub label: Option<String>,
    pub revoked: bool,
    pub enrolled_at: String,
}

/// A one-time enrolment code as handed to the operator; the back office keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCode {
    pub code: String,
    pub center: String,
    pub expires_at: DateTime<Utc>,
}

/// When the back office did something: its own hybrid clock for ordering, the wall clock for
/// people and for expiries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub hlc: HlcStamp,
    pub wall: DateTime<Utc>,
}

/// A request as the back office knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRequest {
    pub id: String,
    pub receipt: String,
    pub center: String,
    pub device: String,
    pub service: String,
    pub agency: String,
    pub catalogue_version: u32,
    pub citizen: String,
    pub status: RequestStatus,
    pub fee: Option<Money>,
    pub paid_minor: i64,
    pub waiver: Option<String>,
    /// Target groups exempt from the fee, copied from the service at intake.
    pub exemptions: Vec<String>,
    pub form: BTreeMap<String, String>,
    /// Every required document and whether it was received.
    pub documents: BTreeMap<String, bool>,
    /// Why the last correction request, rejection or cancellation happened.
    pub reason: Option<String>,
    pub updated_hlc: String,
}

impl ServerRequest {
    /// Free, paid in full, or waived: from the payments and waiver the back office holds.
    pub fn fee_settled(&self) -> bool {
        match &self.fee {
            None => true,
            Some(fee) => self.waiver.is_some() || self.paid_minor >= fee.minor,
        }
    }

    pub fn documents_complete(&self) -> bool {
        self.documents.values().all(|received| *received)
    }
}

/// One payment the back office accepted, for the cash reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRow {
    pub id: String,
    pub request: String,
    pub amount: Money,
    pub method: String,
    pub receipt: String,
}
