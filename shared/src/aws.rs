//! The ports implemented with the AWS SDKs. Clients are built once per container and cloned (cheaply) into
//! these adapters; the endpoint comes from the SDK's standard `AWS_ENDPOINT_URL`, so a local AWS needs no code.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use crate::envelope::Envelope;
use crate::item::{ConflictItem, SubmissionItem};
use crate::ports::{PutOutcome, Queue, QueueError, Store, StoreError};

/// How long one AWS call may take, retries included. A caller waiting on it (an HTTP client, an SQS visibility
/// timeout) must be given more than `operation`.
#[derive(Debug, Clone, Copy)]
pub struct CallBudget {
    pub attempts: u32,
    pub attempt: Duration,
    pub operation: Duration,
}

impl CallBudget {
    /// For the API path: a patient's app is waiting, so fail over to 503 in seconds.
    pub const INTERACTIVE: CallBudget = CallBudget {
        attempts: 3,
        attempt: Duration::from_secs(2),
        operation: Duration::from_secs(6),
    };
    /// For the queue consumer: retry throttling harder before handing the record back to SQS.
    pub const BACKGROUND: CallBudget = CallBudget {
        attempts: 5,
        attempt: Duration::from_secs(3),
        operation: Duration::from_secs(12),
    };
}

/// Loads region, credentials and endpoint the standard way, with the SDK's standard retry mode (exponential
/// backoff with jitter, throttling-aware) bounded by `budget`.
pub async fn sdk_config(budget: CallBudget) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(budget.attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(budget.attempt)
                .operation_timeout(budget.operation)
                .build(),
        )
        .load()
        .await
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

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> Self {
        SqsQueue { client, queue_url }
    }
}

impl Queue for SqsQueue {
    async fn send(&self, envelope: &Envelope) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(envelope.encode())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError(error_class(&e)))
    }
}

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoStore { client, table }
    }

    /// The content hash of the item stored under `pk`/`sk`, read consistently.
    async fn stored_hash(&self, pk: &str, sk: &str) -> Result<String, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .projection_expression("contentHash")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        output
            .item
            .as_ref()
            .and_then(content_hash_of)
            .ok_or_else(|| StoreError("existing item has no contentHash".into()))
    }
}

fn content_hash_of(item: &std::collections::HashMap<String, AttributeValue>) -> Option<String> {
    item.get("contentHash")?.as_s().ok().cloned()
}

fn to_attributes<T: serde::Serialize>(
    value: &T,
) -> Result<std::collections::HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError(format!("item mapping: {e}")))
}

impl Store for DynamoStore {
    async fn put_if_absent(&self, item: &SubmissionItem) -> Result<PutOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(item)?))
            .condition_expression("attribute_not_exists(pk)")
            // Saves a read on duplicates where the service supports it; `stored_hash` covers the rest.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Created),
            Err(SdkError::ServiceError(service)) => match service.err() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    let content_hash = match failed.item().and_then(content_hash_of) {
                        Some(hash) => hash,
                        None => self.stored_hash(&item.pk, &item.sk).await?,
                    };
                    Ok(PutOutcome::AlreadyExists { content_hash })
                }
                other => Err(StoreError(
                    other.code().unwrap_or("unknown service error").to_owned(),
                )),
            },
            Err(other) => Err(StoreError(error_class(&other))),
        }
    }

    async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(conflict)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                Ok(())
            }
            Err(other) => Err(StoreError(error_class(&other))),
        }
    }
}
