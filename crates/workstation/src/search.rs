//! What a clerk meant: the catalogue's own words for a word typed in haste.
//!
//! The full-text index finds services that hold every word typed, each as a prefix. A word
//! misspelt or in another form finds nothing that way, so the [`Vocabulary`] of the catalogue
//! proposes the words it holds that the clerk probably meant:
//!
//! - the same stem in one of the catalogue's languages (Snowball stemmers): `certificates`
//!   finds `certificate`, `déclarations` finds `déclaration`;
//! - a stem that extends the other by at most two letters, both at least five long:
//!   `registration` (stem `registr`) finds `registering` (stem `regist`);
//! - one wrong, missing, extra or swapped letter in a word of four to seven letters, two from
//!   eight letters on (optimal string alignment distance): `pasport`, `naisance`,
//!   `certficate`. Shorter words are taken as typed: at three letters almost every word is one
//!   edit from another.
//!
//! Words are compared folded (lowercase, accents removed, see [`fold`]), as the index holds them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use guichet_domain::text::fold;
use rust_stemmers::{Algorithm, Stemmer};

/// The shortest stem that another stem may extend.
const MIN_EXTENDED_STEM: usize = 5;
/// How many letters a stem may add to another and still be taken as the same word.
const MAX_STEM_EXTENSION: usize = 2;
/// At most this many catalogue words stand for one word typed: the closest are kept.
const MAX_ALTERNATIVES: usize = 24;

/// The catalogue's words and their stems, for widening what the clerk typed.
pub struct Vocabulary {
    /// Every distinct folded word, sorted, for prefix lookups.
    words: Vec<Word>,
    /// Each stem (folded) and the words that have it, as indices into `words`.
    by_stem: HashMap<Box<str>, Vec<usize>>,
    /// The stems, sorted, for finding the stems that extend one.
    stems: Vec<Box<str>>,
    /// The stemmers of the catalogue's languages that have one.
    stemmers: Vec<Stemmer>,
}

struct Word {
    text: Box<str>,
    chars: Box<[char]>,
    /// One bit per letter present (hashed), to rule out most words before counting edits.
    letters: u64,
}

/// What one word typed may stand for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alternatives {
    /// Some catalogue word starts with the word as typed.
    pub known: bool,
    /// Other catalogue words it may mean, closest first (none starts with the word typed).
    pub words: Vec<String>,
}

impl Alternatives {
    /// Nothing in the catalogue resembles the word.
    pub fn is_unknown(&self) -> bool {
        !self.known && self.words.is_empty()
    }
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("words", &self.words.len())
            .field("stems", &self.stems.len())
            .field("stemmers", &self.stemmers.len())
            .finish()
    }
}

