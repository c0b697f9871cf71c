//! Citizens, entered once and found again by national id or by name and birth date.
//!
//! How a national id is validated is a rule of the deployment, not of Guichet: the scheme is a
//! trait, and the default is a real, public one (Estonia's personal identification code, whose
//! check digit and embedded birth date let the counter catch typing mistakes at once).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};

/// A citizen as the centre knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Citizen {
    pub national_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: NaiveDate,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// A national id that does not pass the deployment's scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("national id '{input}' is not valid under {scheme}: {reason}")]
pub struct NationalIdError {
    pub input: String,
    pub scheme: &'static str,
    pub reason: IdProblem,
}

/// What is wrong with a national id; each reason belongs to one scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdProblem {
    /// Estonian: not 11 digits.
    #[error("it must be exactly 11 digits (got {got} characters)")]
    Length { got: usize },
    /// Estonian: no real date in the first seven digits.
    #[error("its first seven digits do not encode a real birth date")]
    BirthDate,
    /// Estonian: the check digit does not match.
    #[error("its check digit does not match: a digit is mistyped or two are swapped")]
    CheckDigit,
    /// Plain: not 4 to 20 letters and digits.
    #[error("use 4 to 20 letters and digits")]
    Plain,
}

/// The longest name (given or family) a citizen may have, in characters: the longest names
/// in civil registers run to about 60.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 300;

/// A text of a citizen's record that the rules on its length and characters apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CitizenField {
    GivenName,
    FamilyName,
    Address,
}

impl CitizenField {
    pub fn code(self) -> &'static str {
        match self {
            CitizenField::GivenName => "given_name",
            CitizenField::FamilyName => "family_name",
            CitizenField::Address => "address",
        }
    }

    fn max(self) -> usize {
        match self {
            CitizenField::GivenName | CitizenField::FamilyName => MAX_NAME_CHARS,
            CitizenField::Address => MAX_ADDRESS_CHARS,
        }
    }
}

impl std::fmt::Display for CitizenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CitizenField::GivenName => "given name",
            CitizenField::FamilyName => "family name",
            CitizenField::Address => "address",
        })
    }
}

/// Why a citizen cannot be registered as typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitizenProblem {
    #[error("both the given name and the family name are required")]
    NamesRequired,
    #[error("{field}: at most {max} characters, not {len}; shorten it")]
    TooLong {
        field: CitizenField,
        max: usize,
        len: usize,
    },
    #[error(
        "{field} holds the invisible character {character}, which can hide or reorder what the screen shows: type it again without it"
    )]
    HiddenCharacter {
        field: CitizenField,
        character: String,
    },
    #[error("birth date {birth_date} is in the future")]
    BornInTheFuture { birth_date: NaiveDate },
    #[error("national id {id} encodes the birth date {encoded}, not {birth_date}; check both")]
    BirthDateMismatch {
        id: String,
        encoded: NaiveDate,
        birth_date: NaiveDate,
    },
}

/// A deployment's rule for national ids.
pub trait NationalIdScheme: Send + Sync + std::fmt::Debug {
    /// The name a deployment configures it by.
    fn name(&self) -> &'static str;
    /// Checks an id and returns its canonical form.
    fn normalize(&self, raw: &str) -> std::result::Result<String, NationalIdError>;
    /// The birth date the id encodes, where the scheme has one.
    fn birth_date(&self, _id: &str) -> Option<NaiveDate> {
        None
    }
}

/// Estonia's isikukood: GYYMMDDSSSC, where G gives sex and century, then the birth date, a
/// serial, and a check digit computed with two weight sets modulo 11.
#[derive(Debug, Clone, Copy, Default)]
pub struct EstonianPersonalCode;

