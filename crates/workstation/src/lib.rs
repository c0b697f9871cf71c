//! The Guichet workstation core: the local SQLite replica of the catalogue and of the
//! citizens' requests, and the clerk's use cases over it.
//!
//! Local first: no action here waits on a network. Every clerk action is one SQLite
//! transaction that writes the change, its audit event and its outbox entry together, or
//! nothing (see `store::Workstation::write`). It needs no window: the `guichet` CLI, the
//! desktop shell and the tests all drive this same API.

pub mod clock;
pub mod error;
pub mod files;
pub mod search;
pub mod store;
pub mod sync;

/// The Guichet release this is, as a device reports it to its back office.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use clock::{Clock, SystemClock};
pub use error::{Error, Result};
pub use store::Workstation;
