//! What a report holds: plain data, serialisable so that the desktop app can show it and a
//! script can read it as JSON. Money is in minor units of the centre's currency; durations in
//! milliseconds or whole seconds as named; names are already in the report's language.

use chrono::{DateTime, NaiveDate, Utc};
use guichet_domain::money::Currency;
use guichet_domain::request::RequestStatus;
use guichet_domain::zone::Zone;
use guichet_workstation::store::ArrivedLate;
use serde::Serialize;

use crate::locale::Locale;
use crate::stats::WaitSummary;

/// The daily report of one centre, for one day or a range of days.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub header: Header,
    /// Nothing happened in the period: no ticket, request, payment, decision or feedback.
    pub empty: bool,
    pub queue: QueueSection,
    pub requests: RequestSection,
    pub clerks: Vec<ClerkLine>,
    pub money: MoneySection,
    pub feedback: FeedbackSection,
    pub sync: SyncHealth,
    pub late: LateSection,
}

/// What was made in a period that has ended, on other devices of the centre, and reached this
/// one only after its end (a bus that synced the next morning): it is counted above, where a
/// report of the period made before it arrived did not count it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LateSection {
    #[serde(flatten)]
    pub arrived: ArrivedLate,
    /// When the last of them reached this device.
    pub last_at: Option<DateTime<Utc>>,
    /// One sentence that says so, or that nothing came late, in the report's language; none
    /// for a period that has not ended, or on a standalone device (no other device sends it
    /// anything).
    pub statement: Option<String>,
}

impl LateSection {
    /// The sentence, when something came late: where nothing did, the PDF and the CLI say
    /// nothing of it.
    pub fn news(&self) -> Option<&str> {
        self.statement.as_deref().filter(|_| self.arrived.any())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub center_code: String,
    pub center_name: String,
    pub device_code: String,
    /// First and last day of the period, both included: the centre's local days.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub made_at: DateTime<Utc>,
    /// The centre's time zone: days, hours and the times shown are local to it.
    pub time_zone: Zone,
    pub catalogue_version: Option<u32>,
    pub currency: Currency,
    pub waiting_target_min: u32,
    pub locale: Locale,
}

impl Header {
    /// Whether the period had ended when the report was made: its statuses and the money of
    /// its requests are then as they stood at its end.
    pub fn ended(&self) -> bool {
        self.time_zone.day_of(self.made_at) > self.to
    }

