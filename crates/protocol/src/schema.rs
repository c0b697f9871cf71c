//! The protocol as a JSON Schema document (draft 2020-12), derived from the wire types.
//!
//! `document()` generates it; `schema/sync-protocol.schema.json` is the committed copy, and a
//! test fails when the two differ. The wire types derive `JsonSchema`; the domain types they
//! carry (citizens, money, statuses, catalogues, ...) are described by the mirrors in
//! [`domain`], which follow the domain's serde shapes field for field. A test in
//! `guichet-tests` validates real messages against the document, so a mirror that drifts from
//! its domain type fails there.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::{
    ApiError, Change, EnrollRequest, EnrollResponse, ExchangeRequest, ExchangeResponse, Outcome,
    Pulled,
};

/// Where the committed copy lives, from the workspace root.
pub const PATH: &str = "schema/sync-protocol.schema.json";

/// The messages of the protocol, each under `$defs` by its type name.
pub const MESSAGES: &[&str] = &[
    "EnrollRequest",
    "EnrollResponse",
    "ExchangeRequest",
    "ExchangeResponse",
    "ApiError",
];

/// The whole protocol: every message and the types they use, under `$defs`.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    generator.subschema_for::<EnrollRequest>();
    generator.subschema_for::<EnrollResponse>();
    generator.subschema_for::<ExchangeRequest>();
    generator.subschema_for::<ExchangeResponse>();
    generator.subschema_for::<ApiError>();
    generator.subschema_for::<Change>();
    generator.subschema_for::<Outcome>();
    generator.subschema_for::<Pulled>();
    let definitions: Map<String, Value> = generator.take_definitions(true);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Guichet sync protocol {}", crate::VERSION),
        "description": format!(
            "Generated from crates/protocol (guichet_protocol::schema::document); the prose is in \
             schema/sync-protocol.md. Requests: EnrollRequest to POST {base}/enroll, \
             ExchangeRequest to POST {base}/exchange. Answers: EnrollResponse, \
             ExchangeResponse; every error is an ApiError.",
            base = crate::BASE_PATH
        ),
        "$defs": definitions,
    })
}

/// The document as committed: pretty JSON with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

/// Mirrors of the domain types the messages carry, for their schema only: same names, same
/// fields, same serde attributes as in `guichet_domain`.
pub mod domain {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;
    use schemars::JsonSchema;

