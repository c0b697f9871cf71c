//! What the back office keeps, as plain data shared by both storage backends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use guichet_domain::account::{Account, Role, Verifier};
use guichet_domain::catalogue::CenterKind;
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::{Currency, Money};
use guichet_domain::receipt::ReceiptPrefix;
use guichet_domain::request::RequestStatus;
use guichet_domain::zone::{UnknownZone, Zone};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Center {
    pub code: String,
    pub name: String,
    pub kind: CenterKind,
    /// Its devices count days and hours in it.
    pub time_zone: Zone,
    /// The currency its fees are paid in, and its reports count.
    pub currency: Currency,
    /// The waiting time its queue aims to stay under, in minutes.
    pub waiting_target_min: u32,
}

/// What to change of a centre, checked: `None` leaves it as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CenterUpdate {
    pub name: Option<String>,
    pub time_zone: Option<Zone>,
    pub waiting_target_min: Option<u32>,
}

/// A currency read back from the database.
pub(crate) fn parse_currency(code: &str) -> Result<Currency> {
    Currency::parse(code).map_err(|e| Error::Invalid(format!("stored currency: {e}")))
}

/// A time zone read back from the database.
pub(crate) fn parse_zone(name: &str) -> Result<Zone> {
    name.parse()
        .map_err(|e: UnknownZone| Error::Invalid(format!("stored {e}")))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub code: String,
    pub center: String,
    pub receipt_prefix: ReceiptPrefix,
    pub label: Option<String>,
    pub revoked: bool,
    pub enrolled_at: String,
    /// When an administrator asked for the device's data to be erased (with its revocation).
    #[serde(default)]
    pub wipe_requested_at: Option<String>,
    /// When the device confirmed it erased its data.
    #[serde(default)]
    pub wiped_at: Option<String>,
}

/// What a device reported of itself at its last successful exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub device: String,
    pub app_version: String,
    /// When the exchange arrived (the back office's clock).
    pub at: String,
    /// Changes that still waited on it beyond that exchange.
    pub waiting: u64,
    /// Changes the back office had refused that it held.
    pub refused: u64,
    /// Its clock minus the back office's, in milliseconds: positive when it runs ahead.
    pub clock_offset_ms: i64,
}

/// A device as the fleet view shows it: its standing and what it last reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetLine {
    #[serde(flatten)]
    pub device: Device,
    pub standing: String,
    /// None: it never completed an exchange.
    pub last_contact: Option<Contact>,
}

impl Device {
    /// Revoked with a wipe it has not confirmed yet: it may still push what waits on it, and
    /// is told to erase its data.
    pub fn wipe_pending(&self) -> bool {
        self.revoked && self.wipe_requested_at.is_some() && self.wiped_at.is_none()
    }

    /// Its standing, in a word: `active`, `revoked`, `wipe requested` or `wiped`.
    pub fn standing(&self) -> &'static str {
        match (self.revoked, &self.wipe_requested_at, &self.wiped_at) {
            (false, _, _) => "active",
            (true, _, Some(_)) => "wiped",
            (true, Some(_), None) => "wipe requested",
            (true, None, None) => "revoked",
        }
    }
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

/// One refund the back office accepted: a payment (or part of it) given back, with the clerk
/// who gave it and the supervisor who approved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRow {
    pub id: String,
    pub payment: String,
    pub request: String,
    pub amount: Money,
    pub reason: String,
    pub receipt: String,
    pub clerk: String,
    pub approver: String,
}

/// An account as the back office keeps it: the copy the devices of its centres receive (with
/// the verifier they check logins against), and those centres.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkAccount {
    pub account: Account,
    /// In code order; one for a clerk, one or more for the other roles.
    pub centers: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What the administration shows of an account: everything but its verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clerk {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    #[serde(rename = "centres")]
    pub centers: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ClerkAccount> for Clerk {
    fn from(stored: &ClerkAccount) -> Self {
        Clerk {
            username: stored.account.username.clone(),
            display_name: stored.account.display_name.clone(),
            role: stored.account.role,
            active: stored.account.active,
            centers: stored.centers.clone(),
            created_at: stored.created_at.clone(),
            updated_at: stored.updated_at.clone(),
        }
    }
}

/// A new account as an administrator asks for it, password included: it is checked, turned
/// into a verifier, and dropped.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewClerk {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(rename = "centres", alias = "centers")]
    pub centers: Vec<String>,
    pub password: String,
}

impl std::fmt::Debug for NewClerk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewClerk")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("centers", &self.centers)
            .finish_non_exhaustive()
    }
}

/// One change to an existing account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    Disable,
    Enable,
    /// A new password's verifier.
    Verifier(Verifier),
    Role(Role),
}

/// A role with its article, for sentences: "a clerk", "an administrator".
pub fn a_role(role: Role) -> String {
    let article = if role == Role::Administrator {
        "an"
    } else {
        "a"
    };
    format!("{article} {role}")
}

/// Checks the centres an account of `role` is given: at least one, and exactly one for a
/// clerk, who works at one counter.
pub fn check_membership(username: &str, role: Role, centers: &[String]) -> Result<()> {
    match (role, centers.len()) {
        (_, 0) => Err(Error::NoCentre {
            username: username.to_owned(),
        }),
        (Role::Clerk, count) if count > 1 => Err(Error::ClerkOfManyCentres {
            username: username.to_owned(),
            count,
        }),
        _ => Ok(()),
    }
}