impl Vocabulary {
    /// Builds the vocabulary of texts given with their language code.
    pub fn build<'a>(texts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vocabulary {
        let mut stemmers: BTreeMap<&'static str, Stemmer> = BTreeMap::new();
        let mut stems_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (lang, text) in texts {
            let stemmer = algorithm(lang).map(|(code, algorithm)| {
                &*stemmers
                    .entry(code)
                    .or_insert_with(|| Stemmer::create(algorithm))
            });
            for word in text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                let lower = word.to_lowercase();
                let folded = fold(&lower);
                let stems = stems_of.entry(folded.clone()).or_default();
                stems.insert(stemmer.map_or(folded, |s| fold(&s.stem(&lower))));
            }
        }
        let mut by_stem: HashMap<Box<str>, Vec<usize>> = HashMap::new();
        let mut words = Vec::with_capacity(stems_of.len());
        for (i, (text, stems)) in stems_of.into_iter().enumerate() {
            for stem in stems {
                by_stem.entry(stem.into_boxed_str()).or_default().push(i);
            }
            let chars: Box<[char]> = text.chars().collect();
            words.push(Word {
                letters: letters(&chars),
                chars,
                text: text.into_boxed_str(),
            });
        }
        let mut stems: Vec<Box<str>> = by_stem.keys().cloned().collect();
        stems.sort_unstable();
        Vocabulary {
            words,
            by_stem,
            stems,
            stemmers: stemmers.into_values().collect(),
        }
    }

    /// How many distinct words the catalogue holds.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// The catalogue holds no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// What `typed` (one folded word) may stand for in this catalogue.
    pub fn alternatives(&self, typed: &str) -> Alternatives {
        let start = self.words.partition_point(|w| &*w.text < typed);
        let known = self
            .words
            .get(start)
            .is_some_and(|w| w.text.starts_with(typed));
        // Each candidate with its closeness: 0 same stem, 1 extended stem, 1 + edits for a
        // word spelt nearly alike, and the same again from there for that word's own forms.
        let mut found: BTreeMap<usize, usize> = BTreeMap::new();
        let mut note = |i: usize, rank: usize| {
            let slot = found.entry(i).or_insert(rank);
            *slot = (*slot).min(rank);
        };
        let mut seeds: Vec<(usize, &str)> = vec![(0, typed)];
        let typed_chars: Vec<char> = typed.chars().collect();
        let allowed = allowed_edits(typed_chars.len());
        if allowed > 0 {
            let mask = letters(&typed_chars);
            for word in &self.words {
                if word.chars.len().abs_diff(typed_chars.len()) > allowed
                    || (word.letters ^ mask).count_ones() as usize > 2 * allowed
                {
                    continue;
                }
                if let Some(edits) = edits_within(&typed_chars, &word.chars, allowed) {
                    seeds.push((1 + edits, &word.text));
                }
            }
        }
        seeds.sort_unstable();
        seeds.truncate(MAX_ALTERNATIVES);
        for &(base, seed) in &seeds {
            if let Some(i) = self.index_of(seed) {
                note(i, base);
            }
            for stem in self.query_stems(seed) {
                for &i in self.by_stem.get(stem.as_str()).into_iter().flatten() {
                    note(i, base);
                }
                for other in self.extended(&stem) {
                    for &i in &self.by_stem[other] {
                        note(i, base + 1);
                    }
                }
            }
        }
        let mut ranked: Vec<(usize, usize)> = found
            .into_iter()
            .filter(|&(i, _)| !self.words[i].text.starts_with(typed))
            .map(|(i, rank)| (rank, i))
            .collect();
        ranked.sort_unstable();
        Alternatives {
            known,
            words: ranked
                .into_iter()
                .take(MAX_ALTERNATIVES)
                .map(|(_, i)| self.words[i].text.to_string())
                .collect(),
        }
    }

    fn index_of(&self, word: &str) -> Option<usize> {
        self.words.binary_search_by(|w| (*w.text).cmp(word)).ok()
    }

    /// The stems of a word typed, in every language of the catalogue that has a stemmer.
    fn query_stems(&self, typed: &str) -> BTreeSet<String> {
        self.stemmers
            .iter()
            .map(|s| fold(&s.stem(typed)))
            .chain(std::iter::once(typed.to_owned()))
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The stems that extend `stem`, or that `stem` extends, by at most two letters.
    fn extended<'a>(&'a self, stem: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let n = stem.chars().count();
        let longer = (n >= MIN_EXTENDED_STEM)
            .then(|| {
                let start = self.stems.partition_point(|s| &**s < stem);
                self.stems[start..]
                    .iter()
                    .take_while(move |s| s.starts_with(stem))
                    .filter(move |s| {
                        let extra = s.chars().count() - n;
                        extra > 0 && extra <= MAX_STEM_EXTENSION
                    })
                    .map(|s| &**s)
            })
            .into_iter()
            .flatten();
        let shorter = stem
            .char_indices()
            .map(|(at, _)| &stem[..at])
            .filter(move |p| {
                let len = p.chars().count();
                len >= MIN_EXTENDED_STEM && n - len <= MAX_STEM_EXTENSION
            })
            .filter(|p| self.by_stem.contains_key(*p));
        longer.chain(shorter)
    }
}

