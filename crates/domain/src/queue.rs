//! The queue: tickets, counters and who is called next.
//!
//! A ticket waits for a service or a whole category; a counter serves every service (single
//! window) or a listed subset. Call next takes the highest-priority lane first, then arrival
//! order, among what this counter can serve. Arrival order is the local issue sequence, never
//! the wall clock (a clock may be reset while people wait). Durations come from a monotonic
//! clock, with the wall clock kept for people to read.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::text::Text;

/// A priority lane. Lower rank is called first; equal ranks go by arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Lane {
    pub code: String,
    pub name: Text,
    pub rank: u8,
}

/// The lanes a new workstation starts with; a deployment may change them.
pub fn default_lanes() -> Vec<Lane> {
    vec![
        Lane {
            code: "standard".into(),
            name: Text::en_fr("Standard", "Standard"),
            rank: 9,
        },
        Lane {
            code: "elderly".into(),
            name: Text::en_fr("Older people", "Personnes âgées"),
            rank: 1,
        },
        Lane {
            code: "disability".into(),
            name: Text::en_fr("Disability", "Handicap"),
            rank: 1,
        },
        Lane {
            code: "pregnancy".into(),
            name: Text::en_fr("Pregnancy", "Grossesse"),
            rank: 1,
        },
    ]
}

/// What a ticket waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum QueueTarget {
    Service(String),
    Category(String),
}

/// What a counter serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CounterScope {
    /// Single window: every service.
    All,
    Listed {
        services: Vec<String>,
        categories: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counter {
    pub code: String,
    pub name: String,
    pub scope: CounterScope,
}

impl Counter {
    /// Whether this counter can serve a ticket for `target`. `category_of` gives a service's
    /// category, so that a counter listed for a category serves each of its services.
    pub fn serves(
        &self,
        target: &QueueTarget,
        category_of: impl Fn(&str) -> Option<String>,
    ) -> bool {
        match &self.scope {
            CounterScope::All => true,
            CounterScope::Listed {
                services,
                categories,
            } => match target {
                QueueTarget::Service(s) => {
                    services.contains(s) || category_of(s).is_some_and(|c| categories.contains(&c))
                }
                QueueTarget::Category(c) => categories.contains(c),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    NoShow,
    Serving,
    Done,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::Waiting,
        TicketStatus::Called,
        TicketStatus::NoShow,
        TicketStatus::Serving,
        TicketStatus::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Serving => "serving",
            TicketStatus::Done => "done",
        }
    }

    pub fn parse(input: &str) -> Result<Self> {
        TicketStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == input)
            .ok_or_else(|| DomainError::UnknownChoice {
                what: "ticket status",
                input: input.to_owned(),
                expected: TicketStatus::ALL.map(TicketStatus::as_str).join(", "),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketAction {
    Call,
    Recall,
    NoShow,
    Start,
    Finish,
    Transfer,
}

impl TicketAction {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketAction::Call => "call",
            TicketAction::Recall => "recall",
            TicketAction::NoShow => "no-show",
            TicketAction::Start => "start",
            TicketAction::Finish => "finish",
            TicketAction::Transfer => "transfer",
        }
    }
}

/// The ticket lifecycle. A no-show is not final: the citizen may come back and be recalled.
pub const TICKET_TRANSITIONS: &[(TicketStatus, TicketAction, TicketStatus)] = {
    use TicketAction as A;
    use TicketStatus as S;
    &[
        (S::Waiting, A::Call, S::Called),
        (S::Called, A::Recall, S::Called),
        (S::NoShow, A::Recall, S::Called),
        (S::Called, A::NoShow, S::NoShow),
        (S::Called, A::Start, S::Serving),
        (S::Serving, A::Finish, S::Done),
        (S::Waiting, A::Transfer, S::Waiting),
        (S::Called, A::Transfer, S::Waiting),
        (S::NoShow, A::Transfer, S::Waiting),
        (S::Serving, A::Transfer, S::Waiting),
    ]
};

/// The status after `action`, or a typed error naming the ticket.
pub fn ticket_transition(
    ticket: &str,
    from: TicketStatus,
    action: TicketAction,
) -> Result<TicketStatus> {
    TICKET_TRANSITIONS
        .iter()
        .find(|(f, a, _)| *f == from && *a == action)
        .map(|(_, _, to)| *to)
        .ok_or_else(|| DomainError::Ticket {
            ticket: ticket.to_owned(),
            from,
            action,
        })
}

/// A waiting ticket as call-next sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub id: String,
    pub lane_rank: u8,
    /// Local issue order.
    pub arrival: i64,
    pub target: QueueTarget,
    /// Set when a ticket was transferred to one counter in particular.
    pub counter: Option<String>,
}

/// Who `counter` should call next: priority lanes first, then arrival, among what it serves.
pub fn select_next<'a>(
    waiting: &'a [Waiting],
    counter: &Counter,
    category_of: impl Fn(&str) -> Option<String>,
) -> Option<&'a Waiting> {
    waiting
        .iter()
        .filter(|w| match &w.counter {
            Some(c) => *c == counter.code,
            None => counter.serves(&w.target, &category_of),
        })
        .min_by_key(|w| (w.lane_rank, w.arrival))
}

