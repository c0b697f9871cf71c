//! The messages of the sync API. Bodies are JSON, compressed (gzip or zstd) both ways.
//!
//! - `POST /sync/v1/enroll`: a one-time enrolment code for a device's credential.
//! - `POST /sync/v1/exchange` (authenticated with `Authorization: Bearer TOKEN`): push, then
//!   pull one page.
//! - `POST /sync/v1/vouch`: a clerk's name and password, checked here, for their first login
//!   on a device (whose key slots do not know them yet): the answer opens the device.
//! - `POST /sync/v1/token` (authenticated): a new credential for the device (`TokenRotation`).
//!
//! Errors are a status code and an `ApiError` body with a stable machine-readable code.

use guichet_domain::account::Account;
use guichet_domain::catalogue::{Catalogue, CenterKind};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::receipt::{ReceiptNumber, ReceiptPrefix};
use guichet_domain::request::{Action, RequestStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change::Change;

/// The most entries one exchange may push; the workstation sends larger outboxes in batches.
/// A day of a busy centre (about 4,000 entries) fits one exchange: over a satellite link each
/// exchange costs a round trip of 600 ms or more, which is what a batch saves.
pub const MAX_PUSH: usize = 5000;

/// The most bytes of entries (as JSON, before compression) a workstation puts in one push:
/// half the body limit, so that a batch always fits it, and about 150 kB on the wire, which
/// a link of 32 kB/s carries in five seconds, well within the device's silence timeout.
pub const PUSH_JSON_BYTES: usize = MAX_BODY_BYTES / 2;

/// The largest request body accepted, after decompression.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The largest change one entry may carry, as JSON: every text in it together (a form's
/// fields, a comment, a reason, a ticket's lane). Far above any real change (a request with a
/// long form is a few kilobytes), far below what would let one device fill its centre's pulls.
/// A workstation refuses to record a larger change, and the back office refuses to apply one.
pub const MAX_CHANGE_BYTES: usize = 64 * 1024;

/// The longest reason a request's transition may carry (a cancellation's, a rejection's), in
/// characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// The longest name of a ticket's lane, in characters.
pub const MAX_LANE_CHARS: usize = 80;

/// The longest app version a device may report ("0.1.0", "1.4.2-rc.1").
pub const MAX_VERSION_CHARS: usize = 40;

/// The most changes a device may report waiting or refused: far more than a workstation's
/// database holds, and what the back office's columns keep exactly.
pub const MAX_REPORTED_CHANGES: u64 = 1_000_000_000;

/// The length of `value` as JSON, without keeping the text.
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Counted(usize);
    impl std::io::Write for Counted {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counted = Counted(0);
    // Writing to a counter fails only if `value` cannot be serialised at all; what was
    // counted until then is the answer.
    let _ = serde_json::to_writer(&mut counted, value);
    counted.0
}

/// The most bytes of changes one pull page carries: a page ends before the change that would
/// pass it (it always holds at least one, which a push body bounds), so that one device's large
/// changes cannot make the centre's pulls grow without end.
pub const MAX_PULL_BYTES: usize = 4 * 1024 * 1024;

/// The largest answer a device reads (after decompression): a full pull page and one more
/// change of the largest size a push allows, with room to spare.
pub const MAX_ANSWER_BYTES: usize = MAX_PULL_BYTES + 2 * MAX_BODY_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub code: String,
    /// What the operator calls this device ("Bus 3, laptop 1").
    #[serde(default)]
    pub label: Option<String>,
    /// The device's recovery key (it opens the device's encrypted database), for the back
    /// office to hold: it gives it back to a clerk it vouches for.
    #[serde(default)]
    pub recovery_key: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnrollResponse {
    pub center_code: String,
    pub center_name: String,
    pub center_kind: CenterKind,
    /// The centre's IANA time zone: its days and hours are counted in it.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// The national id scheme the back office checks citizens' ids with; the device checks
    /// them the same way. A back office of a release before it assumed Estonia's.
    #[serde(default = "estonian_ids")]
    pub national_id_scheme: String,
    /// The centre's currency (euros from a back office of a release before it).
    #[serde(default = "euro")]
    pub currency: String,
    /// The centre's waiting-time target in minutes (15 from an older back office).
    #[serde(default = "fifteen_minutes")]
    pub waiting_target_min: u32,
    pub device_code: String,
    /// Unique across every device: the back office hands them out from one counter.
    pub receipt_prefix: ReceiptPrefix,
    /// The device's credential; the back office keeps only its hash.
    pub token: String,
    /// The accounts that may log in at this centre's devices, so a clerk can log in as soon as
    /// the device is enrolled. Later changes to them come in the centre's log
    /// (`Pulled::Account`).
    pub accounts: Vec<Account>,
}

fn utc() -> String {
    "UTC".to_owned()
}

fn estonian_ids() -> String {
    "ee-isikukood".to_owned()
}

fn euro() -> String {
    "EUR".to_owned()
}

fn fifteen_minutes() -> u32 {
    15
}

/// One outbox entry on its way to the back office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushEntry {
    /// Unique everywhere; the back office applies an id once.
    pub id: String,
    /// The device's sequence number: entries are applied in this order.
    pub seq: u64,
    pub hlc: HlcStamp,
    /// The user name of the clerk who was logged in when the change was made. The back office
    /// refuses the entry (`out_of_scope`) unless it is an active account of the device's
    /// centre with the role the change needs.
    pub actor: String,
    pub change: Change,
}

