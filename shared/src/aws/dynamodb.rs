//! The [`Store`] port on DynamoDB.
//!
//! The one write rule of this table: a record is written once and never overwritten (`attribute_not_exists(pk)`).
//! A new submission's marker is a single conditional put ahead of it; the submission, under its id's key (so its put
//! is also what makes the id unique), is alone when nothing else must stand or fall with it, else one transaction
//! with its alerts and its place on the calendar; its other flags follow, each a conditional put. So a stored
//! submission always has its marker and its alerts, a redelivery completes what an interrupted one began and finds
//! the submission stored (no second alert, ever), and a transaction (billed twice per item) is paid only where
//! atomicity buys something. The one exception to "never overwritten": a marker given back is taken again. A
//! delivery the earlier layout began (its bare claim on the id) is completed in that layout. The submission's own
//! write is in `submission_write`; this module holds the table's write primitives and the rest of the port.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use crate::item::{ConflictWrite, EnrolmentItem, Flag, SubmissionWrite, TimepointMarker};
use crate::ports::{Store, StoreError, WriteOutcome};

use super::error_class;
use super::transaction::request;

pub(super) type Attributes = HashMap<String, AttributeValue>;

/// The write-once condition every put carries.
pub(super) const WRITE_ONCE: &str = "attribute_not_exists(pk)";

/// A marker's condition: free, or given back.
const MARKER_FREE: &str = "attribute_not_exists(pk) OR attribute_exists(releasedAt)";

/// The submission table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: aws_sdk_dynamodb::Client,
    pub(super) table: String,
}

impl DynamoStore {
    /// The table `table`, reached with `client` (built once per container).
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoStore { client, table }
    }

    /// A write-once put of `record`, returning the record already there when the condition fails.
    pub(super) fn put_once<T: serde::Serialize>(
        &self,
        record: &T,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attributes(record)?))
            .condition_expression(WRITE_ONCE)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(request)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Puts `record` under `condition` (its key free, when `None`): `None` if written, else `Some` of the record
    /// there as the failed condition returned it (`None` inside where DynamoDB did not).
    pub(super) async fn put_if(
        &self,
        record: Attributes,
        condition: Option<(&str, Attributes)>,
    ) -> Result<Option<Option<Attributes>>, StoreError> {
        let (condition, values) = condition.unwrap_or((WRITE_ONCE, Attributes::new()));
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(record))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(service)) => match service.err() {
                PutItemError::ConditionalCheckFailedException(taken) => {
                    Ok(Some(taken.item().cloned()))
                }
                other => Err(StoreError(
                    other.code().unwrap_or("unknown service error").to_owned(),
                )),
            },
            Err(other) => Err(StoreError(error_class(&other))),
        }
    }

    /// Puts `record` unless its key is taken: then `name` of the record there (the record the failed condition
    /// returned, else read consistently).
    async fn put_unless_taken<T: serde::Serialize>(
        &self,
        record: &T,
        (pk, sk): (&str, &str),
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        match self.put_if(to_attributes(record)?, None).await? {
            None => Ok(None),
            Some(returned) => self
                .returned_or_read(returned.as_ref(), (pk, sk), name)
                .await
                .map(Some),
        }
    }

    /// Attribute `name` of the record a failed condition `returned`, else of the record under `pk`/`sk`, read
    /// consistently (where DynamoDB did not return it).
    async fn returned_or_read(
        &self,
        returned: Option<&Attributes>,
        (pk, sk): (&str, &str),
        name: &str,
    ) -> Result<String, StoreError> {
        match returned.and_then(|item| text(item, name)) {
            Some(value) => Ok(value),
            None => self.read_attribute(pk, sk, name).await,
        }
    }

    /// One attribute of the record under `pk`/`sk`, read consistently.
    async fn read_attribute(&self, pk: &str, sk: &str, name: &str) -> Result<String, StoreError> {
        let key = (pk.to_owned(), sk.to_owned());
        self.read_item(&key, Some(name))
            .await?
            .as_ref()
            .and_then(|item| text(item, name))
            .ok_or_else(|| StoreError(format!("the existing record has no {name}")))
    }

    /// Runs a transaction: `None` when it committed, the cancellation reasons (one per item) when a condition or a
    /// concurrent transaction cancelled it.
    pub(super) async fn send_transaction(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<CancellationReason>>, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(service)) => match service.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    Ok(Some(cancelled.cancellation_reasons().to_vec()))
                }
                other => Err(StoreError(
                    other.code().unwrap_or("unknown service error").to_owned(),
                )),
            },
            Err(other) => Err(StoreError(error_class(&other))),
        }
    }
}

pub(super) fn text(item: &Attributes, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

pub(super) fn to_attributes<T: serde::Serialize>(value: &T) -> Result<Attributes, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError(format!("item mapping: {e}")))
}