/// The Snowball stemmer for a language code, where one exists.
fn algorithm(lang: &str) -> Option<(&'static str, Algorithm)> {
    Some(match lang {
        "ar" => ("ar", Algorithm::Arabic),
        "da" => ("da", Algorithm::Danish),
        "de" => ("de", Algorithm::German),
        "el" => ("el", Algorithm::Greek),
        "en" => ("en", Algorithm::English),
        "es" => ("es", Algorithm::Spanish),
        "fi" => ("fi", Algorithm::Finnish),
        "fr" => ("fr", Algorithm::French),
        "hu" => ("hu", Algorithm::Hungarian),
        "it" => ("it", Algorithm::Italian),
        "nl" => ("nl", Algorithm::Dutch),
        "nb" | "nn" | "no" => ("no", Algorithm::Norwegian),
        "pt" => ("pt", Algorithm::Portuguese),
        "ro" => ("ro", Algorithm::Romanian),
        "ru" => ("ru", Algorithm::Russian),
        "sv" => ("sv", Algorithm::Swedish),
        "ta" => ("ta", Algorithm::Tamil),
        "tr" => ("tr", Algorithm::Turkish),
        _ => return None,
    })
}

/// How many edits a word of `len` letters may carry and still be recognised.
fn allowed_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

fn letters(chars: &[char]) -> u64 {
    chars.iter().fold(0, |m, &c| m | 1 << (u32::from(c) % 64))
}

/// The optimal string alignment distance between `a` and `b` (insertions, deletions,
/// substitutions and swaps of two neighbours), if it is at most `max`.
fn edits_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let d = previous[width - 1];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::build([
            ("en", "Birth certificate"),
            ("fr", "Acte de naissance"),
            ("en", "Passport: first issue or renewal"),
            ("fr", "Passeport : première demande"),
            ("en", "Registering a sole proprietorship"),
            ("en", "Start a business"),
            ("fr", "Déclarations de décès"),
        ])
    }

    fn edits(a: &str, b: &str) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        edits_within(&a, &b, 2)
    }

    #[test]
    fn counts_wrong_missing_extra_and_swapped_letters() {
        assert_eq!(edits("passport", "passport"), Some(0));
        assert_eq!(edits("pasport", "passport"), Some(1));
        assert_eq!(edits("passsport", "passport"), Some(1));
        assert_eq!(edits("pessport", "passport"), Some(1));
        assert_eq!(edits("psasport", "passport"), Some(1));
        assert_eq!(edits("certficat", "certificate"), Some(2));
        assert_eq!(edits("naissance", "passport"), None);
    }

    #[test]
    fn a_misspelt_word_finds_the_catalogue_word() {
        let v = vocabulary();
        assert_eq!(v.alternatives("pasport").words, ["passport"]);
        assert_eq!(v.alternatives("naisance").words, ["naissance"]);
        assert_eq!(v.alternatives("certficate").words, ["certificate"]);
        assert!(!v.alternatives("pasport").known);
    }

    #[test]
    fn another_form_of_the_word_finds_it() {
        let v = vocabulary();
        assert!(
            v.alternatives("certificates")
                .words
                .contains(&"certificate".into())
        );
        assert!(
            v.alternatives("registration")
                .words
                .contains(&"registering".into())
        );
        assert!(
            v.alternatives("declarer")
                .words
                .contains(&"declarations".into())
        );
    }

    #[test]
    fn a_prefix_is_known_and_not_repeated() {
        let v = vocabulary();
        let a = v.alternatives("pass");
        assert!(a.known);
        assert!(a.words.iter().all(|w| !w.starts_with("pass")), "{a:?}");
    }

    #[test]
    fn short_or_foreign_words_are_taken_as_typed() {
        let v = vocabulary();
        assert!(v.alternatives("zzz").is_unknown());
        assert!(v.alternatives("bith").words.contains(&"birth".into()));
        assert!(v.alternatives("bir").words.is_empty());
        assert!(v.alternatives("xylophone").is_unknown());
    }
}
