//! Hybrid logical clocks: an order for events that survives wrong device clocks.
//!
//! A bus's clock may be hours off. A stamp is (wall milliseconds, counter, node): it never goes
//! backwards on a device even when the wall clock does, and after a device has seen another's
//! stamp its own stamps sort after it. Wall time is still recorded beside every event for people
//! to read; only the order comes from here.

use crate::string_json_schema;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// One stamp. Its text form sorts in the same order as the stamp itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HlcStamp {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: String,
}

impl Ord for HlcStamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, &self.node).cmp(&(other.wall_ms, other.counter, &other.node))
    }
}

impl PartialOrd for HlcStamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for HlcStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:06}-{}", self.wall_ms, self.counter, self.node)
    }
}

/// The largest counter a stamp's text holds (six digits). A clock whose counter would pass it
/// moves its wall part on by a millisecond instead, so that its stamps still sort as text: it
/// happens only when the wall part runs ahead of every clock for a million events, as after a
/// device stamped with a clock set years ahead.
const MAX_COUNTER: u32 = 999_999;

/// The largest wall part a stamp's text holds (fifteen digits: the year 33658).
const MAX_WALL_MS: u64 = 999_999_999_999_999;

impl FromStr for HlcStamp {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::Hlc {
            input: s.to_owned(),
        };
        let mut parts = s.splitn(3, '-');
        let wall_ms: u64 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let counter: u32 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if wall_ms > MAX_WALL_MS || counter > MAX_COUNTER {
            return Err(bad());
        }
        let node = parts.next().filter(|n| !n.is_empty()).ok_or_else(bad)?;
        Ok(HlcStamp {
            wall_ms,
            counter,
            node: node.to_owned(),
        })
    }
}

impl TryFrom<String> for HlcStamp {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, DomainError> {
        value.parse()
    }
}

impl From<HlcStamp> for String {
    fn from(value: HlcStamp) -> Self {
        value.to_string()
    }
}

/// The clock state of one node: the last stamp it issued or saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hlc {
    node: String,
    wall_ms: u64,
    counter: u32,
}

impl Hlc {
    pub fn new(node: &str) -> Self {
        Hlc {
            node: node.to_owned(),
            wall_ms: 0,
            counter: 0,
        }
    }

    /// Restores a clock from the last stamp it issued (kept in the store).
    pub fn resume(last: &HlcStamp) -> Self {
        Hlc {
            node: last.node.clone(),
            wall_ms: last.wall_ms,
            counter: last.counter,
        }
    }

    /// A stamp for a local event, given the device's wall clock now.
    pub fn tick(&mut self, now_ms: u64) -> HlcStamp {
        if now_ms > self.wall_ms {
            self.wall_ms = now_ms;
            self.counter = 0;
        } else {
            self.counter = self.counter.saturating_add(1);
        }
        self.carry();
        self.stamp()
    }

    /// Takes in a stamp received from elsewhere, so that later local stamps sort after it.
    pub fn observe(&mut self, remote: &HlcStamp, now_ms: u64) -> HlcStamp {
        let wall = now_ms.max(self.wall_ms).max(remote.wall_ms);
        self.counter = if wall == self.wall_ms && wall == remote.wall_ms {
            self.counter.max(remote.counter).saturating_add(1)
        } else if wall == self.wall_ms {
            self.counter.saturating_add(1)
        } else if wall == remote.wall_ms {
            remote.counter.saturating_add(1)
        } else {
            0
        };
        self.wall_ms = wall;
        self.carry();
        self.stamp()
    }

    /// Takes in a stamp from a clock that may be set wrong, counting its wall part only up to
    /// `max_ahead_ms` past `now_ms`, this node's wall clock: one device whose clock is set years ahead
    /// would otherwise carry this clock there for good, and with it every clock that observes
    /// this one. Returns the stamp and whether the remote one was held back.
    pub fn observe_at_most(
        &mut self,
        remote: &HlcStamp,
        now_ms: u64,
        max_ahead_ms: u64,
    ) -> (HlcStamp, bool) {
        let limit = now_ms.saturating_add(max_ahead_ms);
        if remote.wall_ms <= limit {
            return (self.observe(remote, now_ms), false);
        }
        let held = HlcStamp {
            wall_ms: limit,
            counter: 0,
            node: remote.node.clone(),
        };
        (self.observe(&held, now_ms), true)
    }