#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    #[serde(default)]
    pub push: Vec<PushEntry>,
    /// The last server sequence this device has applied (0 at first).
    pub cursor: u64,
    /// At most this many changes in the pulled page.
    pub limit: u32,
    /// A recovery key the back office does not hold yet (a device whose plain database was
    /// encrypted since its enrolment): sent until an exchange succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_key: Option<String>,
    /// The head of the device's audit chain, so that the back office can tell when a trail it
    /// saw was cut short or rewritten. Devices before this field send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditClaim>,
    /// How the device stands, for the operators' view of the fleet. Devices before this
    /// field send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DeviceState>,
}

/// What a device reports of itself at every exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceState {
    /// The Guichet release it runs (at most `MAX_VERSION_CHARS`).
    pub app_version: String,
    /// Changes that still wait on it beyond this exchange's push.
    pub waiting: u64,
    /// Changes the back office refused that it holds, for a clerk to look at.
    pub refused: u64,
    /// Its wall clock when it sent the exchange: the back office reads its offset.
    pub clock: chrono::DateTime<chrono::Utc>,
}

impl DeviceState {
    /// What is wrong with a report, if anything: a version too long or with control
    /// characters, or a count of changes no device holds.
    pub fn problem(&self) -> Option<String> {
        for (what, count) in [("waiting", self.waiting), ("refused", self.refused)] {
            if count > MAX_REPORTED_CHANGES {
                return Some(format!(
                    "the report says {count} changes {what}: a device holds at most \
                     {MAX_REPORTED_CHANGES}"
                ));
            }
        }
        let chars = self.app_version.chars().count();
        if chars == 0 || chars > MAX_VERSION_CHARS {
            return Some(format!(
                "the reported app version has {chars} characters; it must have 1 to {MAX_VERSION_CHARS}"
            ));
        }
        // Bidirectional controls, and the marks that steer them, would reorder the operators'
        // table of the fleet.
        let version = &self.app_version;
        (guichet_domain::text::hidden_character(version, false).is_some()
            || version.contains(['\u{200E}', '\u{200F}', '\u{061C}']))
        .then(|| "the reported app version holds control characters".to_owned())
    }
}

/// A clerk's first login on a device: the back office checks the password and vouches.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VouchRequest {
    pub device_code: String,
    pub username: String,
    pub password: String,
}

// The secrets these carry (a device's credential, a password, a recovery key) are left out
// of their `{:?}`, so that no log line can hold one by formatting the whole.
impl std::fmt::Debug for EnrollResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollResponse")
            .field("center_code", &self.center_code)
            .field("device_code", &self.device_code)
            .field("receipt_prefix", &self.receipt_prefix)
            .field("accounts", &self.accounts.len())
            .finish_non_exhaustive()
    }
}

/// The changes pushed carry citizens' records, and the recovery key opens the device's
/// database: `{:?}` shows how many changes and whether a key is there.
impl std::fmt::Debug for ExchangeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeRequest")
            .field("push", &self.push.len())
            .field("cursor", &self.cursor)
            .field("limit", &self.limit)
            .field("recovery_key", &self.recovery_key.is_some())
            .field("audit", &self.audit)
            .field("state", &self.state)
            .finish()
    }
}

impl std::fmt::Debug for TokenRotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRotation").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for VouchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VouchRequest")
            .field("device_code", &self.device_code)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for VouchResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VouchResponse")
            .field("account", &self.account.username)
            .finish_non_exhaustive()
    }
}

/// The back office vouches: the clerk's account as it stands, and the device's recovery key,
/// with which the device opens its database and seals the clerk a slot of their own.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VouchResponse {
    pub account: Account,
    pub recovery_key: String,
}

