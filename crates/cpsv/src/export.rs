//! From Guichet's catalogue to CPSV-AP 3.2 in Turtle.
//!
//! Each service is a `cpsv:PublicService` with its identifier, titles, descriptions and keywords in
//! every language, its competent authority (`cv:PublicOrganisation`), its category as a thematic
//! area (`skos:Concept`), target groups as its audience, life events it is grouped by, the
//! documents to bring as requirements with their supporting evidence, its fee as a `cv:Cost` and
//! its processing time as an `xsd:duration`; with an area, the authorities' `dct:spatial`.
//! `tests/shacl.rs` checks exports against CPSV-AP's constraints. What CPSV-AP does not describe is
//! written in Guichet's own words (`vocab::GX`), so that importing an export gives the same
//! catalogue back.

use std::collections::BTreeSet;

use oxrdf::{Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use oxrdfio::{RdfFormat, RdfSerializer};

use guichet_domain::catalogue::{Catalogue, Fee, Service};
use guichet_domain::text::Text;

use crate::Error;
use crate::vocab::{
    CPSV, CV, DCAT, DCT, EU_CURRENCY, EU_LANGUAGE, GX, PREFIXES, RDF_TYPE, SKOS, XSD, eu_language,
    iri,
};

/// Where the nodes of an export live when the caller names no base: a URN, so that nothing
/// looks like an address to fetch.
pub const DEFAULT_BASE: &str = "urn:guichet:catalogue:";

/// How an export names and places what it writes.
#[derive(Debug, Clone, Copy)]
pub struct ExportOptions<'a> {
    /// The IRI prefix of the exported nodes ([`DEFAULT_BASE`] when the caller has none).
    pub base: &'a str,
    /// The area the competent authorities serve (`dct:spatial`), as an IRI: a country of the
    /// EU's authority table, for example. CPSV-AP requires one for every public organisation
    /// and Guichet's catalogue does not hold it: without it the export leaves it out and
    /// does not conform.
    pub area: Option<&'a str>,
}

/// Writes `catalogue` as CPSV-AP Turtle.
pub fn export(catalogue: &Catalogue, options: &ExportOptions<'_>) -> Result<Vec<u8>, Error> {
    let mut w = Writer {
        triples: Vec::new(),
        base: options.base,
        languages: BTreeSet::new(),
        currencies: BTreeSet::new(),
    };
    if let Some(area) = options.area {
        NamedNode::new(area)
            .map_err(|e| Error::Export(format!("the area '{area}' is not an IRI: {e}")))?;
        w.typed(area, &iri(DCT, "Location"));
    }
    for a in &catalogue.agencies {
        let node = w.node("agency", &a.code);
        w.typed(&node, &iri(CV, "PublicOrganisation"));
        w.typed(&node, &iri(GX, "Agency"));
        w.plain(&node, &iri(DCT, "identifier"), &a.code);
        w.texts(&node, &iri(SKOS, "prefLabel"), &a.name)?;
        if let Some(area) = options.area {
            w.link(&node, &iri(DCT, "spatial"), area);
        }
    }
    for c in &catalogue.categories {
        let node = w.node("category", &c.code);
        w.typed(&node, &iri(SKOS, "Concept"));
        w.typed(&node, &iri(GX, "Category"));
        w.plain(&node, &iri(DCT, "identifier"), &c.code);
        w.texts(&node, &iri(SKOS, "prefLabel"), &c.name)?;
        w.plain(&node, &iri(GX, "queueLetter"), &c.queue_letter.to_string());
    }
    for t in &catalogue.target_groups {
        let node = w.node("target-group", &t.code);
        w.typed(&node, &iri(SKOS, "Concept"));
        w.typed(&node, &iri(GX, "TargetGroup"));
        w.plain(&node, &iri(DCT, "identifier"), &t.code);
        w.texts(&node, &iri(SKOS, "prefLabel"), &t.name)?;
    }
    for e in &catalogue.life_events {
        let node = w.node("life-event", &e.code);
        // A life event is an event (CPSV-AP's LifeEvent specialises Event): said, so that a
        // validator that reads no ontology knows it.
        w.typed(&node, &iri(CV, "Event"));
        w.typed(&node, &iri(CV, "LifeEvent"));
        w.typed(&node, &iri(GX, "LifeEvent"));
        w.plain(&node, &iri(DCT, "identifier"), &e.code);
        w.texts(&node, &iri(DCT, "title"), &e.name)?;
    }
    for s in &catalogue.services {
        w.service(s)?;
    }
    // The languages and currencies named, as the concepts CPSV-AP takes them for.
    for language in std::mem::take(&mut w.languages) {
        w.typed(&language, &iri(DCT, "LinguisticSystem"));
    }
    for currency in std::mem::take(&mut w.currencies) {
        w.typed(&currency, &iri(SKOS, "Concept"));
    }
    let mut serializer = RdfSerializer::from_format(RdfFormat::Turtle);
    for (prefix, ns) in PREFIXES {
        serializer = serializer
            .with_prefix(prefix, ns)
            .map_err(|e| Error::Export(e.to_string()))?;
    }
    let mut out = serializer.for_writer(Vec::new());
    for t in &w.triples {
        out.serialize_triple(t)
            .map_err(|e| Error::Export(e.to_string()))?;
    }
    out.finish().map_err(|e| Error::Export(e.to_string()))
}

