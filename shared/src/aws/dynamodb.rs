//! The [`Store`] port on DynamoDB.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use crate::item::{ConflictItem, SubmissionItem};
use crate::ports::{PutOutcome, Store, StoreError};

use super::error_class;

type Attributes = HashMap<String, AttributeValue>;

/// The submission table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    /// The table `table`, reached with `client` (built once per container).
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoStore { client, table }
    }

    /// The one write rule of this table: an item is written once and never overwritten. Returns `None` when
    /// written, or the attributes of the item already there (as far as the service returns them on a failed
    /// condition).
    async fn put_once(&self, item: Attributes) -> Result<Option<Attributes>, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            // Saves a read on duplicates where the service supports it; `stored_hash` covers the rest.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(service)) => match service.err() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    Ok(Some(failed.item().cloned().unwrap_or_default()))
                }
                other => Err(StoreError(
                    other.code().unwrap_or("unknown service error").to_owned(),
                )),
            },
            Err(other) => Err(StoreError(error_class(&other))),
        }
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

fn content_hash_of(item: &Attributes) -> Option<String> {
    item.get("contentHash")?.as_s().ok().cloned()
}

fn to_attributes<T: serde::Serialize>(value: &T) -> Result<Attributes, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError(format!("item mapping: {e}")))
}

impl Store for DynamoStore {
    async fn put_if_absent(&self, item: &SubmissionItem) -> Result<PutOutcome, StoreError> {
        let Some(existing) = self.put_once(to_attributes(item)?).await? else {
            return Ok(PutOutcome::Created);
        };
        let content_hash = match content_hash_of(&existing) {
            Some(hash) => hash,
            None => self.stored_hash(&item.pk, &item.sk).await?,
        };
        Ok(PutOutcome::AlreadyExists { content_hash })
    }

    async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
        // Already recorded (a redelivery of the same conflicting message) is as good as recorded now.
        self.put_once(to_attributes(conflict)?).await.map(|_| ())
    }
}
