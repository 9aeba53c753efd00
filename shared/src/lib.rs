//! ePRO intake: the rules both Lambda functions share, behind two small ports.
//!
//! - [`submission`]: the v1 API contract and its validation.
//! - [`envelope`]: the versioned queue message.
//! - [`item`]: the DynamoDB layout.
//! - [`api`]: the submit use case (identity, status codes, enqueue).
//! - [`processor`]: the process use case (bounded concurrent, exactly-once writes, partial batch failures).
//! - [`ports`]: `Queue` and `Store`, implemented by [`aws`] for real and [`memory`] for tests.
//! - [`invariants`]: what must hold for any input; checked by the fuzz targets and the corpus replay.

pub mod api;
pub mod aws;
pub mod envelope;
pub mod invariants;
pub mod item;
pub mod memory;
pub mod ports;
pub mod processor;
pub mod submission;

/// Reads a required environment variable, naming it in the error.
pub fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| format!("environment variable {name} must be set"))
}