/// One event of a device's audit chain, named by its place and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditPoint {
    /// The event's place in the device's chain, from 1.
    pub seq: u64,
    /// The event's SHA-256 hash, 64 lowercase hex digits.
    pub hash: String,
}

/// What a device says of its audit chain with each exchange.
///
/// The back office keeps the last head it accepted from each device. A head with a lower `seq`
/// than that one, or the same `seq` with another hash, is a trail cut short or rewritten. A
/// head beyond it must come with `anchor`: the device's event at the `seq` the back office
/// holds (`ExchangeResponse::audit_anchor`, or `ErrorBody::audit_anchor` when it asks again),
/// whose hash must be the one it saw. Since every event's hash covers the one before, an equal
/// hash there proves the whole trail up to it is the one the back office saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditClaim {
    /// The device's last audit event.
    pub head: AuditPoint,
    /// The device's event at the place the back office last acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<AuditPoint>,
}

/// What became of one pushed entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied now. `seq` is the place the back office gave it in the centre's log: a pulled
    /// change with a lower `seq` about the same request is older than this one.
    Applied { seq: u64 },
    /// Already applied earlier with the same content: nothing was done again. `seq` is the
    /// place it was given then in the centre's log (as in `Applied`), when the back office
    /// knows it.
    Duplicate { seq: Option<u64> },
    /// Not applied, for a reason the clerk can act on. The entry stays on the device.
    Refused { code: RefusalCode, message: String },
    /// Not applied: someone moved the request first (the agency, or another device of the
    /// centre) and the move is no longer possible from there. The clerk resolves it.
    Conflict {
        message: String,
        server_status: Option<RequestStatus>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The same id was applied before with other content.
    IdReused,
    /// The change claims another centre or device.
    OutOfScope,
    /// It refers to something the back office does not know.
    UnknownReference,
    /// The state machine or the transition owner forbids it.
    Transition,
    /// The form or another value fails the domain's validation.
    Invalid,
    /// An earlier entry of the same batch was refused and this one depends on it.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PushResult {
    pub id: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// One change the centre has not seen yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PulledChange {
    /// The server's sequence: the cursor after applying this change.
    pub seq: u64,
    pub hlc: HlcStamp,
    pub body: Pulled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pulled {
    /// A new catalogue version, holding only the services offered at this centre.
    Catalogue { catalogue: Catalogue },
    /// An agency moved a request (take in processing, return for correction, ready, reject).
    Decision {
        request: String,
        receipt: ReceiptNumber,
        action: Action,
        from: RequestStatus,
        to: RequestStatus,
        reason: Option<String>,
        actor: String,
    },
    /// A change made by another device of the same centre.
    Peer { device: String, change: Change },
    /// An account added or changed (role, status, password) that may log in at this centre:
    /// the device replaces its copy with this one.
    Account { account: Account },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExchangeResponse {
    /// One per pushed entry, in the same order.
    pub results: Vec<PushResult>,
    pub changes: Vec<PulledChange>,
    /// The cursor to send next time.
    pub cursor: u64,
    /// More changes wait beyond this page.
    pub more: bool,
    /// The back office's clock, so the device's clock can order after it.
    pub server_hlc: HlcStamp,
    /// The place in the device's audit chain the back office now holds as its head: the
    /// device sends its event at this place as `AuditClaim::anchor` next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_anchor: Option<u64>,
    /// An administrator revoked this device and asked for its data to be erased: the back
    /// office took the pushed entries but sends nothing more. The device pushes whatever still
    /// waits, erases its local replica once nothing does, and confirms with
    /// `POST /sync/v1/wiped`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wipe: bool,
    /// The centre's terms as the back office holds them now, which the device follows from
    /// this answer on: an operator may correct them after the centre's devices enrolled
    /// (`center update`). Sent with every answer but a wipe's; a back office of a release
    /// before it sends none, and the device keeps what it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center: Option<CenterTerms>,
}

/// What of a centre its operator may change after its devices enrolled. Its currency is not
/// among them: the fees its devices took were counted in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CenterTerms {
    pub name: String,
    /// Its IANA time zone: its days and hours are counted in it.
    pub time_zone: String,
    /// The waiting time its queue aims to stay under, in minutes.
    pub waiting_target_min: u32,
}

/// A new device credential, answered by `POST /sync/v1/token`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenRotation {
    /// The device's new credential. The old one stays valid until the new one is first used,
    /// so an answer lost on the way costs nothing; from then on the old one is refused.
    pub token: String,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// With `audit_anchor`: the place in the device's audit chain whose event the back office
    /// wants to see (as `AuditClaim::anchor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_anchor: Option<u64>,
}

