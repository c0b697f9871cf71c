//! Receipt numbers: the reference a citizen takes home and later reads back to a clerk.
//!
//! Every workstation issues receipt numbers on its own, often with no network, so the
//! format itself has to carry the guarantees a central register would otherwise give:
//!
//! - **Unique without asking anyone.** A number is a 4-symbol device prefix (handed out
//!   once, when the device is set up) followed by that device's 7-symbol counter in base
//!   30. Two devices never share a prefix and one device never reuses a counter value.
//! - **Short.** 12 symbols canonical (`K7XA0000042E`), 14 characters in the grouped
//!   display form (`K7XA-0000-042E`), within the 16 characters a receipt field allows.
//! - **Readable aloud.** The alphabet has no I, L, O, S, U or Z, so 0/O and 1/I/L cannot be
//!   confused. Because O, I and L are never issued, input reads them as 0, 1 and 1; input
//!   also ignores case, spaces and dashes, since a clerk types what a citizen reads out.
//! - **Self-checking.** The last symbol is a check symbol that catches every single
//!   wrong character and every swap of two adjacent characters, including a swap with
//!   the check symbol itself.
//!
//! # Why the check symbol is not ISO 7064
//!
//! ISO 7064 hybrid MOD 31,30 fits a 30-symbol alphabet and catches every single
//! substitution, but it misses some adjacent swaps: `K7XA-0000-0DE3` and
//! `K7XA-0000-0ED3` both pass it. No weighted sum modulo 30 can do better, because a
//! weight must be odd (a unit modulo 30) to catch substitutions, and then the difference
//! of two neighbouring weights is even, so some swaps cancel out.
//!
//! The check therefore uses Verhoeff's scheme over the dihedral group D15, whose 30
//! elements match the 30 symbols: value `v < 15` is the rotation `r^v`, value `v >= 15`
//! is the reflection `r^(v-15)·s`. A number `v0 v1 … v11` is valid when
//! `σ⁰(v0)·σ¹(v1)·…·σ¹¹(v11)` is the identity, with `σ(r^i) = r^-i` and
//! `σ(r^i·s) = r^(i+1)·s`.
//!
//! - A single substitution changes one factor of a group product, which always changes
//!   the product.
//! - A swap of neighbours `a, b` goes unnoticed only if `x·σ(y) = y·σ(x)` for
//!   `x = σᵏ(a) ≠ y = σᵏ(b)`. For two rotations that means `r^(i-j) = r^(j-i)`, i.e.
//!   `2(i-j) ≡ 0 (mod 15)`, impossible for `i ≠ j` since 15 is odd; two reflections give
//!   the same equation; a rotation and a reflection give `r^(i+j+1)·s` against
//!   `r^(i+j)·s`, never equal.
//!
//! The tests below confirm both properties by brute force, not only by this argument.

use crate::string_json_schema;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 30 symbols of a receipt number, in value order: a symbol's value is its index.
///
/// The order is also ASCII order, so sorting canonical strings sorts by value.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRTVWXY";

const SYMBOLS: &[u8] = ALPHABET.as_bytes();
const BASE: u64 = 30;
const PREFIX_LEN: usize = 4;
const SEQUENCE_LEN: usize = 7;
const PAYLOAD_LEN: usize = PREFIX_LEN + SEQUENCE_LEN;
const NUMBER_LEN: usize = PAYLOAD_LEN + 1;
/// Rotations in D15; the other 15 elements of the group are reflections.
const ROTATIONS: u8 = 15;
/// Value of the group identity (`r^0`).
const IDENTITY: u8 = 0;

// The check arithmetic below is only sound if each symbol is one group element.
const _: () = assert!(SYMBOLS.len() as u64 == BASE);
const _: () = assert!(2 * ROTATIONS as u64 == BASE);

/// Why a device prefix was refused; carried by [`ReceiptError::BadPrefix`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PrefixProblem {
    /// A character outside the receipt alphabet; `position` counts characters of the
    /// input as typed, from 1.
    #[error("it has {character:?} at position {position}, which is not a receipt symbol")]
    BadCharacter {
        /// The character as typed.
        character: char,
        /// 1-based position in the input, spaces and dashes included.
        position: usize,
    },
    /// Not 4 symbols once spaces and dashes are ignored.
    #[error("it has {found} characters instead of 4")]
    WrongLength {
        /// Symbols found, not counting spaces and dashes.
        found: usize,
    },
}

