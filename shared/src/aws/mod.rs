//! The ports implemented with the AWS SDKs. Clients are built once per container and cloned (cheaply) into
//! these adapters; the endpoint comes from the SDK's standard `AWS_ENDPOINT_URL`, so a local AWS needs no code.
//!
//! - `sqs`: the `Queue` port;
//! - `dynamodb`: the `Store` port;
//! - `submission_write`: a submission's write, alone or in its transaction, and what holds its key when taken;
//! - `alerts`: the `Alerts` port (alert records in the same table);
//! - `flags`: the `Flags` port (a trial's flags, through their index);
//! - `timeline`: the `Timeline` port (timeline entries in the same table);
//! - `calendar`: the `Enrolments` and `Sweep` ports (enrolments and surveys due in the same table);
//! - `records`: the `Records` port (exclusions and the audit trail in the same table);
//! - `transaction`: all-or-nothing conditional writes;
//! - `queue_consumer`: the processor's DynamoDB client (retries without a quota, counted);
//! - `sns`: the `Topic` port;
//! - `tls`: the HTTPS client they share, trusting the roots AWS endpoints chain to only.

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::config::Env;

mod alerts;
mod calendar;
mod dynamodb;
mod flags;
mod queue_consumer;
mod records;
mod sns;
mod sqs;
mod submission_write;
mod timeline;
mod tls;
mod transaction;

pub use alerts::{ALERTS_BY_TRIAL, DynamoAlerts, PENDING_DELIVERIES, PENDING_ESCALATIONS};
pub use calendar::{CALENDAR_BY_TRIAL, SCHEDULE_DUE};
pub use dynamodb::DynamoStore;
pub use flags::FLAGS_BY_TRIAL;
pub use queue_consumer::queue_consumer_dynamodb;
pub use sns::SnsTopic;
pub use sqs::SqsQueue;
pub use tls::{AMAZON_ROOTS, https_client};

/// How long one AWS call may take, retries included. A caller waiting on it (an HTTP client, an SQS visibility
/// timeout) must be given more than `operation`.
#[derive(Debug, Clone, Copy)]
pub struct CallBudget {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The longest wait before the first retry; each next one may wait twice as long (full jitter).
    pub backoff: Duration,
    /// Time allowed for one attempt.
    pub attempt: Duration,
    /// Time allowed for the whole call, retries included.
    pub operation: Duration,
}

impl CallBudget {
    /// For the API path: a patient's app is waiting, so fail over to 503 in seconds.
    pub const INTERACTIVE: CallBudget = CallBudget {
        attempts: 3,
        backoff: Duration::from_secs(1),
        attempt: Duration::from_secs(2),
        operation: Duration::from_secs(6),
    };
    /// For the sign-in trigger: Cognito gives up on it after 5 seconds, so answer (or fail, counted) well before.
    pub const SIGN_IN: CallBudget = CallBudget {
        attempts: 2,
        backoff: Duration::from_secs(1),
        attempt: Duration::from_millis(1_500),
        operation: Duration::from_secs(3),
    };
    /// For the stream consumers and the sweeps: retry harder than the API path, with time for a page of a query.
    pub const BACKGROUND: CallBudget = CallBudget {
        attempts: 5,
        backoff: Duration::from_secs(1),
        attempt: Duration::from_secs(3),
        operation: Duration::from_secs(12),
    };
    /// For the queue consumer's small conditional writes and reads, three or four in a row per record, which must
    /// fit the invocation. A hung connection costs a second, not three; the retries come within 1.5 s in all, not
    /// 15: a record still failing goes back to the queue, whose visibility timeout is the long backoff. Each write
    /// recognises its own item when a retry finds it (a timed-out attempt may still land), so retrying early
    /// stores nothing twice.
    pub const QUEUE_CONSUMER: CallBudget = CallBudget {
        attempts: 5,
        backoff: Duration::from_millis(100),
        attempt: Duration::from_secs(1),
        operation: Duration::from_secs(12),
    };
}

/// Loads region, credentials and endpoint the standard way, with the SDK's standard retry mode (exponential
/// backoff with jitter, throttling-aware) bounded by `budget`, over an HTTPS client trusting Amazon's roots only.
pub async fn sdk_config(budget: CallBudget) -> SdkConfig {
    from_environment(config_loader(budget), &Env::process())
        .http_client(https_client(AMAZON_ROOTS))
        .load()
        .await
}

/// Where the environment holds the credentials and the region, as Lambda's always does, the loader takes them from
/// there alone. The default chains look there first too, so the result is the same; but they build every other
/// provider before they look (web identity with its own STS client, which parses STS's endpoint rules; the
/// instance metadata client), and that was a fifth of what a function's `main` did at start. Elsewhere (a laptop
/// with a profile) the default chains stay.
fn from_environment(loader: ConfigLoader, env: &Env) -> ConfigLoader {
    // As the SDK reads credentials: blank is unset.
    let set = |name: &str| {
        env.optional(name)
            .is_some_and(|value| !value.trim().is_empty())
    };
    let loader = if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
        loader.credentials_provider(EnvironmentVariableCredentialsProvider::new())
    } else {
        loader
    };
    if set("AWS_REGION") || set("AWS_DEFAULT_REGION") {
        loader.region(EnvironmentVariableRegionProvider::new())
    } else {
        loader
    }
}

/// The standard loader with `budget`'s retries and timeouts.
fn config_loader(budget: CallBudget) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(budget.attempts)
                .with_initial_backoff(budget.backoff),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(budget.attempt)
                .operation_timeout(budget.operation)
                .build(),
        )
}

/// Names the error class only: SDK messages can echo request content.
fn error_class<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .unwrap_or("unknown service error")
            .to_owned(),
        SdkError::TimeoutError(_) => "timeout".to_owned(),
        SdkError::DispatchFailure(_) => "dispatch failure".to_owned(),
        SdkError::ResponseError(_) => "unreadable response".to_owned(),
        SdkError::ConstructionFailure(_) => "request construction failure".to_owned(),
        _ => "unknown error".to_owned(),
    }
}

#[cfg(test)]
mod tests;