    /// A hybrid logical clock stamp: wall milliseconds (15 digits), counter (6 digits), node.
    #[derive(Debug, JsonSchema)]
    #[schemars(transparent)]
    pub struct HlcStamp(#[schemars(regex(pattern = r"^[0-9]{15}-[0-9]{6}-.+$"))] pub String);

    /// A receipt number in its canonical form: 4 prefix symbols, 7 sequence symbols, a check
    /// symbol (alphabet `0-9A-Y` without I, L, O, S, U, Z).
    #[derive(Debug, JsonSchema)]
    #[schemars(transparent)]
    pub struct ReceiptNumber(#[schemars(regex(pattern = r"^[0-9A-HJKMNPQRTV-Y]{12}$"))] pub String);

    /// A device's receipt prefix: 4 symbols of the receipt alphabet.
    #[derive(Debug, JsonSchema)]
    #[schemars(transparent)]
    pub struct ReceiptPrefix(#[schemars(regex(pattern = r"^[0-9A-HJKMNPQRTV-Y]{4}$"))] pub String);

    /// An ISO 4217 currency code.
    #[derive(Debug, JsonSchema)]
    #[schemars(transparent)]
    pub struct Currency(#[schemars(regex(pattern = r"^[A-Z]{3}$"))] pub String);

    /// An amount in minor units (cents) of one currency.
    #[derive(Debug, JsonSchema)]
    pub struct Money {
        pub minor: i64,
        pub currency: Currency,
    }

    /// Translations by language code ("en", "fr").
    #[derive(Debug, JsonSchema)]
    #[schemars(transparent)]
    pub struct Text(pub BTreeMap<String, String>);

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum RequestStatus {
        Draft,
        Submitted,
        Dispatched,
        InProcessing,
        ReturnedForCorrection,
        Ready,
        Delivered,
        Rejected,
        Cancelled,
    }

    /// A transition of a request. The centre owns submit, dispatch, resubmit, deliver and
    /// cancel; the agency owns take_in_processing, return_for_correction, mark_ready, reject.
    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Action {
        Submit,
        Dispatch,
        Resubmit,
        Deliver,
        Cancel,
        TakeInProcessing,
        ReturnForCorrection,
        MarkReady,
        Reject,
    }

    /// A citizen as the centre knows them.
    #[derive(Debug, JsonSchema)]
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

    #[derive(Debug, JsonSchema)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    pub enum Fee {
        Free,
        Charged { amount: Money, tier: FeeTier },
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum FeeTier {
        Standard,
        Subsidized,
        Commercial,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PaymentMethod {
        Cash,
        Card,
        MobileMoney,
    }

    /// A citizen's rating of a visit.
    #[derive(Debug, JsonSchema)]
    pub struct Feedback {
        #[schemars(range(min = 1, max = 5))]
        pub rating: u8,
        pub comment: Option<String>,
        pub channel: Channel,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(tag = "kind", content = "code", rename_all = "snake_case")]
    pub enum QueueTarget {
        Service(String),
        Category(String),
    }

    #[derive(Debug, JsonSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum CounterScope {
        All,
        Listed {
            services: Vec<String>,
            categories: Vec<String>,
        },
    }

    #[derive(Debug, JsonSchema)]
    pub struct Counter {
        pub code: String,
        pub name: String,
        pub scope: CounterScope,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TicketStatus {
        Waiting,
        Called,
        NoShow,
        Serving,
        Done,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TicketAction {
        Call,
        Recall,
        NoShow,
        Start,
        Finish,
        Transfer,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum CenterKind {
        Stationary,
        Mobile,
        Kiosk,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Channel {
        StationaryCenter,
        MobileCenter,
        Kiosk,
        CallCenter,
        Web,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Depth {
        InformationOnly,
        Partial,
        Complete,
    }

    /// A catalogue version, as in the fixture format (`fixtures/demo-catalogue.json`).
    #[derive(Debug, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Catalogue {
        pub version: u32,
        pub categories: Vec<Category>,
        pub agencies: Vec<Agency>,
        pub target_groups: Vec<Named>,
        pub life_events: Vec<Named>,
        pub services: Vec<Service>,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Category {
        pub code: String,
        pub name: Text,
        pub queue_letter: char,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Agency {
        pub code: String,
        pub name: Text,
    }

    /// A target group or a life event.
    #[derive(Debug, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Named {
        pub code: String,
        pub name: Text,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Service {
        pub code: String,
        pub title: Text,
        pub description: Text,
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
        #[serde(default)]
        pub exemptions: Vec<String>,
        pub processing_days: u32,
        /// Keys are channels (`stationary_center`, `mobile_center`, `kiosk`, `call_center`,
        /// `web`).
        pub channels: BTreeMap<String, Depth>,
        pub availability: Availability,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct DocumentRequirement {
        pub code: String,
        pub name: Text,
        pub kind: DocumentKind,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum DocumentKind {
        Original,
        Copy,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    pub enum Availability {
        Everywhere,
        Centers { centers: Vec<String> },
    }

    #[derive(Debug, JsonSchema)]
    pub struct FormField {
        pub code: String,
        pub label: Text,
        #[serde(default)]
        pub required: bool,
        #[serde(flatten)]
        pub kind: FieldKind,
    }

    #[derive(Debug, JsonSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum FieldKind {
        Text {
            #[serde(default)]
            min_length: Option<u32>,
            #[serde(default)]
            max_length: Option<u32>,
        },
        Date {
            #[serde(default)]
            not_future: bool,
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

    #[derive(Debug, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ChoiceOption {
        pub code: String,
        pub label: Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed schema is what the types generate. After changing a wire type, write it
    /// again with `GUICHET_WRITE_SCHEMA=1 cargo test -p guichet-protocol committed_schema`.
    #[test]
    fn committed_schema_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(PATH);
        let generated = document_text();
        if std::env::var_os("GUICHET_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{PATH} differs from the schema the wire types generate; write it again with \
             `GUICHET_WRITE_SCHEMA=1 cargo test -p guichet-protocol committed_schema` and commit it"
        );
    }

    #[test]
    fn every_message_and_kind_is_described() {
        let doc = document();
        let defs = doc["$defs"].as_object().unwrap();
        for name in MESSAGES
            .iter()
            .copied()
            .chain(["Change", "Outcome", "Pulled", "ErrorCode"])
        {
            assert!(defs.contains_key(name), "{name} is missing");
        }
        let text = doc["$defs"]["Change"].to_string();
        for kind in [
            "citizen.registered",
            "request.created",
            "request.transition",
            "request.document_marked",
            "payment.recorded",
            "fee.waived",
            "counter.added",
            "ticket.issued",
            "ticket.step",
            "ticket.transferred",
            "feedback.recorded",
        ] {
            assert!(text.contains(kind), "change kind {kind} is missing");
        }
    }
}
