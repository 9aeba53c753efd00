//! Test support, compiled only for tests and with the `testing` feature, so test doubles never ship in a Lambda.
//!
//! - [`example`]: the contract's example submission and variations on it;
//! - [`memory`]: in-memory `Queue` and `Store` with the semantics of the AWS ones.

pub mod example;
pub mod memory;

pub use example::{ExampleSubmission, example};