    /// The day what the period's requests are paid, waived and still owed is as at: its last
    /// day, at its end, for a period that has ended; the day the report was made otherwise.
    pub fn as_at(&self) -> NaiveDate {
        self.time_zone.day_of(self.made_at).min(self.to)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueSection {
    pub issued: u64,
    /// Came to the counter (service started).
    pub served: u64,
    /// Still marked no-show at the end: never came back.
    pub no_shows: u64,
    /// Missed a call, then came back when recalled and was served.
    pub served_after_no_show: u64,
    /// Sent to another queue or counter at least once.
    pub transferred: u64,
    /// Still waiting or called, not served, when the report was made.
    pub not_served: u64,
    pub waiting: WaitSummary,
    pub by_hour: Vec<HourLine>,
    /// Per service or category the ticket waited for.
    pub by_target: Vec<QueueGroup>,
    pub by_category: Vec<QueueGroup>,
    pub by_lane: Vec<QueueGroup>,
}

/// Tickets issued in one hour of the day (0 to 23), all days of the period together.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct HourLine {
    pub hour: u8,
    pub issued: u64,
    pub served: u64,
    pub waiting: WaitSummary,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueGroup {
    /// "service", "category" or "lane".
    pub kind: String,
    pub code: String,
    pub name: String,
    pub issued: u64,
    pub served: u64,
    pub no_shows: u64,
    pub transferred: u64,
    pub waiting: WaitSummary,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestSection {
    /// Requests taken (intake) in the period.
    pub taken: u64,
    pub by_service: Vec<RequestGroup>,
    pub by_category: Vec<RequestGroup>,
    pub by_agency: Vec<RequestGroup>,
    /// The requests taken in the period, by their status at the end of it.
    pub by_status: Vec<StatusCount>,
    /// Every open request of the centre past its due date at the end of the period.
    pub overdue_count: u64,
    /// The most overdue first; at most `LIST_CAP` lines (`overdue_count` has them all).
    pub overdue: Vec<OverdueLine>,
    pub returned_for_correction: u64,
    pub rejected: u64,
    /// Returns for correction and rejections decided in the period, with their reasons.
    pub decisions: Vec<DecisionLine>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestGroup {
    pub code: String,
    pub name: String,
    pub taken: u64,
    pub fees_due_minor: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StatusCount {
    pub status: RequestStatus,
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OverdueLine {
    pub receipt: String,
    pub service_code: String,
    pub service_name: String,
    pub status: RequestStatus,
    pub intake_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Working days past the due date, at the end of the period.
    pub days_overdue: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionLine {
    pub receipt: String,
    pub service_code: String,
    pub status: RequestStatus,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// One clerk at one counter over the period. Open time is, for each day, from the clerk's
/// first call at that counter to the last finish (or call) there; busy time is the sum of
/// service times; idle share is the rest of the open time.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClerkLine {
    pub clerk: String,
    /// None for requests taken outside a queue visit.
    pub counter: Option<String>,
    pub served: u64,
    pub avg_service_s: Option<f64>,
    pub requests_taken: u64,
    pub open_s: u64,
    pub busy_s: u64,
    pub idle_share: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MoneySection {
    pub currency: Currency,
    /// The fees of the requests taken in the period.
    pub fees_due_minor: i64,
    pub requests_with_fee: u64,
    /// Payments received in the period (for requests of any day).
    pub collected_minor: i64,
    pub by_method: Vec<MethodLine>,
    /// Payments given back in the period (of payments of any day).
    pub refunded_minor: i64,
    /// Collected minus refunded: the money the centre kept.
    pub net_collected_minor: i64,
    /// The refunds of the period, oldest first; at most `LIST_CAP`.
    pub refunds: Vec<RefundLine>,
    /// The fees of the requests taken in the period waived by its end (by the time the
    /// report was made, for a period that has not ended).
    pub waived_minor: i64,
    pub waivers: Vec<WaiverLine>,
    /// Of the fees due: neither paid (net of refunds) nor waived at the end of the period
    /// (when the report was made, for a period that has not ended).
    pub outstanding_minor: i64,
    /// Cash received in the period, less cash given back: what the drawer should hold above
    /// its float.
    pub cash_expected_minor: i64,
    /// What the supervisor counted, when given.
    pub cash_counted_minor: Option<i64>,
    /// Counted minus expected: negative means cash is missing.
    pub cash_difference_minor: Option<i64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MethodLine {
    pub method: String,
    pub name: String,
    pub payments: u64,
    pub amount_minor: i64,
}

/// One payment given back, with the clerk who gave it and the supervisor who approved it.
#[derive(Debug, Clone, Serialize)]
pub struct RefundLine {
    pub receipt: String,
    pub payment_receipt: String,
    pub request_receipt: String,
    pub method: String,
    pub amount_minor: i64,
    pub clerk: String,
    pub approver: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaiverLine {
    /// The target group exempt from the fee, by its catalogue code.
    pub ground: String,
    /// Its name in the report's language (the code, for a group no longer in the catalogue).
    pub name: String,
    pub requests: u64,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct FeedbackSection {
    pub count: u64,
    pub average: Option<f64>,
    /// How many gave 1, 2, 3, 4 and 5.
    pub distribution: [u64; 5],
    pub by_service: Vec<FeedbackGroup>,
    pub by_clerk: Vec<FeedbackGroup>,
    /// At most `LIST_CAP`, oldest first.
    pub comments: Vec<CommentLine>,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct FeedbackGroup {
    pub code: String,
    pub name: String,
    pub count: u64,
    pub average: Option<f64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CommentLine {
    pub at: DateTime<Utc>,
    pub rating: u8,
    pub service: String,
    pub clerk: String,
    pub comment: String,
}

/// Where the device stands with the back office when the report is made.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SyncHealth {
    pub enrolled: bool,
    pub unsent: u64,
    pub oldest_unsent_at: Option<DateTime<Utc>>,
    pub oldest_unsent_age_s: Option<u64>,
    pub refused: u64,
    pub conflicts: u64,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Nothing unsent, refused or in conflict: the day can be closed as clean.
    pub clean: bool,
    /// One sentence that says so, or says why not, in the report's language.
    pub statement: String,
    /// Refused and conflicting changes with their reasons (at most `LIST_CAP`).
    pub problems: Vec<ChangeLine>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChangeLine {
    pub seq: u64,
    pub state: String,
    pub kind: String,
    pub entity_id: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Progress of a long report, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub stage: Stage,
    /// Stages finished so far, out of `Stage::COUNT`.
    pub step: u32,
    /// Rows read so far in this stage.
    pub rows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Queue,
    Requests,
    Overdue,
    Decisions,
    Money,
    Feedback,
    Sync,
    Done,
}

impl Stage {
    pub const COUNT: u32 = 7;
}