/// A stored record as `T`. A record that does not read back is named by `what` alone: the mapping's own message can
/// quote the value it stumbled on, which may be an answer or a reason typed by a person.
pub(super) fn from_attributes<T: serde::de::DeserializeOwned>(
    item: Attributes,
    what: &str,
) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|_| StoreError(format!("{what} does not read back")))
}

/// The key of the timepoint marker of a stored submission (its ids, survey and timepoint).
pub(super) fn marker_key_of(stored: &Attributes) -> crate::item::Key {
    let field = |name: &str| text(stored, name).unwrap_or_default();
    crate::item::timepoint_marker_key(
        &crate::item::partition_key(&field("trialId"), &field("patientId")),
        &field("surveyId"),
        &field("timepoint"),
    )
}

/// Whether a transaction's item was cancelled by its own condition (its record already there, or changed).
pub(super) fn failed(reason: Option<&CancellationReason>) -> bool {
    reason.and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

impl Store for DynamoStore {
    async fn mark_timepoint(
        &self,
        marker: &TimepointMarker,
    ) -> Result<Option<uuid::Uuid>, StoreError> {
        let Some(returned) = self
            .put_if(
                to_attributes(marker)?,
                Some((MARKER_FREE, Attributes::new())),
            )
            .await?
        else {
            return Ok(None);
        };
        let first = self
            .returned_or_read(returned.as_ref(), (&marker.pk, &marker.sk), "submissionId")
            .await?;
        first
            .parse()
            .map(Some)
            .map_err(|_| StoreError("a marker with a malformed id".into()))
    }

    async fn stored_marker_key(
        &self,
        submission_id: uuid::Uuid,
    ) -> Result<Option<crate::item::Key>, StoreError> {
        let held = self
            .read_item(
                &crate::item::submission_key(&submission_id),
                Some("recordType, trialId, patientId, surveyId, timepoint"),
            )
            .await?;
        Ok(held
            .filter(|held| text(held, "recordType").as_deref() == Some("submission"))
            .map(|held| marker_key_of(&held)))
    }

    async fn release_timepoint(
        &self,
        marker: &TimepointMarker,
        at: &str,
    ) -> Result<(), StoreError> {
        let released = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(marker.pk.clone()))
            .key("sk", AttributeValue::S(marker.sk.clone()))
            .update_expression("SET releasedAt = :at")
            .condition_expression("submissionId = :own")
            .expression_attribute_values(":at", AttributeValue::S(at.to_owned()))
            .expression_attribute_values(
                ":own",
                AttributeValue::S(marker.submission_id.to_string()),
            )
            .send()
            .await;
        match released {
            Ok(_) => Ok(()),
            // Another submission holds it (or nothing does): nothing of this one's to give back.
            Err(SdkError::ServiceError(service))
                if matches!(
                    service.err(),
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(())
            }
            Err(other) => Err(StoreError(error_class(&other))),
        }
    }

    async fn write_submission(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        self.store_submission(write).await
    }

    async fn write_flags<'a>(
        &self,
        flags: impl Iterator<Item = &'a Flag> + Send,
    ) -> Result<(), StoreError> {
        for flag in flags {
            // Already there: an earlier delivery of this submission raised it.
            self.put_unless_taken(flag, (&flag.pk, &flag.sk), "sk")
                .await?;
        }
        Ok(())
    }

    async fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentItem>, StoreError> {
        // The same consistent read the calendar API makes.
        crate::ports::Enrolments::enrolment(self, trial_id, patient_id).await
    }

    async fn record_conflict(&self, write: &ConflictWrite) -> Result<bool, StoreError> {
        let mut items = vec![self.put_once(&write.conflict)?];
        for alert in &write.alerts {
            items.push(self.put_once(alert)?);
        }
        match self.send_transaction(items).await? {
            None => Ok(true),
            // Already recorded, with its alerts (a redelivery of the same conflicting message).
            Some(reasons) if failed(reasons.first()) => Ok(false),
            Some(reasons) => Err(cancelled(&reasons)),
        }
    }
}

/// A cancelled transaction as an error naming each item's reason code.
pub(super) fn cancelled(reasons: &[CancellationReason]) -> StoreError {
    let codes: Vec<&str> = reasons
        .iter()
        .filter_map(CancellationReason::code)
        .collect();
    StoreError(format!("TransactionCanceled {codes:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::VersionItem;

    #[test]
    fn a_record_that_does_not_read_back_is_named_without_any_of_its_values() {
        let canary = "CANARY-the patient said something private";
        let item: Attributes = [
            ("pk".to_owned(), AttributeValue::S("VERSION#T-1#P-1".into())),
            ("recordType".to_owned(), AttributeValue::S(canary.into())),
        ]
        .into();
        let error = from_attributes::<VersionItem>(item, "a corrected version").unwrap_err();
        assert_eq!(error.0, "a corrected version does not read back");
        assert!(!error.to_string().contains("CANARY"));
    }
}
