//! The service catalogue: what a centre can do for a citizen, presented the way citizens think
//! (life events, target groups, categories) rather than by which ministry owns it.
//!
//! The back office owns the catalogue and publishes it as numbered versions; a workstation
//! keeps the version it last received. `Catalogue::validate` is the one gate every catalogue
//! passes before it is stored, on either side, and it reports every problem at once so that
//! whoever prepared the file can fix them in one go.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::form::FormField;
use crate::money::Money;
use crate::text::Text;

/// A whole catalogue version as published by the back office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub version: u32,
    pub categories: Vec<Category>,
    pub agencies: Vec<Agency>,
    pub target_groups: Vec<TargetGroup>,
    pub life_events: Vec<LifeEvent>,
    pub services: Vec<Service>,
}

/// A group of services on the citizen's terms ("Civil status", "Vehicles"). Its letter starts
/// the display code of the queue tickets issued for it (`B017`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name: Text,
    pub queue_letter: char,
}

/// The authority responsible for a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub code: String,
    pub name: Text,
}

/// A group of citizens services are aimed at (families, job seekers, older people, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    pub code: String,
    pub name: Text,
}

/// A moment in life that brings a citizen to the counter (moving house, a birth, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifeEvent {
    pub code: String,
    pub name: Text,
}

/// One public service as the centre offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Stable across catalogue versions: requests refer to it.
    pub code: String,
    pub title: Text,
    pub description: Text,
    /// Search words per language, beyond those in the title and description.
    #[serde(default)]
    pub keywords: BTreeMap<String, Vec<String>>,
    pub category: String,
    pub agency: String,
    #[serde(default)]
    pub target_groups: Vec<String>,
    #[serde(default)]
    pub life_events: Vec<String>,
    #[serde(default)]
    pub documents: Vec<DocumentRequirement>,
    #[serde(default)]
    pub form: Vec<FormField>,
    pub fee: Fee,
    /// Target groups whose members pay nothing for this service.
    #[serde(default)]
    pub exemptions: Vec<String>,
    /// Working days from intake to the expected result.
    pub processing_days: u32,
    /// What a centre can do with the service on each channel; a channel not listed does not
    /// offer it at all.
    pub channels: BTreeMap<Channel, Depth>,
    pub availability: Availability,
}

/// A document the citizen must bring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequirement {
    pub code: String,
    pub name: Text,
    pub kind: DocumentKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Original,
    Copy,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Original => "original",
            DocumentKind::Copy => "copy",
        }
    }
}

/// What the citizen pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fee {
    Free,
    Charged { amount: Money, tier: FeeTier },
}

impl Fee {
    /// The amount due, if any.
    pub fn amount(&self) -> Option<&Money> {
        match self {
            Fee::Free => None,
            Fee::Charged { amount, .. } => Some(amount),
        }
    }

    pub fn tier(&self) -> Option<FeeTier> {
        match self {
            Fee::Free => None,
            Fee::Charged { tier, .. } => Some(*tier),
        }
    }
}

/// Bangladesh's union centres are the model: certificates free, information at a subsidised
/// fee, printing and banking at commercial rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeeTier {
    Standard,
    Subsidized,
    Commercial,
}

impl FeeTier {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeTier::Standard => "standard",
            FeeTier::Subsidized => "subsidized",
            FeeTier::Commercial => "commercial",
        }
    }
}

/// Where a citizen meets the service.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    StationaryCenter,
    MobileCenter,
    Kiosk,
    CallCenter,
    Web,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::StationaryCenter,
        Channel::MobileCenter,
        Channel::Kiosk,
        Channel::CallCenter,
        Channel::Web,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::StationaryCenter => "stationary_center",
            Channel::MobileCenter => "mobile_center",
            Channel::Kiosk => "kiosk",
            Channel::CallCenter => "call_center",
            Channel::Web => "web",
        }
    }

    pub fn parse(input: &str) -> Result<Self> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == input.trim().to_ascii_lowercase().replace('-', "_"))
            .ok_or_else(|| DomainError::UnknownChoice {
                what: "channel",
                input: input.to_owned(),
                expected: Channel::ALL.map(Channel::as_str).join(", "),
            })
    }
}

/// The longest waiting-time target a centre may set, in minutes (a working day).
pub const MAX_WAITING_TARGET_MIN: u32 = 600;

/// The most characters a centre's name may have.
pub const MAX_CENTER_NAME_CHARS: usize = 120;

/// What is wrong with a centre's name (see [`center_name`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CenterNameProblem {
    #[error("the centre needs a name")]
    Empty,
    #[error("the centre's name has {chars} characters: give at most {MAX_CENTER_NAME_CHARS}")]
    TooLong { chars: usize },
    #[error(
        "the centre's name holds the invisible character {}, which can hide or reorder what \
         the screen shows: give it as plain text",
        crate::text::code_point(*.0)
    )]
    Hidden(char),
}

