//! Refusals keyed for the desktop window's translations.
//!
//! The core says what it refuses in English, and the CLI and the HTTP API print that as it is.
//! The window shows it in the clerk's language instead: for each refusal a clerk can meet there,
//! the core also gives a `Message`, a key of the window's locale files (`ui/locales/*.json`) and
//! the values its template quotes. The English text and the message are made from the same
//! typed error, so they say the same thing; a test of the desktop app checks every key and
//! placeholder against the locale files.
//!
//! This module also holds the domain's side of that mapping, so that every key the domain can
//! produce is in one place.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::approval::{ApprovalProblem, RefundProblem};
use crate::citizen::{CitizenProblem, IdProblem, NationalIdError};
use crate::error::DomainError;
use crate::feedback::{FeedbackProblem, MAX_COMMENT_CHARS, PaymentProblem};
use crate::form::ValueProblem;
use crate::money::Money;
use crate::queue::{TicketAction, TicketStatus};
use crate::receipt::ReceiptError;
use crate::request::{Action, Party, Refusal, RequestStatus};
use crate::text::Text;

/// A locale key and the named values its template quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Message {
    pub key: String,
    pub args: BTreeMap<&'static str, Arg>,
}

/// A value a message quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Arg {
    /// Quoted as it is: what was typed, a code, a number, a date.
    Text(String),
    /// Words the window has its own translation of (a status, an action), as locale keys;
    /// several read as a list.
    Terms(Vec<String>),
    /// Names from the catalogue (a document, a service), each in every language it has; the
    /// window shows them in its own, several read as a list.
    Names(Vec<Text>),
    /// An amount, which the window writes as the clerk's language writes money.
    Money(Money),
    /// A message inside another: why a transition was refused, what is wrong with a value.
    Message(Message),
}

impl Message {
    pub fn new(key: impl Into<String>) -> Self {
        Message {
            key: key.into(),
            args: BTreeMap::new(),
        }
    }

    /// An internal failure (the database, a file): one key, with the English detail.
    pub fn internal(detail: impl ToString) -> Self {
        Message::new("error.internal").text("detail", detail)
    }

    pub fn text(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.insert(name, Arg::Text(value.to_string()));
        self
    }

    pub fn term(self, name: &'static str, value: impl Term) -> Self {
        self.terms(name, [value])
    }

    pub fn terms<T: Term>(
        mut self,
        name: &'static str,
        values: impl IntoIterator<Item = T>,
    ) -> Self {
        let keys = values.into_iter().map(|v| v.term()).collect();
        self.args.insert(name, Arg::Terms(keys));
        self
    }

    pub fn names(mut self, name: &'static str, values: impl IntoIterator<Item = Text>) -> Self {
        self.args
            .insert(name, Arg::Names(values.into_iter().collect()));
        self
    }

    pub fn money(mut self, name: &'static str, value: Money) -> Self {
        self.args.insert(name, Arg::Money(value));
        self
    }

    pub fn message(mut self, name: &'static str, value: Message) -> Self {
        self.args.insert(name, Arg::Message(value));
        self
    }
}

/// A value of the core with a word of its own in the window: the locale key the window
/// already uses for it on screen.
pub trait Term {
    fn term(&self) -> String;
}

impl Term for crate::citizen::CitizenField {
    fn term(&self) -> String {
        format!("citizen.field.{}", self.code())
    }
}

impl Term for crate::account::Act {
    fn term(&self) -> String {
        format!(
            "act.{}",
            match self {
                crate::account::Act::Counter => "counter",
                crate::account::Act::Supervise => "supervise",
                crate::account::Act::Administer => "administer",
            }
        )
    }
}

impl Term for crate::approval::ApprovedAct {
    /// The act in a sentence ("a waiver").
    fn term(&self) -> String {
        format!("approval.act.{}", self.as_str())
    }
}

impl Term for crate::account::Role {
    fn term(&self) -> String {
        format!("role.{}", self.as_str())
    }
}

impl Term for RequestStatus {
    fn term(&self) -> String {
        format!("request.status.{}", self.as_str())
    }
}

impl Term for Action {
    /// The action's button label.
    fn term(&self) -> String {
        format!("action.{}", self.as_str())
    }
}

impl Term for TicketStatus {
    fn term(&self) -> String {
        format!("ticket.status.{}", self.as_str())
    }
}

impl Term for TicketAction {
    /// The queue screen's button for the action.
    fn term(&self) -> String {
        match self {
            TicketAction::Call => "queue.call_next",
            TicketAction::Recall => "queue.recall",
            TicketAction::NoShow => "queue.no_show",
            TicketAction::Start => "queue.start",
            TicketAction::Finish => "queue.finish",
            TicketAction::Transfer => "queue.transfer",
        }
        .to_owned()
    }
}

