//! The [`Store`] port on DynamoDB.
//!
//! The one write rule of this table: a record is written once and never overwritten (`attribute_not_exists(pk)`).
//! A new submission's marker is a single conditional put ahead of it; the submission, under its id's key (so its put
//! is also what makes the id unique), is alone when nothing else must stand or fall with it, else one transaction
//! with its alerts and its place on the calendar; its other flags follow, each a conditional put. So a stored
//! submission always has its marker and its alerts, a redelivery completes what an interrupted one began and finds
//! the submission stored (no second alert, ever), and a transaction (billed twice per item) is paid only where
//! atomicity buys something. The one exception to "never overwritten": a marker given back is taken again. A
//! delivery the earlier layout began (its bare claim on the id) is completed in that layout.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use crate::item::{
    ConflictWrite, ENROLMENT_SK, EnrolmentItem, Flag, OccurrenceDone, SubmissionItem,
    SubmissionWrite, TimepointMarker,
};
use crate::ports::{Store, StoreError, WriteOutcome};

use super::error_class;

pub(super) type Attributes = HashMap<String, AttributeValue>;

/// The write-once condition every put carries.
pub(super) const WRITE_ONCE: &str = "attribute_not_exists(pk)";

/// A marker's condition: free, or given back.
const MARKER_FREE: &str = "attribute_not_exists(pk) OR attribute_exists(releasedAt)";

