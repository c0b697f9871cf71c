//! The sync protocol between a workstation and the back office, version 1.
//!
//! One call does a whole exchange: the workstation pushes its outbox entries (in device order)
//! and gives its pull cursor; the back office applies the pushes first, answers each one
//! (applied, duplicate, refused, conflict), then returns a page of what the centre has not yet
//! seen. A sync with nothing to do is one round trip. Every change carries a unique id, so a
//! retry after a timeout is acknowledged as a duplicate, never applied twice; the same id with
//! other content is refused. `schema/sync-protocol.md` documents it in prose.

pub mod change;
pub mod wire;

pub use change::Change;
pub use wire::*;

/// The protocol version in every path: `/sync/v1/...`.
pub const VERSION: &str = "v1";

/// The path prefix of the sync API.
pub const BASE_PATH: &str = "/sync/v1";
