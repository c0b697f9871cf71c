//! The languages a report is written in, and how numbers, money and dates look in each.
//!
//! English uses '.' as the decimal mark and ',' between thousands; French uses ',' and a
//! no-break space. CSV files follow the same mark, with ',' (English) or ';' (French) between
//! fields so that a decimal comma never needs quoting.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use guichet_domain::money::Currency;
use serde::Serialize;

use crate::error::{Error, Result};

/// The report's words in each language, in the order of `Locale`'s variants: one file per
/// language, keys as `section.word`, `{name}` where a value goes, and for a count its plural
/// under `key` and its singular under `key.one` (as in the window's `ui/locales`).
const WORD_FILES: [(&str, &str); 2] = [
    ("en", include_str!("../locales/en.json")),
    ("fr", include_str!("../locales/fr.json")),
];

static WORDS: LazyLock<[BTreeMap<String, String>; 2]> =
    LazyLock::new(|| WORD_FILES.map(|(code, json)| words(code, json)));

fn words(code: &str, json: &str) -> BTreeMap<String, String> {
    serde_json::from_str(json).unwrap_or_else(|e| {
        panic!("crates/report/locales/{code}.json is not a map of texts by key: {e}")
    })
}

/// `text` with each `{name}` whose name is in `values` replaced by the value, in one pass (a
/// value that holds braces is not read again).
fn fill(text: &str, values: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, v))
        });
        match value {
            Some((close, v)) => {
                out.push_str(&v.to_string());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    #[default]
    En,
    Fr,
}

impl Locale {
    /// "en" or "fr" (any case).
    pub fn parse(code: &str) -> Result<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "fr" => Ok(Locale::Fr),
            other => Err(Error::UnknownLocale(other.to_owned())),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
        }
    }

    fn words(self) -> &'static BTreeMap<String, String> {
        &WORDS[self as usize]
    }

    /// The text of `key` in this language, from `locales/LANG.json`. A test makes sure that
    /// every key the code asks for is in every language; a missing one would read as the key.
    pub fn t(self, key: &'static str) -> &'static str {
        self.words().get(key).map_or(key, String::as_str)
    }

    /// A calendar day as a citizen reads it: "7 December 2026", "7 décembre 2026".
    pub fn date(self, day: NaiveDate) -> String {
        let month = self
            .t("date.months")
            .split(',')
            .nth(day.month0() as usize)
            .unwrap_or_default();
        // French writes the first of the month "1er".
        let number = match day.day() {
            1 => self.t("date.first").to_owned(),
            n => n.to_string(),
        };
        self.fill(
            "date.day",
            &[("day", &number), ("month", &month), ("year", &day.year())],
        )
    }

    /// A day and a time of day: "7 December 2026, 10:30", "7 décembre 2026 à 10:30".
    pub fn date_time(self, at: NaiveDateTime) -> String {
        let date = self.date(at.date());
        let time = at.format("%H:%M");
        self.fill("date.at", &[("date", &date), ("time", &time)])
    }

    /// The text of `key` with each `{name}` replaced by its value.
    pub fn fill(self, key: &'static str, values: &[(&str, &dyn Display)]) -> String {
        fill(self.t(key), values)
    }

    /// `key.one` or `key`, as the language says `n` things (English "1 change" and "0
    /// changes"; French "0 modification", "1 modification" and "2 modifications"), with `{n}`
    /// the count grouped for people and the other values filled.
    pub fn counted(self, key: &'static str, n: u64, values: &[(&str, &dyn Display)]) -> String {
        let one = match self {
            Locale::En => n == 1,
            Locale::Fr => n <= 1,
        };
        let text = if one {
            self.words().get(&format!("{key}.one")).map(String::as_str)
        } else {
            self.words().get(key).map(String::as_str)
        };
        let text = text.unwrap_or(key);
        let n = self.count(i64::try_from(n).unwrap_or(i64::MAX));
        let mut all: Vec<(&str, &dyn Display)> = vec![("n", &n)];
        all.extend_from_slice(values);
        fill(text, &all)
    }

    pub fn decimal_mark(self) -> char {
        match self {
            Locale::En => '.',
            Locale::Fr => ',',
        }
    }

    /// Between CSV fields.
    pub fn csv_delimiter(self) -> char {
        match self {
            Locale::En => ',',
            Locale::Fr => ';',
        }
    }

    fn group_separator(self) -> char {
        match self {
            Locale::En => ',',
            Locale::Fr => '\u{a0}',
        }
    }

    /// A number with `digits` decimals and no grouping ("12.5", "12,5"), for CSV.
    pub fn plain(self, value: f64, digits: usize) -> String {
        let text = format!("{value:.digits$}");
        if self == Locale::En {
            text
        } else {
            text.replace('.', ",")
        }
    }

    /// A count with thousands grouped, for people ("12,345", "12 345").
    pub fn count(self, value: i64) -> String {
        let digits = value.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(self.group_separator());
            }
            out.push(c);
        }
        if value < 0 { format!("-{out}") } else { out }
    }

    /// An amount in minor units as a plain decimal in major units ("12.50", "12,50").
    pub fn money_plain(self, minor: i64, currency: &Currency) -> String {
        let exp = currency.exponent();
        let text = guichet_domain::money::Money::new(minor, currency.clone()).decimal();
        if exp == 0 || self == Locale::En {
            text
        } else {
            text.replace('.', ",")
        }
    }

    /// An amount for people: grouped, with its currency ("1,234.50 EUR", "1 234,50 EUR").
    pub fn money(self, minor: i64, currency: &Currency) -> String {
        let plain = guichet_domain::money::Money::new(minor, currency.clone()).decimal();
        let (sign, plain) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest.to_owned()),
            None => ("", plain),
        };
        let (whole, frac) = match plain.split_once('.') {
            Some((w, f)) => (w.to_owned(), Some(f.to_owned())),
            None => (plain, None),
        };
        let whole = self.count(whole.parse::<i64>().unwrap_or(0));
        match frac {
            Some(f) => format!("{sign}{whole}{}{f} {currency}", self.decimal_mark()),
            None => format!("{sign}{whole} {currency}"),
        }
    }

    /// A share (0 to 1) as a percentage with one decimal ("12.5 %").
    pub fn percent(self, share: f64) -> String {
        format!("{} %", self.plain(share * 100.0, 1))
    }

    /// Minutes with one decimal, from milliseconds.
    pub fn minutes(self, ms: u64) -> String {
        self.plain(ms as f64 / 60_000.0, 1)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn formats_per_locale() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(Locale::En.money(123_450, &eur), "1,234.50 EUR");
        assert_eq!(Locale::Fr.money(123_450, &eur), "1\u{a0}234,50 EUR");
        assert_eq!(Locale::Fr.money(-5, &eur), "-0,05 EUR");
        assert_eq!(Locale::Fr.money_plain(1250, &eur), "12,50");
        assert_eq!(Locale::En.plain(2.25, 1), "2.2");
        assert_eq!(Locale::Fr.plain(2.5, 1), "2,5");
        assert_eq!(Locale::En.count(1_000_000), "1,000,000");
        assert_eq!(Locale::En.percent(0.125), "12.5 %");
        let xof = Currency::parse("XOF").unwrap();
        assert_eq!(Locale::Fr.money(1500, &xof), "1\u{a0}500 XOF");
    }

    #[test]
    fn one_thing_or_several_per_locale() {
        let say = |locale: Locale, n| locale.counted("sync.conflicts", n, &[]);
        assert_eq!(say(Locale::En, 0), "0 conflicts to resolve");
        assert_eq!(say(Locale::En, 1), "1 conflict to resolve");
        assert_eq!(say(Locale::En, 1200), "1,200 conflicts to resolve");
        // French uses the singular for zero too.
        assert_eq!(say(Locale::Fr, 0), "0 conflit à résoudre");
        assert_eq!(say(Locale::Fr, 1), "1 conflit à résoudre");
        assert_eq!(say(Locale::Fr, 2), "2 conflits à résoudre");
    }

    #[test]
    fn dates_read_as_a_citizen_writes_them() {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let later = NaiveDate::from_ymd_opt(2026, 8, 17).unwrap();
        assert_eq!(Locale::En.date(first), "1 December 2026");
        assert_eq!(Locale::Fr.date(first), "1er décembre 2026");
        assert_eq!(Locale::Fr.date(later), "17 août 2026");
        let at = later.and_hms_opt(9, 5, 0).unwrap();
        assert_eq!(Locale::En.date_time(at), "17 August 2026, 09:05");
        assert_eq!(Locale::Fr.date_time(at), "17 août 2026 à 09:05");
    }

    #[test]
    fn values_fill_their_places_once() {
        let age = "{n} {age}";
        assert_eq!(
            Locale::En.counted("sync.not_sent", 2, &[("age", &age)]),
            "2 changes not yet sent (the oldest waits for {n} {age})"
        );
        assert_eq!(fill("{a} and {b} {", &[("a", &1)]), "1 and {b} {");
        assert_eq!(
            Locale::Fr.fill(
                "pdf.period",
                &[("from", &"2026-12-01"), ("to", &"2026-12-06")]
            ),
            "du 2026-12-01 au 2026-12-06"
        );
    }

    /// The names between braces in `text`.
    fn places(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_language_has_every_word_with_the_same_places() {
        let [en, fr] = &*WORDS;
        let en_keys: Vec<_> = en.keys().collect();
        let fr_keys: Vec<_> = fr.keys().collect();
        assert_eq!(
            en_keys, fr_keys,
            "locales/en.json and fr.json differ in keys"
        );
        for (key, text) in en {
            assert!(!text.trim().is_empty(), "{key} is empty in English");
            assert!(!fr[key].trim().is_empty(), "{key} is empty in French");
            assert_eq!(
                places(text),
                places(&fr[key]),
                "{key}: not the same places to fill"
            );
        }
    }

    /// The first arguments, when they are keys, of every call to `name` in `code` (the key may
    /// be on the next line).
    fn keys_in<'a>(code: &'a str, name: &str) -> Vec<&'a str> {
        let call = format!("{name}(");
        code.match_indices(&call)
            .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            .filter_map(|(at, _)| code[at + call.len()..].trim_start().strip_prefix('"'))
            .filter_map(|rest| rest.split('"').next())
            .filter(|key| {
                key.contains('.')
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c))
            })
            .collect()
    }

    /// Every key the crate's code asks for with `t`, `fill` and `counted` (a count reads `key`
    /// and `key.one`).
    fn keys_asked_for() -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let code = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            keys.extend(keys_in(&code, "t").into_iter().map(str::to_owned));
            keys.extend(keys_in(&code, "fill").into_iter().map(str::to_owned));
            for key in keys_in(&code, "counted") {
                keys.extend([key.to_owned(), format!("{key}.one")]);
            }
        }
        keys
    }

    #[test]
    fn every_word_asked_for_is_written_and_every_word_written_is_asked_for() {
        let asked = keys_asked_for();
        let written: BTreeSet<String> = WORDS[0].keys().cloned().collect();
        let missing: Vec<_> = asked.difference(&written).collect();
        let unused: Vec<_> = written.difference(&asked).collect();
        assert!(
            missing.is_empty(),
            "asked for, not in locales/*.json: {missing:?}"
        );
        assert!(
            unused.is_empty(),
            "in locales/*.json, never asked for: {unused:?}"
        );
    }
}
