//! Citizen feedback at the end of a visit, and payments at the counter.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalogue::Channel;
use crate::error::{DomainError, Result};
use crate::money::{Currency, Money};

/// The longest comment kept: enough for a few sentences typed at the counter.
pub const MAX_COMMENT_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Feedback {
    #[schemars(range(min = 1, max = 5))]
    pub rating: u8,
    pub comment: Option<String>,
    pub channel: Channel,
}

impl Feedback {
    pub fn new(rating: u8, comment: Option<&str>, channel: Channel) -> Result<Self> {
        if !(1..=5).contains(&rating) {
            return Err(DomainError::Feedback {
                problem: FeedbackProblem::RatingOutOfRange { rating },
            });
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if let Some(c) = comment
            && c.chars().count() > MAX_COMMENT_CHARS
        {
            return Err(DomainError::Feedback {
                problem: FeedbackProblem::CommentTooLong {
                    len: c.chars().count(),
                },
            });
        }
        Ok(Feedback {
            rating,
            comment: comment.map(str::to_owned),
            channel,
        })
    }
}

/// Why a citizen's feedback cannot be kept as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackProblem {
    #[error("rating {rating} is out of range: give 1 (bad) to 5 (very good)")]
    RatingOutOfRange { rating: u8 },
    #[error("the comment has {len} characters; keep it to {MAX_COMMENT_CHARS}")]
    CommentTooLong { len: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
    MobileMoney,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 3] = [
        PaymentMethod::Cash,
        PaymentMethod::Card,
        PaymentMethod::MobileMoney,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::MobileMoney => "mobile_money",
        }
    }

    pub fn parse(input: &str) -> Result<Self> {
        let wanted = input.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        PaymentMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == wanted)
            .ok_or_else(|| DomainError::UnknownChoice {
                what: "payment method",
                input: input.to_owned(),
                expected: PaymentMethod::ALL.map(PaymentMethod::as_str).join(", "),
            })
    }
}

/// Why a payment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentProblem {
    #[error("the fee is in {due}, not {paid}")]
    OtherCurrency { due: Currency, paid: Currency },
    #[error("the amount must be above zero")]
    NotPositive,
    #[error("the fee is already paid in full")]
    PaidInFull,
    #[error("{paid} is more than the {owed} still owed")]
    TooMuch { paid: Money, owed: Money },
}

/// Whether a payment of `paid` settles `due`: same currency, and no more than what is still
/// owed (a clerk who types one zero too many is stopped, not the drawer).
pub fn check_payment(request: &str, due: &Money, already_paid: i64, paid: &Money) -> Result<()> {
    let refuse = |problem: PaymentProblem| DomainError::Payment {
        request: request.to_owned(),
        problem,
    };
    if paid.currency != due.currency {
        return Err(refuse(PaymentProblem::OtherCurrency {
            due: due.currency.clone(),
            paid: paid.currency.clone(),
        }));
    }
    if paid.minor <= 0 {
        return Err(refuse(PaymentProblem::NotPositive));
    }
    let owed = due.minor.saturating_sub(already_paid);
    if owed <= 0 {
        return Err(refuse(PaymentProblem::PaidInFull));
    }
    if paid.minor > owed {
        return Err(refuse(PaymentProblem::TooMuch {
            paid: paid.clone(),
            owed: Money::new(owed, due.currency.clone()),
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_and_comments() {
        assert!(Feedback::new(0, None, Channel::StationaryCenter).is_err());
        assert!(Feedback::new(6, None, Channel::StationaryCenter).is_err());
        let f = Feedback::new(5, Some("  "), Channel::MobileCenter).unwrap();
        assert_eq!(f.comment, None);
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert!(Feedback::new(3, Some(&long), Channel::Kiosk).is_err());
    }

    #[test]
    fn payments_cannot_overpay_or_mix_currencies() {
        let eur = Currency::parse("EUR").unwrap();
        let due = Money::new(1000, eur.clone());
        assert!(check_payment("r", &due, 0, &Money::new(1000, eur.clone())).is_ok());
        assert!(check_payment("r", &due, 400, &Money::new(600, eur.clone())).is_ok());
        assert!(check_payment("r", &due, 400, &Money::new(601, eur.clone())).is_err());
        assert!(check_payment("r", &due, 1000, &Money::new(1, eur.clone())).is_err());
        assert!(check_payment("r", &due, 0, &Money::new(0, eur)).is_err());
        let kes = Currency::parse("KES").unwrap();
        assert!(check_payment("r", &due, 0, &Money::new(1000, kes)).is_err());
    }
}
