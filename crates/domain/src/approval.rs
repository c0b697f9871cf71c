//! Four eyes: the acts where money or a decision can be bent need, besides the clerk logged in,
//! the approval of a second person, a supervisor, who types their own name and password on
//! the same screen. Refunds, the one way a recorded payment is undone, are ruled here too.
//!
//! Invariants:
//! - Which act needs an approval is decided here, once, for the workstation and the back
//!   office alike ([`ApprovedAct::for_request_action`], [`ApprovedAct::for_ticket_step`]; a
//!   waiver and a refund always need one).
//! - An approver is an active supervisor or administrator, and never the clerk who acts
//!   ([`check_approver`]).
//! - A refund reverses (part of) one payment, in its currency, never more than what is left of
//!   it, and says why ([`check_refund`]).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::account::{Act, Role};
use crate::error::{DomainError, Result};
use crate::money::{Currency, Money};
use crate::queue::{TicketAction, TicketStatus};
use crate::request::Action;

/// The longest reason a refund may give.
pub const MAX_REFUND_REASON_CHARS: usize = 500;

/// An act that needs a supervisor's approval besides the clerk's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovedAct {
    /// Waiving a fee: the citizen pays nothing.
    Waiver,
    /// Cancelling a request some of whose fee is paid.
    LateCancellation,
    /// Calling again a citizen marked as not come: they pass before those waiting.
    NoShowRecall,
    /// Giving back (part of) a payment.
    Refund,
}

impl ApprovedAct {
    pub const ALL: [ApprovedAct; 4] = [
        ApprovedAct::Waiver,
        ApprovedAct::LateCancellation,
        ApprovedAct::NoShowRecall,
        ApprovedAct::Refund,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovedAct::Waiver => "waiver",
            ApprovedAct::LateCancellation => "late_cancellation",
            ApprovedAct::NoShowRecall => "no_show_recall",
            ApprovedAct::Refund => "refund",
        }
    }

    /// The act in a sentence: "a supervisor must approve {describe}".
    pub fn describe(self) -> &'static str {
        match self {
            ApprovedAct::Waiver => "a waiver",
            ApprovedAct::LateCancellation => "a cancellation after payment",
            ApprovedAct::NoShowRecall => "the recall of a no-show",
            ApprovedAct::Refund => "a refund",
        }
    }

    /// The approval a centre's move of a request needs: cancelling once money was taken.
    /// `paid_minor` is what is paid and not refunded.
    pub fn for_request_action(action: Action, paid_minor: i64) -> Option<ApprovedAct> {
        (action == Action::Cancel && paid_minor > 0).then_some(ApprovedAct::LateCancellation)
    }

    /// The approval a ticket's step needs: recalling a ticket marked no-show.
    pub fn for_ticket_step(action: TicketAction, from: TicketStatus) -> Option<ApprovedAct> {
        (action == TicketAction::Recall && from == TicketStatus::NoShow)
            .then_some(ApprovedAct::NoShowRecall)
    }
}

impl fmt::Display for ApprovedAct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Why an approval does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalProblem {
    #[error("ask one to enter their name and password")]
    Missing,
    #[error("the clerk who acts cannot approve their own act: ask a supervisor of the centre")]
    OwnAct,
    #[error("'{approver}' is a {role} and may not approve: ask a supervisor or an administrator")]
    Role { approver: String, role: Role },
    #[error("the account of '{approver}' is disabled: ask another supervisor")]
    Disabled { approver: String },
}

impl ApprovalProblem {
    pub fn key(&self) -> &'static str {
        match self {
            ApprovalProblem::Missing => "missing",
            ApprovalProblem::OwnAct => "own_act",
            ApprovalProblem::Role { .. } => "role",
            ApprovalProblem::Disabled { .. } => "disabled",
        }
    }
}

/// What keeps `approver`, whose account has `role` and is `active`, from approving an act of
/// `actor`, if anything.
pub fn approver_problem(
    actor: &str,
    approver: &str,
    role: Role,
    active: bool,
) -> Option<ApprovalProblem> {
    if approver == actor {
        Some(ApprovalProblem::OwnAct)
    } else if !active {
        Some(ApprovalProblem::Disabled {
            approver: approver.to_owned(),
        })
    } else if !role.allows(Act::Supervise) {
        Some(ApprovalProblem::Role {
            approver: approver.to_owned(),
            role,
        })
    } else {
        None
    }
}

/// Checks that `approver` may approve `act` of `actor` (see [`approver_problem`]).
pub fn check_approver(
    act: ApprovedAct,
    actor: &str,
    approver: &str,
    role: Role,
    active: bool,
) -> Result<()> {
    match approver_problem(actor, approver, role, active) {
        Some(problem) => Err(DomainError::Approval { act, problem }),
        None => Ok(()),
    }
}

/// What is wrong with a refund.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundProblem {
    #[error("the payment was made in {paid}, not {refunded}")]
    OtherCurrency { paid: Currency, refunded: Currency },
    #[error("the amount must be above zero")]
    NotPositive,
    #[error("the payment is already refunded in full")]
    RefundedInFull,
    #[error("{refunded} is more than the {left} left of the payment")]
    TooMuch { refunded: Money, left: Money },
    #[error("say why the payment is given back, in at most {max} characters")]
    Reason { max: usize },
}

