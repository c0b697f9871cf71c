//! From a CPSV-AP file to Guichet's catalogue, with what was mapped, defaulted and left out.
//!
//! What CPSV-AP says and Guichet uses:
//!
//! | CPSV-AP | Guichet |
//! |---|---|
//! | `cpsv:PublicService`, `dct:identifier` (else the IRI's last segment) | a service and its code |
//! | `dct:title`, `dct:description`, `dcat:keyword` per language | title, description, keywords |
//! | `dct:language` | the language of a text the file does not tag |
//! | `cv:hasCompetentAuthority` → `cv:PublicOrganisation` | the agency |
//! | `cv:thematicArea`, else `cv:sector` (a labelled concept) | the category |
//! | `dct:audience` | target groups |
//! | `cpsv:isGroupedBy` / `cv:isGroupedBy` → `cv:LifeEvent`, `cv:BusinessEvent` | life events |
//! | `cpsv:hasInput`, `cv:holdsRequirement` → `cv:hasSupportingEvidence` → `cv:Evidence` | documents to bring |
//! | `cv:hasCost` → `cv:hasValue`, `cv:currency` | the fee |
//! | `cv:processingTime` (an `xsd:duration`) | processing days |
//!
//! What Guichet needs and CPSV-AP lacks is filled by a documented default, reported per
//! service, unless the file carries Guichet's own words for it (an export of Guichet does):
//! the depth of a service on each channel (partial at stationary and mobile centres,
//! information only at kiosks, call centres and on the web), its form (none), fee tier
//! (standard), exemptions (none), where it is offered (everywhere), a document's kind
//! (original), and a text in English or French where the file has neither (the text of
//! another language stands in). Everything else said of a service (outputs, legal resources,
//! contact points, channels, rules, ...) is reported as not mapped: nothing is dropped
//! silently.

use std::collections::{BTreeMap, BTreeSet};

use guichet_domain::catalogue::{
    Agency, Availability, Catalogue, Category, Channel, Depth, DocumentKind, DocumentRequirement,
    Fee, FeeTier, LifeEvent, Service, TargetGroup, is_valid_code,
};
use guichet_domain::form::FormField;
use guichet_domain::money::{Currency, Money};
use guichet_domain::text::{REQUIRED_LANGUAGES, Text};
use serde::Serialize;

use crate::Error;
use crate::graph::{Graph, Object, Syntax};
use crate::vocab::{
    CPSV, CV, DCAT, DCT, FOAF, GX, PREFIXES, RDF_TYPE, RDFS, SKOS, iri, language_code,
};

/// What an import needs besides the file.
#[derive(Debug, Clone)]
pub struct Options {
    /// The version the catalogue gets.
    pub version: u32,
    /// The language of texts the file does not tag, when a service names none
    /// (`dct:language`).
    pub language: String,
    /// The currency of a cost that names none.
    pub currency: Option<String>,
    /// Working days from intake to result where the file gives no processing time.
    pub processing_days: u32,
    /// What CPSV-AP does not say, given by the programme for all services or some.
    pub companion: Companion,
}

/// A companion file: what CPSV-AP does not say about services (the depth per channel, the
/// form, the fee tier...), for every service (`defaults`) or by service code (`services`).
/// What the catalogue file says in Guichet's own words comes first, then the service's entry,
/// then the defaults, then Guichet's documented defaults.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Companion {
    #[serde(default)]
    pub defaults: Fill,
    #[serde(default)]
    pub services: BTreeMap<String, Fill>,
}

/// What a companion file gives for a service; each part optional.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fill {
    pub channels: Option<BTreeMap<Channel, Depth>>,
    pub form: Option<Vec<FormField>>,
    pub fee_tier: Option<FeeTier>,
    pub exemptions: Option<Vec<String>>,
    pub availability: Option<Availability>,
    pub processing_days: Option<u32>,
    /// Whether the documents to bring are originals or copies.
    pub document_kind: Option<DocumentKind>,
}

impl Fill {
    /// This fill, with what it lacks taken from `defaults`.
    fn over(&self, defaults: &Fill) -> Fill {
        Fill {
            channels: self.channels.clone().or_else(|| defaults.channels.clone()),
            form: self.form.clone().or_else(|| defaults.form.clone()),
            fee_tier: self.fee_tier.or(defaults.fee_tier),
            exemptions: self
                .exemptions
                .clone()
                .or_else(|| defaults.exemptions.clone()),
            availability: self
                .availability
                .clone()
                .or_else(|| defaults.availability.clone()),
            processing_days: self.processing_days.or(defaults.processing_days),
            document_kind: self.document_kind.or(defaults.document_kind),
        }
    }
}

