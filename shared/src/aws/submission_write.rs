//! A submission's write on DynamoDB: alone under its id's key (one conditional put), or in one transaction with
//! what must stand or fall with it (its placement's flags, the enrolment it was placed against, the survey due it
//! completes, its alerts); tried again while it meets a concurrent transaction; and, when its key is taken, what
//! holds it (a stored submission, or the earlier layout's bare claim, whose delivery is completed in that layout).

use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, TransactWriteItem, Update,
};

use crate::item::{ENROLMENT_SK, OccurrenceDone, SubmissionItem, SubmissionWrite};
use crate::ports::{StoreError, WriteOutcome};

use super::dynamodb::{
    Attributes, DynamoStore, cancelled, failed, marker_key_of, text, to_attributes,
};
use super::transaction::request;

/// How often a transaction that met a concurrent one on the same item is tried again here before the record is
/// handed back to SQS.
const CONFLICT_RETRIES: u32 = 3;

impl DynamoStore {
    /// Stores `write` once: written; or, when its transaction is cancelled, a calendar that changed or alerts
    /// already raised; or, when its key is taken, the submission already stored there.
    pub(super) async fn store_submission(
        &self,
        write: &SubmissionWrite,
    ) -> Result<WriteOutcome, StoreError> {
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
                .map_err(request)?;
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
            .map_err(request)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
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
