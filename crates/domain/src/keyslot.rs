//! The key that opens a workstation's database, kept only sealed under a secret of someone
//! allowed to open it: a clerk's password, a command line session's token, or the device's
//! recovery key. Each sealed copy is a "slot"; the workstation keeps its slots in a file
//! beside the database.
//!
//! Invariants:
//! - A data key exists in clear only in memory, and [`DataKey`] wipes its bytes when dropped.
//! - A password is stretched with Argon2id at the verifiers' cost (`account`), so a stolen
//!   slot costs a guesser as much as a stolen verifier. A random secret (a token, a recovery
//!   key) has the entropy already and goes through HKDF-SHA256 alone.
//! - A slot records the lanes its password was stretched over, and opens with those: slots
//!   sealed over one lane by an earlier release keep opening. It opens only with one lane or
//!   [`SLOT_LANES`], so a tampered file cannot choose what a login computes.
//! - A slot is sealed with ChaCha20-Poly1305 and binds its name as associated data: a slot
//!   copied under another clerk's name does not open, and a tampered one does not either.
//!
//! No I/O and no chance: the key, salts and nonces come in as arguments.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::account::{SLOT_LANES, hasher};
use crate::error::{DomainError, Result};
use crate::hex;
use crate::stretch::stretch;

/// The database's key: 256 random bits, in memory only.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl Clone for DataKey {
    fn clone(&self) -> Self {
        DataKey(Zeroizing::new(*self.0))
    }
}

impl DataKey {
    /// A key from 32 random bytes of the caller's.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(Zeroizing::new(bytes))
    }

    /// The key as SQLCipher's `PRAGMA key` takes a raw key (`x'…'`): used as is, with no
    /// key derivation of SQLCipher's own, as it is random already.
    pub fn sqlcipher_pragma(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex(&*self.0)))
    }

    fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// What a slot is sealed under.
#[derive(Clone, Copy)]
pub enum Secret<'a> {
    /// A clerk's password: stretched with Argon2id.
    Password(&'a str),
    /// A secret of at least 128 random bits (a session token, a recovery key).
    Random(&'a [u8]),
}

impl fmt::Debug for Secret<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A data key sealed under a secret, as kept in the slots file (hexadecimal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    salt: String,
    nonce: String,
    sealed: String,
    /// The lanes of the Argon2id that stretched the password (a random secret does not use
    /// it). Slots sealed before it was recorded have none: they were stretched over one lane.
    #[serde(default = "one_lane")]
    lanes: u32,
}

fn one_lane() -> u32 {
    1
}

impl SealedKey {
    /// Seals `key` under `secret` for the slot `name`, with a fresh `salt` and `nonce` from
    /// the caller.
    pub fn seal(
        key: &DataKey,
        secret: Secret<'_>,
        name: &str,
        salt: [u8; 16],
        nonce: [u8; 12],
    ) -> Result<Self> {
        let cipher = cipher(secret, &salt, SLOT_LANES)?;
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.bytes(),
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| DomainError::SealFailed)?;
        Ok(SealedKey {
            salt: hex(&salt),
            nonce: hex(&nonce),
            sealed: hex(&sealed),
            lanes: SLOT_LANES,
        })
    }

    /// The key, if `secret` is the one it was sealed under for the slot `name`.
    pub fn open(&self, secret: Secret<'_>, name: &str) -> Option<DataKey> {
        let salt = unhex(&self.salt)?;
        let nonce = unhex(&self.nonce)?;
        let sealed = unhex(&self.sealed)?;
        if nonce.len() != 12 || ![1, SLOT_LANES].contains(&self.lanes) {
            return None;
        }
        let cipher = cipher(secret, &salt, self.lanes).ok()?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: &sealed,
                        aad: name.as_bytes(),
                    },
                )
                .ok()?,
        );
        let bytes: [u8; 32] = plain.as_slice().try_into().ok()?;
        Some(DataKey::from_bytes(bytes))
    }

    /// Whether the slot was sealed over fewer lanes than a new one is: its password takes
    /// longer to stretch at every login than it would in a slot sealed now.
    pub fn is_outdated(&self) -> bool {
        self.lanes != SLOT_LANES
    }
}

