//! Guichet's domain: the entities of a citizen service centre and the rules that govern them.
//!
//! This crate is shared by the workstation and the back office so that both apply the same
//! rules. It does no I/O: no SQL, no HTTP, no clock reads. Time comes in as arguments, which
//! keeps every rule deterministic and testable.

pub mod audit;
pub mod calendar;
pub mod catalogue;
pub mod citizen;
pub mod error;
pub mod feedback;
pub mod form;
pub mod hlc;
pub mod money;
pub mod queue;
pub mod receipt;
pub mod request;
pub mod text;

pub use error::{DomainError, Result};