/// How often a transaction that met a concurrent one on the same item is tried again here before the record is
/// handed back to SQS.
const CONFLICT_RETRIES: u32 = 3;

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
    fn put_once<T: serde::Serialize>(&self, record: &T) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_attributes(record)?))
            .condition_expression(WRITE_ONCE)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError(format!("request construction: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Puts `record` under `condition` (its key free, when `None`): `None` if written, else `Some` of the record
    /// there as the failed condition returned it (`None` inside where DynamoDB did not).
    async fn put_if(
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

    /// The survey due `done` completes, marked so in the submission's transaction. Unconditional, so it can never
    /// cancel the submission: the first submission placed on it keeps it (`if_not_exists`), the sweep stops
    /// looking at it (its `ScheduleDue` entry removed), and a miss recorded before stays with the history. The
    /// occurrence exists: it was written with the enrolment revision the submission was placed against.
    fn mark_done(&self, done: &OccurrenceDone) -> Result<TransactWriteItem, StoreError> {
        let event = to_attributes(&done.event)?;
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(done.pk.clone()))
            .key("sk", AttributeValue::S(done.sk.clone()))
            .update_expression(
                "SET doneBy = if_not_exists(doneBy, :by), doneTiming = if_not_exists(doneTiming, :timing), \
                 doneAt = if_not_exists(doneAt, :at), history = list_append(if_not_exists(history, :none), :event) \
                 REMOVE dueAt, dueShard",
            )
            .expression_attribute_values(":by", AttributeValue::S(done.submission_id.to_string()))
            .expression_attribute_values(":timing", AttributeValue::S(done.timing.as_str().into()))
            .expression_attribute_values(":at", AttributeValue::S(done.done_at.clone()))
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":event", AttributeValue::L(vec![AttributeValue::M(event)]))
            .build()
            .map_err(|e| StoreError(format!("request construction: {e}")))?;
        Ok(TransactWriteItem::builder().update(update).build())
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

    /// The submission with what must stand or fall with it, in one transaction: the submission first, then its
    /// placement's flags, the enrolment check, the survey due it completes, and its alerts last.
    async fn transact(
        &self,
        write: &SubmissionWrite,
    ) -> Result<Option<Vec<CancellationReason>>, StoreError> {
        let mut items = vec![self.put_once(&write.item)?];
        for flag in write.placement_flags() {
            items.push(self.put_once(flag)?);
        }
        if let Some((pk, revision)) = &write.placed_against {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk.clone()))
                .key("sk", AttributeValue::S(ENROLMENT_SK.into()))
                .condition_expression("revision = :revision")
                .expression_attribute_values(":revision", AttributeValue::N(revision.to_string()))
                .build()
                .map_err(|e| StoreError(format!("request construction: {e}")))?;
            items.push(TransactWriteItem::builder().condition_check(check).build());
        }
        if let Some(done) = &write.occurrence {
            items.push(self.mark_done(done)?);
        }
        // The alerts come last: a cancelled transaction's reasons are read from the end for them.
        for alert in &write.alerts {
            items.push(self.put_once(alert)?);
        }
        self.send_transaction(items).await
    }

    /// The submission and its transaction, tried again while it meets a concurrent one.
    async fn write_atomically(&self, write: &SubmissionWrite) -> Result<Attempt, StoreError> {
        let mut attempt = 0;
        let reasons = loop {
            attempt += 1;
            let Some(reasons) = self.transact(write).await? else {
                return Ok(Attempt::Done(WriteOutcome::Written));
            };
            let conflicting = reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"));
            if !conflicting || attempt > CONFLICT_RETRIES {
                break reasons;
            }
            // Another transaction touched one of these items (the same submission, resent at once): try again.
            // Full jitter below 20, 40, 80 ms, so concurrent writers of one submission spread out.
            let ceiling = 20u64 << attempt.min(3);
            tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(0..ceiling))).await;
        };
        let stored = reasons.first();
        if failed(stored) {
            return Ok(Attempt::Taken(
                stored.and_then(CancellationReason::item).cloned(),
            ));
        }
        // After the submission and its placement's flags: the check of the enrolment it was placed against.
        let placed = 1 + write.placement_flags().count();
        if write.placed_against.is_some() && failed(reasons.get(placed)) {
            return Ok(Attempt::Done(WriteOutcome::CalendarChanged));
        }
        // The alerts come last: a repeat's alert already raised by its first submission.
        let first_alert = reasons.len().saturating_sub(write.alerts.len());
        let existing: Vec<uuid::Uuid> = write
            .alerts
            .iter()
            .zip(&reasons[first_alert..])
            .filter(|(_, reason)| failed(Some(reason)))
            .map(|(alert, _)| alert.alert_id)
            .collect();
        if !existing.is_empty() {
            return Ok(Attempt::Done(WriteOutcome::AlertsRaised { existing }));
        }
        Err(cancelled(&reasons))
    }

    /// Writes `write` under its item's key, alone or in its transaction.
    async fn attempt(&self, write: &SubmissionWrite) -> Result<Attempt, StoreError> {
        if write.is_transactional() {
            return self.write_atomically(write).await;
        }
        Ok(
            match self.put_if(to_attributes(&write.item)?, None).await? {
                None => Attempt::Done(WriteOutcome::Written),
                Some(returned) => Attempt::Taken(returned),
            },
        )
    }

    /// Writes `write` under its item's key: the outcome, or what holds that key already.
    async fn write_or_find(
        &self,
        write: &SubmissionWrite,
    ) -> Result<Result<WriteOutcome, Holder>, StoreError> {
        match self.attempt(write).await? {
            Attempt::Done(outcome) => Ok(Ok(outcome)),
            Attempt::Taken(returned) => Ok(Err(self.holder(returned, &write.item).await?)),
        }
    }

    /// What holds the key of `item`, from the record a failed condition `returned`, else read consistently.
    async fn holder(
        &self,
        returned: Option<Attributes>,
        item: &SubmissionItem,
    ) -> Result<Holder, StoreError> {
        let record = match returned {
            Some(record) => record,
            None => self
                .read_item(
                    &(item.pk.clone(), item.sk.clone()),
                    Some("recordType, contentHash, trialId, patientId, surveyId, timepoint"),
                )
                .await?
                .ok_or_else(|| StoreError("a taken key holds nothing".into()))?,
        };
        let content_hash = text(&record, "contentHash")
            .ok_or_else(|| StoreError("the existing record has no contentHash".into()))?;
        if text(&record, "recordType").as_deref() == Some("claim") {
            return Ok(Holder::Claim { content_hash });
        }
        Ok(Holder::Submission {
            content_hash,
            marker_key: marker_key_of(&record),
        })
    }

    /// Runs a transaction: `None` when it committed, the cancellation reasons (one per item) when a condition or a
    /// concurrent transaction cancelled it.
    async fn send_transaction(
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
fn marker_key_of(stored: &Attributes) -> crate::item::Key {
    let field = |name: &str| text(stored, name).unwrap_or_default();
    crate::item::timepoint_marker_key(
        &crate::item::partition_key(&field("trialId"), &field("patientId")),
        &field("surveyId"),
        &field("timepoint"),
    )
}

/// A transaction's end: an outcome, or the submission's key taken (with the record there, when returned).
enum Attempt {
    Done(WriteOutcome),
    Taken(Option<Attributes>),
}

/// What holds a submission id's key when its put finds it taken.
enum Holder {
    /// A stored submission: its content hash and the key of its timepoint marker.
    Submission {
        content_hash: String,
        marker_key: (String, String),
    },
    /// The earlier layout's bare claim, with the content hash it names.
    Claim { content_hash: String },
}

impl Holder {
    /// What the write found: this content hash stored, and where its marker is when known.
    fn already_stored(self) -> WriteOutcome {
        match self {
            Holder::Submission {
                content_hash,
                marker_key,
            } => WriteOutcome::AlreadyStored {
                content_hash,
                marker_key: Some(marker_key),
            },
            Holder::Claim { content_hash } => WriteOutcome::AlreadyStored {
                content_hash,
                marker_key: None,
            },
        }
    }
}

fn failed(reason: Option<&CancellationReason>) -> bool {
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
        let holder = match self.write_or_find(write).await? {
            Ok(outcome) => return Ok(outcome),
            Err(holder) => holder,
        };
        let holder = match holder {
            // The earlier layout claimed this content: its delivery is completed as that layout would have, in the
            // patient's partition (a duplicate if it got there), a new item the table's stream brings on as such.
            Holder::Claim { content_hash } if write.item.has_content(&content_hash) => {
                match self.write_or_find(&write.in_patient_partition()).await? {
                    Ok(outcome) => return Ok(outcome),
                    Err(Holder::Claim { .. }) => {
                        return Err(StoreError(
                            "a claim where the earlier layout stored submissions".into(),
                        ));
                    }
                    Err(stored) => stored,
                }
            }
            other => other,
        };
        Ok(holder.already_stored())
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
fn cancelled(reasons: &[CancellationReason]) -> StoreError {
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