impl EstonianPersonalCode {
    fn check_digit(digits: &[u32]) -> u32 {
        let weigh =
            |weights: [u32; 10]| digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11;
        match weigh([1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) {
            10 => match weigh([3, 4, 5, 6, 7, 8, 9, 1, 2, 3]) {
                10 => 0,
                r => r,
            },
            r => r,
        }
    }

    fn date_of(digits: &[u32]) -> Option<NaiveDate> {
        let century = match digits[0] {
            1 | 2 => 1800,
            3 | 4 => 1900,
            5 | 6 => 2000,
            7 | 8 => 2100,
            _ => return None,
        };
        let yy = digits[1] * 10 + digits[2];
        let mm = digits[3] * 10 + digits[4];
        let dd = digits[5] * 10 + digits[6];
        NaiveDate::from_ymd_opt(century + yy as i32, mm, dd)
    }
}

impl NationalIdScheme for EstonianPersonalCode {
    fn name(&self) -> &'static str {
        "ee-isikukood"
    }

    fn normalize(&self, raw: &str) -> std::result::Result<String, NationalIdError> {
        let fail = |reason: IdProblem| NationalIdError {
            input: raw.to_owned(),
            scheme: "Estonian personal code (11 digits)",
            reason,
        };
        let id: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if id.len() != 11 || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(fail(IdProblem::Length {
                got: id.chars().count(),
            }));
        }
        let digits: Vec<u32> = id.chars().filter_map(|c| c.to_digit(10)).collect();
        if Self::date_of(&digits).is_none() {
            return Err(fail(IdProblem::BirthDate));
        }
        if Self::check_digit(&digits[..10]) != digits[10] {
            return Err(fail(IdProblem::CheckDigit));
        }
        Ok(id)
    }

    fn birth_date(&self, id: &str) -> Option<NaiveDate> {
        let digits: Vec<u32> = id.chars().filter_map(|c| c.to_digit(10)).collect();
        (digits.len() == 11)
            .then(|| Self::date_of(&digits))
            .flatten()
    }
}

/// For deployments without a checkable national id: 4 to 20 letters and digits, uppercased.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainId;

impl NationalIdScheme for PlainId {
    fn name(&self) -> &'static str {
        "plain"
    }

    fn normalize(&self, raw: &str) -> std::result::Result<String, NationalIdError> {
        let id: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        if (4..=20).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(id)
        } else {
            Err(NationalIdError {
                input: raw.to_owned(),
                scheme: "plain id",
                reason: IdProblem::Plain,
            })
        }
    }
}

/// The scheme a deployment configured, by name.
pub fn scheme_by_name(name: &str) -> Result<&'static dyn NationalIdScheme> {
    match name {
        "ee-isikukood" => Ok(&EstonianPersonalCode),
        "plain" => Ok(&PlainId),
        other => Err(DomainError::UnknownChoice {
            what: "national id scheme",
            input: other.to_owned(),
            expected: "ee-isikukood, plain".into(),
        }),
    }
}

/// Builds the canonical citizen record, checking the id and that names and dates make sense.
/// Checks a text of a citizen's record: at most its field's length, and no control character
/// or bidirectional override (which can make a name read otherwise than it is stored). Names
/// in any script, with accents or emoji, pass.
pub fn check_text(field: CitizenField, value: &str) -> Result<()> {
    let len = value.chars().count();
    if len > field.max() {
        return Err(DomainError::Citizen {
            problem: CitizenProblem::TooLong {
                field,
                max: field.max(),
                len,
            },
        });
    }
    if let Some(c) = crate::text::hidden_character(value, false) {
        return Err(DomainError::Citizen {
            problem: CitizenProblem::HiddenCharacter {
                field,
                character: crate::text::code_point(c),
            },
        });
    }
    Ok(())
}

/// Checks the texts of a citizen's record (as `check_text`): what the back office applies to
/// a citizen a device pushes, as the device did when the clerk typed it.
pub fn check_texts(citizen: &Citizen) -> Result<()> {
    check_text(CitizenField::GivenName, &citizen.given_name)?;
    check_text(CitizenField::FamilyName, &citizen.family_name)?;
    if let Some(address) = &citizen.address {
        check_text(CitizenField::Address, address)?;
    }
    Ok(())
}

