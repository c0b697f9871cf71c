//! Every way a domain rule can refuse, with the context needed to say what was wrong and what to
//! do about it.

use crate::account::PasswordProblem;
use crate::approval::{ApprovalProblem, ApprovedAct, RefundProblem};
use crate::citizen::{CitizenProblem, NationalIdError};
use crate::feedback::{FeedbackProblem, PaymentProblem};
use crate::form::FieldProblem;
use crate::queue::{TicketAction, TicketStatus};
use crate::receipt::ReceiptError;
use crate::request::{Action, Party, Refusal, RequestStatus};
use crate::text::english_plural;

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("'{code}' is not a currency code: use three letters such as EUR or KES")]
    Currency { code: String },

    #[error(
        "'{input}' is not an amount in {currency}: write digits with at most {exponent} decimals, such as 12.50"
    )]
    Amount {
        input: String,
        currency: String,
        exponent: u32,
    },

    #[error("the catalogue has {} {}: {}", problems.len(), english_plural(problems.len() as u64, "problem", "problems"), problems.join("; "))]
    InvalidCatalogue { problems: Vec<String> },

    #[error("'{input}' is not a known {what}; use one of: {expected}")]
    UnknownChoice {
        what: &'static str,
        input: String,
        expected: String,
    },

    #[error("{problem}")]
    Citizen { problem: CitizenProblem },

    #[error(transparent)]
    NationalId(#[from] NationalIdError),

    #[error("the form has {} {}: {}", problems.len(), english_plural(problems.len() as u64, "problem", "problems"), problems.iter().map(|p| format!("{} {}", p.field, p.problem)).collect::<Vec<_>>().join("; "))]
    Form { problems: Vec<FieldProblem> },

    #[error("request {request} is {from}: {by} cannot {action} it ({refusal})")]
    Transition {
        request: String,
        from: RequestStatus,
        action: Action,
        by: Party,
        refusal: Refusal,
    },

    #[error("ticket {ticket} is {}: it cannot be {}", from.as_str(), action.as_str())]
    Ticket {
        ticket: String,
        from: TicketStatus,
        action: TicketAction,
    },

    #[error("'{input}' is not a clock stamp (expected WALLMS-COUNTER-NODE)")]
    Hlc { input: String },

    #[error("{problem}")]
    Feedback { problem: FeedbackProblem },

    #[error("payment for request {request} refused: {problem}")]
    Payment {
        request: String,
        problem: PaymentProblem,
    },

    #[error(transparent)]
    Receipt(#[from] ReceiptError),

    #[error(
        "'{input}' is not a user name: use 2 to 32 lowercase letters, digits, '.', '-' or '_', starting with a letter"
    )]
    Username { input: String },

    #[error(
        "give the account's full name, as colleagues and reports should show it: 1 to {max} characters"
    )]
    DisplayName { max: usize },

    #[error(
        "the account's full name holds the invisible character {character}, which can hide or reorder what the screen shows: type it again without it"
    )]
    DisplayNameCharacter { character: String },

    #[error("this password cannot be used: {problem}")]
    Password { problem: PasswordProblem },

    #[error("a password verifier must be Argon2id with at least 64 MiB and 3 passes")]
    WeakVerifier,

    #[error("the password could not be hashed")]
    VerifierFailed,

    #[error("the key could not be sealed")]
    SealFailed,

    /// What is wrong with a typed recovery key, never the key: it is a secret, and a typo
    /// leaves most of it right.
    #[error(
        "this is not a recovery key: {0}; a recovery key is 32 letters and digits, in groups \
         of four (for example ABCD-EFGH-...), as printed when the device was set up"
    )]
    RecoveryKey(String),
    #[error("a supervisor must approve {act}: {problem}")]
    Approval {
        act: ApprovedAct,
        problem: ApprovalProblem,
    },

    #[error("refund of payment {payment} refused: {problem}")]
    Refund {
        payment: String,
        problem: RefundProblem,
    },
}