/// A centre's name, trimmed, or what is wrong with it: empty, longer than
/// [`MAX_CENTER_NAME_CHARS`], or holding control characters (it is shown in every window's
/// header and written into reports).
pub fn center_name(name: &str) -> std::result::Result<&str, String> {
    checked_center_name(name).map_err(|problem| problem.to_string())
}

/// [`center_name`], with what is wrong said as a [`CenterNameProblem`].
pub fn checked_center_name(name: &str) -> std::result::Result<&str, CenterNameProblem> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(CenterNameProblem::Empty);
    }
    if chars > MAX_CENTER_NAME_CHARS {
        return Err(CenterNameProblem::TooLong { chars });
    }
    if let Some(c) = crate::text::hidden_character(name, false) {
        return Err(CenterNameProblem::Hidden(c));
    }
    Ok(name)
}

/// A centre's waiting-time target, or what is wrong with it.
pub fn waiting_target(minutes: u32) -> std::result::Result<u32, String> {
    if !(1..=MAX_WAITING_TARGET_MIN).contains(&minutes) {
        return Err(format!(
            "a waiting-time target of {minutes} minutes is not valid: give 1 to {MAX_WAITING_TARGET_MIN}"
        ));
    }
    Ok(minutes)
}

/// What kind of place a centre is; it decides the channel its workstations serve on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CenterKind {
    Stationary,
    Mobile,
    Kiosk,
}

impl CenterKind {
    pub const ALL: [CenterKind; 3] = [
        CenterKind::Stationary,
        CenterKind::Mobile,
        CenterKind::Kiosk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CenterKind::Stationary => "stationary",
            CenterKind::Mobile => "mobile",
            CenterKind::Kiosk => "kiosk",
        }
    }

    pub fn parse(input: &str) -> Result<Self> {
        CenterKind::ALL
            .into_iter()
            .find(|k| k.as_str() == input.trim().to_ascii_lowercase())
            .ok_or_else(|| DomainError::UnknownChoice {
                what: "centre kind",
                input: input.to_owned(),
                expected: CenterKind::ALL.map(CenterKind::as_str).join(", "),
            })
    }

    pub fn channel(self) -> Channel {
        match self {
            CenterKind::Stationary => Channel::StationaryCenter,
            CenterKind::Mobile => Channel::MobileCenter,
            CenterKind::Kiosk => Channel::Kiosk,
        }
    }
}

/// How far a centre can take a service on one channel.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Depth {
    /// The clerk can explain the service; the citizen applies elsewhere.
    InformationOnly,
    /// The centre receives the application and documents and forwards them.
    Partial,
    /// The whole transaction happens at the counter.
    Complete,
}

impl Depth {
    pub fn as_str(self) -> &'static str {
        match self {
            Depth::InformationOnly => "information_only",
            Depth::Partial => "partial",
            Depth::Complete => "complete",
        }
    }

    /// Whether a request can be taken at all: information-only services have no application.
    pub fn takes_requests(self) -> bool {
        self != Depth::InformationOnly
    }
}

/// Where the service is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Availability {
    Everywhere,
    /// Only at the listed centres (by centre code), where there is demand for it.
    Centers {
        centers: Vec<String>,
    },
}

impl Availability {
    pub fn offered_at(&self, center: &str) -> bool {
        match self {
            Availability::Everywhere => true,
            Availability::Centers { centers } => centers.iter().any(|c| c == center),
        }
    }
}

impl Service {
    /// Whether a member of `group` is exempt from the fee.
    pub fn exempts(&self, group: &str) -> bool {
        self.exemptions.iter().any(|g| g == group)
    }

    pub fn depth(&self, channel: Channel) -> Option<Depth> {
        self.channels.get(&channel).copied()
    }
}

/// A code is what scripts, URLs and other rows use to refer to an entry: keep it short and
/// plain so it survives every layer untouched.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