/// Why a receipt number or device prefix could not be read or issued.
///
/// Messages are written for the clerk at the counter: what is wrong and what to do.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ReceiptError {
    /// Nothing but spaces and dashes was entered.
    #[error(
        "no receipt number was entered; type the 12 characters printed on the receipt, \
         for example K7XA-0000-042E"
    )]
    Empty,
    /// A character that is neither a receipt symbol nor one read as one (O, I, L).
    #[error(
        "receipt number has {character:?} at position {position}; receipt numbers use only \
         digits and the letters A B C D E F G H J K M N P Q R T V W X Y (no I, L, O, S, U, Z)"
    )]
    BadCharacter {
        /// The character as typed.
        character: char,
        /// 1-based position in the input, spaces and dashes included, so it matches
        /// what the clerk sees on screen.
        position: usize,
    },
    /// Not 12 symbols once spaces and dashes are ignored.
    #[error(
        "receipt number has {found} characters; it should have 12 (for example \
         K7XA-0000-042E); check that no character is missing or repeated"
    )]
    WrongLength {
        /// Symbols found, not counting spaces and dashes.
        found: usize,
    },
    /// Twelve valid symbols whose check symbol does not match.
    #[error(
        "receipt number {number} fails its check: a character is mistyped or two are \
         swapped; read it again from the receipt"
    )]
    CheckFailed {
        /// The number as read, normalised and grouped (`K7XA-0000-042E`), so the clerk
        /// can read it back to the citizen.
        number: String,
    },
    /// The device counter has passed the last 7-symbol sequence number.
    #[error(
        "this device cannot issue receipt number {sequence}: its last one is 21869999999; \
         ask the back office for a new device prefix"
    )]
    SequenceExhausted {
        /// The refused sequence number.
        sequence: u64,
    },
    /// A device prefix that could not be read.
    #[error(
        "device prefix {prefix:?} is not valid: {problem}; a prefix is 4 characters from the \
         receipt alphabet, as handed out when the device was set up"
    )]
    BadPrefix {
        /// The prefix as given.
        prefix: String,
        /// What is wrong with it.
        problem: PrefixProblem,
    },
    /// A prefix counter value with no 4-symbol prefix.
    #[error(
        "device prefix number {index} is out of range; there are 810000 prefixes, \
         numbered 0 to 809999"
    )]
    PrefixIndexOutOfRange {
        /// The refused counter value.
        index: u32,
    },
}

/// The 4-symbol part of a receipt number that identifies the issuing device.
///
/// Always canonical: 4 upper-case symbols of [`ALPHABET`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptPrefix(String);

impl ReceiptPrefix {
    /// How many distinct prefixes exist (30^4); valid indices are `0..COUNT`.
    pub const COUNT: u32 = 810_000;

    /// Reads a prefix with the same forgiveness as [`ReceiptNumber::parse`]: any case,
    /// spaces and dashes ignored, O read as 0, I and L read as 1.
    pub fn parse(input: &str) -> Result<Self, ReceiptError> {
        let refuse = |problem| ReceiptError::BadPrefix {
            prefix: input.to_owned(),
            problem,
        };
        let values = read_symbols(input).map_err(|bad| {
            refuse(PrefixProblem::BadCharacter {
                character: bad.character,
                position: bad.position,
            })
        })?;
        if values.len() != PREFIX_LEN {
            return Err(refuse(PrefixProblem::WrongLength {
                found: values.len(),
            }));
        }
        Ok(Self(encode(&values)))
    }

    /// The prefix numbered `index` in base 30, so a back office can hand prefixes out
    /// from a plain counter and never hand one out twice.
    pub fn from_index(index: u32) -> Result<Self, ReceiptError> {
        if index >= Self::COUNT {
            return Err(ReceiptError::PrefixIndexOutOfRange { index });
        }
        Ok(Self(encode(&base30_digits::<PREFIX_LEN>(u64::from(index)))))
    }

