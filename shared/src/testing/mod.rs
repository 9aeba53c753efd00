//! Test support, compiled only for tests and with the `testing` feature, so test doubles never ship in a Lambda.
//!
//! - [`example`]: the contract's example submission and variations on it;
//! - [`memory`]: in-memory `Queue`, `Store` and `Alerts` with the semantics of the AWS ones;
//! - [`topic`]: an in-memory alert `Topic`.

pub mod example;
pub mod memory;
pub mod topic;

pub use example::{ExampleSubmission, example};