/// The cipher of a slot: its key stretched from a password over `lanes` lanes, or expanded
/// from a random secret.
fn cipher(secret: Secret<'_>, salt: &[u8], lanes: u32) -> Result<ChaCha20Poly1305> {
    let mut wrapping = Zeroizing::new([0u8; 32]);
    match secret {
        Secret::Password(password) => {
            stretch(&hasher(lanes)?, password.as_bytes(), salt, &mut *wrapping)?;
        }
        Secret::Random(bytes) => Hkdf::<Sha256>::new(Some(salt), bytes)
            .expand(b"guichet key slot", &mut *wrapping)
            .map_err(|_| DomainError::SealFailed)?,
    }
    Ok(ChaCha20Poly1305::new(Key::from_slice(&*wrapping)))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The letters a recovery key is written with: RFC 4648's base32 alphabet, which has no 0, 1,
/// 8 or 9 to mistake for O, I, B or g.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A device's recovery key: 160 random bits, written as 32 base32 letters in groups of four,
/// for an administrator to keep on paper (a standalone device) or for the back office to hold
/// (an enrolled one). It opens the device's recovery slot.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryKey(Zeroizing<[u8; 20]>);

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

impl RecoveryKey {
    /// A recovery key from 20 random bytes of the caller's.
    pub fn from_bytes(bytes: [u8; 20]) -> Self {
        RecoveryKey(Zeroizing::new(bytes))
    }

    /// A typed recovery key: case, spaces and dashes do not matter.
    pub fn parse(text: &str) -> Result<Self> {
        let typed = text.chars().filter(|c| !c.is_whitespace() && *c != '-');
        if typed.clone().count() != 32 {
            return Err(DomainError::RecoveryKey(format!(
                "it has {} letters and digits",
                typed.count()
            )));
        }
        let wrong = || {
            DomainError::RecoveryKey(
                "it holds a character that no recovery key has (they use A to Z and 2 to 7)".into(),
            )
        };
        let mut bits: u64 = 0;
        let mut held = 0;
        let mut bytes = Vec::with_capacity(20);
        for c in typed {
            let up = c.to_ascii_uppercase() as u8;
            let value = BASE32.iter().position(|&b| b == up).ok_or_else(wrong)?;
            bits = (bits << 5) | value as u64;
            held += 5;
            if held >= 8 {
                held -= 8;
                bytes.push((bits >> held) as u8);
            }
        }
        let bytes: [u8; 20] = bytes.try_into().map_err(|_| wrong())?;
        Ok(RecoveryKey::from_bytes(bytes))
    }

    /// The key as a secret that seals or opens a slot.
    pub fn secret(&self) -> Secret<'_> {
        Secret::Random(&*self.0)
    }

    /// The key as printed: `ABCD-EFGH-…`, 8 groups of 4.
    pub fn written(&self) -> Zeroizing<String> {
        let mut out = String::with_capacity(40);
        let mut bits: u64 = 0;
        let mut held = 0;
        let mut letters: u32 = 0;
        for &byte in self.0.iter() {
            bits = (bits << 8) | u64::from(byte);
            held += 8;
            while held >= 5 {
                held -= 5;
                if letters > 0 && letters.is_multiple_of(4) {
                    out.push('-');
                }
                out.push(BASE32[((bits >> held) & 31) as usize] as char);
                letters += 1;
            }
        }
        Zeroizing::new(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::from_bytes([7; 32])
    }

    #[test]
    fn a_slot_opens_with_its_secret_and_name_only() {
        let slot = SealedKey::seal(
            &key(),
            Secret::Random(&[1; 32]),
            "session:a",
            [2; 16],
            [3; 12],
        )
        .unwrap();
        let opened = slot.open(Secret::Random(&[1; 32]), "session:a").unwrap();
        assert_eq!(opened.bytes(), key().bytes());
        assert!(slot.open(Secret::Random(&[9; 32]), "session:a").is_none());
        assert!(slot.open(Secret::Random(&[1; 32]), "session:b").is_none());
        let mut tampered = slot.clone();
        tampered.sealed.replace_range(0..2, "00");
        if tampered != slot {
            assert!(
                tampered
                    .open(Secret::Random(&[1; 32]), "session:a")
                    .is_none()
            );
        }
    }

    /// A slot sealed now under "a long passphrase" for "clerk:x".
    fn password_slot() -> SealedKey {
        SealedKey::seal(
            &key(),
            Secret::Password("a long passphrase"),
            "clerk:x",
            [4; 16],
            [5; 12],
        )
        .unwrap()
    }

    #[test]
    fn a_password_slot_is_stretched() {
        let slot = password_slot();
        assert!(
            slot.open(Secret::Password("a long passphrase"), "clerk:x")
                .is_some()
        );
        assert!(
            slot.open(Secret::Password("a long passphrasE"), "clerk:x")
                .is_none()
        );
        assert!(!slot.sealed.contains(&hex(key().bytes())));
        assert_eq!(slot.lanes, SLOT_LANES);
        assert!(!slot.is_outdated());
        let read: SealedKey = serde_json::from_str(&serde_json::to_string(&slot).unwrap()).unwrap();
        assert_eq!(read, slot);
    }

    #[test]
    fn a_slot_sealed_over_one_lane_still_opens() {
        // Written by the release that stretched passwords over one lane (argon2 0.5, p=1),
        // before slots recorded their lanes.
        let old: SealedKey = serde_json::from_str(
            r#"{"salt":"04040404040404040404040404040404","nonce":"050505050505050505050505","sealed":"638765b6fbceb60823faa7aefb1aa0696b55dcfa8663df62db1db5c01db955177710526fb4941271ae2d6a780e1e8d1b"}"#,
        )
        .unwrap();
        assert!(old.is_outdated());
        let opened = old
            .open(Secret::Password("a long passphrase"), "clerk:x")
            .unwrap();
        assert_eq!(opened.bytes(), key().bytes());
        assert!(
            old.open(Secret::Password("a long passphrasE"), "clerk:x")
                .is_none()
        );
    }

    #[test]
    fn a_slot_claiming_other_lanes_does_not_open() {
        let slot = password_slot();
        // One lane is let through (the slots of earlier releases), but stretches another key.
        for lanes in [0, 1, 2, 8, 4096, u32::MAX] {
            let tampered = SealedKey {
                lanes,
                ..slot.clone()
            };
            assert!(
                tampered
                    .open(Secret::Password("a long passphrase"), "clerk:x")
                    .is_none(),
                "{lanes} lanes"
            );
        }
    }

    #[test]
    fn recovery_keys_read_back_as_written() {
        let recovery = RecoveryKey::from_bytes(*b"twenty random bytes!");
        let written = recovery.written();
        assert_eq!(written.len(), 39);
        assert_eq!(written.matches('-').count(), 7);
        assert_eq!(RecoveryKey::parse(&written).unwrap(), recovery);
        let sloppy = written.to_lowercase().replace('-', " ");
        assert_eq!(RecoveryKey::parse(&sloppy).unwrap(), recovery);
        // A refusal says what is wrong, never the key typed: most of it is right.
        let short = RecoveryKey::parse(&written[..38]).unwrap_err().to_string();
        assert!(short.contains("it has 31 letters and digits"), "{short}");
        let mistyped = format!("1{}", &written[1..]);
        let wrong = RecoveryKey::parse(&mistyped).unwrap_err().to_string();
        assert!(
            wrong.contains("a character that no recovery key has"),
            "{wrong}"
        );
        for said in [short, wrong] {
            assert!(!said.contains(&written[5..9]), "{said}");
        }
    }
}
