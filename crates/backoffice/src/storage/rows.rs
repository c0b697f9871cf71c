//! Rows as both backends read them from the same columns (`sql`): each backend fills one from
//! its own row type, one mapping makes the model's value.

use std::collections::BTreeMap;

use guichet_domain::account::{Account, Role, Verifier};
use guichet_domain::catalogue::CenterKind;
use guichet_domain::receipt::ReceiptPrefix;
use guichet_domain::request::RequestStatus;

use super::corrupt;
use crate::error::{Error, Result};
use crate::model::{
    Center, ClerkAccount, Contact, Device, Release, ServerRequest, parse_currency, parse_zone,
};

/// A centre's columns as stored, in `CENTER_COLUMNS` order.
pub(crate) struct RawCenter {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub time_zone: String,
    pub currency: String,
    pub waiting_target_min: i64,
}

impl RawCenter {
    pub(crate) fn into_center(self) -> Result<Center> {
        Ok(Center {
            kind: CenterKind::parse(&self.kind)?,
            time_zone: parse_zone(&self.time_zone)?,
            currency: parse_currency(&self.currency)?,
            waiting_target_min: u32::try_from(self.waiting_target_min)
                .map_err(|e| Error::Corrupt(format!("stored waiting target: {e}")))?,
            code: self.code,
            name: self.name,
        })
    }
}

/// A device's columns as stored, in `DEVICE_COLUMNS` order, its receipt prefix not parsed yet.
pub(crate) struct RawDevice {
    pub code: String,
    pub center: String,
    pub receipt_prefix: String,
    pub label: Option<String>,
    pub revoked: bool,
    pub enrolled_at: String,
    pub wipe_requested_at: Option<String>,
    pub wiped_at: Option<String>,
}

impl RawDevice {
    pub(crate) fn into_device(self) -> Result<Device> {
        Ok(Device {
            receipt_prefix: ReceiptPrefix::parse(&self.receipt_prefix).map_err(corrupt)?,
            code: self.code,
            center: self.center,
            label: self.label,
            revoked: self.revoked,
            enrolled_at: self.enrolled_at,
            wipe_requested_at: self.wipe_requested_at,
            wiped_at: self.wiped_at,
        })
    }
}

/// A device's last report as stored (the columns of `Statements::contacts`).
pub(crate) struct RawContact {
    pub device: String,
    pub app_version: String,
    pub at: String,
    pub waiting: i64,
    pub refused: i64,
    pub clock_offset_ms: i64,
}

impl RawContact {
    pub(crate) fn into_contact(self) -> Contact {
        Contact {
            device: self.device,
            app_version: self.app_version,
            at: self.at,
            waiting: u64::try_from(self.waiting).unwrap_or(0),
            refused: u64::try_from(self.refused).unwrap_or(0),
            clock_offset_ms: self.clock_offset_ms,
        }
    }
}

/// An account's columns as stored, in `ACCOUNT_COLUMNS` order, with its centres.
pub(crate) struct RawAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub verifier: String,
    pub created_at: String,
    pub updated_at: String,
    pub centers: Vec<String>,
}

impl RawAccount {
    pub(crate) fn into_account(self) -> Result<ClerkAccount> {
        Ok(ClerkAccount {
            account: Account {
                role: Role::parse(&self.role).map_err(corrupt)?,
                verifier: Verifier::parse(&self.verifier).map_err(corrupt)?,
                username: self.username,
                display_name: self.display_name,
                active: self.active,
            },
            centers: self.centers,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A request's columns as stored, in `REQUEST_COLUMNS` order.
pub(crate) struct RawRequest {
    pub id: String,
    pub receipt: String,
    pub center: String,
    pub device: String,
    pub service: String,
    pub agency: String,
    pub catalogue_version: i64,
    pub citizen: String,
    pub status: String,
    pub fee: Option<String>,
    pub paid_minor: i64,
    pub waiver: Option<String>,
    pub exemptions: String,
    pub form: String,
    pub documents: String,
    pub reason: Option<String>,
    pub updated_hlc: String,
}

impl RawRequest {
    pub(crate) fn into_request(self) -> Result<ServerRequest> {
        Ok(ServerRequest {
            id: self.id,
            receipt: self.receipt,
            center: self.center,
            device: self.device,
            service: self.service,
            agency: self.agency,
            catalogue_version: u32::try_from(self.catalogue_version).map_err(corrupt)?,
            citizen: self.citizen,
            status: RequestStatus::parse(&self.status)?,
            fee: self.fee.as_deref().map(serde_json::from_str).transpose()?,
            paid_minor: self.paid_minor,
            waiver: self.waiver,
            exemptions: serde_json::from_str(&self.exemptions)?,
            form: serde_json::from_str::<BTreeMap<String, String>>(&self.form)?,
            documents: serde_json::from_str(&self.documents)?,
            reason: self.reason,
            updated_hlc: self.updated_hlc,
        })
    }
}

/// The JSON columns of a request, in `REQUEST_COLUMNS` order from `fee`.
pub(crate) struct RequestJson {
    pub fee: Option<String>,
    pub exemptions: String,
    pub form: String,
    pub documents: String,
}

impl RequestJson {
    pub(crate) fn of(request: &ServerRequest) -> Result<Self> {
        Ok(Self {
            fee: request
                .fee
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
            exemptions: serde_json::to_string(&request.exemptions)?,
            form: serde_json::to_string(&request.form)?,
            documents: serde_json::to_string(&request.documents)?,
        })
    }
}

/// A release's columns as stored, in `RELEASE_COLUMNS` order.
pub(crate) struct RawRelease {
    pub version: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub signature: String,
    pub notes: String,
    pub centres: Option<String>,
    pub published_at: String,
}

impl RawRelease {
    pub(crate) fn into_release(self) -> Result<Release> {
        Ok(Release {
            size: u64::try_from(self.size).map_err(corrupt)?,
            centres: self
                .centres
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            version: self.version,
            file_name: self.file_name,
            sha256: self.sha256,
            signature: self.signature,
            notes: self.notes,
            published_at: self.published_at,
        })
    }
}
