//! What the fault proxy (`tests/faults/proxy.py`) is told to inject, typed: a misspelt fault cannot compile, and the
//! proxy refuses any name it does not know, so a typo never silently injects nothing.

use serde::Serialize;

/// Faults per service; a service left out is forwarded untouched.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Faults on the functions' DynamoDB calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamodb: Option<Rates>,
    /// Faults on the functions' SQS calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqs: Option<Rates>,
}

/// Probability per request of each fault; together at most 1.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Rates {
    /// Refused as throttled (DynamoDB `ProvisionedThroughputExceededException`, SQS `RequestThrottled`).
    pub throttle: f64,
    /// Refused with a 500.
    pub error: f64,
    /// Refused with a 503.
    pub unavailable: f64,
    /// No answer until past the SDK's attempt timeout, then the connection closes.
    pub timeout: f64,
    /// Forwarded (the write happens), then no answer: the caller cannot know it succeeded.
    pub lost_response: f64,
}

impl Faults {
    /// No faults: every request is forwarded.
    pub fn none() -> Self {
        Faults::default()
    }
}
