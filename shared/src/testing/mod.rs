//! Test support, compiled only for tests and with the `testing` feature, so test doubles never ship in a Lambda.
//!
//! - [`example`]: the contract's example submission and variations on it;
//! - [`memory`]: in-memory `Queue`, `Store`, `Alerts` and `Timeline` with the semantics of the AWS ones;
//! - [`stream`]: the table's stream records;
//! - [`topic`]: an in-memory alert `Topic`.

pub mod example;
pub mod memory;
pub mod stream;
pub mod topic;

pub use example::{ExampleSubmission, example};
