//! The request lifecycle: an explicit state machine in which every transition has one owner.
//!
//! The centre owns intake, dispatch, resubmission, delivery and cancellation; the agency owns
//! processing, correction requests and decisions. Because a status only moves along this table
//! and each move has a single owner, a centre's change and an agency's change never overwrite
//! each other; where they truly collide (cancelled at the counter while the agency marks the
//! request ready), the back office decides with a written rule and the loser is shown as a
//! conflict.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Draft,
    Submitted,
    Dispatched,
    InProcessing,
    ReturnedForCorrection,
    Ready,
    Delivered,
    Rejected,
    Cancelled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 9] = [
        RequestStatus::Draft,
        RequestStatus::Submitted,
        RequestStatus::Dispatched,
        RequestStatus::InProcessing,
        RequestStatus::ReturnedForCorrection,
        RequestStatus::Ready,
        RequestStatus::Delivered,
        RequestStatus::Rejected,
        RequestStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Draft => "draft",
            RequestStatus::Submitted => "submitted",
            RequestStatus::Dispatched => "dispatched",
            RequestStatus::InProcessing => "in_processing",
            RequestStatus::ReturnedForCorrection => "returned_for_correction",
            RequestStatus::Ready => "ready",
            RequestStatus::Delivered => "delivered",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(input: &str) -> Result<Self> {
        let wanted = input.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        RequestStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| DomainError::UnknownChoice {
                what: "request status",
                input: input.to_owned(),
                expected: RequestStatus::ALL.map(RequestStatus::as_str).join(", "),
            })
    }

    /// No action leaves a final status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestStatus::Delivered | RequestStatus::Rejected | RequestStatus::Cancelled
        )
    }

    /// Whether the processing-time clock is still running (for "overdue").
    pub fn is_open(self) -> bool {
        !self.is_final() && self != RequestStatus::Ready
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may perform an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Center,
    Agency,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Center => "the centre",
            Party::Agency => "the agency",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Dispatch,
    Resubmit,
    Deliver,
    Cancel,
    TakeInProcessing,
    ReturnForCorrection,
    MarkReady,
    Reject,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Submit,
        Action::Dispatch,
        Action::Resubmit,
        Action::Deliver,
        Action::Cancel,
        Action::TakeInProcessing,
        Action::ReturnForCorrection,
        Action::MarkReady,
        Action::Reject,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Dispatch => "dispatch",
            Action::Resubmit => "resubmit",
            Action::Deliver => "deliver",
            Action::Cancel => "cancel",
            Action::TakeInProcessing => "take_in_processing",
            Action::ReturnForCorrection => "return_for_correction",
            Action::MarkReady => "mark_ready",
            Action::Reject => "reject",
        }
    }

    pub fn parse(input: &str) -> Result<Self> {
        let wanted = input.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| DomainError::UnknownChoice {
                what: "action",
                input: input.to_owned(),
                expected: Action::ALL.map(Action::as_str).join(", "),
            })
    }

    /// The one party allowed to perform this action.
    pub fn owner(self) -> Party {
        match self {
            Action::Submit
            | Action::Dispatch
            | Action::Resubmit
            | Action::Deliver
            | Action::Cancel => Party::Center,
            Action::TakeInProcessing
            | Action::ReturnForCorrection
            | Action::MarkReady
            | Action::Reject => Party::Agency,
        }
    }

    /// Actions whose record must say why (the citizen and the clerk will read it).
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::ReturnForCorrection | Action::Reject)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state machine as a table: (from, action) -> to. Everything not listed is refused.
pub const TRANSITIONS: &[(RequestStatus, Action, RequestStatus)] = {
    use Action::*;
    use RequestStatus::*;
    &[
        (Draft, Submit, Submitted),
        (Draft, Cancel, Cancelled),
        (Submitted, Dispatch, Dispatched),
        (Submitted, Cancel, Cancelled),
        (Dispatched, TakeInProcessing, InProcessing),
        (Dispatched, ReturnForCorrection, ReturnedForCorrection),
        (Dispatched, Reject, Rejected),
        (Dispatched, Cancel, Cancelled),
        (InProcessing, ReturnForCorrection, ReturnedForCorrection),
        (InProcessing, MarkReady, Ready),
        (InProcessing, Reject, Rejected),
        (InProcessing, Cancel, Cancelled),
        (ReturnedForCorrection, Resubmit, Dispatched),
        (ReturnedForCorrection, Cancel, Cancelled),
        (Ready, Deliver, Delivered),
        (Ready, Cancel, Cancelled),
    ]
};

/// What the state machine needs to know beyond the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guards {
    /// The fee is free, paid in full, or waived.
    pub fee_settled: bool,
    /// A reason was given (required for corrections and rejections).
    pub has_reason: bool,
    /// Every required document was received (an application goes out complete).
    pub documents_complete: bool,
}

/// Why a transition was refused, without the request's identity (see `DomainError::Transition`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    #[error("only {owner} may {action}")]
    WrongOwner { action: Action, owner: Party },
    #[error(
        "{action} is not possible from {from}; possible now: {}",
        describe_actions(possible)
    )]
    NotAllowed {
        from: RequestStatus,
        action: Action,
        possible: Vec<Action>,
    },
    #[error("the fee is not paid: record a payment or a waiver before dispatching")]
    FeeUnpaid,
    #[error("{action} needs a reason that the clerk and the citizen will read")]
    ReasonRequired { action: Action },
    #[error("required documents are missing: mark each as received before you {action}")]
    DocumentsMissing { action: Action },
}