/// Stable codes: clients decide on these, never on the message. A later release may add codes;
/// a client reads one it does not know by the answer's HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No or unknown credential, or an unknown enrolment code.
    Unauthorized,
    /// The device was revoked by an administrator.
    Revoked,
    /// The credential is valid but not for this.
    Forbidden,
    /// The body could not be read (not JSON, wrong shape, bad compression).
    Malformed,
    /// The body is larger than the limit.
    TooLarge,
    /// Too many entries in one push.
    TooManyEntries,
    /// Too many wrong enrolment codes from one address, or from everywhere, lately: the
    /// message says how long to wait.
    TooManyAttempts,
    NotFound,
    /// The request conflicts with the state (an enrolment code used twice).
    Conflict,
    /// The server failed; the client retries later.
    Internal,
    /// The back office cannot answer just now (its database busy or restarting, too many
    /// password checks or downloads at once, a request past its time limit): sent with 503 and
    /// `Retry-After`, and the client tries again by itself, no sooner than that. A client of a
    /// release before this code reads it by its status, as any 5xx: busy, try again.
    Unavailable,
    /// The device's audit trail no longer extends the one the back office saw (cut short or
    /// rewritten): nothing is applied, and the device is flagged for the administrators.
    AuditRewritten,
    /// The device's audit head goes beyond the one the back office holds but did not show the
    /// event at that place (`ErrorBody::audit_anchor`): the device sends it and tries again.
    AuditAnchor,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A password or a recovery key formatted with `{:?}` (as a log line would) is not shown.
    #[test]
    fn secrets_are_left_out_of_debug() {
        let vouch = VouchRequest {
            device_code: "ATH-01-0001".into(),
            username: "nikos".into(),
            password: "correct horse battery".into(),
        };
        let shown = format!("{vouch:?}");
        assert!(
            shown.contains("nikos") && !shown.contains("horse"),
            "{shown}"
        );
        let rotation = TokenRotation {
            token: "gdt_secret-token".into(),
        };
        let shown = format!("{rotation:?}");
        assert!(!shown.contains("secret-token"), "{shown}");
        let exchange = ExchangeRequest {
            push: vec![],
            cursor: 7,
            limit: 500,
            recovery_key: Some("RK-secret-key".into()),
            audit: None,
            state: None,
        };
        let shown = format!("{exchange:?}");
        assert!(
            shown.contains("cursor: 7") && !shown.contains("secret-key"),
            "{shown}"
        );
    }

    #[test]
    fn messages_round_trip_and_refuse_unknown_fields() {
        let body = r#"{"push":[],"cursor":7,"limit":100}"#;
        let req: ExchangeRequest = serde_json::from_str(body).unwrap();
        assert_eq!(req.cursor, 7);
        assert!(
            serde_json::from_str::<ExchangeRequest>(r#"{"cursor":1,"limit":1,"x":1}"#).is_err()
        );
        let result = PushResult {
            id: "a".into(),
            outcome: Outcome::Refused {
                code: RefusalCode::Transition,
                message: "no".into(),
            },
        };
        let text = serde_json::to_string(&result).unwrap();
        assert_eq!(
            text,
            r#"{"id":"a","outcome":"refused","code":"transition","message":"no"}"#
        );
        assert_eq!(serde_json::from_str::<PushResult>(&text).unwrap(), result);
    }

    #[test]
    fn changes_are_tagged_by_kind() {
        let change = Change::FeeWaived {
            id: "r1".into(),
            ground: "older-people".into(),
            approver: Some("kostas".into()),
        };
        let text = serde_json::to_string(&change).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"fee.waived","id":"r1","ground":"older-people","approver":"kostas"}"#
        );
        assert_eq!(change.approver(), Some("kostas"));
        // A waiver made before four-eyes reads back without an approver, and writes back the
        // same bytes, so its content hash at the back office is unchanged.
        let before = r#"{"kind":"fee.waived","id":"r1","ground":"older-people"}"#;
        let old: Change = serde_json::from_str(before).unwrap();
        assert_eq!(old.approver(), None);
        assert_eq!(serde_json::to_string(&old).unwrap(), before);
        assert_eq!(change.kind(), "fee.waived");
        assert_eq!(change.entity(), ("request", "r1"));
        assert!(serde_json::from_str::<Change>(r#"{"kind":"fee.forgiven","id":"r1"}"#).is_err());
    }
}
