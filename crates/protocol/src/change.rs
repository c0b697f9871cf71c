//! The changes a workstation makes, as they travel: typed, so that both sides read the same
//! thing and the back office can check each one with the shared domain rules.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use guichet_domain::account::SessionEvent;
use guichet_domain::catalogue::Fee;
use guichet_domain::citizen::Citizen;
use guichet_domain::feedback::{Feedback, PaymentMethod};
use guichet_domain::money::Money;
use guichet_domain::queue::{Counter, QueueTarget, TicketAction, TicketStatus};
use guichet_domain::receipt::ReceiptNumber;
use guichet_domain::request::{Action, RequestStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One change made on a workstation. The `kind` names it on the wire and in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Change {
    #[serde(rename = "citizen.registered")]
    CitizenRegistered { citizen: Citizen },

    #[serde(rename = "request.created")]
    RequestCreated {
        id: String,
        receipt: ReceiptNumber,
        service: String,
        catalogue_version: u32,
        citizen: String,
        center: String,
        device: String,
        clerk: String,
        visit: Option<String>,
        form: BTreeMap<String, String>,
        documents_received: Vec<String>,
        fee: Fee,
        intake_date: NaiveDate,
        due_date: NaiveDate,
    },

    #[serde(rename = "request.transition")]
    RequestTransition {
        id: String,
        action: Action,
        from: RequestStatus,
        to: RequestStatus,
        reason: Option<String>,
        /// The supervisor who approved it, when the act needs one (a cancellation after
        /// payment); absent otherwise, so changes made before four-eyes keep their content.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approver: Option<String>,
    },

    #[serde(rename = "request.document_marked")]
    DocumentMarked {
        id: String,
        document: String,
        received: bool,
    },

    #[serde(rename = "payment.recorded")]
    PaymentRecorded {
        id: String,
        request: String,
        amount: Money,
        method: PaymentMethod,
        receipt: ReceiptNumber,
    },

    /// Given back (part of) a payment recorded by mistake: a payment is never edited.
    #[serde(rename = "payment.refunded")]
    PaymentRefunded {
        id: String,
        /// The payment it reverses.
        payment: String,
        request: String,
        amount: Money,
        reason: String,
        /// The refund's own receipt number, for the slip the citizen signs.
        receipt: ReceiptNumber,
        /// The supervisor who approved it.
        approver: String,
    },

    #[serde(rename = "fee.waived")]
    FeeWaived {
        id: String,
        ground: String,
        /// The supervisor who approved it. Waivers made before four-eyes have none, and the
        /// back office refuses them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approver: Option<String>,
    },

    #[serde(rename = "counter.added")]
    CounterAdded { counter: Counter },

    #[serde(rename = "ticket.issued")]
    TicketIssued {
        id: String,
        code: String,
        target: QueueTarget,
        lane: String,
    },

    #[serde(rename = "ticket.step")]
    TicketStep {
        id: String,
        code: String,
        action: TicketAction,
        from: TicketStatus,
        to: TicketStatus,
        counter: Option<String>,
        /// The supervisor who approved it, when the step needs one (recalling a no-show).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approver: Option<String>,
    },

    #[serde(rename = "ticket.transferred")]
    TicketTransferred {
        id: String,
        from: TicketStatus,
        to_queue: Option<QueueTarget>,
        to_counter: Option<String>,
    },

    #[serde(rename = "feedback.recorded")]
    FeedbackRecorded {
        id: String,
        visit: String,
        feedback: Feedback,
    },

    /// A login, a failed login, a lock, an unlock or a logout at the device. `clerk` is the
    /// account's user name, or `(unknown)` for a failed login under a name that is no account.
    #[serde(rename = "clerk.session")]
    ClerkSession { clerk: String, event: SessionEvent },
}

impl Change {
    /// The name of the change, as in the outbox and the audit trail ("request.created").
    pub fn kind(&self) -> &'static str {
        match self {
            Change::CitizenRegistered { .. } => "citizen.registered",
            Change::RequestCreated { .. } => "request.created",
            Change::RequestTransition { .. } => "request.transition",
            Change::DocumentMarked { .. } => "request.document_marked",
            Change::PaymentRecorded { .. } => "payment.recorded",
            Change::PaymentRefunded { .. } => "payment.refunded",
            Change::FeeWaived { .. } => "fee.waived",
            Change::CounterAdded { .. } => "counter.added",
            Change::TicketIssued { .. } => "ticket.issued",
            Change::TicketStep { .. } => "ticket.step",
            Change::TicketTransferred { .. } => "ticket.transferred",
            Change::FeedbackRecorded { .. } => "feedback.recorded",
            Change::ClerkSession { .. } => "clerk.session",
        }
    }

    /// The kind and id of the record the change is about.
    pub fn entity(&self) -> (&'static str, &str) {
        match self {
            Change::CitizenRegistered { citizen } => ("citizen", &citizen.national_id),
            Change::RequestCreated { id, .. }
            | Change::RequestTransition { id, .. }
            | Change::DocumentMarked { id, .. }
            | Change::FeeWaived { id, .. } => ("request", id),
            Change::PaymentRecorded { request, .. } | Change::PaymentRefunded { request, .. } => {
                ("request", request)
            }
            Change::CounterAdded { counter } => ("counter", &counter.code),
            Change::TicketIssued { id, .. }
            | Change::TicketStep { id, .. }
            | Change::TicketTransferred { id, .. } => ("ticket", id),
            Change::FeedbackRecorded { visit, .. } => ("visit", visit),
            Change::ClerkSession { clerk, .. } => ("clerk", clerk),
        }
    }

    /// The supervisor who approved the change, if it names one (see
    /// `guichet_domain::approval` for which acts need one).
    pub fn approver(&self) -> Option<&str> {
        match self {
            Change::RequestTransition { approver, .. }
            | Change::FeeWaived { approver, .. }
            | Change::TicketStep { approver, .. } => approver.as_deref(),
            Change::PaymentRefunded { approver, .. } => Some(approver),
            Change::CitizenRegistered { .. }
            | Change::RequestCreated { .. }
            | Change::DocumentMarked { .. }
            | Change::PaymentRecorded { .. }
            | Change::CounterAdded { .. }
            | Change::TicketIssued { .. }
            | Change::TicketTransferred { .. }
            | Change::FeedbackRecorded { .. }
            | Change::ClerkSession { .. } => None,
        }
    }
}