    /// The canonical 4 symbols.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReceiptPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl FromStr for ReceiptPrefix {
    type Err = ReceiptError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl Serialize for ReceiptPrefix {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ReceiptPrefix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A receipt number: device prefix, 7-symbol sequence number, check symbol.
///
/// Always canonical and valid: 12 upper-case symbols whose check holds. Ordering is by
/// prefix, then sequence number, because the alphabet is in ASCII order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptNumber(String);

impl ReceiptNumber {
    /// How many sequence numbers one prefix can carry (30^7); valid ones are
    /// `0..SEQUENCE_LIMIT`.
    pub const SEQUENCE_LIMIT: u64 = 21_870_000_000;

    /// The receipt number for the `sequence`-th receipt of the device owning `prefix`.
    pub fn issue(prefix: &ReceiptPrefix, sequence: u64) -> Result<Self, ReceiptError> {
        if sequence >= Self::SEQUENCE_LIMIT {
            return Err(ReceiptError::SequenceExhausted { sequence });
        }
        let mut values = canonical_values(prefix.as_str());
        values.extend(base30_digits::<SEQUENCE_LEN>(sequence));
        values.push(check_value(&values));
        Ok(Self(encode(&values)))
    }

    /// Reads a number as a clerk types it: any case, spaces and dashes ignored, O read
    /// as 0, I and L read as 1. Refuses, in this order, any other character outside the
    /// alphabet, a length other than 12, and a failed check.
    pub fn parse(input: &str) -> Result<Self, ReceiptError> {
        let values = read_symbols(input).map_err(|bad| ReceiptError::BadCharacter {
            character: bad.character,
            position: bad.position,
        })?;
        if values.is_empty() {
            return Err(ReceiptError::Empty);
        }
        if values.len() != NUMBER_LEN {
            return Err(ReceiptError::WrongLength {
                found: values.len(),
            });
        }
        let canonical = encode(&values);
        if product(&values) != IDENTITY {
            return Err(ReceiptError::CheckFailed {
                number: grouped(&canonical),
            });
        }
        Ok(Self(canonical))
    }

    /// The canonical 12 symbols, without dashes: the form to store and compare.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The device prefix that issued this number.
    pub fn prefix(&self) -> ReceiptPrefix {
        ReceiptPrefix(self.0.chars().take(PREFIX_LEN).collect())
    }

    /// The device counter value this number was issued for.
    pub fn sequence(&self) -> u64 {
        self.0
            .chars()
            .skip(PREFIX_LEN)
            .take(SEQUENCE_LEN)
            .filter_map(symbol_value)
            .fold(0, |total, value| total * BASE + u64::from(value))
    }
}

/// The grouped form, `K7XA-0000-042E`, as printed on the receipt and read aloud.
impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&grouped(&self.0))
    }
}

