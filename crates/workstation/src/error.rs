//! The workstation's errors. Each says what was wrong and what the clerk can do about it;
//! the shell and the CLI show them as they are.

use std::path::PathBuf;

use guichet_domain::DomainError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),

    #[error(
        "this workstation is not set up yet: run `guichet setup --center CODE --device CODE` first"
    )]
    NotSetUp,

    #[error(
        "this workstation is already set up for centre {center}, device {device}; use a new data directory for another device"
    )]
    AlreadySetUp { center: String, device: String },

    #[error(
        "no catalogue is loaded yet: run `guichet catalogue load FILE` (or `guichet setup --demo`)"
    )]
    NoCatalogue,

    #[error(
        "catalogue version {offered} is older than the version {held} already here; nothing was changed"
    )]
    StaleCatalogue { held: u32, offered: u32 },

    #[error("no {kind} '{key}' here{hint}")]
    NotFound {
        kind: &'static str,
        key: String,
        hint: String,
    },

    #[error("{kind} '{key}' already exists")]
    Duplicate { kind: &'static str, key: String },

    #[error("{0}")]
    Invalid(String),

    #[error(
        "the database at {path} was made by a newer Guichet (schema {found}, this one knows {known}); update Guichet"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: usize,
    },

    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the local database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("stored data could not be read back: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    pub(crate) fn not_found(kind: &'static str, key: impl Into<String>, hint: &str) -> Self {
        Error::NotFound {
            kind,
            key: key.into(),
            hint: hint.to_owned(),
        }
    }
}

impl From<guichet_domain::citizen::NationalIdError> for Error {
    fn from(e: guichet_domain::citizen::NationalIdError) -> Self {
        Error::Domain(e.into())
    }
}

impl From<guichet_domain::receipt::ReceiptError> for Error {
    fn from(e: guichet_domain::receipt::ReceiptError) -> Self {
        Error::Domain(e.into())
    }
}