/// The processing time assumed where a file gives none: a month of working days.
pub const DEFAULT_PROCESSING_DAYS: u32 = 20;

impl Default for Options {
    fn default() -> Self {
        Options {
            version: 1,
            language: "en".into(),
            currency: None,
            processing_days: DEFAULT_PROCESSING_DAYS,
            companion: Companion::default(),
        }
    }
}

/// A catalogue read from a CPSV-AP file, and how.
#[derive(Debug, Clone)]
pub struct Imported {
    pub catalogue: Catalogue,
    pub report: Report,
}

/// What an import did, service by service.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub syntax: &'static str,
    pub services: Vec<ServiceReport>,
}

/// What became of one service.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceReport {
    pub code: String,
    /// The service's IRI in the file.
    pub node: String,
    pub mapped: Vec<String>,
    pub defaulted: Vec<String>,
    pub not_mapped: Vec<String>,
}

/// The channels a service is offered on, and how far, when the file does not say.
pub fn default_channels() -> BTreeMap<Channel, Depth> {
    BTreeMap::from([
        (Channel::StationaryCenter, Depth::Partial),
        (Channel::MobileCenter, Depth::Partial),
        (Channel::Kiosk, Depth::InformationOnly),
        (Channel::CallCenter, Depth::InformationOnly),
        (Channel::Web, Depth::InformationOnly),
    ])
}

/// Reads a CPSV-AP file (Turtle or JSON-LD; `syntax` None: by its content) into a catalogue.
/// A file that cannot be read, holds no service, or a service with no title, is refused
/// whole.
pub fn import(bytes: &[u8], syntax: Option<Syntax>, options: &Options) -> Result<Imported, Error> {
    let syntax = syntax.unwrap_or_else(|| Syntax::sniff(bytes));
    let graph = Graph::parse(bytes, syntax)?;
    let nodes = graph.of_type(&iri(CPSV, "PublicService"));
    if nodes.is_empty() {
        return Err(Error::NoService);
    }
    let mut b = Builder {
        graph: &graph,
        options,
        gx_categories: BTreeMap::new(),
        handled: handled(),
        categories: BTreeMap::new(),
        agencies: BTreeMap::new(),
        target_groups: BTreeMap::new(),
        life_events: BTreeMap::new(),
        codes: BTreeSet::new(),
    };
    for node in graph.of_type(&iri(GX, "Category")) {
        let code = b.node_code(node, "category");
        b.gx_categories.insert(code, node);
    }
    let mut services = Vec::new();
    let mut reports = Vec::new();
    for node in nodes {
        let (service, report) = b.service(node)?;
        services.push(service);
        reports.push(report);
    }
    if let Some(unknown) = options
        .companion
        .services
        .keys()
        .find(|code| !b.codes.contains(*code))
    {
        return Err(Error::Companion(format!(
            "it gives service '{unknown}', which the catalogue file does not hold"
        )));
    }
    b.unreferenced();
    let categories = b.categories()?;
    services.sort_by(|a, b| a.code.cmp(&b.code));
    reports.sort_by(|a, b| a.code.cmp(&b.code));
    let catalogue = Catalogue {
        version: options.version,
        categories,
        agencies: b.agencies.into_values().collect(),
        target_groups: b.target_groups.into_values().collect(),
        life_events: b.life_events.into_values().collect(),
        services,
    };
    catalogue
        .validate()
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(Imported {
        catalogue,
        report: Report {
            syntax: syntax.name(),
            services: reports,
        },
    })
}

struct Builder<'g> {
    graph: &'g Graph,
    options: &'g Options,
    /// The categories an export of Guichet describes, by code.
    gx_categories: BTreeMap<String, &'g str>,
    /// The predicates of a service the import reads, for what it reports as not mapped.
    handled: BTreeSet<String>,
    /// Category code to its name and the queue letter the file gave, if any.
    categories: BTreeMap<String, (Text, Option<char>)>,
    agencies: BTreeMap<String, Agency>,
    target_groups: BTreeMap<String, TargetGroup>,
    life_events: BTreeMap<String, LifeEvent>,
    codes: BTreeSet<String>,
}