impl RefundProblem {
    pub fn key(&self) -> &'static str {
        match self {
            RefundProblem::OtherCurrency { .. } => "other_currency",
            RefundProblem::NotPositive => "not_positive",
            RefundProblem::RefundedInFull => "refunded_in_full",
            RefundProblem::TooMuch { .. } => "too_much",
            RefundProblem::Reason { .. } => "reason",
        }
    }
}

/// Checks a refund of `refunded` against the payment `paid`, of which `already_refunded`
/// (minor units) was given back before, with its `reason`. Returns the reason trimmed.
pub fn check_refund<'a>(
    payment: &str,
    paid: &Money,
    already_refunded: i64,
    refunded: &Money,
    reason: &'a str,
) -> Result<&'a str> {
    let refuse = |problem: RefundProblem| DomainError::Refund {
        payment: payment.to_owned(),
        problem,
    };
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REFUND_REASON_CHARS {
        return Err(refuse(RefundProblem::Reason {
            max: MAX_REFUND_REASON_CHARS,
        }));
    }
    if refunded.currency != paid.currency {
        return Err(refuse(RefundProblem::OtherCurrency {
            paid: paid.currency.clone(),
            refunded: refunded.currency.clone(),
        }));
    }
    if refunded.minor <= 0 {
        return Err(refuse(RefundProblem::NotPositive));
    }
    let left = paid.minor.saturating_sub(already_refunded);
    if left <= 0 {
        return Err(refuse(RefundProblem::RefundedInFull));
    }
    if refunded.minor > left {
        return Err(refuse(RefundProblem::TooMuch {
            refunded: refunded.clone(),
            left: Money::new(left, paid.currency.clone()),
        }));
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(result: Result<()>) -> ApprovalProblem {
        match result {
            Err(DomainError::Approval { problem, .. }) => problem,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_approver_is_another_active_supervisor() {
        let act = ApprovedAct::Waiver;
        check_approver(act, "eleni", "kostas", Role::Supervisor, true).unwrap();
        check_approver(act, "eleni", "admin", Role::Administrator, true).unwrap();
        assert_eq!(
            problem(check_approver(
                act,
                "kostas",
                "kostas",
                Role::Supervisor,
                true
            )),
            ApprovalProblem::OwnAct
        );
        assert_eq!(
            problem(check_approver(act, "eleni", "maria", Role::Clerk, true)).key(),
            "role"
        );
        assert_eq!(
            problem(check_approver(
                act,
                "eleni",
                "kostas",
                Role::Supervisor,
                false
            ))
            .key(),
            "disabled"
        );
        let missing = DomainError::Approval {
            act,
            problem: ApprovalProblem::Missing,
        };
        assert_eq!(
            missing.to_string(),
            "a supervisor must approve a waiver: ask one to enter their name and password"
        );
    }

    #[test]
    fn which_acts_need_an_approval() {
        assert_eq!(
            ApprovedAct::for_request_action(Action::Cancel, 1),
            Some(ApprovedAct::LateCancellation)
        );
        assert_eq!(ApprovedAct::for_request_action(Action::Cancel, 0), None);
        assert_eq!(ApprovedAct::for_request_action(Action::Deliver, 500), None);
        assert_eq!(
            ApprovedAct::for_ticket_step(TicketAction::Recall, TicketStatus::NoShow),
            Some(ApprovedAct::NoShowRecall)
        );
        assert_eq!(
            ApprovedAct::for_ticket_step(TicketAction::Recall, TicketStatus::Called),
            None
        );
        assert_eq!(
            ApprovedAct::for_ticket_step(TicketAction::Call, TicketStatus::Waiting),
            None
        );
    }

    #[test]
    fn a_refund_gives_back_at_most_what_is_left_of_its_payment() {
        let eur = Currency::parse("EUR").unwrap();
        let paid = Money::new(1_000, eur.clone());
        let refund = |minor: i64, before: i64, reason: &str| match check_refund(
            "P1",
            &paid,
            before,
            &Money::new(minor, eur.clone()),
            reason,
        ) {
            Ok(reason) => Ok(reason.to_owned()),
            Err(DomainError::Refund { problem, .. }) => Err(problem.key()),
            Err(other) => panic!("{other:?}"),
        };
        assert_eq!(refund(400, 0, " typed twice ").unwrap(), "typed twice");
        assert_eq!(refund(600, 400, "rest").unwrap(), "rest");
        assert_eq!(refund(601, 400, "rest"), Err("too_much"));
        assert_eq!(refund(1, 1_000, "again"), Err("refunded_in_full"));
        assert_eq!(refund(0, 0, "zero"), Err("not_positive"));
        assert_eq!(refund(10, 0, "   "), Err("reason"));
        let kes = Money::new(10, Currency::parse("KES").unwrap());
        assert!(matches!(
            check_refund("P1", &paid, 0, &kes, "other money"),
            Err(DomainError::Refund {
                problem: RefundProblem::OtherCurrency { .. },
                ..
            })
        ));
    }
}
