//! An RDF file read whole into memory, indexed by subject: what the mapping asks of it.

use std::collections::{BTreeMap, HashMap};

use oxrdf::{NamedOrBlankNode, Term};
use oxrdfio::{RdfFormat, RdfParser};

use crate::Error;

/// The base IRI a file's relative IRIs (`<>`, `<#x>`) resolve against.
const BASE: &str = "file:///catalogue";

/// An object of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// An IRI, or a blank node written `_:id`.
    Node(String),
    Literal {
        value: String,
        lang: Option<String>,
        datatype: String,
    },
}

/// The statements of a file, by subject, in the order the file gives them.
#[derive(Debug, Default)]
pub struct Graph {
    by_subject: HashMap<String, Vec<(String, Object)>>,
    /// Subjects in the order they first appear.
    subjects: Vec<String>,
}

/// Which syntax a catalogue file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Turtle,
    JsonLd,
}

impl Syntax {
    /// The syntax a file name says, if it says one.
    pub fn from_name(name: &str) -> Option<Syntax> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".ttl") || lower.ends_with(".turtle") {
            Some(Syntax::Turtle)
        } else if lower.ends_with(".jsonld") || lower.ends_with(".json-ld") {
            Some(Syntax::JsonLd)
        } else {
            None
        }
    }

    /// The syntax the content looks like: JSON starts with `{` or `[`.
    pub fn sniff(bytes: &[u8]) -> Syntax {
        let first = bytes
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
        match first {
            Some(b'{') | Some(b'[') => Syntax::JsonLd,
            _ => Syntax::Turtle,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Syntax::Turtle => "Turtle",
            Syntax::JsonLd => "JSON-LD",
        }
    }
}

impl Graph {
    /// Reads a whole file; the first syntax error refuses it, with its line and column.
    pub fn parse(bytes: &[u8], syntax: Syntax) -> Result<Graph, Error> {
        let format = match syntax {
            Syntax::Turtle => RdfFormat::Turtle,
            Syntax::JsonLd => RdfFormat::JsonLd {
                profile: oxrdfio::JsonLdProfileSet::empty(),
            },
        };
        let parser = RdfParser::from_format(format)
            .with_base_iri(BASE)
            .map_err(|e| Error::Syntax {
                syntax: syntax.name(),
                at: String::new(),
                detail: e.to_string(),
            })?;
        let mut graph = Graph::default();
        for quad in parser.for_slice(bytes) {
            let quad = quad.map_err(|e| {
                let at = e.location().map_or_else(String::new, |l| {
                    format!(
                        " at line {}, column {}",
                        l.start.line + 1,
                        l.start.column + 1
                    )
                });
                // The parser says where twice ("Parser error between line 3 column 36 and
                // line 4 column 1: ..."): the location is given once, before.
                let full = e.to_string();
                let detail = match full.strip_prefix("Parser error between ") {
                    Some(rest) => rest
                        .split_once(": ")
                        .map_or(full.clone(), |(_, m)| m.to_owned()),
                    None => full,
                };
                if syntax == Syntax::JsonLd && detail.contains("context") {
                    Error::Context { detail }
                } else {
                    Error::Syntax {
                        syntax: syntax.name(),
                        at,
                        detail,
                    }
                }
            })?;
            let subject = match quad.subject {
                NamedOrBlankNode::NamedNode(n) => n.into_string(),
                NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
            };
            let object = match quad.object {
                Term::NamedNode(n) => Object::Node(n.into_string()),
                Term::BlankNode(b) => Object::Node(format!("_:{}", b.as_str())),
                Term::Literal(l) => {
                    let (value, datatype, lang) = l.destruct();
                    Object::Literal {
                        value,
                        lang: lang.map(|l| l.to_ascii_lowercase()),
                        datatype: datatype.map_or_else(String::new, |d| d.into_string()),
                    }
                }
                #[allow(unreachable_patterns)]
                _ => continue,
            };
            let statements = graph.by_subject.entry(subject.clone()).or_default();
            if statements.is_empty() {
                graph.subjects.push(subject);
            }
            statements.push((quad.predicate.into_string(), object));
        }
        Ok(graph)
    }

    /// The subjects of the given type, in the order of the file.
    pub fn of_type(&self, class: &str) -> Vec<&str> {
        self.subjects
            .iter()
            .filter(|s| self.has_type(s, class))
            .map(String::as_str)
            .collect()
    }

    pub fn has_type(&self, subject: &str, class: &str) -> bool {
        self.nodes(subject, crate::vocab::RDF_TYPE).contains(&class)
    }

    /// Every statement about `subject`.
    pub fn about(&self, subject: &str) -> &[(String, Object)] {
        self.by_subject.get(subject).map_or(&[], Vec::as_slice)
    }

    /// The objects of `subject`'s `predicate`.
    pub fn objects(&self, subject: &str, predicate: &str) -> Vec<&Object> {
        self.about(subject)
            .iter()
            .filter(|(p, _)| p == predicate)
            .map(|(_, o)| o)
            .collect()
    }

    /// The nodes (IRIs or blank nodes) `subject`'s `predicate` points to.
    pub fn nodes(&self, subject: &str, predicate: &str) -> Vec<&str> {
        self.objects(subject, predicate)
            .into_iter()
            .filter_map(|o| match o {
                Object::Node(n) => Some(n.as_str()),
                Object::Literal { .. } => None,
            })
            .collect()
    }

    /// The first plain value of `subject`'s `predicate` (a literal's text).
    pub fn value(&self, subject: &str, predicate: &str) -> Option<&str> {
        self.objects(subject, predicate)
            .into_iter()
            .find_map(|o| match o {
                Object::Literal { value, .. } => Some(value.as_str()),
                Object::Node(_) => None,
            })
    }

    /// The texts of `subject`'s `predicate` by language; a text without a language tag is
    /// given `untagged`. The first text of a language wins.
    pub fn texts(
        &self,
        subject: &str,
        predicate: &str,
        untagged: &str,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for o in self.objects(subject, predicate) {
            if let Object::Literal { value, lang, .. } = o {
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                let lang = crate::vocab::language_code(lang.as_deref().unwrap_or(untagged));
                out.entry(lang).or_insert_with(|| value.to_owned());
            }
        }
        out
    }

    /// Every text of `subject`'s `predicate`, with its language.
    pub fn all_texts(
        &self,
        subject: &str,
        predicate: &str,
        untagged: &str,
    ) -> Vec<(String, String)> {
        self.objects(subject, predicate)
            .into_iter()
            .filter_map(|o| match o {
                Object::Literal { value, lang, .. } if !value.trim().is_empty() => Some((
                    crate::vocab::language_code(lang.as_deref().unwrap_or(untagged)),
                    value.trim().to_owned(),
                )),
                _ => None,
            })
            .collect()
    }
}