/// The predicates of a service the import reads.
fn handled() -> BTreeSet<String> {
    [
        (DCT, "identifier"),
        (DCT, "title"),
        (DCT, "description"),
        (DCT, "language"),
        (DCT, "audience"),
        (DCAT, "keyword"),
        (CV, "hasCompetentAuthority"),
        // Reported with the depth per channel, which they do not give.
        (CV, "hasChannel"),
        (CV, "thematicArea"),
        (CV, "sector"),
        (CPSV, "isGroupedBy"),
        (CV, "isGroupedBy"),
        (CPSV, "hasInput"),
        (CV, "holdsRequirement"),
        (CV, "hasCost"),
        (CV, "processingTime"),
        (GX, "category"),
        (GX, "channels"),
        (GX, "form"),
        (GX, "feeTier"),
        (GX, "exemptions"),
        (GX, "availability"),
        (GX, "processingDays"),
    ]
    .iter()
    .map(|(ns, local)| iri(ns, local))
    .collect()
}

impl Builder<'_> {
    fn service(&mut self, node: &str) -> Result<(Service, ServiceReport), Error> {
        let g = self.graph;
        let mut r = ServiceReport {
            node: node.to_owned(),
            ..ServiceReport::default()
        };
        let languages: Vec<String> = g
            .objects(node, &iri(DCT, "language"))
            .into_iter()
            .map(|o| match o {
                Object::Node(n) => language_code(n),
                Object::Literal { value, .. } => language_code(value),
            })
            .collect();
        let untagged = languages
            .first()
            .cloned()
            .unwrap_or_else(|| self.options.language.clone());

        let code = self.code(node, &mut r);
        r.code = code.clone();
        let title = g.texts(node, &iri(DCT, "title"), &untagged);
        if title.is_empty() {
            return Err(Error::NoTitle {
                node: node.to_owned(),
            });
        }
        r.mapped.push(format!("title ({})", langs(&title)));
        let title = required(title, "title", &mut r);
        let description = g.texts(node, &iri(DCT, "description"), &untagged);
        let description = if description.is_empty() {
            r.defaulted
                .push("description: none in the file, the title stands in".into());
            title.clone()
        } else {
            r.mapped
                .push(format!("description ({})", langs(&description)));
            required(description, "description", &mut r)
        };
        let mut keywords: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (lang, word) in g.all_texts(node, &iri(DCAT, "keyword"), &untagged) {
            let list = keywords.entry(lang).or_default();
            if !list.contains(&word) {
                list.push(word);
            }
        }
        if !keywords.is_empty() {
            let n: usize = keywords.values().map(Vec::len).sum();
            r.mapped.push(format!("{n} keywords"));
        }

        let fill = self.options.companion.services.get(&code).map_or_else(
            || self.options.companion.defaults.clone(),
            |f| f.over(&self.options.companion.defaults),
        );
        let agency = self.agency(node, &untagged, &mut r);
        let category = self.category(node, &untagged, &mut r);
        let target_groups = self.target_groups(node, &untagged, &mut r);
        let life_events = self.life_events(node, &untagged, &mut r);
        let documents = self.documents(node, &untagged, fill.document_kind, &mut r);
        let fee = self.fee(node, fill.fee_tier, &mut r);
        let processing_days = self.processing_days(node, fill.processing_days, &mut r);

        let form: Vec<FormField> = match self.extension(node, "form", &mut r)? {
            Some(form) => form,
            None => match fill.form {
                Some(form) => {
                    r.mapped
                        .push(format!("form: {} field(s) (companion file)", form.len()));
                    form
                }
                None => {
                    r.defaulted
                        .push("form: none (CPSV-AP describes no form fields)".into());
                    Vec::new()
                }
            },
        };
        let exemptions: Vec<String> = match self.extension(node, "exemptions", &mut r)? {
            Some(e) => e,
            None => fill
                .exemptions
                .clone()
                .inspect(|e| {
                    r.mapped
                        .push(format!("{} fee exemption(s) (companion file)", e.len()));
                })
                .unwrap_or_default(),
        };
        let given = g.nodes(node, &iri(CV, "hasChannel")).len();
        let channels: BTreeMap<Channel, Depth> = match self.extension(node, "channels", &mut r)? {
            Some(channels) => {
                if given > 0 {
                    r.not_mapped.push(format!(
                        "{given} channel(s): the depth per channel comes from Guichet's property"
                    ));
                }
                channels
            }
            None => match fill.channels {
                Some(channels) => {
                    r.mapped
                        .push("depth per channel (companion file)".to_owned());
                    channels
                }
                None => {
                    r.defaulted.push(format!(
                        "depth per channel: partial at stationary and mobile centres, information \
                         only at kiosks, call centres and on the web (CPSV-AP has no depth; the \
                         file's {given} channel(s) are not mapped)"
                    ));
                    default_channels()
                }
            },
        };
        let availability: Availability = match self.extension(node, "availability", &mut r)? {
            Some(a) => a,
            None => match fill.availability {
                Some(a) => {
                    r.mapped
                        .push("where it is offered (companion file)".to_owned());
                    a
                }
                None => {
                    r.defaulted.push("offered at every centre".into());
                    Availability::Everywhere
                }
            },
        };

        let mut others: BTreeMap<String, usize> = BTreeMap::new();
        for (p, _) in g.about(node) {
            if p != RDF_TYPE && !self.handled.contains(p) {
                *others.entry(short(p)).or_default() += 1;
            }
        }
        for (p, n) in others {
            r.not_mapped.push(format!("{p}: {n} value(s)"));
        }
        Ok((
            Service {
                code,
                title,
                description,
                keywords,
                category,
                agency,
                target_groups,
                life_events,
                documents,
                form,
                fee,
                exemptions,
                processing_days,
                channels,
                availability,
            },
            r,
        ))
    }

    /// The service's code: its identifier when it is a valid code, else the IRI's last
    /// segment; made unique.
    fn code(&mut self, node: &str, r: &mut ServiceReport) -> String {
        let identifier = self.graph.value(node, &iri(DCT, "identifier"));
        let mut code = match identifier.filter(|i| is_valid_code(i.trim())) {
            Some(i) => i.trim().to_owned(),
            None => {
                let derived = slug(node, "service");
                r.defaulted.push(match identifier {
                    Some(i) => format!(
                        "code '{derived}' from the IRI: the identifier '{i}' is not a code (letters, digits, '-', '_', '.')"
                    ),
                    None => format!("code '{derived}' from the IRI: no dct:identifier"),
                });
                derived
            }
        };
        if self.codes.contains(&code) {
            let base = code.clone();
            let mut n = 2;
            while self.codes.contains(&code) {
                code = format!("{base}-{n}");
                n += 1;
            }
            r.defaulted.push(format!(
                "code '{code}': '{base}' is taken by another service"
            ));
        }
        self.codes.insert(code.clone());
        code
    }

    /// A name for a node: its preferred label, title, name or label, in every language.
    fn name(&self, node: &str, untagged: &str) -> BTreeMap<String, String> {
        for (ns, local) in [
            (SKOS, "prefLabel"),
            (DCT, "title"),
            (FOAF, "name"),
            (RDFS, "label"),
        ] {
            let texts = self.graph.texts(node, &iri(ns, local), untagged);
            if !texts.is_empty() {
                return texts;
            }
        }
        BTreeMap::new()
    }

    /// The code of a node other than a service: its identifier, else its IRI's last segment.
    fn node_code(&self, node: &str, fallback: &str) -> String {
        self.graph
            .value(node, &iri(DCT, "identifier"))
            .map(str::trim)
            .filter(|i| is_valid_code(i))
            .map_or_else(|| slug(node, fallback), str::to_owned)
    }

    fn agency(&mut self, node: &str, untagged: &str, r: &mut ServiceReport) -> String {
        let authority = self
            .graph
            .nodes(node, &iri(CV, "hasCompetentAuthority"))
            .first()
            .copied();
        let Some(authority) = authority else {
            r.defaulted
                .push("agency: no competent authority in the file, 'not-given'".into());
            self.agencies
                .entry("not-given".into())
                .or_insert_with(|| Agency {
                    code: "not-given".into(),
                    name: Text::en_fr("Authority not given", "Autorité non précisée"),
                });
            return "not-given".into();
        };
        let code = self.node_code(authority, "authority");
        let mut names = self.name(authority, untagged);
        if names.is_empty() {
            r.defaulted.push(format!(
                "agency '{code}': not described in the file, named by its code"
            ));
            names.insert("en".into(), code.clone());
        }
        r.mapped.push(format!("competent authority '{code}'"));
        let name = fill(names);
        self.agencies.entry(code.clone()).or_insert(Agency {
            code: code.clone(),
            name,
        });
        code
    }

    fn category(&mut self, node: &str, untagged: &str, r: &mut ServiceReport) -> String {
        let g = self.graph;
        if let Some(code) = g.value(node, &iri(GX, "category")) {
            let concept = self.gx_categories.get(code).copied();
            let (name, letter) = match concept {
                Some(c) => (
                    fill(self.name(c, untagged)),
                    g.value(c, &iri(GX, "queueLetter"))
                        .and_then(|l| l.chars().next()),
                ),
                None => (Text::en_fr(code, code), None),
            };
            self.categories
                .entry(code.to_owned())
                .or_insert((name, letter));
            r.mapped.push(format!("category '{code}'"));
            return code.to_owned();
        }
        let mut concepts = g.nodes(node, &iri(CV, "thematicArea"));
        concepts.extend(g.nodes(node, &iri(CV, "sector")));
        let labelled = concepts
            .iter()
            .copied()
            .find(|c| !self.name(c, untagged).is_empty());
        let Some(concept) = labelled else {
            r.defaulted.push(if concepts.is_empty() {
                "category 'general': no thematic area or sector in the file".into()
            } else {
                format!(
                    "category 'general': none of the {} thematic areas or sectors has a label in the file",
                    concepts.len()
                )
            });
            self.categories
                .entry("general".into())
                .or_insert((Text::en_fr("General", "Général"), None));
            return "general".into();
        };
        let code = self.node_code(concept, "category");
        let name = fill(self.name(concept, untagged));
        r.mapped.push(format!("category '{code}' (thematic area)"));
        if concepts.len() > 1 {
            r.not_mapped.push(format!(
                "{} other thematic areas or sectors (a service has one category)",
                concepts.len() - 1
            ));
        }
        self.categories.entry(code.clone()).or_insert((name, None));
        code
    }

    fn target_groups(&mut self, node: &str, untagged: &str, r: &mut ServiceReport) -> Vec<String> {
        let mut out = BTreeSet::new();
        for group in self.graph.nodes(node, &iri(DCT, "audience")) {
            let code = self.node_code(group, "group");
            let mut names = self.name(group, untagged);
            if names.is_empty() {
                names.insert("en".into(), code.clone());
            }
            let name = fill(names);
            self.target_groups
                .entry(code.clone())
                .or_insert(TargetGroup {
                    code: code.clone(),
                    name,
                });
            out.insert(code);
        }
        if !out.is_empty() {
            r.mapped.push(format!("{} target group(s)", out.len()));
        }
        out.into_iter().collect()
    }

    fn life_events(&mut self, node: &str, untagged: &str, r: &mut ServiceReport) -> Vec<String> {
        let g = self.graph;
        let mut out = BTreeSet::new();
        let mut grouped = g.nodes(node, &iri(CPSV, "isGroupedBy"));
        grouped.extend(g.nodes(node, &iri(CV, "isGroupedBy")));
        for event in grouped {
            let business = g.has_type(event, &iri(CV, "BusinessEvent"));
            let names = self.name(event, untagged);
            if names.is_empty() {
                r.not_mapped
                    .push(format!("event <{event}>: not described in the file"));
                continue;
            }
            let code = self.node_code(event, "event");
            self.life_events.entry(code.clone()).or_insert(LifeEvent {
                code: code.clone(),
                name: fill(names),
            });
            r.mapped.push(format!(
                "{} '{code}'",
                if business {
                    "business event"
                } else {
                    "life event"
                }
            ));
            out.insert(code);
        }
        out.into_iter().collect()
    }

    fn documents(
        &mut self,
        node: &str,
        untagged: &str,
        kind_given: Option<DocumentKind>,
        r: &mut ServiceReport,
    ) -> Vec<DocumentRequirement> {
        let g = self.graph;
        let mut evidences = g.nodes(node, &iri(CPSV, "hasInput"));
        for requirement in g.nodes(node, &iri(CV, "holdsRequirement")) {
            let supporting = g.nodes(requirement, &iri(CV, "hasSupportingEvidence"));
            if supporting.is_empty() {
                let name = self.name(requirement, untagged);
                r.not_mapped.push(format!(
                    "requirement '{}': no evidence to bring (criteria are not checked at the counter)",
                    name.values().next().map_or(requirement, String::as_str)
                ));
            }
            evidences.extend(supporting);
        }
        let mut ranked: Vec<(Option<i64>, DocumentRequirement)> = Vec::new();
        let mut kinds_defaulted = 0;
        for evidence in evidences {
            let code = self.node_code(evidence, "document");
            if ranked.iter().any(|(_, d)| d.code == code) {
                continue;
            }
            let mut names = self.name(evidence, untagged);
            if names.is_empty() {
                names = g.texts(evidence, &iri(DCT, "description"), untagged);
            }
            if names.is_empty() {
                r.not_mapped
                    .push(format!("input <{evidence}>: not described in the file"));
                continue;
            }
            let kind = match g.value(evidence, &iri(GX, "documentKind")) {
                Some("copy") => DocumentKind::Copy,
                Some("original") => DocumentKind::Original,
                _ => match kind_given {
                    Some(kind) => kind,
                    None => {
                        kinds_defaulted += 1;
                        DocumentKind::Original
                    }
                },
            };
            let rank = g
                .value(evidence, &iri(GX, "rank"))
                .and_then(|v| v.parse().ok());
            ranked.push((
                rank,
                DocumentRequirement {
                    code,
                    name: fill(names),
                    kind,
                },
            ));
        }
        ranked.sort_by_key(|(rank, _)| *rank);
        if !ranked.is_empty() {
            r.mapped
                .push(format!("{} document(s) to bring", ranked.len()));
        }
        if kinds_defaulted > 0 {
            r.defaulted.push(format!(
                "{kinds_defaulted} document(s) asked as originals (CPSV-AP does not say original or copy)"
            ));
        }
        ranked.into_iter().map(|(_, d)| d).collect()
    }

    fn fee(&self, node: &str, tier_given: Option<FeeTier>, r: &mut ServiceReport) -> Fee {
        let g = self.graph;
        let costs = g.nodes(node, &iri(CV, "hasCost"));
        let mut fee: Option<Fee> = None;
        for cost in &costs {
            let what = g
                .value(cost, &iri(DCT, "description"))
                .map_or_else(|| format!("<{cost}>"), |d| format!("'{d}'"));
            let Some(value) = g.value(cost, &iri(CV, "hasValue")) else {
                r.not_mapped
                    .push(format!("cost {what}: no amount (cv:hasValue)"));
                continue;
            };
            let currency = g
                .objects(cost, &iri(CV, "currency"))
                .into_iter()
                .find_map(|o| match o {
                    Object::Node(n) => n.rsplit('/').next().map(str::to_owned),
                    Object::Literal { value, .. } => Some(value.clone()),
                })
                .or_else(|| self.options.currency.clone());
            let Some(currency) = currency.and_then(|c| Currency::parse(&c).ok()) else {
                r.not_mapped
                    .push(format!("cost {what}: no currency (cv:currency)"));
                continue;
            };
            let Some(amount) = amount(value, &currency) else {
                r.not_mapped
                    .push(format!("cost {what}: '{value}' is not an amount"));
                continue;
            };
            if fee.is_some() {
                r.not_mapped.push(format!(
                    "cost {what}: a service has one fee, the first is kept"
                ));
                continue;
            }
            let tier = match g.value(node, &iri(GX, "feeTier")) {
                Some("subsidized") => FeeTier::Subsidized,
                Some("commercial") => FeeTier::Commercial,
                Some("standard") => FeeTier::Standard,
                _ => match tier_given {
                    Some(tier) => tier,
                    None => {
                        if amount.minor > 0 {
                            r.defaulted.push("fee tier: standard".into());
                        }
                        FeeTier::Standard
                    }
                },
            };
            r.mapped.push(format!("fee {amount}"));
            fee = Some(if amount.minor == 0 {
                Fee::Free
            } else {
                Fee::Charged { amount, tier }
            });
        }
        fee.unwrap_or_else(|| {
            r.defaulted.push(if costs.is_empty() {
                "fee: free (no cost in the file)".into()
            } else {
                "fee: free (no cost with an amount; see below)".into()
            });
            Fee::Free
        })
    }

    fn processing_days(&self, node: &str, given: Option<u32>, r: &mut ServiceReport) -> u32 {
        let g = self.graph;
        if let Some(days) = g
            .value(node, &iri(GX, "processingDays"))
            .and_then(|d| d.parse().ok())
        {
            r.mapped.push(format!("processing time: {days} days"));
            return days;
        }
        match g.value(node, &iri(CV, "processingTime")) {
            Some(text) => match duration_days(text) {
                Some(days) => {
                    r.mapped
                        .push(format!("processing time {text}: {days} days"));
                    days
                }
                None => {
                    let days = given.unwrap_or(self.options.processing_days);
                    r.defaulted.push(format!(
                        "processing time: {days} days ('{text}' is not a duration such as P10D)"
                    ));
                    days
                }
            },
            None => match given {
                Some(days) => {
                    r.mapped
                        .push(format!("processing time: {days} days (companion file)"));
                    days
                }
                None => {
                    r.defaulted.push(format!(
                        "processing time: {} days (none in the file)",
                        self.options.processing_days
                    ));
                    self.options.processing_days
                }
            },
        }
    }

    /// One of Guichet's own properties (a JSON literal), when the file carries it.
    fn extension<T: serde::de::DeserializeOwned>(
        &self,
        node: &str,
        local: &str,
        r: &mut ServiceReport,
    ) -> Result<Option<T>, Error> {
        let Some(text) = self.graph.value(node, &iri(GX, local)) else {
            return Ok(None);
        };
        let value = serde_json::from_str(text).map_err(|e| Error::Extension {
            node: node.to_owned(),
            property: local.to_owned(),
            detail: e.to_string(),
        })?;
        r.mapped.push(format!("{local} (Guichet)"));
        Ok(Some(value))
    }

    /// The agencies, categories, target groups and life events an export of Guichet lists
    /// that no service refers to: a catalogue keeps them.
    fn unreferenced(&mut self) {
        let g = self.graph;
        for (code, node) in self.gx_categories.clone() {
            let name = fill(self.name(node, "en"));
            let letter = g
                .value(node, &iri(GX, "queueLetter"))
                .and_then(|l| l.chars().next());
            self.categories.entry(code).or_insert((name, letter));
        }
        for node in g.of_type(&iri(GX, "Agency")) {
            let code = self.node_code(node, "agency");
            let name = fill(self.name(node, "en"));
            self.agencies
                .entry(code.clone())
                .or_insert(Agency { code, name });
        }
        for node in g.of_type(&iri(GX, "TargetGroup")) {
            let code = self.node_code(node, "group");
            let name = fill(self.name(node, "en"));
            self.target_groups
                .entry(code.clone())
                .or_insert(TargetGroup { code, name });
        }
        for node in g.of_type(&iri(GX, "LifeEvent")) {
            let code = self.node_code(node, "event");
            let name = fill(self.name(node, "en"));
            self.life_events
                .entry(code.clone())
                .or_insert(LifeEvent { code, name });
        }
    }

    /// The categories with their queue letters: those the file gave, then the free letters in
    /// order of code.
    fn categories(&mut self) -> Result<Vec<Category>, Error> {
        let mut taken: BTreeSet<char> = self.categories.values().filter_map(|(_, l)| *l).collect();
        let mut free = ('A'..='Z')
            .filter(|c| !taken.contains(c))
            .collect::<Vec<_>>()
            .into_iter();
        let mut out = Vec::new();
        let count = self.categories.len();
        for (code, (name, letter)) in std::mem::take(&mut self.categories) {
            let letter = match letter {
                Some(l) => l,
                None => free.next().ok_or(Error::TooManyCategories { count })?,
            };
            taken.insert(letter);
            out.push(Category {
                code,
                name,
                queue_letter: letter,
            });
        }
        Ok(out)
    }
}

