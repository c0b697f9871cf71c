//! The languages a report is written in, and how numbers, money and dates look in each.
//!
//! English uses '.' as the decimal mark and ',' between thousands; French uses ',' and a
//! no-break space. CSV files follow the same mark, with ',' (English) or ';' (French) between
//! fields so that a decimal comma never needs quoting.

use guichet_domain::money::Currency;
use guichet_domain::text::english_plural;
use serde::Serialize;

use crate::error::{Error, Result};

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

    /// The English or the French text.
    pub fn tr(self, en: &'static str, fr: &'static str) -> &'static str {
        match self {
            Locale::En => en,
            Locale::Fr => fr,
        }
    }

    /// `one` or `other`, as the language says `n` things: English "1 change" and "0 changes",
    /// French "0 modification", "1 modification" and "2 modifications".
    pub fn plural<'a>(self, n: u64, one: &'a str, other: &'a str) -> &'a str {
        match self {
            Locale::En => english_plural(n, one, other),
            Locale::Fr if n <= 1 => one,
            Locale::Fr => other,
        }
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
        let say = |locale: Locale, n| format!("{n} {}", locale.plural(n, "change", "changes"));
        assert_eq!(say(Locale::En, 0), "0 changes");
        assert_eq!(say(Locale::En, 1), "1 change");
        assert_eq!(say(Locale::En, 2), "2 changes");
        // French uses the singular for zero too.
        assert_eq!(say(Locale::Fr, 0), "0 change");
        assert_eq!(say(Locale::Fr, 1), "1 change");
        assert_eq!(say(Locale::Fr, 2), "2 changes");
    }
}