struct Writer<'a> {
    triples: Vec<Triple>,
    base: &'a str,
    /// The language and currency IRIs linked to, typed once at the end.
    languages: BTreeSet<String>,
    currencies: BTreeSet<String>,
}

impl Writer<'_> {
    fn node(&self, kind: &str, code: &str) -> String {
        format!("{}{kind}:{code}", self.base)
    }

    fn add(&mut self, subject: &str, predicate: &str, object: Term) {
        self.triples.push(Triple::new(
            NamedOrBlankNode::NamedNode(NamedNode::new_unchecked(subject)),
            NamedNode::new_unchecked(predicate),
            object,
        ));
    }

    fn link(&mut self, subject: &str, predicate: &str, object: &str) {
        self.add(
            subject,
            predicate,
            Term::NamedNode(NamedNode::new_unchecked(object)),
        );
    }

    fn typed(&mut self, subject: &str, class: &str) {
        self.link(subject, RDF_TYPE, class);
    }

    fn plain(&mut self, subject: &str, predicate: &str, value: &str) {
        self.add(
            subject,
            predicate,
            Term::Literal(Literal::new_simple_literal(value)),
        );
    }

    fn typed_value(&mut self, subject: &str, predicate: &str, value: &str, datatype: &str) {
        self.add(
            subject,
            predicate,
            Term::Literal(Literal::new_typed_literal(
                value,
                NamedNode::new_unchecked(iri(XSD, datatype)),
            )),
        );
    }

    fn tagged(
        &mut self,
        subject: &str,
        predicate: &str,
        value: &str,
        lang: &str,
    ) -> Result<(), Error> {
        let literal = Literal::new_language_tagged_literal(value, lang).map_err(|e| {
            Error::Export(format!(
                "<{subject}> has a text in '{lang}', which is not a language tag ({e}): \
                 correct it in the catalogue"
            ))
        })?;
        self.add(subject, predicate, Term::Literal(literal));
        Ok(())
    }

    fn texts(&mut self, subject: &str, predicate: &str, text: &Text) -> Result<(), Error> {
        for (lang, value) in &text.0 {
            self.tagged(subject, predicate, value, lang)?;
        }
        Ok(())
    }

    fn json(
        &mut self,
        subject: &str,
        local: &str,
        value: &impl serde::Serialize,
    ) -> Result<(), Error> {
        let text = serde_json::to_string(value).map_err(|e| Error::Export(e.to_string()))?;
        self.plain(subject, &iri(GX, local), &text);
        Ok(())
    }

    fn service(&mut self, s: &Service) -> Result<(), Error> {
        let node = self.node("service", &s.code);
        self.typed(&node, &iri(CPSV, "PublicService"));
        self.plain(&node, &iri(DCT, "identifier"), &s.code);
        self.texts(&node, &iri(DCT, "title"), &s.title)?;
        self.texts(&node, &iri(DCT, "description"), &s.description)?;
        for (lang, words) in &s.keywords {
            for word in words {
                self.tagged(&node, &iri(DCAT, "keyword"), word, lang)?;
            }
        }
        for lang in s.title.0.keys().filter_map(|l| eu_language(l)) {
            let language = iri(EU_LANGUAGE, lang);
            self.link(&node, &iri(DCT, "language"), &language);
            self.languages.insert(language);
        }
        let agency = self.node("agency", &s.agency);
        self.link(&node, &iri(CV, "hasCompetentAuthority"), &agency);
        let category = self.node("category", &s.category);
        self.link(&node, &iri(CV, "thematicArea"), &category);
        self.plain(&node, &iri(GX, "category"), &s.category);
        for t in &s.target_groups {
            let group = self.node("target-group", t);
            self.link(&node, &iri(DCT, "audience"), &group);
        }
        for e in &s.life_events {
            let event = self.node("life-event", e);
            self.link(&node, &iri(CV, "isGroupedBy"), &event);
        }
        for (rank, d) in s.documents.iter().enumerate() {
            let requirement = format!("{node}:requirement:{}", d.code);
            let evidence = format!("{node}:evidence:{}", d.code);
            self.link(&node, &iri(CV, "holdsRequirement"), &requirement);
            self.typed(&requirement, &iri(CV, "Requirement"));
            self.plain(&requirement, &iri(DCT, "identifier"), &d.code);
            self.texts(&requirement, &iri(DCT, "title"), &d.name)?;
            self.link(&requirement, &iri(CV, "hasSupportingEvidence"), &evidence);
            self.typed(&evidence, &iri(CV, "Evidence"));
            self.plain(&evidence, &iri(DCT, "identifier"), &d.code);
            self.texts(&evidence, &iri(DCT, "title"), &d.name)?;
            self.plain(&evidence, &iri(GX, "documentKind"), d.kind.as_str());
            self.typed_value(&evidence, &iri(GX, "rank"), &rank.to_string(), "integer");
        }
        if let Fee::Charged { amount, tier } = &s.fee {
            let cost = format!("{node}:cost");
            self.link(&node, &iri(CV, "hasCost"), &cost);
            self.typed(&cost, &iri(CV, "Cost"));
            self.plain(&cost, &iri(DCT, "identifier"), &format!("{}-fee", s.code));
            // CPSV-AP types a cost's value as xsd:double; written in decimal notation
            // ("16.00"), which that type allows, an import reads back the exact amount.
            self.typed_value(&cost, &iri(CV, "hasValue"), &amount.decimal(), "double");
            let currency = iri(EU_CURRENCY, amount.currency.code());
            self.link(&cost, &iri(CV, "currency"), &currency);
            self.currencies.insert(currency);
            self.plain(&node, &iri(GX, "feeTier"), tier.as_str());
        }
        self.typed_value(
            &node,
            &iri(CV, "processingTime"),
            &format!("P{}D", s.processing_days),
            "duration",
        );
        self.typed_value(
            &node,
            &iri(GX, "processingDays"),
            &s.processing_days.to_string(),
            "integer",
        );
        self.json(&node, "channels", &s.channels)?;
        self.json(&node, "form", &s.form)?;
        self.json(&node, "exemptions", &s.exemptions)?;
        self.json(&node, "availability", &s.availability)?;
        Ok(())
    }
}