impl DomainError {
    /// The refusal as the window translates it; `None` for what no clerk meets at the window
    /// (a catalogue file's problems, a clock stamp from a sync message), shown in English.
    pub fn message(&self) -> Option<Message> {
        Some(match self {
            DomainError::Currency { code } => Message::new("error.currency").text("code", code),
            DomainError::Amount {
                input,
                currency,
                exponent,
            } => Message::new("error.amount")
                .text("input", input)
                .text("currency", currency)
                .text("exponent", exponent),
            DomainError::UnknownChoice {
                what,
                input,
                expected,
            } => Message::new(format!("error.unknown_choice.{}", what.replace(' ', "_")))
                .text("input", input)
                .text("expected", expected),
            DomainError::Citizen { problem } => problem.message(),
            DomainError::NationalId(e) => e.message(),
            DomainError::Form { problems } => {
                Message::new("error.form").text("count", problems.len())
            }
            DomainError::Transition {
                request,
                from,
                action,
                refusal,
                ..
            } => Message::new("error.transition")
                .text("request", request)
                .term("from", *from)
                .term("action", *action)
                .message("refusal", refusal.message()),
            DomainError::Ticket {
                ticket,
                from,
                action,
            } => Message::new("error.ticket")
                .text("ticket", ticket)
                .term("from", *from)
                .term("action", *action),
            DomainError::Feedback { problem } => problem.message(),
            DomainError::Payment { request, problem } => problem.message().text("request", request),
            DomainError::Receipt(e) => return e.message(),
            DomainError::Username { input } => Message::new("error.username").text("input", input),
            DomainError::DisplayName { max } => Message::new("error.display_name").text("max", max),
            DomainError::DisplayNameCharacter { character } => {
                Message::new("error.display_name_character").text("character", character)
            }
            DomainError::Password { problem } => {
                Message::new(format!("error.password.{}", problem.key()))
                    .text("min", crate::account::MIN_PASSWORD_CHARS)
                    .text("max", crate::account::MAX_PASSWORD_CHARS)
            }
            DomainError::Approval { act, problem } => {
                let message =
                    Message::new(format!("error.approval.{}", problem.key())).term("act", *act);
                match problem {
                    ApprovalProblem::Role { approver, role } => {
                        message.text("approver", approver).term("role", *role)
                    }
                    ApprovalProblem::Disabled { approver } => message.text("approver", approver),
                    ApprovalProblem::Missing | ApprovalProblem::OwnAct => message,
                }
            }
            DomainError::Refund { payment, problem } => {
                let message = Message::new(format!("error.refund.{}", problem.key()))
                    .text("payment", payment);
                match problem {
                    RefundProblem::OtherCurrency { paid, refunded } => {
                        message.text("paid", paid).text("refunded", refunded)
                    }
                    RefundProblem::TooMuch { refunded, left } => message
                        .money("refunded", refunded.clone())
                        .money("left", left.clone()),
                    RefundProblem::Reason { max } => message.text("max", max),
                    RefundProblem::NotPositive | RefundProblem::RefundedInFull => message,
                }
            }
            DomainError::InvalidCatalogue { .. }
            | DomainError::Hlc { .. }
            | DomainError::WeakVerifier
            | DomainError::VerifierFailed
            | DomainError::SealFailed
            | DomainError::RecoveryKey(_) => return None,
        })
    }
}

impl Refusal {
    pub fn message(&self) -> Message {
        match self {
            Refusal::WrongOwner { action, owner } => Message::new(match owner {
                Party::Center => "error.refusal.only_center",
                Party::Agency => "error.refusal.only_agency",
            })
            .term("action", *action),
            Refusal::NotAllowed {
                from,
                action,
                possible,
            } => {
                let refused = |key: &str| {
                    Message::new(key)
                        .term("from", *from)
                        .term("action", *action)
                };
                if possible.is_empty() {
                    refused("error.refusal.nothing_possible")
                } else {
                    refused("error.refusal.not_allowed").terms("possible", possible.iter().copied())
                }
            }
            Refusal::FeeUnpaid => Message::new("error.refusal.fee_unpaid"),
            Refusal::ReasonRequired { action } => {
                Message::new("error.refusal.reason_required").term("action", *action)
            }
            Refusal::DocumentsMissing { action } => {
                Message::new("error.refusal.documents_missing").term("action", *action)
            }
        }
    }
}

