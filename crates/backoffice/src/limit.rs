//! How many wrong enrolment codes the back office hears before it stops listening for a while.
//! A code is 12 symbols of 31 (about 10^18 codes): guessing one takes millions of tries, so a
//! few wrong codes from one address in ten minutes are typing mistakes, and more are someone
//! trying. Past the limit an address, or everyone when the wrong codes come from many
//! addresses at once, waits until the window ends; every wrong code is logged and counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window over which wrong codes are counted.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Wrong codes one address may send in a window.
pub const PER_ADDRESS: u32 = 10;
/// Wrong codes all addresses together may send in a window.
pub const EVERYWHERE: u32 = 300;
/// Addresses remembered at most; the oldest windows are forgotten first.
const REMEMBERED: usize = 10_000;

/// Wrong codes in the window that started at `since`.
#[derive(Debug, Clone, Copy)]
struct Tally {
    since: Instant,
    wrong: u32,
}

impl Tally {
    fn at(&self, now: Instant) -> u32 {
        if now.duration_since(self.since) >= WINDOW {
            0
        } else {
            self.wrong
        }
    }

    fn add(&mut self, now: Instant) {
        if now.duration_since(self.since) >= WINDOW {
            *self = Tally {
                since: now,
                wrong: 0,
            };
        }
        self.wrong += 1;
    }

    fn wait(&self, now: Instant) -> Duration {
        WINDOW.saturating_sub(now.duration_since(self.since))
    }
}

/// Who must wait before trying a code again, and how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// This address sent too many wrong codes.
    Address(Duration),
    /// Too many wrong codes came from everywhere.
    Everyone(Duration),
}

#[derive(Debug)]
pub struct EnrolmentGuard {
    tallies: Mutex<(Tally, HashMap<IpAddr, Tally>)>,
}

impl Default for EnrolmentGuard {
    fn default() -> Self {
        let start = Instant::now();
        EnrolmentGuard {
            tallies: Mutex::new((
                Tally {
                    since: start,
                    wrong: 0,
                },
                HashMap::new(),
            )),
        }
    }
}

impl EnrolmentGuard {
    /// Whether a code from `peer` may be tried now.
    pub fn check(&self, peer: Option<IpAddr>, now: Instant) -> Result<(), Wait> {
        let tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let (everywhere, by_address) = &*tallies;
        if let Some(tally) = peer.and_then(|ip| by_address.get(&ip))
            && tally.at(now) >= PER_ADDRESS
        {
            return Err(Wait::Address(tally.wait(now)));
        }
        if everywhere.at(now) >= EVERYWHERE {
            return Err(Wait::Everyone(everywhere.wait(now)));
        }
        Ok(())
    }

    /// Counts a wrong code from `peer`.
    pub fn wrong(&self, peer: Option<IpAddr>, now: Instant) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let (everywhere, by_address) = &mut *tallies;
        everywhere.add(now);
        let Some(ip) = peer else { return };
        if by_address.len() >= REMEMBERED && !by_address.contains_key(&ip) {
            by_address.retain(|_, tally| tally.at(now) > 0);
            if by_address.len() >= REMEMBERED
                && let Some(oldest) = by_address
                    .iter()
                    .min_by_key(|(_, tally)| tally.since)
                    .map(|(ip, _)| *ip)
            {
                by_address.remove(&oldest);
            }
        }
        by_address
            .entry(ip)
            .or_insert(Tally {
                since: now,
                wrong: 0,
            })
            .add(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_after_its_wrong_codes_and_others_do_not() {
        let guard = EnrolmentGuard::default();
        let start = Instant::now();
        let typo: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "198.51.100.9".parse().unwrap();
        for _ in 0..PER_ADDRESS {
            assert_eq!(guard.check(Some(typo), start), Ok(()));
            guard.wrong(Some(typo), start);
        }
        let later = start + Duration::from_secs(60);
        assert_eq!(
            guard.check(Some(typo), later),
            Err(Wait::Address(WINDOW - Duration::from_secs(60)))
        );
        assert_eq!(guard.check(Some(other), later), Ok(()));
        // The window over, the address may try again.
        assert_eq!(guard.check(Some(typo), start + WINDOW), Ok(()));
    }

    #[test]
    fn everyone_waits_when_wrong_codes_come_from_many_addresses() {
        let guard = EnrolmentGuard::default();
        let now = Instant::now();
        for n in 0..EVERYWHERE {
            let ip = IpAddr::from([10, 0, (n / 256) as u8, (n % 256) as u8]);
            guard.wrong(Some(ip), now);
        }
        let fresh: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(matches!(
            guard.check(Some(fresh), now),
            Err(Wait::Everyone(_))
        ));
    }
}
