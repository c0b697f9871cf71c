//! Guichet's domain: the entities of a citizen service centre and the rules that govern them.
//!
//! This crate is shared by the workstation and the back office so that both apply the same
//! rules. It does no I/O: no SQL, no HTTP, no clock reads. Time comes in as arguments, which
//! keeps every rule deterministic and testable.

pub mod account;
pub mod approval;
pub mod audit;
pub mod calendar;
pub mod catalogue;
pub mod citizen;
pub mod error;
pub mod feedback;
pub mod form;
pub mod hlc;
pub mod keyslot;
pub mod message;
pub mod money;
pub mod queue;
pub mod receipt;
pub mod request;
pub mod stretch;
pub mod text;
pub mod zone;

pub use error::{DomainError, Result};

use sha2::{Digest, Sha256};

/// Bytes in lowercase hexadecimal: how digests and random tokens are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 digest of `bytes`, in hexadecimal: the one way digests of content, secrets and
/// typed names are made, on the back office and on the workstation alike.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The JSON Schema of a type that travels as one string matching `pattern` (receipt numbers,
/// clock stamps, currency codes): what the sync protocol's schema says of it.
pub(crate) fn string_schema(pattern: &str, description: &str) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": pattern,
        "description": description,
    })
}

/// Implements `JsonSchema` for a type that serializes as a string matching a pattern.
macro_rules! string_json_schema {
    ($ty:ty, $name:literal, $pattern:literal, $description:literal) => {
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                crate::string_schema($pattern, $description)
            }
        }
    };
}
pub(crate) use string_json_schema;