impl ValueProblem {
    pub fn message(&self) -> Message {
        let key = |name: &str| Message::new(format!("form.problem.{name}"));
        match self {
            ValueProblem::Required => key("required"),
            ValueProblem::TooShort { min, len } => {
                key("too_short").text("min", min).text("len", len)
            }
            ValueProblem::TooLong { max, len } => key("too_long").text("max", max).text("len", len),
            ValueProblem::HiddenCharacter { character } => {
                key("hidden_character").text("character", character)
            }
            ValueProblem::NotADate { input } => key("not_a_date").text("input", input),
            ValueProblem::InTheFuture { date } => key("in_the_future").text("date", date),
            ValueProblem::InThePast { date } => key("in_the_past").text("date", date),
            ValueProblem::NotANumber { input } => key("not_a_number").text("input", input),
            ValueProblem::BelowMin { min } => key("below_min").text("min", min),
            ValueProblem::AboveMax { max } => key("above_max").text("max", max),
            ValueProblem::NotAChoice { input, choices } => key("not_a_choice")
                .text("input", input)
                .text("choices", choices),
            ValueProblem::NationalId(e) => e.message(),
            ValueProblem::PhoneCharacter { input, character } => key("phone_character")
                .text("input", input)
                .text("character", character),
            ValueProblem::PhoneLength { input, digits } => key("phone_length")
                .text("input", input)
                .text("digits", digits),
            ValueProblem::NotAField { fields } => key("not_a_field").text("fields", fields),
        }
    }
}

impl NationalIdError {
    pub fn message(&self) -> Message {
        let message = |key: &str| Message::new(key).text("input", &self.input);
        match self.reason {
            IdProblem::Length { got } => message("national_id.length").text("got", got),
            IdProblem::BirthDate => message("national_id.birth_date"),
            IdProblem::CheckDigit => message("national_id.check_digit"),
            IdProblem::Plain => message("national_id.plain"),
        }
    }
}

impl CitizenProblem {
    pub fn message(&self) -> Message {
        match self {
            CitizenProblem::NamesRequired => Message::new("error.citizen.names_required"),
            CitizenProblem::TooLong { field, max, len } => Message::new("error.citizen.too_long")
                .term("field", *field)
                .text("max", max)
                .text("len", len),
            CitizenProblem::HiddenCharacter { field, character } => {
                Message::new("error.citizen.hidden_character")
                    .term("field", *field)
                    .text("character", character)
            }
            CitizenProblem::BornInTheFuture { birth_date } => {
                Message::new("error.citizen.born_in_the_future").text("birth_date", birth_date)
            }
            CitizenProblem::BirthDateMismatch {
                id,
                encoded,
                birth_date,
            } => Message::new("error.citizen.birth_date_mismatch")
                .text("id", id)
                .text("encoded", encoded)
                .text("birth_date", birth_date),
        }
    }
}

impl FeedbackProblem {
    pub fn message(&self) -> Message {
        match self {
            FeedbackProblem::RatingOutOfRange { rating } => {
                Message::new("error.feedback.rating").text("rating", rating)
            }
            FeedbackProblem::CommentTooLong { len } => Message::new("error.feedback.comment")
                .text("len", len)
                .text("max", MAX_COMMENT_CHARS),
        }
    }
}

impl PaymentProblem {
    /// Without the request, which `DomainError::Payment` adds.
    fn message(&self) -> Message {
        match self {
            PaymentProblem::OtherCurrency { due, paid } => {
                Message::new("error.payment.other_currency")
                    .text("due", due)
                    .text("paid", paid)
            }
            PaymentProblem::NotPositive => Message::new("error.payment.not_positive"),
            PaymentProblem::PaidInFull => Message::new("error.payment.paid_in_full"),
            PaymentProblem::TooMuch { paid, owed } => Message::new("error.payment.too_much")
                .money("paid", paid.clone())
                .money("owed", owed.clone()),
        }
    }
}

impl ReceiptError {
    /// `None` for device prefixes, which the window never asks the clerk to type.
    pub fn message(&self) -> Option<Message> {
        Some(match self {
            ReceiptError::Empty => Message::new("error.receipt.empty"),
            ReceiptError::BadCharacter {
                character,
                position,
            } => Message::new("error.receipt.bad_character")
                .text("character", format!("{character:?}"))
                .text("position", position),
            ReceiptError::WrongLength { found } => {
                Message::new("error.receipt.wrong_length").text("found", found)
            }
            ReceiptError::CheckFailed { number } => {
                Message::new("error.receipt.check_failed").text("number", number)
            }
            ReceiptError::SequenceExhausted { sequence } => {
                Message::new("error.receipt.exhausted").text("sequence", sequence)
            }
            ReceiptError::BadPrefix { .. } | ReceiptError::PrefixIndexOutOfRange { .. } => {
                return None;
            }
        })
    }
}
