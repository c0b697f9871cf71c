//! A service's application form and the validation of what the clerk types into it.
//!
//! Values arrive as text (from the keyboard, the CLI or a sync message) and leave as text in a
//! canonical form (dates as ISO 8601, numbers without grouping, phone numbers without
//! separators), so that the same value is stored and compared identically everywhere.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::citizen::{NationalIdError, NationalIdScheme};
use crate::text::Text;

/// One field of an application form. (Unknown keys are refused by `FieldKind`, which receives
/// every key this struct does not take: serde cannot combine `deny_unknown_fields` with
/// `flatten` on the outer struct.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FormField {
    pub code: String,
    pub label: Text,
    #[serde(default)]
    pub required: bool,
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// The type of a field and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldKind {
    Text {
        #[serde(default)]
        min_length: Option<u32>,
        #[serde(default)]
        max_length: Option<u32>,
    },
    Date {
        /// The date may not be after the day of intake (birth dates, past events).
        #[serde(default)]
        not_future: bool,
        /// The date may not be before the day of intake (appointments, travel).
        #[serde(default)]
        not_past: bool,
    },
    Number {
        #[serde(default)]
        min: Option<i64>,
        #[serde(default)]
        max: Option<i64>,
    },
    Choice {
        options: Vec<ChoiceOption>,
    },
    NationalId,
    Phone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub code: String,
    pub label: Text,
}

/// What a field's value was checked against besides its own rules.
#[derive(Debug, Clone, Copy)]
pub struct FormContext<'a> {
    pub today: NaiveDate,
    pub national_ids: &'a dyn NationalIdScheme,
}

/// One field that did not pass, with the reason.
///
/// It reaches the window and the CLI's JSON as `{ field, problem, key, args }`: the problem in
/// English words a clerk can act on, and the key and values the window translates it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: ValueProblem,
}

impl Serialize for FieldProblem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = self.problem.message();
        let mut out = serializer.serialize_struct("FieldProblem", 4)?;
        out.serialize_field("field", &self.field)?;
        out.serialize_field("problem", &self.problem.to_string())?;
        out.serialize_field("key", &message.key)?;
        out.serialize_field("args", &message.args)?;
        out.end()
    }
}

impl JsonSchema for FieldProblem {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldProblem".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let args = generator.subschema_for::<BTreeMap<String, crate::message::Arg>>();
        schemars::json_schema!({
            "description": "One field that did not pass: the problem in English words, and the key and values the window translates it from.",
            "type": "object",
            "properties": {
                "field": { "type": "string" },
                "problem": { "type": "string" },
                "key": { "type": "string" },
                "args": args,
            },
            "required": ["field", "problem", "key", "args"],
        })
    }
}

/// Why a value does not fit its field, in words a clerk can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("is required")]
    Required,
    #[error("must have at least {min} characters (has {len})")]
    TooShort { min: u32, len: u32 },
    #[error("must have at most {max} characters (has {len})")]
    TooLong { max: u32, len: u32 },
    #[error(
        "holds the invisible character {character}, which can hide or reorder what the screen shows: type it again without it"
    )]
    HiddenCharacter { character: String },
    #[error("'{input}' is not a date; write it as YYYY-MM-DD or DD/MM/YYYY")]
    NotADate { input: String },
    #[error("{date} is in the future; enter a date up to today")]
    InTheFuture { date: NaiveDate },
    #[error("{date} is in the past; enter today or a later date")]
    InThePast { date: NaiveDate },
    #[error("'{input}' is not a whole number")]
    NotANumber { input: String },
    #[error("must be at least {min}")]
    BelowMin { min: i64 },
    #[error("must be at most {max}")]
    AboveMax { max: i64 },
    #[error("'{input}' is not one of the choices: {choices}")]
    NotAChoice { input: String, choices: String },
    #[error(transparent)]
    NationalId(#[from] NationalIdError),
    #[error(
        "'{input}' is not a phone number: '{character}' is not allowed; use digits, spaces and an optional leading +"
    )]
    PhoneCharacter { input: String, character: char },
    #[error("'{input}' has {digits} digits; a phone number has 6 to 15")]
    PhoneLength { input: String, digits: usize },
    #[error("is not a field of this form; its fields are: {fields}")]
    NotAField { fields: String },
}

