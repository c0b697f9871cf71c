//! Translated text and search normalisation.
//!
//! Every name a citizen or clerk reads exists in several languages. English and French are
//! required everywhere (the catalogue refuses an entry without them); other languages are kept
//! and searched when present.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The first character of `value` that a screen or a terminal does not show as it is: a
/// control character (line breaks and tabs pass where `lines` says a text has lines) or a
/// bidirectional control, which makes a text read otherwise than it is stored.
pub fn hidden_character(value: &str, lines: bool) -> Option<char> {
    value.chars().find(|&c| {
        (c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

/// A character as a refusal names it, when it cannot be shown: "U+202E".
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// What a refusal says of `value`'s first hidden character (`hidden_character`), if it has
/// one: "holds the invisible character U+202E, which can hide or reorder what the screen
/// shows".
pub fn hidden_problem(value: &str, lines: bool) -> Option<String> {
    hidden_character(value, lines).map(|c| {
        format!(
            "holds the invisible character {}, which can hide or reorder what the screen shows",
            code_point(c)
        )
    })
}

/// The languages every catalogue entry must carry.
pub const REQUIRED_LANGUAGES: [&str; 2] = ["en", "fr"];

/// A text in several languages, keyed by a lowercase language code ("en", "fr", "it", ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    /// Builds an English and French text, the common case in fixtures and tests.
    pub fn en_fr(en: &str, fr: &str) -> Self {
        let mut map = BTreeMap::new();
        map.insert("en".to_owned(), en.to_owned());
        map.insert("fr".to_owned(), fr.to_owned());
        Text(map)
    }

    /// The text in `lang`, falling back to English, then to any language present.
    pub fn get(&self, lang: &str) -> &str {
        self.0
            .get(lang)
            .or_else(|| self.0.get("en"))
            .or_else(|| self.0.values().next())
            .map_or("", String::as_str)
    }

    /// The required languages missing or blank in this text.
    pub fn missing_languages(&self) -> Vec<&'static str> {
        REQUIRED_LANGUAGES
            .into_iter()
            .filter(|lang| self.0.get(*lang).is_none_or(|t| t.trim().is_empty()))
            .collect()
    }

    /// Every translation joined, for indexing.
    pub fn all(&self) -> String {
        self.0.values().cloned().collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get("en"))
    }
}

/// `one` for a single thing and `other` for any other count, as English says it: "1 problem",
/// "0 problems", "3 problems".
pub fn english_plural<'a>(n: u64, one: &'a str, other: &'a str) -> &'a str {
    if n == 1 { one } else { other }
}

/// Folds text for search and matching: lowercase, accents removed, punctuation to spaces, so
/// that a clerk typing "etat civil" finds "État civil" and "Müller" matches "muller".
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' => out.push('d'),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => out.push(' '),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_says_one_thing_or_several() {
        let say = |n| format!("{n} {}", english_plural(n, "problem", "problems"));
        assert_eq!(say(0), "0 problems");
        assert_eq!(say(1), "1 problem");
        assert_eq!(say(2), "2 problems");
        let catalogue = |n: usize| crate::DomainError::InvalidCatalogue {
            problems: vec!["a service without a title".to_owned(); n],
        };
        assert_eq!(
            catalogue(1).to_string(),
            "the catalogue has 1 problem: a service without a title"
        );
        assert!(
            catalogue(2)
                .to_string()
                .starts_with("the catalogue has 2 problems: ")
        );
    }

    #[test]
    fn fold_removes_case_and_accents() {
        assert_eq!(fold("État civil"), "etat civil");
        assert_eq!(fold("  Straße—Œuvre "), "strasse oeuvre");
        assert_eq!(fold("Ærø, Łódź"), "aero lodz");
    }

    #[test]
    fn text_falls_back_to_english() {
        let t = Text::en_fr("Birth certificate", "Acte de naissance");
        assert_eq!(t.get("fr"), "Acte de naissance");
        assert_eq!(t.get("it"), "Birth certificate");
        assert!(t.missing_languages().is_empty());
        let mut only_en = Text::default();
        only_en.0.insert("en".into(), "x".into());
        assert_eq!(only_en.missing_languages(), vec!["fr"]);
    }
}