pub fn register(
    scheme: &dyn NationalIdScheme,
    national_id: &str,
    given_name: &str,
    family_name: &str,
    birth_date: NaiveDate,
    today: NaiveDate,
) -> Result<Citizen> {
    let id = scheme.normalize(national_id)?;
    let given_name = given_name.trim();
    let family_name = family_name.trim();
    if given_name.is_empty() || family_name.is_empty() {
        return Err(DomainError::Citizen {
            problem: CitizenProblem::NamesRequired,
        });
    }
    check_text(CitizenField::GivenName, given_name)?;
    check_text(CitizenField::FamilyName, family_name)?;
    if birth_date > today {
        return Err(DomainError::Citizen {
            problem: CitizenProblem::BornInTheFuture { birth_date },
        });
    }
    if let Some(encoded) = scheme.birth_date(&id)
        && encoded != birth_date
    {
        return Err(DomainError::Citizen {
            problem: CitizenProblem::BirthDateMismatch {
                id,
                encoded,
                birth_date,
            },
        });
    }
    Ok(Citizen {
        national_id: id,
        given_name: given_name.to_owned(),
        family_name: family_name.to_owned(),
        birth_date,
        phone: None,
        email: None,
        address: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_script_pass_and_hidden_characters_or_excess_do_not() {
        for name in [
            "Ελένη",
            "José-María",
            "محمد",
            "李小龍",
            "Zoë 🌻",
            "O'Brien",
            "N'Dour",
        ] {
            assert_eq!(check_text(CitizenField::GivenName, name), Ok(()), "{name}");
        }
        assert_eq!(
            check_text(CitizenField::FamilyName, &"é".repeat(MAX_NAME_CHARS)),
            Ok(())
        );
        let refused = |field, value: &str| match check_text(field, value) {
            Err(DomainError::Citizen { problem }) => problem,
            other => panic!("{value:?} passed: {other:?}"),
        };
        assert_eq!(
            refused(CitizenField::FamilyName, &"x".repeat(10_000)),
            CitizenProblem::TooLong {
                field: CitizenField::FamilyName,
                max: MAX_NAME_CHARS,
                len: 10_000
            }
        );
        for (value, code) in [
            ("Mari\u{202E}mmaT", "U+202E"),
            ("Ma\u{2066}ri", "U+2066"),
            ("Ma\nri", "U+000A"),
            ("Ma\u{0}ri", "U+0000"),
        ] {
            assert_eq!(
                refused(CitizenField::GivenName, value),
                CitizenProblem::HiddenCharacter {
                    field: CitizenField::GivenName,
                    character: code.into()
                }
            );
        }
        assert!(check_text(CitizenField::Address, &"a".repeat(MAX_ADDRESS_CHARS + 1)).is_err());
    }

    #[test]
    fn estonian_codes() {
        let s = EstonianPersonalCode;
        assert_eq!(s.normalize("376 0503 0299").unwrap(), "37605030299");
        assert_eq!(
            s.birth_date("37605030299"),
            NaiveDate::from_ymd_opt(1976, 5, 3)
        );
        for bad in [
            "37605030298",
            "3760503029",
            "37613030299",
            "97605030299",
            "abc",
        ] {
            assert!(s.normalize(bad).is_err(), "{bad}");
        }
        let swapped = "37650030299";
        assert!(s.normalize(swapped).is_err());
    }

    #[test]
    fn register_checks_birth_date_against_id() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let born = NaiveDate::from_ymd_opt(1976, 5, 3).unwrap();
        let c = register(
            &EstonianPersonalCode,
            "37605030299",
            " Mari ",
            "Tamm",
            born,
            today,
        )
        .unwrap();
        assert_eq!(c.given_name, "Mari");
        let wrong = NaiveDate::from_ymd_opt(1976, 5, 4).unwrap();
        assert!(
            register(
                &EstonianPersonalCode,
                "37605030299",
                "Mari",
                "Tamm",
                wrong,
                today
            )
            .is_err()
        );
        assert!(register(&PlainId, "ab-12", "", "Tamm", born, today).is_err());
        assert!(scheme_by_name("xx").is_err());
    }
}