/// The status `action` by `by` leads to from `from`, or why it may not happen.
pub fn next_status(
    from: RequestStatus,
    action: Action,
    by: Party,
    guards: Guards,
) -> std::result::Result<RequestStatus, Refusal> {
    if action.owner() != by {
        return Err(Refusal::WrongOwner {
            action,
            owner: action.owner(),
        });
    }
    let to = TRANSITIONS
        .iter()
        .find(|(f, a, _)| *f == from && *a == action)
        .map(|(_, _, to)| *to)
        .ok_or_else(|| Refusal::NotAllowed {
            from,
            action,
            possible: possible_actions(from, by),
        })?;
    if action == Action::Dispatch && !guards.fee_settled {
        return Err(Refusal::FeeUnpaid);
    }
    if action.needs_reason() && !guards.has_reason {
        return Err(Refusal::ReasonRequired { action });
    }
    if matches!(action, Action::Submit | Action::Resubmit) && !guards.documents_complete {
        return Err(Refusal::DocumentsMissing { action });
    }
    Ok(to)
}

/// Whether the centre must give a reason to cancel a request in `from` with `paid_minor` taken:
/// once it was submitted or money was taken, the citizen and the supervisor read why. The
/// workstation asks for it; the back office does not, so that cancellations made before this
/// rule still apply when they arrive.
pub fn cancel_needs_reason(from: RequestStatus, paid_minor: i64) -> bool {
    from != RequestStatus::Draft || paid_minor > 0
}

/// The actions `by` may take from `from`, in table order.
pub fn possible_actions(from: RequestStatus, by: Party) -> Vec<Action> {
    TRANSITIONS
        .iter()
        .filter(|(f, a, _)| *f == from && a.owner() == by)
        .map(|(_, a, _)| *a)
        .collect()
}

fn describe_actions(actions: &[Action]) -> String {
    if actions.is_empty() {
        "none".to_owned()
    } else {
        actions
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs the state machine for a named request, turning a refusal into the typed error that
/// says which request, from which state, by whom.
pub fn transition(
    request: &str,
    from: RequestStatus,
    action: Action,
    by: Party,
    guards: Guards,
) -> Result<RequestStatus> {
    next_status(from, action, by, guards).map_err(|refusal| DomainError::Transition {
        request: request.to_owned(),
        from,
        action,
        by,
        refusal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Guards = Guards {
        fee_settled: true,
        has_reason: true,
        documents_complete: true,
    };

    /// Walks every (state, action, actor) and checks the outcome against the table, so that a
    /// change to the table or to the rules shows up here.
    #[test]
    fn every_state_action_and_actor() {
        let mut allowed = 0;
        for from in RequestStatus::ALL {
            for action in Action::ALL {
                for by in [Party::Center, Party::Agency] {
                    let listed = TRANSITIONS
                        .iter()
                        .find(|(f, a, _)| *f == from && *a == action)
                        .map(|t| t.2);
                    let result = next_status(from, action, by, OK);
                    match (by == action.owner(), listed) {
                        (false, _) => assert!(
                            matches!(result, Err(Refusal::WrongOwner { .. })),
                            "{from} {action} by {by:?}: {result:?}"
                        ),
                        (true, None) => assert!(
                            matches!(result, Err(Refusal::NotAllowed { .. })),
                            "{from} {action} by {by:?}: {result:?}"
                        ),
                        (true, Some(to)) => {
                            assert_eq!(result, Ok(to));
                            allowed += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(allowed, TRANSITIONS.len());
    }

    #[test]
    fn final_states_have_no_way_out() {
        for from in RequestStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for by in [Party::Center, Party::Agency] {
                assert!(possible_actions(from, by).is_empty(), "{from}");
            }
        }
        for from in RequestStatus::ALL.into_iter().filter(|s| !s.is_final()) {
            assert!(
                !possible_actions(from, Party::Center).is_empty(),
                "the centre can always act on a {from} request"
            );
        }
    }

    #[test]
    fn guards_fee_reason_and_documents() {
        let unpaid = Guards {
            fee_settled: false,
            has_reason: false,
            documents_complete: false,
        };
        assert_eq!(
            next_status(
                RequestStatus::Submitted,
                Action::Dispatch,
                Party::Center,
                unpaid
            ),
            Err(Refusal::FeeUnpaid)
        );
        assert_eq!(
            next_status(
                RequestStatus::InProcessing,
                Action::Reject,
                Party::Agency,
                unpaid
            ),
            Err(Refusal::ReasonRequired {
                action: Action::Reject
            })
        );
        assert_eq!(
            next_status(
                RequestStatus::InProcessing,
                Action::MarkReady,
                Party::Agency,
                unpaid
            ),
            Ok(RequestStatus::Ready)
        );
    }

    #[test]
    fn errors_name_the_request_state_and_actor() {
        let err = transition(
            "K7XA-0000-042P",
            RequestStatus::Delivered,
            Action::Cancel,
            Party::Center,
            OK,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("K7XA-0000-042P"), "{text}");
        assert!(text.contains("delivered"), "{text}");
        assert!(text.contains("cancel"), "{text}");
        assert!(text.contains("the centre"), "{text}");
    }

    #[test]
    fn names_parse_back() {
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()).unwrap(), s);
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(&a.as_str().replace('_', "-")).unwrap(), a);
        }
        assert!(Action::parse("approve").is_err());
    }
}
