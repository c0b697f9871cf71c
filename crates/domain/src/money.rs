//! Money in integer minor units with its currency. There is no float money anywhere in
//! Guichet: fees, payments and cash-drawer totals are exact.

use crate::string_json_schema;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};

/// An ISO 4217 currency code ("EUR", "KES", "XOF").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

/// The codes of ISO 4217 for the currencies people pay with (the list of 2025, with the codes
/// being withdrawn still in use; without funds, metals and testing codes).
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
    "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR",
    "ZMW", "ZWG", "ZWL",
];

impl Currency {
    /// Accepts three ASCII letters, in any case.
    pub fn parse(code: &str) -> Result<Self> {
        let code = code.trim();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Currency(code.to_ascii_uppercase()))
        } else {
            Err(DomainError::Currency {
                code: code.to_owned(),
            })
        }
    }

    /// A currency chosen for a centre: its code must be one of ISO 4217's for money people
    /// pay with, since it is kept for good (fees, payments and the day's cash count are in
    /// it). A stored code is read back with `parse`, as it was taken.
    pub fn choose(code: &str) -> Result<Self> {
        let currency = Currency::parse(code)?;
        if ISO_4217.contains(&currency.code()) {
            Ok(currency)
        } else {
            Err(DomainError::Currency {
                code: code.trim().to_owned(),
            })
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal mark, per ISO 4217 (two unless listed).
    pub fn exponent(&self) -> u32 {
        match self.0.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in minor units (cents) of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Parses a decimal amount typed by a clerk ("12.50", "12,5", "1200") in `currency`.
    /// More decimals than the currency has is refused rather than rounded.
    pub fn parse_decimal(input: &str, currency: &Currency) -> Result<Self> {
        let bad = || DomainError::Amount {
            input: input.to_owned(),
            currency: currency.code().to_owned(),
            exponent: currency.exponent(),
        };
        let s = input.trim().replace(',', ".");
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s.as_str(), ""),
        };
        let digits_only = |t: &str| t.chars().all(|c| c.is_ascii_digit());
        let exp = currency.exponent() as usize;
        if whole.is_empty() || !digits_only(whole) || !digits_only(frac) || frac.len() > exp {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac_val: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<exp$}").parse().map_err(|_| bad())?
        };
        let minor = whole
            .checked_mul(10_i64.pow(currency.exponent()))
            .and_then(|m| m.checked_add(frac_val))
            .ok_or_else(bad)?;
        Ok(Money::new(minor, currency.clone()))
    }

    /// The amount as a plain decimal ("12.50"), without currency or grouping.
    pub fn decimal(&self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10_i64.pow(exp);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = exp as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

string_json_schema!(
    Currency,
    "Currency",
    r"^[A-Z]{3}$",
    "An ISO 4217 currency code."
);

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("eur").unwrap()
    }

    #[test]
    fn a_centre_chooses_a_currency_of_iso_4217_and_a_stored_one_reads_back() {
        assert_eq!(Currency::choose(" kes ").unwrap().code(), "KES");
        for typo in ["ZZZ", "EUD", "AZM"] {
            assert!(Currency::choose(typo).is_err(), "{typo}");
            assert_eq!(
                Currency::parse(typo).unwrap().code(),
                typo,
                "stored, it reads back"
            );
        }
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]), "sorted, no twice");
    }

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(Money::parse_decimal("12.5", &eur()).unwrap().minor, 1250);
        assert_eq!(Money::parse_decimal("12,05", &eur()).unwrap().minor, 1205);
        assert_eq!(Money::parse_decimal("7", &eur()).unwrap().minor, 700);
        let xof = Currency::parse("XOF").unwrap();
        assert_eq!(Money::parse_decimal("1500", &xof).unwrap().minor, 1500);
        assert!(Money::parse_decimal("15.5", &xof).is_err());
        for bad in ["", "1.234", "-3", "1e3", "abc", "99999999999999999999"] {
            assert!(Money::parse_decimal(bad, &eur()).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_minor_units() {
        assert_eq!(Money::new(1205, eur()).to_string(), "12.05 EUR");
        assert_eq!(Money::new(-5, eur()).decimal(), "-0.05");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::new(1500, kwd).decimal(), "1.500");
        assert!(Currency::parse("EU").is_err());
        assert!(Currency::parse("€UR").is_err());
    }
}