impl ClerkAccount {
    /// This account after `change`, stamped `at`; a change that would change nothing, or a clerk
    /// role for an account of several centres, is refused.
    pub fn changed(&self, change: &AccountChange, at: &str) -> Result<ClerkAccount> {
        let mut next = self.clone();
        let username = &self.account.username;
        let unchanged = |state: String| Error::AccountUnchanged {
            username: username.clone(),
            state,
        };
        match change {
            AccountChange::Disable if !self.account.active => {
                return Err(unchanged("disabled".into()));
            }
            AccountChange::Enable if self.account.active => return Err(unchanged("active".into())),
            AccountChange::Disable | AccountChange::Enable => {
                next.account.active = matches!(change, AccountChange::Enable);
            }
            AccountChange::Verifier(verifier) => next.account.verifier = verifier.clone(),
            AccountChange::Role(role) if *role == self.account.role => {
                return Err(unchanged(a_role(*role)));
            }
            AccountChange::Role(role) => {
                check_membership(username, *role, &self.centers)?;
                next.account.role = *role;
            }
        }
        next.updated_at = at.to_owned();
        Ok(next)
    }
}

/// How long an agency credential stays valid unless told otherwise.
pub const DEFAULT_AGENCY_CREDENTIAL_DAYS: i64 = 90;

/// The longest an agency credential may be valid: ten years. Longer is a credential nobody
/// will remember to revoke (and past the calendar's end, no date at all).
pub const MAX_AGENCY_CREDENTIAL_DAYS: i64 = 3650;

/// An agency credential as the administration lists it: never the credential itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyCredential {
    /// The first 12 hex digits of the credential's hash: names it without revealing it.
    pub id: String,
    pub agency: String,
    pub issued_at: String,
    /// `None` only for a credential that never expires (none is issued so).
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl AgencyCredential {
    /// Why this credential is no good at `now`, if it is not.
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<Refusal> {
        if self.revoked_at.is_some() {
            return Some(Refusal::AgencyCredentialRevoked);
        }
        let expires = self
            .expires_at
            .as_deref()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok());
        match (self.expires_at.is_some(), expires) {
            (true, None) => Some(Refusal::AgencyCredentialExpired),
            (_, Some(at)) if at <= now => Some(Refusal::AgencyCredentialExpired),
            _ => None,
        }
    }
}

/// A credential just issued: shown once, with its listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedAgencyCredential {
    #[serde(flatten)]
    pub credential: AgencyCredential,
    pub token: String,
}

/// A refusal the fleet's health counts. The credential that was refused is never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// A device credential the back office does not know (or a rotated one).
    DeviceCredentialUnknown,
    /// A revoked device called.
    DeviceRevoked,
    AgencyCredentialUnknown,
    AgencyCredentialRevoked,
    AgencyCredentialExpired,
    /// A wrong admin token.
    AdminCredentialWrong,
    /// An unknown, used or expired enrolment code.
    EnrolmentCodeRefused,
    /// A device whose audit trail no longer extends the head the back office held.
    AuditRewritten,
    /// A clerk's first login on a device the back office would not vouch for: an unknown
    /// device or user name, or a wrong password.
    VouchRefused,
}

impl Refusal {
    pub const ALL: [Refusal; 9] = [
        Refusal::DeviceCredentialUnknown,
        Refusal::DeviceRevoked,
        Refusal::AgencyCredentialUnknown,
        Refusal::AgencyCredentialRevoked,
        Refusal::AgencyCredentialExpired,
        Refusal::AdminCredentialWrong,
        Refusal::EnrolmentCodeRefused,
        Refusal::AuditRewritten,
        Refusal::VouchRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::DeviceCredentialUnknown => "device_credential_unknown",
            Refusal::DeviceRevoked => "device_revoked",
            Refusal::AgencyCredentialUnknown => "agency_credential_unknown",
            Refusal::AgencyCredentialRevoked => "agency_credential_revoked",
            Refusal::AgencyCredentialExpired => "agency_credential_expired",
            Refusal::AdminCredentialWrong => "admin_credential_wrong",
            Refusal::EnrolmentCodeRefused => "enrolment_code_refused",
            Refusal::AuditRewritten => "audit_rewritten",
            Refusal::VouchRefused => "vouch_refused",
        }
    }
}

/// How many times one kind of refusal happened, and the last time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalCount {
    pub kind: String,
    pub count: u64,
    pub last_at: String,
}

/// One device as the fleet's health shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHealth {
    pub device: String,
    pub center: String,
    pub revoked: bool,
    /// The place of the last audit head the back office accepted from it.
    pub audit_seq: Option<u64>,
    pub audit_seen_at: Option<String>,
    /// Why its audit trail was flagged, and when.
    pub flag: Option<String>,
    pub flagged_at: Option<String>,
}

/// What an administrator checks: every device's audit standing, the refusals counted, and the
/// failed logins the devices reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetHealth {
    pub devices: Vec<DeviceHealth>,
    pub refusals: Vec<RefusalCount>,
    pub failed_logins: u64,
}

/// A release of the app, as the back office lists and offers it; its package stays in the
/// database until a device downloads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub file_name: String,
    /// The package's size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the package.
    pub sha256: String,
    /// The `.sig` file's content as Tauri's signer wrote it: what the devices verify.
    pub signature: String,
    pub notes: String,
    /// The centres it is offered to; `None` for every centre.
    pub centres: Option<Vec<String>>,
    pub published_at: String,
}
