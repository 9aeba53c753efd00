//! Operations tools for a deployed intake stack (local or on AWS): where it is ([`stack`]), read-only views of its
//! queues, table and logs ([`aws`]), a trial's flagged submissions ([`flags`]), its data out as CSV and FHIR
//! ([`export`]), moving dead letters back after an incident ([`redrive`]), and placing a trial's reports on their
//! timelines again ([`timeline`]).
//!
//! The integration tests and the burst driver build on the same pieces, so what an operator runs is what the tests
//! exercise.

pub mod aws;
pub mod capacity;
pub mod export;
pub mod flags;
pub mod redrive;
pub mod stack;
pub mod timeline;

pub use aws::Aws;
pub use stack::{Stack, StackChoice};

/// Errors of the operations tools: an SDK, I/O or decoding failure, as text for the operator.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
