//! Four eyes at the counter: the acts `guichet_domain::approval` names (a waiver, a
//! cancellation after payment, the recall of a no-show, a refund) take a supervisor's user name
//! and password, typed on the same screen as the clerk's act.
//!
//! Invariants:
//! - The approver's password is checked like a login's (the same door in `clerks`): a wrong one
//!   and an unknown name get the same answer, and count as a failed login under that name,
//!   with its growing delay. It opens no session: the clerk stays logged in.
//! - The password is never kept nor logged; the approver's user name goes into the act's
//!   change, so the audit event and the back office see both names.
//! - An act refused for its approval writes nothing (but the failed-login event).

use std::fmt;

use guichet_domain::DomainError;
use guichet_domain::account::Act;
use guichet_domain::approval::{ApprovalProblem, ApprovedAct, check_approver};
use serde::Deserialize;

use super::Workstation;
use crate::error::{Access, Error, Result};

/// A supervisor's user name and password, typed for an act of the clerk logged in.
#[derive(Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub struct Approval {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Approval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Approval")
            .field("username", &self.username)
            .field("password", &"..")
            .finish()
    }
}

impl Workstation {
    /// Checks the approval `act` of the clerk logged in needs, and answers the approver's user
    /// name. See the module header.
    pub(crate) fn approve(
        &mut self,
        act: ApprovedAct,
        approval: Option<&Approval>,
    ) -> Result<String> {
        let actor = self.require(Act::Counter)?.username.clone();
        let refuse = |problem| Error::from(DomainError::Approval { act, problem });
        let Some(approval) = approval else {
            return Err(refuse(ApprovalProblem::Missing));
        };
        let name = approval.username.trim();
        if name == actor {
            return Err(refuse(ApprovalProblem::OwnAct));
        }
        let approver = match self.check_password(name, &approval.password) {
            Ok(approver) => approver,
            Err(Error::Access(Access::LoginFailed)) => return Err(Access::ApprovalFailed.into()),
            Err(Error::Access(Access::Disabled)) => {
                return Err(refuse(ApprovalProblem::Disabled {
                    approver: name.to_owned(),
                }));
            }
            Err(other) => return Err(other),
        };
        check_approver(act, &actor, &approver.username, approver.role, true)?;
        Ok(approver.username)
    }
}

/// The approver a change records: the one checked when the act needs it, none otherwise. An
/// act found to need one inside its transaction (a payment synced in meanwhile) without it is
/// refused.
pub(crate) fn approver_for(
    needed: Option<ApprovedAct>,
    approver: Option<&str>,
) -> Result<Option<String>> {
    match (needed, approver) {
        (None, _) => Ok(None),
        (Some(_), Some(approver)) => Ok(Some(approver.to_owned())),
        (Some(act), None) => Err(DomainError::Approval {
            act,
            problem: ApprovalProblem::Missing,
        }
        .into()),
    }
}