/// The short code shown on the ticket and the display board: the queue letter and a number
/// that wraps after 999.
pub fn display_code(letter: char, number: u32) -> String {
    format!("{letter}{:03}", (number.saturating_sub(1)) % 999 + 1)
}

/// A moment as both clocks saw it: the wall clock for people, the monotonic clock (with the
/// boot it belongs to) for durations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub wall: DateTime<Utc>,
    pub mono_ms: u64,
    pub boot: String,
}

/// Milliseconds from `from` to `to`: monotonic when both come from the same boot, else the
/// wall-clock difference (never negative).
pub fn elapsed_ms(from: &Moment, to: &Moment) -> u64 {
    if from.boot == to.boot {
        to.mono_ms.saturating_sub(from.mono_ms)
    } else {
        u64::try_from((to.wall - from.wall).num_milliseconds()).unwrap_or(0)
    }
}

/// Waiting time: from issue to the first call, or to the last call when the citizen missed a
/// call and was called again.
pub fn waiting_ms(
    issued: &Moment,
    first_call: Option<&Moment>,
    last_call: Option<&Moment>,
    missed_a_call: bool,
) -> Option<u64> {
    let call = if missed_a_call { last_call } else { first_call };
    call.map(|c| elapsed_ms(issued, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(scope: CounterScope) -> Counter {
        Counter {
            code: "W1".into(),
            name: "Window 1".into(),
            scope,
        }
    }

    fn waiting(id: &str, rank: u8, arrival: i64, target: QueueTarget) -> Waiting {
        Waiting {
            id: id.into(),
            lane_rank: rank,
            arrival,
            target,
            counter: None,
        }
    }

    fn category_of(service: &str) -> Option<String> {
        Some(
            if service.starts_with("civ") {
                "civil"
            } else {
                "tax"
            }
            .to_owned(),
        )
    }

    #[test]
    fn priority_first_then_arrival_within_scope() {
        let q = vec![
            waiting("a", 9, 1, QueueTarget::Service("civ-birth".into())),
            waiting("b", 9, 2, QueueTarget::Service("tax-cert".into())),
            waiting("c", 1, 3, QueueTarget::Service("tax-cert".into())),
            waiting("d", 1, 4, QueueTarget::Category("civil".into())),
        ];
        let all = counter(CounterScope::All);
        assert_eq!(select_next(&q, &all, category_of).unwrap().id, "c");
        let civil = counter(CounterScope::Listed {
            services: vec![],
            categories: vec!["civil".into()],
        });
        assert_eq!(select_next(&q, &civil, category_of).unwrap().id, "d");
        let one = counter(CounterScope::Listed {
            services: vec!["civ-birth".into()],
            categories: vec![],
        });
        assert_eq!(select_next(&q, &one, category_of).unwrap().id, "a");
        let none = counter(CounterScope::Listed {
            services: vec!["x".into()],
            categories: vec![],
        });
        assert!(select_next(&q, &none, category_of).is_none());
    }

    #[test]
    fn a_ticket_transferred_to_a_counter_waits_only_for_it() {
        let mut t = waiting("a", 9, 1, QueueTarget::Service("tax-cert".into()));
        t.counter = Some("W2".into());
        let q = vec![t];
        assert!(select_next(&q, &counter(CounterScope::All), category_of).is_none());
        let mut w2 = counter(CounterScope::All);
        w2.code = "W2".into();
        assert_eq!(select_next(&q, &w2, category_of).unwrap().id, "a");
    }

    #[test]
    fn ticket_lifecycle() {
        use TicketAction::*;
        let mut s = TicketStatus::Waiting;
        for a in [Call, NoShow, Recall, Start, Finish] {
            s = ticket_transition("B017", s, a).unwrap();
        }
        assert_eq!(s, TicketStatus::Done);
        let err = ticket_transition("B017", TicketStatus::Done, Call).unwrap_err();
        assert!(err.to_string().contains("B017"));
        assert!(ticket_transition("B017", TicketStatus::Waiting, Start).is_err());
    }

    #[test]
    fn codes_and_durations() {
        assert_eq!(display_code('B', 17), "B017");
        assert_eq!(display_code('B', 999), "B999");
        assert_eq!(display_code('B', 1000), "B001");
        let at = |ms: u64, boot: &str, wall_s: i64| Moment {
            wall: DateTime::from_timestamp(wall_s, 0).unwrap(),
            mono_ms: ms,
            boot: boot.into(),
        };
        // Same boot: the monotonic clock wins even when the wall clock jumped back an hour.
        assert_eq!(
            elapsed_ms(&at(1_000, "b1", 7_200), &at(61_000, "b1", 3_600)),
            60_000
        );
        // Across a reboot: the wall clock, never negative.
        assert_eq!(elapsed_ms(&at(1_000, "b1", 100), &at(5, "b2", 160)), 60_000);
        assert_eq!(elapsed_ms(&at(1_000, "b1", 160), &at(5, "b2", 100)), 0);
        let issued = at(0, "b", 0);
        let first = at(10_000, "b", 10);
        let last = at(50_000, "b", 50);
        assert_eq!(
            waiting_ms(&issued, Some(&first), Some(&last), false),
            Some(10_000)
        );
        assert_eq!(
            waiting_ms(&issued, Some(&first), Some(&last), true),
            Some(50_000)
        );
        assert_eq!(waiting_ms(&issued, None, None, false), None);
    }
}
