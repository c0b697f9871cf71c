//! The protocol as a JSON Schema document (draft 2020-12), derived from the wire types.
//!
//! `document()` generates it; `schema/sync-protocol.schema.json` is the committed copy, and a
//! test fails when the two differ. The wire types and the domain types they carry
//! (citizens, money, statuses, catalogues, ...) derive `JsonSchema` from the same definitions
//! serde uses. A test in `guichet-tests` validates real messages against the document.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::{
    ApiError, Change, EnrollRequest, EnrollResponse, ExchangeRequest, ExchangeResponse, Outcome,
    Pulled, TokenRotation, VouchRequest, VouchResponse,
};

/// Where the committed copy lives, from the workspace root.
pub const PATH: &str = "schema/sync-protocol.schema.json";

/// The messages of the protocol, each under `$defs` by its type name.
pub const MESSAGES: &[&str] = &[
    "EnrollRequest",
    "EnrollResponse",
    "ExchangeRequest",
    "ExchangeResponse",
    "VouchRequest",
    "VouchResponse",
    "TokenRotation",
    "ApiError",
];

/// The whole protocol: every message and the types they use, under `$defs`.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    generator.subschema_for::<EnrollRequest>();
    generator.subschema_for::<EnrollResponse>();
    generator.subschema_for::<ExchangeRequest>();
    generator.subschema_for::<ExchangeResponse>();
    generator.subschema_for::<VouchRequest>();
    generator.subschema_for::<VouchResponse>();
    generator.subschema_for::<TokenRotation>();
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
             ExchangeRequest to POST {base}/exchange, VouchRequest to POST {base}/vouch, an \
             empty body to POST {base}/token. Answers: EnrollResponse, ExchangeResponse, \
             VouchResponse, TokenRotation; every error is an ApiError.",
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
            "payment.refunded",
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
