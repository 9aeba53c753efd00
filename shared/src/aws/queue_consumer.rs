//! The processor's DynamoDB client: the SDK's retries without its client-side quota, each retry counted.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;

use crate::metrics::{self, Metric};

/// The DynamoDB client of the queue consumer: the SDK's retries, without its client-side retry quota.
///
/// The quota (a token bucket per container) stops retrying once spent, so that clients do not pile retries onto a
/// struggling service. A queue consumer's request rate does not grow by retrying: the event source bounds the
/// records in flight, and a record whose call gives up at once goes back to the queue while the poller hands over
/// the next, which calls at once too; a retry first waits out its backoff. What the quota did was turn a
/// brown-out's retries, most of which would have succeeded, into redeliveries after the visibility timeout, and
/// after five of them into the dead-letter queue. Attempts stay bounded by the budget `config` was loaded with
/// ([`QUEUE_CONSUMER`](super::CallBudget::QUEUE_CONSUMER)), each record by the invocation's deadline. A timed-out
/// attempt may still have been carried out, and billed. Each retried attempt is counted ([`Metric::StoreRetries`]):
/// a brown-out shows there before any record fails.
pub fn queue_consumer_dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let retries = RetryPartition::custom("queue-consumer")
        .token_bucket(TokenBucket::unlimited())
        .build();
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(config)
            .retry_partition(retries)
            .interceptor(CountRetries)
            .build(),
    )
}

/// Counts every attempt after a call's first as [`Metric::StoreRetries`].
#[derive(Debug)]
struct CountRetries;

impl Intercept for CountRetries {
    fn name(&self) -> &'static str {
        "CountRetries"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|attempts| attempts.attempts() > 1)
        {
            metrics::add(Metric::StoreRetries, 1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