    /// Keeps the counter within its six digits (see `MAX_COUNTER`).
    fn carry(&mut self) {
        if self.counter > MAX_COUNTER {
            self.wall_ms += 1;
            self.counter = 0;
        }
    }

    fn stamp(&self) -> HlcStamp {
        HlcStamp {
            wall_ms: self.wall_ms,
            counter: self.counter,
            node: self.node.clone(),
        }
    }
}

string_json_schema!(
    HlcStamp,
    "HlcStamp",
    r"^[0-9]{15}-[0-9]{6}-.+$",
    "A hybrid logical clock stamp: wall milliseconds (15 digits), counter (6 digits), node."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards_when_the_wall_clock_does() {
        let mut c = Hlc::new("bus-1");
        let a = c.tick(10_000);
        let b = c.tick(4_000);
        let d = c.tick(4_000);
        assert!(a < b && b < d);
        assert_eq!(d.wall_ms, 10_000);
    }

    #[test]
    fn after_observing_a_stamp_sorts_after_it() {
        let six_hours = 6 * 3_600_000;
        let mut behind = Hlc::new("bus");
        let server = HlcStamp {
            wall_ms: 50_000_000,
            counter: 3,
            node: "server".into(),
        };
        let seen = behind.observe(&server, 50_000_000 - six_hours);
        assert!(seen > server);
        assert!(behind.tick(50_000_000 - six_hours) > server);
    }

    #[test]
    fn a_stamp_far_ahead_moves_the_clock_only_as_far_as_allowed() {
        let now = 1_800_000_000_000;
        let minute = 60_000;
        let mut c = Hlc::new("backoffice");
        let near = HlcStamp {
            wall_ms: now + minute / 2,
            counter: 7,
            node: "bus".into(),
        };
        let (seen, held) = c.observe_at_most(&near, now, minute);
        assert!(!held && seen > near);
        let years = HlcStamp {
            wall_ms: now + 3 * 365 * 24 * 3_600_000,
            counter: 0,
            node: "bus".into(),
        };
        let (seen, held) = c.observe_at_most(&years, now, minute);
        assert!(held);
        assert_eq!((seen.wall_ms, seen.counter), (now + minute, 1));
        assert!(c.tick(now) < years);
    }

    #[test]
    fn a_counter_past_its_six_digits_moves_the_wall_part_on() {
        // The fleet's clocks were dragged years ahead by one device: the wall clock stays
        // behind, and only the counter moves, a million events and more.
        let ahead = HlcStamp {
            wall_ms: 2_000_000_000_000,
            counter: MAX_COUNTER - 1,
            node: "server".into(),
        };
        let mut c = Hlc::new("bus");
        let seen = c.observe(&ahead, 1_800_000_000_000);
        assert_eq!(
            (seen.wall_ms, seen.counter),
            (2_000_000_000_000, MAX_COUNTER)
        );
        let next = c.tick(1_800_000_000_000);
        assert_eq!((next.wall_ms, next.counter), (2_000_000_000_001, 0));
        let last = c.tick(1_800_000_000_000);
        assert!(ahead < seen && seen < next && next < last);
        let texts = [&ahead, &seen, &next, &last].map(ToString::to_string);
        assert!(texts.is_sorted(), "{texts:?}");
        assert!(texts.iter().all(|t| t.parse::<HlcStamp>().is_ok()));
    }

    #[test]
    fn text_form_round_trips_and_sorts() {
        let a = HlcStamp {
            wall_ms: 9,
            counter: 10,
            node: "dev-a".into(),
        };
        let b = HlcStamp {
            wall_ms: 10,
            counter: 0,
            node: "dev-a".into(),
        };
        assert_eq!(a.to_string().parse::<HlcStamp>().unwrap(), a);
        assert!(a.to_string() < b.to_string());
        assert!("12-x".parse::<HlcStamp>().is_err());
        assert!("12-3-".parse::<HlcStamp>().is_err());
        assert!("12-1000000-dev-a".parse::<HlcStamp>().is_err());
        assert!("1000000000000000-0-dev-a".parse::<HlcStamp>().is_err());
    }
}