impl FormField {
    /// Problems in the field's definition itself (checked when a catalogue is loaded).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for lang in self.label.missing_languages() {
            out.push(format!(
                "form field '{}' has no label in '{lang}'",
                self.code
            ));
        }
        match &self.kind {
            FieldKind::Text {
                min_length: Some(min),
                max_length: Some(max),
            } if min > max => out.push(format!(
                "form field '{}' has min_length {min} above max_length {max}",
                self.code
            )),
            FieldKind::Number {
                min: Some(min),
                max: Some(max),
            } if min > max => out.push(format!(
                "form field '{}' has min {min} above max {max}",
                self.code
            )),
            FieldKind::Date {
                not_future: true,
                not_past: true,
            } => out.push(format!(
                "form field '{}' cannot be both not_future and not_past",
                self.code
            )),
            FieldKind::Choice { options } if options.is_empty() => out.push(format!(
                "form field '{}' is a choice with no options",
                self.code
            )),
            FieldKind::Choice { options } => {
                let mut seen = std::collections::BTreeSet::new();
                for option in options {
                    if !seen.insert(option.code.to_lowercase()) {
                        out.push(format!(
                            "form field '{}' has the choice '{}' twice",
                            self.code, option.code
                        ));
                    }
                    for lang in option.label.missing_languages() {
                        out.push(format!(
                            "choice '{}' of form field '{}' has no label in '{lang}'",
                            option.code, self.code
                        ));
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// Checks one value and returns its canonical form.
    pub fn check(&self, raw: &str, ctx: &FormContext<'_>) -> Result<String, ValueProblem> {
        let value = raw.trim();
        match &self.kind {
            FieldKind::Text {
                min_length,
                max_length,
            } => {
                let len = value.chars().count() as u32;
                if let Some(min) = min_length
                    && len < *min
                {
                    return Err(ValueProblem::TooShort { min: *min, len });
                }
                if let Some(max) = max_length
                    && len > *max
                {
                    return Err(ValueProblem::TooLong { max: *max, len });
                }
                Ok(value.to_owned())
            }
            FieldKind::Date {
                not_future,
                not_past,
            } => {
                let date = parse_date(value)?;
                if *not_future && date > ctx.today {
                    return Err(ValueProblem::InTheFuture { date });
                }
                if *not_past && date < ctx.today {
                    return Err(ValueProblem::InThePast { date });
                }
                Ok(date.to_string())
            }
            FieldKind::Number { min, max } => {
                let n: i64 = value
                    .replace([' ', '\u{a0}', '_'], "")
                    .parse()
                    .map_err(|_| ValueProblem::NotANumber {
                        input: value.to_owned(),
                    })?;
                if let Some(min) = min
                    && n < *min
                {
                    return Err(ValueProblem::BelowMin { min: *min });
                }
                if let Some(max) = max
                    && n > *max
                {
                    return Err(ValueProblem::AboveMax { max: *max });
                }
                Ok(n.to_string())
            }
            FieldKind::Choice { options } => options
                .iter()
                .find(|o| o.code.eq_ignore_ascii_case(value))
                .map(|o| o.code.clone())
                .ok_or_else(|| ValueProblem::NotAChoice {
                    input: value.to_owned(),
                    choices: options
                        .iter()
                        .map(|o| o.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            FieldKind::NationalId => Ok(ctx.national_ids.normalize(value)?),
            FieldKind::Phone => normalize_phone(value),
        }
    }
}

/// Validates a whole form: every required field present, every present field valid, no field
/// the form does not have. Returns the canonical values or every problem found.
/// `validate`, with what is typed now held to one rule more than what an earlier release may
/// have stored: a text value with a character the screen would not show as it is is refused
/// (`crate::text::hidden_character`). The back office checks pushed forms by `validate` alone,
/// so that requests a workstation took before this rule still arrive.
pub fn validate_at_entry(
    fields: &[FormField],
    values: &BTreeMap<String, String>,
    ctx: &FormContext<'_>,
) -> Result<BTreeMap<String, String>, Vec<FieldProblem>> {
    let checked = validate(fields, values, ctx);
    let problems = checked.as_ref().err().map_or(&[][..], Vec::as_slice);
    let hidden: Vec<FieldProblem> = fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Text { .. }))
        .filter(|f| !problems.iter().any(|p| p.field == f.code))
        .filter_map(|f| {
            let c = crate::text::hidden_character(values.get(&f.code)?.trim(), false)?;
            Some(FieldProblem {
                field: f.code.clone(),
                problem: ValueProblem::HiddenCharacter {
                    character: crate::text::code_point(c),
                },
            })
        })
        .collect();
    if hidden.is_empty() {
        return checked;
    }
    let mut problems = checked.err().unwrap_or_default();
    problems.extend(hidden);
    Err(problems)
}

pub fn validate(
    fields: &[FormField],
    values: &BTreeMap<String, String>,
    ctx: &FormContext<'_>,
) -> Result<BTreeMap<String, String>, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut out = BTreeMap::new();
    for field in fields {
        match values.get(&field.code).map(|v| v.trim()) {
            None | Some("") => {
                if field.required {
                    problems.push(FieldProblem {
                        field: field.code.clone(),
                        problem: ValueProblem::Required,
                    });
                }
            }
            Some(raw) => match field.check(raw, ctx) {
                Ok(v) => {
                    out.insert(field.code.clone(), v);
                }
                Err(problem) => problems.push(FieldProblem {
                    field: field.code.clone(),
                    problem,
                }),
            },
        }
    }
    for code in values.keys() {
        if !fields.iter().any(|f| &f.code == code) {
            problems.push(FieldProblem {
                field: code.clone(),
                problem: ValueProblem::NotAField {
                    fields: fields
                        .iter()
                        .map(|f| f.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            });
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Accepts ISO dates (2024-03-31) and the day-first forms clerks type (31/03/2024, 31.03.2024).
pub fn parse_date(value: &str) -> Result<NaiveDate, ValueProblem> {
    let value = value.trim();
    for format in ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(value, format) {
            return Ok(d);
        }
    }
    Err(ValueProblem::NotADate {
        input: value.to_owned(),
    })
}

/// Phone numbers in international or national form: an optional leading '+', then 6 to 15
/// digits (E.164's maximum), separators ignored.
pub fn normalize_phone(value: &str) -> Result<String, ValueProblem> {
    let mut out = String::new();
    for (i, c) in value.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(ValueProblem::PhoneCharacter {
                    input: value.to_owned(),
                    character: c,
                });
            }
        }
    }
    let digits = out.trim_start_matches('+').len();
    if !(6..=15).contains(&digits) {
        return Err(ValueProblem::PhoneLength {
            input: value.to_owned(),
            digits,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::citizen::EstonianPersonalCode;

    fn field(code: &str, required: bool, kind: FieldKind) -> FormField {
        FormField {
            code: code.into(),
            label: Text::en_fr(code, code),
            required,
            kind,
        }
    }

    fn ctx() -> FormContext<'static> {
        FormContext {
            today: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
            national_ids: &EstonianPersonalCode,
        }
    }

    fn form() -> Vec<FormField> {
        vec![
            field(
                "name",
                true,
                FieldKind::Text {
                    min_length: Some(2),
                    max_length: Some(5),
                },
            ),
            field(
                "born",
                true,
                FieldKind::Date {
                    not_future: true,
                    not_past: false,
                },
            ),
            field(
                "children",
                false,
                FieldKind::Number {
                    min: Some(0),
                    max: Some(20),
                },
            ),
            field(
                "kind",
                false,
                FieldKind::Choice {
                    options: vec![ChoiceOption {
                        code: "first".into(),
                        label: Text::en_fr("First", "Premier"),
                    }],
                },
            ),
            field("phone", false, FieldKind::Phone),
            field("id", false, FieldKind::NationalId),
        ]
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn canonicalises_valid_values() {
        let out = validate(
            &form(),
            &values(&[
                ("name", " Ana "),
                ("born", "31/01/1990"),
                ("children", "3"),
                ("kind", "FIRST"),
                ("phone", "+372 5123-4567"),
                ("id", "37605030299"),
            ]),
            &ctx(),
        )
        .unwrap();
        assert_eq!(out["name"], "Ana");
        assert_eq!(out["born"], "1990-01-31");
        assert_eq!(out["kind"], "first");
        assert_eq!(out["phone"], "+37251234567");
    }

    #[test]
    fn a_text_with_a_hidden_character_is_refused_at_entry_only() {
        let form = form();
        for (typed, code) in [("A\u{202E}na", "U+202E"), ("An\u{0}", "U+0000")] {
            let typed = values(&[("name", typed), ("born", "1990-01-31")]);
            assert_eq!(
                validate_at_entry(&form, &typed, &ctx()).unwrap_err(),
                vec![FieldProblem {
                    field: "name".into(),
                    problem: ValueProblem::HiddenCharacter {
                        character: code.into()
                    },
                }]
            );
            // What an earlier release stored still passes where pushed forms are checked.
            assert!(validate(&form, &typed, &ctx()).is_ok());
        }
        // A field with a problem of its own is told that one only.
        let both = values(&[("name", "A\u{202E}nastasia"), ("born", "1990-01-31")]);
        let problems = validate_at_entry(&form, &both, &ctx()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(matches!(problems[0].problem, ValueProblem::TooLong { .. }));
    }

    #[test]
    fn reports_every_problem() {
        let err = validate(
            &form(),
            &values(&[
                ("name", "A"),
                ("born", "2027-01-01"),
                ("children", "21"),
                ("kind", "second"),
                ("phone", "12"),
                ("id", "37605030290"),
                ("extra", "x"),
            ]),
            &ctx(),
        )
        .unwrap_err();
        let fields: Vec<_> = err.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["name", "born", "children", "kind", "phone", "id", "extra"]
        );
        let missing = validate(&form(), &values(&[]), &ctx()).unwrap_err();
        assert_eq!(missing.len(), 2);
        assert!(
            missing
                .iter()
                .all(|p| p.problem.to_string() == "is required")
        );
    }
}
