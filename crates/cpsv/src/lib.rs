//! Service catalogues in CPSV-AP, the EU's Core Public Service Vocabulary Application Profile.
//!
//! Countries publish their catalogues of public services in CPSV-AP, as Turtle or JSON-LD.
//! [`import`] reads such a file (through Oxigraph's maintained parsers, not a hand-written
//! one) into Guichet's catalogue and reports, service by service, what it mapped, what it
//! filled with a documented default and what it could not map; [`export`] writes a catalogue
//! back as CPSV-AP Turtle. Nothing here touches a disk or a network: JSON-LD contexts must be
//! inline.

mod export;
mod graph;
mod import;
pub mod vocab;

pub use export::{DEFAULT_BASE, ExportOptions, export};
pub use graph::Syntax;
pub use import::{
    Companion, DEFAULT_PROCESSING_DAYS, Fill, Imported, Options, Report, ServiceReport,
    default_channels, import,
};

/// Why a file is not imported; nothing is published then.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the file is not valid {syntax}{at}: {detail}")]
    Syntax {
        syntax: &'static str,
        at: String,
        detail: String,
    },
    #[error(
        "the JSON-LD file's context cannot be used ({detail}): Guichet reads JSON-LD whose @context is written in the file itself, and fetches nothing from the network"
    )]
    Context { detail: String },
    #[error("the file describes no public service (no node of type cpsv:PublicService)")]
    NoService,
    #[error("the public service <{node}> has no title (dct:title): give it one")]
    NoTitle { node: String },
    #[error("<{node}> has a Guichet {property} that cannot be read: {detail}")]
    Extension {
        node: String,
        property: String,
        detail: String,
    },
    #[error(
        "the file has {count} categories (thematic areas), and queue tickets tell categories apart by one letter, A to Z: group them into at most 26"
    )]
    TooManyCategories { count: usize },
    #[error("the companion file cannot be used: {0}")]
    Companion(String),
    #[error("the imported catalogue is not valid: {0}")]
    Invalid(String),
    #[error("the catalogue cannot be written as Turtle: {0}")]
    Export(String),
}
