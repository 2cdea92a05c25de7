//! Embedded adapters: run the whole channel on one machine with no AWS account.
//!
//! [`EmbeddedStore`] implements the state store port and [`EmbeddedQueues`] the work queue port
//! with the same semantics as the DynamoDB and SQS adapters (the shared conformance suite checks
//! both). Given a directory, both journal every change to it and resume from it after a restart.

mod journal;
pub mod private_files;
mod queue;
mod state;

pub use journal::JournalError;
pub use queue::EmbeddedQueues;
pub use state::EmbeddedStore;