/// The languages of a set of texts, for the report.
fn langs(texts: &BTreeMap<String, String>) -> String {
    texts.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// The texts with English and French filled in from another language where missing.
fn fill(mut texts: BTreeMap<String, String>) -> Text {
    fill_required(&mut texts);
    Text(texts)
}

/// Fills English and French from another language where missing (English, else French,
/// else the first the file gives); returns what stood in.
fn fill_required(texts: &mut BTreeMap<String, String>) -> Vec<(&'static str, String)> {
    let source = ["en", "fr"]
        .into_iter()
        .find(|l| texts.contains_key(*l))
        .map(str::to_owned)
        .or_else(|| texts.keys().next().cloned());
    let Some(source) = source else {
        return Vec::new();
    };
    let text = texts[&source].clone();
    let mut filled = Vec::new();
    for lang in REQUIRED_LANGUAGES {
        if !texts.contains_key(lang) {
            texts.insert(lang.to_owned(), text.clone());
            filled.push((lang, source.clone()));
        }
    }
    filled
}

/// `fill`, reporting what stood in for `what`.
fn required(mut texts: BTreeMap<String, String>, what: &str, r: &mut ServiceReport) -> Text {
    for (lang, source) in fill_required(&mut texts) {
        r.defaulted.push(format!(
            "{what} in '{lang}': none in the file, the '{source}' text stands in"
        ));
    }
    Text(texts)
}

/// A code from an IRI's last segment: letters, digits, '-', '_' and '.' kept, the rest '-'.
fn slug(node: &str, fallback: &str) -> String {
    let tail = node
        .trim_end_matches(['/', '#'])
        .rsplit(['/', '#', ':'])
        .next()
        .unwrap_or("");
    let mut code: String = tail
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    code = code.trim_matches('-').to_owned();
    code.truncate(64);
    if is_valid_code(&code) {
        code
    } else {
        fallback.to_owned()
    }
}

/// A predicate as `prefix:local` for the report.
fn short(predicate: &str) -> String {
    for (prefix, ns) in PREFIXES {
        if let Some(local) = predicate.strip_prefix(ns) {
            return format!("{prefix}:{local}");
        }
    }
    format!("<{predicate}>")
}

/// An amount written as a decimal (or a double such as `1.6E1`) in `currency`.
fn amount(value: &str, currency: &Currency) -> Option<Money> {
    let value = value.trim();
    let plain = if value.contains('.') && !value.contains(['e', 'E']) {
        value.trim_end_matches('0').trim_end_matches('.')
    } else {
        value
    };
    Money::parse_decimal(plain, currency).ok().or_else(|| {
        let f: f64 = value.parse().ok()?;
        (f.is_finite() && f >= 0.0)
            .then(|| Money::parse_decimal(&format!("{f:.2}"), currency).ok())
            .flatten()
    })
}

/// Whole days in an `xsd:duration` (P3D, P2W, P1M as 30 days, PT48H as 2), rounded up.
fn duration_days(text: &str) -> Option<u32> {
    let rest = text.trim().strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut hours: f64 = 0.0;
    let mut number = String::new();
    for c in date.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let n: f64 = number.parse().ok()?;
        number.clear();
        hours += n
            * 24.0
            * match c {
                'Y' => 365.0,
                'M' => 30.0,
                'W' => 7.0,
                'D' => 1.0,
                _ => return None,
            };
    }
    for c in time.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let n: f64 = number.parse().ok()?;
        number.clear();
        hours += n * match c {
            'H' => 1.0,
            'M' => 1.0 / 60.0,
            'S' => 1.0 / 3600.0,
            _ => return None,
        };
    }
    if !number.is_empty() || (date.is_empty() && time.is_empty()) {
        return None;
    }
    let days = (hours / 24.0).ceil();
    (days <= f64::from(u16::MAX)).then_some(days as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_days() {
        assert_eq!(duration_days("P6D"), Some(6));
        assert_eq!(duration_days("P2W"), Some(14));
        assert_eq!(duration_days("P1M"), Some(30));
        assert_eq!(duration_days("PT48H"), Some(2));
        assert_eq!(duration_days("PT1H"), Some(1));
        assert_eq!(duration_days("P1DT12H"), Some(2));
        assert_eq!(duration_days("six days"), None);
        assert_eq!(duration_days("P"), None);
        assert_eq!(duration_days("P5"), None);
    }

    #[test]
    fn amounts_in_any_decimal_form() {
        let nok = Currency::parse("NOK").unwrap();
        assert_eq!(amount("0.51", &nok).unwrap().minor, 51);
        assert_eq!(amount("16.000", &nok).unwrap().minor, 1600);
        assert_eq!(amount("1.6E1", &nok).unwrap().minor, 1600);
        assert_eq!(amount("16", &nok).unwrap().minor, 1600);
        assert!(amount("sixteen", &nok).is_none());
        assert!(amount("-3", &nok).is_none());
    }

    #[test]
    fn codes_from_iris() {
        assert_eq!(slug("http://cpsvap.semic.eu/p_TN_1519", "s"), "p_TN_1519");
        assert_eq!(
            slug("https://example.org/målgruppe/virksomhet", "s"),
            "virksomhet"
        );
        assert_eq!(slug("https://example.org/a b/", "s"), "a-b");
        assert_eq!(slug("_:b0", "s"), "b0");
        assert_eq!(slug("https://example.org/%%", "s"), "s");
    }
}
