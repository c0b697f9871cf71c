//! The Guichet back office: the sync server the workstations exchange changes with, the
//! administration of centres, catalogues, devices and clerk accounts, the releases of the app
//! it serves to the devices' updater, and the agencies' processing.
//!
//! Storage sits behind one trait (`storage::Storage`) with a SQLite and a PostgreSQL backend;
//! a push is judged by a pure plan (`plan`) with the shared domain rules, then written in one
//! transaction. The HTTP layer (`http`) only translates.

pub mod anchor;
#[cfg(test)]
mod captured_log;
pub mod cli;
pub mod error;
pub mod http;
pub mod limit;
pub mod model;
pub mod plan;
pub mod release;
pub mod service;
mod stall;
pub mod storage;
pub mod tls;

pub use error::{Error, Result};
pub use http::{AppState, Downloads, app, serve, serve_tls};
pub use service::{
    BackOffice, CenterChange, DEFAULT_WAITING_TARGET_MIN, MAX_CLOCK_AHEAD_MS, NewCenter,
};
pub use storage::Storage;