impl FromStr for ReceiptNumber {
    type Err = ReceiptError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl Serialize for ReceiptNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ReceiptNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The check symbol to append to `payload`, which must be canonical symbols only (no
/// dashes, spaces or lower case). For a receipt number the payload is the 11 symbols of
/// prefix and sequence; the check depends on the payload length.
pub fn check_symbol(payload: &str) -> Result<char, ReceiptError> {
    let mut values = Vec::with_capacity(payload.len());
    for (index, character) in payload.chars().enumerate() {
        match symbol_value(character) {
            Some(value) => values.push(value),
            None => {
                return Err(ReceiptError::BadCharacter {
                    character,
                    position: index + 1,
                });
            }
        }
    }
    Ok(symbol_char(check_value(&values)))
}

/// A character of the input that cannot be read as a symbol.
struct Unreadable {
    character: char,
    position: usize,
}

/// Symbol values of a typed number or prefix, applying the forgiving input rules.
fn read_symbols(input: &str) -> Result<Vec<u8>, Unreadable> {
    let mut values = Vec::with_capacity(NUMBER_LEN);
    for (index, character) in input.chars().enumerate() {
        if character == '-' || character.is_ascii_whitespace() {
            continue;
        }
        // O, I and L are never issued, so a citizen saying them means 0 and 1.
        let symbol = match character.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        };
        match symbol_value(symbol) {
            Some(value) => values.push(value),
            None => {
                return Err(Unreadable {
                    character,
                    position: index + 1,
                });
            }
        }
    }
    Ok(values)
}

/// Values of a string already known to be canonical.
fn canonical_values(canonical: &str) -> Vec<u8> {
    canonical.chars().filter_map(symbol_value).collect()
}

fn symbol_value(symbol: char) -> Option<u8> {
    let byte = u8::try_from(symbol).ok()?;
    let index = SYMBOLS.iter().position(|&candidate| candidate == byte)?;
    u8::try_from(index).ok()
}

fn symbol_char(value: u8) -> char {
    char::from(SYMBOLS[usize::from(value)])
}

fn encode(values: &[u8]) -> String {
    values.iter().map(|&value| symbol_char(value)).collect()
}

/// Groups a canonical number by four with dashes.
fn grouped(canonical: &str) -> String {
    let mut out = String::with_capacity(canonical.len() + canonical.len() / 4);
    for (index, character) in canonical.chars().enumerate() {
        if index > 0 && index % 4 == 0 {
            out.push('-');
        }
        out.push(character);
    }
    out
}

/// `n` as `N` base-30 digit values, most significant first, zero-padded.
fn base30_digits<const N: usize>(mut n: u64) -> [u8; N] {
    let mut digits = [0; N];
    for digit in digits.iter_mut().rev() {
        // The remainder is below 30, so it always fits.
        *digit = u8::try_from(n % BASE).unwrap_or_default();
        n /= BASE;
    }
    digits
}

/// Splits a D15 element into its rotation amount and whether it is a reflection.
fn split(element: u8) -> (u8, bool) {
    if element < ROTATIONS {
        (element, false)
    } else {
        (element - ROTATIONS, true)
    }
}

fn join(turn: u8, reflected: bool) -> u8 {
    if reflected { turn + ROTATIONS } else { turn }
}

fn negate(turn: u8) -> u8 {
    (ROTATIONS - turn) % ROTATIONS
}

/// The D15 product `x·y`.
fn compose(x: u8, y: u8) -> u8 {
    let (x_turn, x_reflected) = split(x);
    let (y_turn, y_reflected) = split(y);
    // A reflection reverses the direction of any rotation that follows it: s·r^b = r^-b·s.
    let y_turn = if x_reflected { negate(y_turn) } else { y_turn };
    join((x_turn + y_turn) % ROTATIONS, x_reflected != y_reflected)
}

fn inverse(element: u8) -> u8 {
    let (turn, reflected) = split(element);
    // Every reflection is its own inverse.
    if reflected { element } else { negate(turn) }
}

/// How far σᵏ turns a reflection: σ adds one turn, and its effect on reflections repeats
/// every 15 applications.
fn reflection_shift(position: usize) -> u8 {
    u8::try_from(position % usize::from(ROTATIONS)).unwrap_or_default()
}

/// σᵏ for `k = position`: the per-position permutation that makes neighbours unequal
/// partners, so swapping them changes the product.
fn permute(position: usize, element: u8) -> u8 {
    let (turn, reflected) = split(element);
    if reflected {
        join((turn + reflection_shift(position)) % ROTATIONS, true)
    } else if position % 2 == 1 {
        negate(turn)
    } else {
        turn
    }
}

/// σ⁻ᵏ, the inverse of [`permute`] at the same position.
fn unpermute(position: usize, element: u8) -> u8 {
    let (turn, reflected) = split(element);
    if reflected {
        join(
            (turn + ROTATIONS - reflection_shift(position)) % ROTATIONS,
            true,
        )
    } else if position % 2 == 1 {
        negate(turn)
    } else {
        turn
    }
}

/// `σ⁰(v0)·σ¹(v1)·…`; a full number is valid when this is the identity.
fn product(values: &[u8]) -> u8 {
    values
        .iter()
        .enumerate()
        .fold(IDENTITY, |total, (position, &value)| {
            compose(total, permute(position, value))
        })
}

/// The value `c` that makes `product(payload ++ [c])` the identity.
fn check_value(payload: &[u8]) -> u8 {
    unpermute(payload.len(), inverse(product(payload)))
}

string_json_schema!(
    ReceiptPrefix,
    "ReceiptPrefix",
    r"^[0-9A-HJKMNPQRTV-Y]{4}$",
    "A device's receipt prefix: 4 symbols of the receipt alphabet."
);
string_json_schema!(
    ReceiptNumber,
    "ReceiptNumber",
    r"^[0-9A-HJKMNPQRTV-Y]{12}$",
    "A receipt number in its canonical form: 4 prefix symbols, 7 sequence symbols, a check symbol (alphabet 0-9A-Y without I, L, O, S, U, Z)."
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = "K7XA-0000-042E";

    /// Deterministic spread of values, so failures reproduce.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, bound: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % bound
        }
    }

    fn sample_numbers() -> Vec<ReceiptNumber> {
        let last = ReceiptNumber::SEQUENCE_LIMIT - 1;
        let mut rng = Lcg(0x0067_7569_6368_6574);
        let mut prefixes = vec![0, 1, 29, 30, 899, 900, 26_999, 27_000, 809_999];
        while prefixes.len() < 20 {
            prefixes.push(u32::try_from(rng.below(u64::from(ReceiptPrefix::COUNT))).unwrap());
        }
        let mut sequences = vec![0, 1, 29, 30, 42, 899, 900, last - 30, last - 1, last];
        while sequences.len() < 16 {
            sequences.push(rng.below(ReceiptNumber::SEQUENCE_LIMIT));
        }
        let mut numbers = Vec::new();
        for &index in &prefixes {
            let prefix = ReceiptPrefix::from_index(index).unwrap();
            for &sequence in &sequences {
                numbers.push(ReceiptNumber::issue(&prefix, sequence).unwrap());
            }
        }
        numbers
    }

    fn is_check_failure(input: &str) -> bool {
        matches!(
            ReceiptNumber::parse(input),
            Err(ReceiptError::CheckFailed { .. })
        )
    }

    #[test]
    fn alphabet_has_thirty_distinct_symbols_in_ascii_order() {
        assert_eq!(ALPHABET.len(), 30);
        assert!(ALPHABET.as_bytes().windows(2).all(|pair| pair[0] < pair[1]));
        for banned in ['I', 'L', 'O', 'S', 'U', 'Z'] {
            assert!(!ALPHABET.contains(banned));
        }
    }

    #[test]
    fn d15_is_a_group_and_sigma_is_a_permutation() {
        for x in 0..30 {
            assert_eq!(compose(x, IDENTITY), x);
            assert_eq!(compose(IDENTITY, x), x);
            assert_eq!(compose(x, inverse(x)), IDENTITY);
            for y in 0..30 {
                for z in 0..30 {
                    assert_eq!(compose(compose(x, y), z), compose(x, compose(y, z)));
                }
            }
        }
        for position in 0..40 {
            let mut seen = [false; 30];
            for x in 0..30 {
                let image = permute(position, x);
                assert!(!seen[usize::from(image)]);
                seen[usize::from(image)] = true;
                assert_eq!(unpermute(position, image), x);
            }
        }
    }

    #[test]
    fn issue_matches_known_example() {
        let prefix = ReceiptPrefix::parse("K7XA").unwrap();
        // The sequence symbols are base 30: "0000042" is 4 * 30 + 2.
        let number = ReceiptNumber::issue(&prefix, 122).unwrap();
        assert_eq!(number.as_str(), "K7XA0000042E");
        assert_eq!(number.sequence(), 122);
        assert_eq!(number.to_string(), EXAMPLE);
        assert_eq!(check_symbol("K7XA0000042").unwrap(), 'E');
        assert_eq!(ReceiptNumber::parse(EXAMPLE).unwrap(), number);
    }

    #[test]
    fn layout_and_accessors() {
        let last = ReceiptNumber::SEQUENCE_LIMIT - 1;
        let top = ReceiptPrefix::from_index(ReceiptPrefix::COUNT - 1).unwrap();
        assert_eq!(top.as_str(), "YYYY");
        let number = ReceiptNumber::issue(&top, last).unwrap();
        assert!(number.as_str().starts_with("YYYYYYYYYYY"));
        assert_eq!(number.as_str().len(), 12);
        assert_eq!(number.to_string().len(), 14);
        assert_eq!(number.prefix(), top);
        assert_eq!(number.sequence(), last);

        let zero = ReceiptPrefix::from_index(0).unwrap();
        assert_eq!(zero.as_str(), "0000");
        let first = ReceiptNumber::issue(&zero, 0).unwrap();
        assert_eq!(first.as_str(), "000000000000");
        assert_eq!(first.sequence(), 0);
        assert_eq!(ReceiptPrefix::from_index(31).unwrap().as_str(), "0011");
        assert_eq!(30_u64.pow(7), ReceiptNumber::SEQUENCE_LIMIT);
        assert_eq!(30_u32.pow(4), ReceiptPrefix::COUNT);
    }

    #[test]
    fn limits_are_refused() {
        let prefix = ReceiptPrefix::from_index(7).unwrap();
        assert_eq!(
            ReceiptNumber::issue(&prefix, ReceiptNumber::SEQUENCE_LIMIT),
            Err(ReceiptError::SequenceExhausted {
                sequence: ReceiptNumber::SEQUENCE_LIMIT
            })
        );
        assert_eq!(
            ReceiptNumber::issue(&prefix, u64::MAX),
            Err(ReceiptError::SequenceExhausted { sequence: u64::MAX })
        );
        assert_eq!(
            ReceiptPrefix::from_index(ReceiptPrefix::COUNT),
            Err(ReceiptError::PrefixIndexOutOfRange {
                index: ReceiptPrefix::COUNT
            })
        );
    }

    #[test]
    fn ordering_is_by_prefix_then_sequence() {
        let a = ReceiptPrefix::from_index(5).unwrap();
        let b = ReceiptPrefix::from_index(6).unwrap();
        let mut numbers = [
            ReceiptNumber::issue(&b, 0).unwrap(),
            ReceiptNumber::issue(&a, 900).unwrap(),
            ReceiptNumber::issue(&a, 29).unwrap(),
            ReceiptNumber::issue(&a, ReceiptNumber::SEQUENCE_LIMIT - 1).unwrap(),
        ];
        numbers.sort();
        let keys: Vec<_> = numbers.iter().map(|n| (n.prefix(), n.sequence())).collect();
        assert_eq!(
            keys,
            vec![
                (a.clone(), 29),
                (a.clone(), 900),
                (a, ReceiptNumber::SEQUENCE_LIMIT - 1),
                (b, 0)
            ]
        );
    }

    #[test]
    fn every_single_substitution_fails_the_check() {
        let numbers = sample_numbers();
        assert!(numbers.len() >= 300);
        for number in &numbers {
            let original: Vec<char> = number.as_str().chars().collect();
            for position in 0..NUMBER_LEN {
                for replacement in ALPHABET.chars() {
                    if replacement == original[position] {
                        continue;
                    }
                    let mut typed = original.clone();
                    typed[position] = replacement;
                    let typed: String = typed.into_iter().collect();
                    assert!(is_check_failure(&typed), "{number}: {typed} passed");
                }
            }
        }
    }

    #[test]
    fn check_symbol_differs_for_every_substituted_payload_symbol() {
        let mut rng = Lcg(11);
        let mut backgrounds: Vec<Vec<char>> = [
            "00000000000",
            "YYYYYYYYYYY",
            "K7XA0000042",
            "0123456789A",
            "XYWVTRQPNMK",
        ]
        .iter()
        .map(|s| s.chars().collect())
        .collect();
        while backgrounds.len() < 8 {
            backgrounds.push(
                (0..PAYLOAD_LEN)
                    .map(|_| symbol_char(u8::try_from(rng.below(30)).unwrap()))
                    .collect(),
            );
        }
        for background in &backgrounds {
            for position in 0..PAYLOAD_LEN {
                for a in ALPHABET.chars() {
                    for b in ALPHABET.chars().filter(|&b| b != a) {
                        let mut with_a = background.clone();
                        with_a[position] = a;
                        let mut with_b = background.clone();
                        with_b[position] = b;
                        let with_a: String = with_a.into_iter().collect();
                        let with_b: String = with_b.into_iter().collect();
                        assert_ne!(
                            check_symbol(&with_a).unwrap(),
                            check_symbol(&with_b).unwrap(),
                            "{with_a} and {with_b} share a check symbol"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_adjacent_swap_fails_the_check() {
        for number in sample_numbers() {
            let original: Vec<char> = number.as_str().chars().collect();
            // Position NUMBER_LEN - 2 swaps the last payload symbol with the check symbol.
            for position in 0..NUMBER_LEN - 1 {
                if original[position] == original[position + 1] {
                    continue;
                }
                let mut typed = original.clone();
                typed.swap(position, position + 1);
                let typed: String = typed.into_iter().collect();
                assert!(is_check_failure(&typed), "{number}: {typed} passed");
            }
        }
    }

    /// Covers every state the product can be in before a swapped pair, at every
    /// position, so no sample choice can hide a missed swap.
    #[test]
    fn no_adjacent_swap_cancels_from_any_state() {
        for position in 0..NUMBER_LEN - 1 {
            for state in 0..30 {
                for a in 0..30 {
                    for b in (0..30).filter(|&b| b != a) {
                        let ab = compose(
                            compose(state, permute(position, a)),
                            permute(position + 1, b),
                        );
                        let ba = compose(
                            compose(state, permute(position, b)),
                            permute(position + 1, a),
                        );
                        assert_ne!(ab, ba, "position {position}, state {state}, {a}<->{b}");
                    }
                }
            }
        }
    }

    /// Backs the module documentation's reason for not using ISO 7064 MOD 31,30.
    #[test]
    fn iso_7064_hybrid_would_miss_a_swap_this_check_catches() {
        fn hybrid_check(payload: &str) -> char {
            let mut p = 30;
            for character in payload.chars() {
                let s = match (p + u32::from(symbol_value(character).unwrap())) % 30 {
                    0 => 30,
                    s => s,
                };
                p = (s * 2) % 31;
            }
            symbol_char(u8::try_from((31 - p) % 30).unwrap())
        }
        assert_eq!(hybrid_check("K7XA00000DE"), '3');
        assert_eq!(hybrid_check("K7XA00000ED"), '3');
        let number = ReceiptNumber::issue(&ReceiptPrefix::parse("K7XA").unwrap(), 404).unwrap();
        assert!(number.as_str().starts_with("K7XA00000DE"));
        assert!(is_check_failure(&number.as_str().replacen("DE", "ED", 1)));
    }

    #[test]
    fn forgiving_input_reads_the_same_number() {
        for number in sample_numbers() {
            let canonical = number.as_str();
            let shown = number.to_string();
            let variants = [
                canonical.to_owned(),
                shown.clone(),
                canonical.to_lowercase(),
                shown.to_lowercase(),
                format!("  {} ", shown.replace('-', " ")),
                canonical.replace('0', "O").replace('1', "I"),
                canonical.replace('0', "o").replace('1', "l"),
                canonical.replace('1', "L"),
                format!("{}\t", shown.replace('-', "--").to_lowercase()),
            ];
            for variant in &variants {
                assert_eq!(
                    ReceiptNumber::parse(variant).as_ref(),
                    Ok(&number),
                    "{variant}"
                );
            }
            assert_eq!(shown.parse::<ReceiptNumber>().as_ref(), Ok(&number));
        }
    }

    #[test]
    fn bad_characters_are_named_with_their_position() {
        let cases = [
            ("K7XS-0000-042E", 'S', 4),
            ("K7XA-0U00-042E", 'U', 7),
            ("z7XA0000042E", 'z', 1),
            ("K7XA0000042#", '#', 12),
            ("K7XA-0000-042é", 'é', 14),
            ("K7XA_0000_042E", '_', 5),
            ("K7XA-0000-042E.", '.', 15),
            ("K7XA\u{a0}0000042E", '\u{a0}', 5),
        ];
        for (input, character, position) in cases {
            assert_eq!(
                ReceiptNumber::parse(input),
                Err(ReceiptError::BadCharacter {
                    character,
                    position
                }),
                "{input}"
            );
        }
    }

    #[test]
    fn bad_character_is_reported_before_length() {
        assert_eq!(
            ReceiptNumber::parse("S"),
            Err(ReceiptError::BadCharacter {
                character: 'S',
                position: 1
            })
        );
    }

    #[test]
    fn wrong_length_and_empty_are_refused() {
        assert_eq!(ReceiptNumber::parse(""), Err(ReceiptError::Empty));
        assert_eq!(ReceiptNumber::parse(" - -  "), Err(ReceiptError::Empty));
        assert_eq!(
            ReceiptNumber::parse("K7XA-0000-042"),
            Err(ReceiptError::WrongLength { found: 11 })
        );
        assert_eq!(
            ReceiptNumber::parse("K7XA-0000-042EE"),
            Err(ReceiptError::WrongLength { found: 13 })
        );
        assert_eq!(
            ReceiptNumber::parse("7"),
            Err(ReceiptError::WrongLength { found: 1 })
        );
    }

    #[test]
    fn check_failure_reports_the_number_grouped() {
        assert_eq!(
            ReceiptNumber::parse("k7xa 0000 042f"),
            Err(ReceiptError::CheckFailed {
                number: "K7XA-0000-042F".to_owned()
            })
        );
    }

    #[test]
    fn check_symbol_wants_canonical_symbols() {
        assert_eq!(check_symbol("").unwrap(), '0');
        assert_eq!(
            check_symbol("k7XA0000042"),
            Err(ReceiptError::BadCharacter {
                character: 'k',
                position: 1
            })
        );
        assert_eq!(
            check_symbol("K7XA-0000042"),
            Err(ReceiptError::BadCharacter {
                character: '-',
                position: 5
            })
        );
    }

    #[test]
    fn prefix_parse_is_forgiving_and_validates() {
        assert_eq!(ReceiptPrefix::parse("k7-xa").unwrap().as_str(), "K7XA");
        assert_eq!(ReceiptPrefix::parse(" oIl0 ").unwrap().as_str(), "0110");
        assert_eq!("K7XA".parse::<ReceiptPrefix>().unwrap().to_string(), "K7XA");
        assert_eq!(
            ReceiptPrefix::parse("K7X"),
            Err(ReceiptError::BadPrefix {
                prefix: "K7X".to_owned(),
                problem: PrefixProblem::WrongLength { found: 3 }
            })
        );
        assert_eq!(
            ReceiptPrefix::parse("K7XZ"),
            Err(ReceiptError::BadPrefix {
                prefix: "K7XZ".to_owned(),
                problem: PrefixProblem::BadCharacter {
                    character: 'Z',
                    position: 4
                }
            })
        );
        assert!(ReceiptPrefix::parse("").is_err());
    }

    #[test]
    fn messages_say_what_is_wrong_and_what_to_do() {
        let bad = ReceiptNumber::parse("K7XS00000042")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("'S' at position 4"), "{bad}");
        assert!(bad.contains("(no I, L, O, S, U, Z)"), "{bad}");
        let short = ReceiptNumber::parse("K7XA0000042").unwrap_err().to_string();
        assert!(
            short.contains("has 11 characters; it should have 12"),
            "{short}"
        );
        assert!(short.contains(EXAMPLE), "{short}");
        let check = ReceiptNumber::parse("K7XA0000042F")
            .unwrap_err()
            .to_string();
        assert!(check.contains("K7XA-0000-042F fails its check"), "{check}");
        assert!(ReceiptError::Empty.to_string().contains(EXAMPLE));
        let exhausted = ReceiptError::SequenceExhausted {
            sequence: ReceiptNumber::SEQUENCE_LIMIT,
        }
        .to_string();
        assert!(
            exhausted.contains(&(ReceiptNumber::SEQUENCE_LIMIT - 1).to_string()),
            "{exhausted}"
        );
        let prefix = ReceiptPrefix::parse("K7Z").unwrap_err().to_string();
        assert!(prefix.contains("\"K7Z\""), "{prefix}");
        assert!(prefix.contains("'Z' at position 3"), "{prefix}");
        let index = ReceiptPrefix::from_index(900_000).unwrap_err().to_string();
        assert!(index.contains("0 to 809999"), "{index}");
    }

    #[test]
    fn serde_uses_the_canonical_string_and_validates() {
        let number = ReceiptNumber::parse(EXAMPLE).unwrap();
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(json, "\"K7XA0000042E\"");
        assert_eq!(
            serde_json::from_str::<ReceiptNumber>(&json).unwrap(),
            number
        );
        assert_eq!(
            serde_json::from_str::<ReceiptNumber>("\"k7xa-0000-042e\"").unwrap(),
            number
        );
        assert!(serde_json::from_str::<ReceiptNumber>("\"K7XA0000042F\"").is_err());
        assert!(serde_json::from_str::<ReceiptNumber>("42").is_err());

        let prefix = number.prefix();
        let json = serde_json::to_string(&prefix).unwrap();
        assert_eq!(json, "\"K7XA\"");
        assert_eq!(
            serde_json::from_str::<ReceiptPrefix>(&json).unwrap(),
            prefix
        );
        assert!(serde_json::from_str::<ReceiptPrefix>("\"K7XAB\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_any_string(input in ".*") {
            let _ = ReceiptNumber::parse(&input);
            let _ = ReceiptPrefix::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_near_misses(input in "[0-9A-Za-z -]{0,20}") {
            if let Ok(number) = ReceiptNumber::parse(&input) {
                prop_assert_eq!(ReceiptNumber::parse(number.as_str()), Ok(number.clone()));
            }
            let _ = ReceiptPrefix::parse(&input);
        }

        #[test]
        fn issue_and_parse_round_trip(
            index in 0..ReceiptPrefix::COUNT,
            sequence in 0..ReceiptNumber::SEQUENCE_LIMIT,
        ) {
            let prefix = ReceiptPrefix::from_index(index).unwrap();
            let number = ReceiptNumber::issue(&prefix, sequence).unwrap();
            prop_assert_eq!(number.as_str().len(), 12);
            prop_assert_eq!(ReceiptNumber::parse(number.as_str()), Ok(number.clone()));
            prop_assert_eq!(ReceiptNumber::parse(&number.to_string()), Ok(number.clone()));
            prop_assert_eq!(number.prefix(), prefix);
            prop_assert_eq!(number.sequence(), sequence);
        }
    }
}
