//! All-or-nothing writes whose conditions say whether the change may still be made: a transaction cancelled only by
//! its conditions (or a concurrent transaction on one of its items) is someone else coming first, not a failure.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::dynamodb::to_attributes;
use super::error_class;
use crate::ports::StoreError;

/// A put of `record` into `table` under `condition`, for a transaction.
pub(super) fn put_if<T: serde::Serialize>(
    table: &str,
    record: &T,
    condition: &str,
    values: &[(&str, AttributeValue)],
) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(to_attributes(record)?))
        .condition_expression(condition);
    for (name, value) in values {
        put = put.expression_attribute_values(*name, value.clone());
    }
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(request)?)
        .build())
}

/// Writes `items` all or nothing: `true` if written, `false` if a condition failed or a concurrent write met one
/// of them. Any other reason (throttling, a validation error) is a failure.
pub(super) async fn transact(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<TransactWriteItem>,
) -> Result<bool, StoreError> {
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(error) => match error.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled))
                if cancelled.cancellation_reasons().iter().all(|r| {
                    matches!(
                        r.code(),
                        None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict")
                    )
                }) =>
            {
                Ok(false)
            }
            _ => Err(StoreError(error_class(&error))),
        },
    }
}

/// A request the SDK could not build.
pub(super) fn request(error: impl std::fmt::Display) -> StoreError {
    StoreError(format!("request construction: {error}"))
}

/// The key attributes of a record.
pub(super) fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    [
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ]
    .into()
}
