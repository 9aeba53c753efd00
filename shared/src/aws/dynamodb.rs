//! The [`Store`] port on DynamoDB.
//!
//! The one write rule of this table: a record is written once and never overwritten (`attribute_not_exists(pk)`).
//! A new submission and everything that goes with it are one transaction, so a stored submission always has its
//! claim, its marker, its flags and its alerts, and a redelivery finds the claim and writes nothing (no second
//! alert, ever).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use crate::alert::Prior;
use crate::instrument::Scores;
use crate::item::{ConflictItem, SubmissionItem, SubmissionWrite};
use crate::ports::{Store, StoreError, WriteOutcome};
use crate::submission::Answer;

use super::error_class;

type Attributes = HashMap<String, AttributeValue>;

/// The write-once condition every put carries.
const WRITE_ONCE: &str = "attribute_not_exists(pk)";

/// How often a transaction that met a concurrent one on the same item is tried again here before the record is
/// handed back to SQS.
const CONFLICT_RETRIES: u32 = 3;

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

    /// One attribute of the record under `pk`/`sk`, read consistently (where a cancelled transaction did not say).
    async fn read_attribute(&self, pk: &str, sk: &str, name: &str) -> Result<String, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .projection_expression(name)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        output
            .item
            .as_ref()
            .and_then(|item| text(item, name))
            .ok_or_else(|| StoreError(format!("the existing record has no {name}")))
    }

    async fn transact(
        &self,
        write: &SubmissionWrite,
    ) -> Result<Option<Vec<CancellationReason>>, StoreError> {
        let mut items = vec![self.put_once(&write.claim)?, self.put_once(&write.item)?];
        if let Some(marker) = &write.timepoint {
            items.push(self.put_once(marker)?);
        }
        for flag in &write.flags {
            items.push(self.put_once(flag)?);
        }
        for alert in &write.alerts {
            items.push(self.put_once(alert)?);
        }
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

/// What a rule comparing with the previous report reads of a stored submission.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriorRecord {
    submission_id: uuid::Uuid,
    completed_at: String,
    answers: std::collections::BTreeMap<String, Answer>,
    #[serde(default)]
    scores: Scores,
}

fn text(item: &Attributes, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

fn to_attributes<T: serde::Serialize>(value: &T) -> Result<Attributes, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError(format!("item mapping: {e}")))
}

fn failed(reason: Option<&CancellationReason>) -> bool {
    reason.and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

impl Store for DynamoStore {
    async fn write_submission(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        let mut attempt = 0;
        let reasons = loop {
            attempt += 1;
            let Some(reasons) = self.transact(write).await? else {
                return Ok(WriteOutcome::Written);
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
        // The transaction's items, in order: the claim, the submission, the marker (when written), the flags.
        let (claim, item, marker) = (
            reasons.first(),
            reasons.get(1),
            write.timepoint.as_ref().and(reasons.get(2)),
        );
        if failed(claim) || failed(item) {
            let old = claim
                .and_then(CancellationReason::item)
                .and_then(|item| text(item, "contentHash"));
            let content_hash = match old {
                Some(hash) => hash,
                None if failed(claim) => {
                    self.read_attribute(&write.claim.pk, &write.claim.sk, "contentHash")
                        .await?
                }
                // A submission stored before claims existed: its own hash decides.
                None => {
                    self.read_attribute(&write.item.pk, &write.item.sk, "contentHash")
                        .await?
                }
            };
            return Ok(WriteOutcome::Claimed { content_hash });
        }
        if let Some(timepoint) = write.timepoint.as_ref().filter(|_| failed(marker)) {
            let old = marker
                .and_then(CancellationReason::item)
                .and_then(|item| text(item, "submissionId"));
            let first = match old {
                Some(first) => first,
                None => {
                    self.read_attribute(&timepoint.pk, &timepoint.sk, "submissionId")
                        .await?
                }
            };
            let first = first
                .parse()
                .map_err(|_| StoreError("a marker with a malformed id".into()))?;
            return Ok(WriteOutcome::TimepointTaken { first });
        }
        let codes: Vec<&str> = reasons
            .iter()
            .filter_map(CancellationReason::code)
            .collect();
        Err(StoreError(format!("TransactionCanceled {codes:?}")))
    }

    async fn previous_submission(
        &self,
        item: &SubmissionItem,
    ) -> Result<Option<Prior>, StoreError> {
        let submission = &item.submission;
        let records: Vec<Attributes> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :submissions)")
            .filter_expression("surveyId = :survey")
            .projection_expression("submissionId, completedAt, answers, scores")
            .expression_attribute_values(":pk", AttributeValue::S(item.pk.clone()))
            .expression_attribute_values(":submissions", AttributeValue::S("SUBMISSION#".into()))
            .expression_attribute_values(":survey", AttributeValue::S(submission.survey_id.clone()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        let candidates = records
            .into_iter()
            .map(|record| {
                let record: PriorRecord = serde_dynamo::from_item(record)
                    .map_err(|e| StoreError(format!("a stored submission reads back: {e}")))?;
                let prior = Prior {
                    submission_id: record.submission_id,
                    answers: record.answers,
                    scores: record.scores,
                };
                Ok((record.completed_at, prior))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Prior::latest_before(
            &submission.completed_at,
            submission.submission_id,
            candidates,
        ))
    }

    async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(conflict)?))
            .condition_expression(WRITE_ONCE)
            .send()
            .await;
        match result {
            // Already recorded (a redelivery of the same conflicting message) is as good as recorded now.
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                Ok(())
            }
            Err(other) => Err(StoreError(error_class(&other))),
            Ok(_) => Ok(()),
        }
    }
}