impl Catalogue {
    /// Checks the whole catalogue and reports every problem found.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let mut codes = |kind: &str, items: Vec<(&str, &Text)>| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            for (code, name) in items {
                if !is_valid_code(code) {
                    problems.push(format!(
                        "{kind} code '{code}' is not valid: use 1 to 64 letters, digits, '-', '_' or '.'"
                    ));
                }
                if !seen.insert(code.to_owned()) {
                    problems.push(format!("{kind} code '{code}' appears twice"));
                }
                for lang in name.missing_languages() {
                    problems.push(format!("{kind} '{code}' has no name in '{lang}'"));
                }
            }
            seen
        };
        let categories = codes(
            "category",
            self.categories
                .iter()
                .map(|c| (c.code.as_str(), &c.name))
                .collect(),
        );
        let agencies = codes(
            "agency",
            self.agencies
                .iter()
                .map(|c| (c.code.as_str(), &c.name))
                .collect(),
        );
        let groups = codes(
            "target group",
            self.target_groups
                .iter()
                .map(|c| (c.code.as_str(), &c.name))
                .collect(),
        );
        let events = codes(
            "life event",
            self.life_events
                .iter()
                .map(|c| (c.code.as_str(), &c.name))
                .collect(),
        );
        codes(
            "service",
            self.services
                .iter()
                .map(|s| (s.code.as_str(), &s.title))
                .collect(),
        );
        let mut letters = BTreeMap::new();
        for category in &self.categories {
            if !category.queue_letter.is_ascii_uppercase() {
                problems.push(format!(
                    "category '{}' has queue letter '{}': use one capital letter A to Z",
                    category.code, category.queue_letter
                ));
            }
            if let Some(other) = letters.insert(category.queue_letter, &category.code) {
                problems.push(format!(
                    "categories '{other}' and '{}' share the queue letter '{}'",
                    category.code, category.queue_letter
                ));
            }
        }
        for service in &self.services {
            problems.extend(service_problems(
                service,
                &categories,
                &agencies,
                &groups,
                &events,
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DomainError::InvalidCatalogue { problems })
        }
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }
}

fn service_problems(
    service: &Service,
    categories: &BTreeSet<String>,
    agencies: &BTreeSet<String>,
    groups: &BTreeSet<String>,
    events: &BTreeSet<String>,
) -> Vec<String> {
    let code = &service.code;
    let mut problems = Vec::new();
    let mut refer = |kind: &str, known: &BTreeSet<String>, value: &String| {
        if !known.contains(value) {
            problems.push(format!(
                "service '{code}' refers to unknown {kind} '{value}'"
            ));
        }
    };
    refer("category", categories, &service.category);
    refer("agency", agencies, &service.agency);
    for g in service.target_groups.iter().chain(&service.exemptions) {
        refer("target group", groups, g);
    }
    for e in &service.life_events {
        refer("life event", events, e);
    }
    for (kind, list) in [
        ("target group", &service.target_groups),
        ("life event", &service.life_events),
        ("exemption", &service.exemptions),
    ] {
        let mut seen = BTreeSet::new();
        for code in list {
            if !seen.insert(code) {
                problems.push(format!(
                    "service '{}' lists {kind} '{code}' twice",
                    service.code
                ));
            }
        }
    }
    for lang in service.description.missing_languages() {
        problems.push(format!("service '{code}' has no description in '{lang}'"));
    }
    if let Fee::Charged { amount, .. } = &service.fee
        && amount.minor <= 0
    {
        problems.push(format!(
            "service '{code}' has a charged fee of {amount}: a charged fee must be above zero (use kind \"free\" otherwise)"
        ));
    }
    if service.fee != Fee::Free && !service.channels.values().any(|d| d.takes_requests()) {
        problems.push(format!(
            "service '{code}' charges a fee but is information only on every channel: no request can pay it"
        ));
    }
    if service.fee == Fee::Free && !service.exemptions.is_empty() {
        problems.push(format!(
            "service '{code}' is free but lists fee exemptions: remove them"
        ));
    }
    if service.channels.is_empty() {
        problems.push(format!(
            "service '{code}' is offered on no channel: list at least one"
        ));
    }
    if let Availability::Centers { centers } = &service.availability
        && centers.is_empty()
    {
        problems.push(format!(
            "service '{code}' is available at no centre: list centres or use \"everywhere\""
        ));
    }
    let mut seen = BTreeSet::new();
    for doc in &service.documents {
        if !is_valid_code(&doc.code) {
            problems.push(format!(
                "service '{code}' has document code '{}': use letters, digits, '-', '_' or '.'",
                doc.code
            ));
        }
        if !seen.insert(&doc.code) {
            problems.push(format!(
                "service '{code}' lists document '{}' twice",
                doc.code
            ));
        }
        for lang in doc.name.missing_languages() {
            problems.push(format!(
                "document '{}' of service '{code}' has no name in '{lang}'",
                doc.code
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for field in &service.form {
        if !is_valid_code(&field.code) {
            problems.push(format!(
                "service '{code}' has form field code '{}': use letters, digits, '-', '_' or '.'",
                field.code
            ));
        }
        if !seen.insert(&field.code) {
            problems.push(format!(
                "service '{code}' has form field '{}' twice",
                field.code
            ));
        }
        problems.extend(
            field
                .problems()
                .into_iter()
                .map(|p| format!("service '{code}': {p}")),
        );
    }
    problems
}
