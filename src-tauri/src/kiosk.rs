//! What the ticket kiosk may ask of the queue, on a touch screen anyone can reach: a few
//! tickets a minute, and a second print only of a ticket it gave itself, moments ago, not yet
//! printed. Kept in memory: a restart of the app starts it afresh.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Two tickets this close together are one citizen's double touch, or someone playing.
pub const MIN_GAP: Duration = Duration::from_secs(3);

/// At most this many tickets in `WINDOW`: more is no queue of citizens.
pub const PER_WINDOW: usize = 12;
pub const WINDOW: Duration = Duration::from_secs(60);

/// How long a ticket's number stays on the kiosk's screen to print again (its own
/// `TICKET_SHOWN_MS`, with time to spare), and how many prints it may ask for in that time.
pub const REPRINT_FOR: Duration = Duration::from_secs(120);
pub const REPRINTS: u8 = 3;

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Too soon after the last ticket, or too many this minute: retry in this long.
    Busy(Duration),
    /// Not a ticket this kiosk gave in the last minutes, or printed already, or printed again
    /// as often as it may be.
    NotReprintable,
}

#[derive(Debug, Default)]
pub struct Guard {
    given: VecDeque<Instant>,
    /// The tickets given lately, by id, with how many prints they may still ask for.
    printable: VecDeque<(String, Instant, u8)>,
}

impl Guard {
    /// Whether the kiosk may give a ticket at `now`. The caller holds the guard while it gives
    /// it, and counts it with `given` once it is given (a ticket refused, for a screen locked
    /// meanwhile say, does not count), so that two touches landing together do not both pass.
    pub fn may_give(&mut self, now: Instant) -> Result<(), Refused> {
        while self
            .given
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.given.pop_front();
        }
        if let Some(last) = self.given.back() {
            let since = now.duration_since(*last);
            if since < MIN_GAP {
                return Err(Refused::Busy(MIN_GAP - since));
            }
        }
        if self.given.len() >= PER_WINDOW
            && let Some(first) = self.given.front()
        {
            return Err(Refused::Busy(WINDOW - now.duration_since(*first)));
        }
        Ok(())
    }

    /// A ticket was given at `now`.
    pub fn given(&mut self, now: Instant) {
        self.given.push_back(now);
    }

    /// Whether the slip of `ticket`, given at `now`, came out: one that did not may be
    /// printed again for a while.
    pub fn printed_at_first(&mut self, ticket: &str, now: Instant, printed: bool) {
        self.forget_old(now);
        if !printed {
            self.printable.push_back((ticket.to_owned(), now, REPRINTS));
        }
    }

    /// Takes one of `ticket`'s prints again, if it may have one.
    pub fn reprint(&mut self, ticket: &str, now: Instant) -> Result<(), Refused> {
        self.forget_old(now);
        let entry = self
            .printable
            .iter_mut()
            .find(|(id, _, left)| id == ticket && *left > 0)
            .ok_or(Refused::NotReprintable)?;
        entry.2 -= 1;
        Ok(())
    }

    /// The ticket's slip came out: it is not printed again.
    pub fn printed(&mut self, ticket: &str) {
        self.printable.retain(|(id, _, _)| id != ticket);
    }

    fn forget_old(&mut self, now: Instant) {
        while self
            .printable
            .front()
            .is_some_and(|(_, at, _)| now.duration_since(*at) >= REPRINT_FOR)
        {
            self.printable.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_double_touch_gives_one_ticket_and_a_stream_of_touches_a_few() {
        let start = Instant::now();
        let mut guard = Guard::default();
        assert_eq!(guard.may_give(start), Ok(()));
        guard.given(start);
        let soon = start + Duration::from_millis(400);
        assert_eq!(
            guard.may_give(soon),
            Err(Refused::Busy(MIN_GAP - Duration::from_millis(400)))
        );
        // One every three seconds: twelve, then the first must be a minute old.
        let mut at = start;
        for n in 2..=PER_WINDOW {
            at += MIN_GAP;
            assert_eq!(guard.may_give(at), Ok(()), "ticket {n}");
            guard.given(at);
        }
        at += MIN_GAP;
        assert!(matches!(guard.may_give(at), Err(Refused::Busy(_))));
        assert_eq!(guard.may_give(start + WINDOW + MIN_GAP), Ok(()));
        // A ticket asked for but not given (refused) does not count.
        let mut refused = Guard::default();
        assert_eq!(refused.may_give(start), Ok(()));
        assert_eq!(refused.may_give(start + Duration::from_millis(400)), Ok(()));
    }

    #[test]
    fn only_a_ticket_just_given_and_not_printed_prints_again_a_few_times() {
        let start = Instant::now();
        let mut guard = Guard::default();
        guard.printed_at_first("printed", start, true);
        guard.printed_at_first("jammed", start, false);
        // A ticket given at the counter, or one whose slip came out, is not the kiosk's to print.
        assert_eq!(
            guard.reprint("counter", start),
            Err(Refused::NotReprintable)
        );
        assert_eq!(
            guard.reprint("printed", start),
            Err(Refused::NotReprintable)
        );
        for _ in 0..REPRINTS {
            assert_eq!(guard.reprint("jammed", start), Ok(()));
        }
        assert_eq!(guard.reprint("jammed", start), Err(Refused::NotReprintable));

        guard.printed_at_first("late", start, false);
        guard.printed("late");
        assert_eq!(guard.reprint("late", start), Err(Refused::NotReprintable));
        guard.printed_at_first("old", start, false);
        assert_eq!(
            guard.reprint("old", start + REPRINT_FOR),
            Err(Refused::NotReprintable)
        );
    }
}
