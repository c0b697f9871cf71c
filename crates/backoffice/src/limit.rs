//! How many wrong guesses the back office hears before it stops listening for a while: wrong
//! enrolment codes, and wrong passwords at a clerk's first login on a device (a vouch, whose
//! right answer opens the device).
//!
//! A code is 12 symbols of 31 (about 10^18 codes): guessing one takes millions of tries, so a
//! few wrong codes from one address in ten minutes are typing mistakes, and more are someone
//! trying. Past the limit an address, or everyone when the wrong codes come from many
//! addresses at once, waits until the window ends; every wrong code is logged and counted.
//!
//! A password is easier to guess than a code, so wrong passwords are counted twice: by the
//! address they come from, and by the device and user name they try, so that guessing one
//! clerk's password from many addresses is slowed too. A clerk who mistypes a few times is not.
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The window over which wrong codes are counted.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Wrong codes one address may send in a window.
pub const PER_ADDRESS: u32 = 10;
/// Wrong passwords one address may send in a window, over every device and user name. A
/// centre's clerks, or a fleet of buses, reach the back office from one address (a NAT, a
/// satellite operator's), and a device asks for every mistyped password (the back office may
/// hold a new one): the limit on one user name of one device below is what slows a guesser.
pub const VOUCH_PER_ADDRESS: u32 = 60;
/// Wrong passwords for one user name on one device in a window, from every address.
pub const VOUCH_PER_LOGIN: u32 = 5;
/// Wrong codes all addresses together may send in a window.
pub const EVERYWHERE: u32 = 300;
/// Keys (addresses, logins) remembered at most; the oldest windows are forgotten first.
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

/// Wrong guesses in the window, by key (an address, a login), in bounded memory.
#[derive(Debug)]
struct Tallies<K> {
    by_key: HashMap<K, Tally>,
}

impl<K> Default for Tallies<K> {
    fn default() -> Self {
        Tallies {
            by_key: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Copy> Tallies<K> {
    /// How long `key` must wait when it reached `limit` in its window.
    fn wait(&self, key: &K, limit: u32, now: Instant) -> Option<Duration> {
        self.by_key
            .get(key)
            .filter(|tally| tally.at(now) >= limit)
            .map(|tally| tally.wait(now))
    }

    /// Counts a wrong guess of `key`, forgetting the ended windows, then the oldest, when
    /// `REMEMBERED` keys are held.
    fn add(&mut self, key: K, now: Instant) {
        if self.by_key.len() >= REMEMBERED && !self.by_key.contains_key(&key) {
            self.by_key.retain(|_, tally| tally.at(now) > 0);
            if self.by_key.len() >= REMEMBERED
                && let Some(oldest) = self
                    .by_key
                    .iter()
                    .min_by_key(|(_, tally)| tally.since)
                    .map(|(key, _)| *key)
            {
                self.by_key.remove(&oldest);
            }
        }
        self.by_key
            .entry(key)
            .or_insert(Tally {
                since: now,
                wrong: 0,
            })
            .add(now);
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
    tallies: Mutex<(Tally, Tallies<IpAddr>)>,
}

impl Default for EnrolmentGuard {
    fn default() -> Self {
        EnrolmentGuard {
            tallies: Mutex::new((
                Tally {
                    since: Instant::now(),
                    wrong: 0,
                },
                Tallies::default(),
            )),
        }
    }
}

impl EnrolmentGuard {
    /// Whether a code from `peer` may be tried now.
    pub fn check(&self, peer: Option<IpAddr>, now: Instant) -> Result<(), Wait> {
        let tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let (everywhere, by_address) = &*tallies;
        if let Some(left) = peer.and_then(|ip| by_address.wait(&ip, PER_ADDRESS, now)) {
            return Err(Wait::Address(left));
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
        if let Some(ip) = peer {
            by_address.add(ip, now);
        }
    }
}

/// Who must wait before trying a password again, and how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VouchWait {
    /// This address sent too many wrong passwords.
    Address(Duration),
    /// This user name on this device was given too many wrong passwords.
    Login(Duration),
}

/// The wrong passwords of first logins lately, by address and by login (see the module).
#[derive(Debug, Default)]
pub struct VouchGuard {
    tallies: Mutex<(Tallies<IpAddr>, Tallies<[u8; 32]>)>,
}

/// A login as the guard counts it: a hash of the device code and the user name, as trimmed,
/// so that what it keeps has one size whatever a caller sends.
fn login_key(device: &str, username: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(device.trim().as_bytes());
    hash.update([0]);
    hash.update(username.trim().as_bytes());
    hash.finalize().into()
}

impl VouchGuard {
    /// Whether a password from `peer` for `username` on `device` may be tried now.
    pub fn check(
        &self,
        peer: Option<IpAddr>,
        device: &str,
        username: &str,
        now: Instant,
    ) -> Result<(), VouchWait> {
        let tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let (by_address, by_login) = &*tallies;
        if let Some(left) = peer.and_then(|ip| by_address.wait(&ip, VOUCH_PER_ADDRESS, now)) {
            return Err(VouchWait::Address(left));
        }
        if let Some(left) = by_login.wait(&login_key(device, username), VOUCH_PER_LOGIN, now) {
            return Err(VouchWait::Login(left));
        }
        Ok(())
    }

    /// Counts a wrong password from `peer` for `username` on `device`.
    pub fn wrong(&self, peer: Option<IpAddr>, device: &str, username: &str, now: Instant) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let (by_address, by_login) = &mut *tallies;
        if let Some(ip) = peer {
            by_address.add(ip, now);
        }
        by_login.add(login_key(device, username), now);
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

    #[test]
    fn a_login_waits_after_its_wrong_passwords_from_any_address() {
        let guard = VouchGuard::default();
        let now = Instant::now();
        for n in 0..VOUCH_PER_LOGIN {
            let ip = IpAddr::from([10, 0, 0, n as u8]);
            assert_eq!(guard.check(Some(ip), "ATH-01-K7XA", "eleni", now), Ok(()));
            guard.wrong(Some(ip), "ATH-01-K7XA", " eleni ", now);
        }
        let fresh: IpAddr = "203.0.113.1".parse().unwrap();
        assert_eq!(
            guard.check(Some(fresh), "ATH-01-K7XA", "eleni", now),
            Err(VouchWait::Login(WINDOW))
        );
        assert_eq!(
            guard.check(Some(fresh), "ATH-01-K7XA", "maria", now),
            Ok(())
        );
        assert_eq!(
            guard.check(Some(fresh), "ATH-01-M3PQ", "eleni", now),
            Ok(())
        );
        assert_eq!(
            guard.check(Some(fresh), "ATH-01-K7XA", "eleni", now + WINDOW),
            Ok(())
        );
    }

    #[test]
    fn an_address_waits_after_wrong_passwords_for_many_logins() {
        let guard = VouchGuard::default();
        let now = Instant::now();
        let guesser: IpAddr = "192.0.2.7".parse().unwrap();
        for n in 0..VOUCH_PER_ADDRESS {
            guard.wrong(Some(guesser), "ATH-01-K7XA", &format!("clerk{n}"), now);
        }
        assert_eq!(
            guard.check(Some(guesser), "ATH-01-K7XA", "someone", now),
            Err(VouchWait::Address(WINDOW))
        );
        let other: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(
            guard.check(Some(other), "ATH-01-K7XA", "someone", now),
            Ok(())
        );
    }
}
