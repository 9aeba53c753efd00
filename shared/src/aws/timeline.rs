//! The [`Timeline`] port on DynamoDB: timeline entries in the patient's partition, sorted by completion instant,
//! so the report before or after one is a query of an item or two, read consistently, whatever the history.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::dynamodb::{Attributes, DynamoStore, WRITE_ONCE, from_attributes, to_attributes};
use super::error_class;
use crate::alert::Report;
use crate::item::{ConflictItem, SubmissionItem, VersionItem, version_key, version_prefix};
use crate::ports::{StoreError, Timeline};
use crate::timeline::TimelineEntry;

/// Entries read per page while looking past conflicting copies: they are rare, so one page nearly always does.
const PAGE: i32 = 8;

/// Sorts after every character of a timeline key (digits, letters, `-`, `:`, `.`, `#`): the end of a prefix's range.
const AFTER_EVERY_KEY: char = '~';

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn entry(item: Attributes) -> Result<TimelineEntry, StoreError> {
    from_attributes(item, "a timeline entry")
}

impl DynamoStore {
    /// Entries of `entry`'s timeline between `from` and `to` (inclusive), in order (`forward` or not), page by page,
    /// until `enough` says so.
    async fn walk(
        &self,
        entry: &TimelineEntry,
        (from, to): (&str, &str),
        forward: bool,
        mut enough: impl FnMut(&TimelineEntry) -> bool,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<Attributes> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(&entry.pk))
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to))
                .scan_index_forward(forward)
                .consistent_read(true)
                .limit(PAGE)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError(error_class(&e)))?;
            for item in page.items.unwrap_or_default() {
                let read = self::entry(item)?;
                let done = enough(&read);
                found.push(read);
                if done {
                    return Ok(found);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }
}

impl Timeline for DynamoStore {
    async fn place(&self, entry: &TimelineEntry) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(entry)?))
            .condition_expression(WRITE_ONCE)
            .send()
            .await;
        match result {
            // Placed already: a retried batch.
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                Ok(())
            }
            Err(other) => Err(StoreError(error_class(&other))),
            Ok(_) => Ok(()),
        }
    }

    async fn before(&self, entry: &TimelineEntry) -> Result<Option<TimelineEntry>, StoreError> {
        let compared = |e: &TimelineEntry| !e.conflicting && e.submission_id != entry.submission_id;
        let walked = self
            .walk(entry, (entry.prefix(), entry.position()), false, compared)
            .await?;
        Ok(walked.into_iter().find(compared))
    }

    async fn after(&self, entry: &TimelineEntry) -> Result<Vec<TimelineEntry>, StoreError> {
        let end = format!("{}{AFTER_EVERY_KEY}", entry.prefix());
        let mut stored_after = 0;
        let mut walked = self
            .walk(entry, (&entry.sk, &end), true, |e| {
                if !e.conflicting && e.submission_id != entry.submission_id {
                    stored_after += 1;
                }
                stored_after == 2
            })
            .await?;
        walked.retain(|e| e.sk != entry.sk);
        // The second stored submission after it is compared with the first, never with `entry`.
        if stored_after == 2 {
            walked.pop();
        }
        Ok(walked)
    }

    async fn resend_hashes(
        &self,
        entry: &TimelineEntry,
        submission_id: uuid::Uuid,
    ) -> Result<Vec<String>, StoreError> {
        self.content_hashes_resent(&entry.pk, submission_id).await
    }

    async fn report(&self, entry: &TimelineEntry) -> Result<Option<Report>, StoreError> {
        if entry.conflicting {
            let output = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("pk", s(&entry.pk))
                .key("sk", s(&entry.report_sk))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| StoreError(error_class(&e)))?;
            return output
                .item
                .map(|item| {
                    from_attributes::<ConflictItem>(item, "a conflicting resend")
                        .map(|conflict| Report::conflicting(&conflict))
                })
                .transpose();
        }
        let Some((_, item)) = self
            .stored_submission(&entry.pk, entry.submission_id, None)
            .await?
        else {
            return Ok(None);
        };
        let original: SubmissionItem = from_attributes(item, "a submission")?;
        Ok(Some(match self.current_version(&original).await? {
            Some(version) => Report::corrected(&original, &version),
            None => Report::stored(&original),
        }))
    }
}

impl DynamoStore {
    /// The latest correction of a stored submission, if it has one: one item from the end of its versions, read
    /// consistently.
    async fn current_version(
        &self,
        original: &SubmissionItem,
    ) -> Result<Option<VersionItem>, StoreError> {
        let submission = &original.submission;
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :versions)")
            .expression_attribute_values(
                ":pk",
                s(&version_key(&submission.trial_id, &submission.patient_id)),
            )
            .expression_attribute_values(":versions", s(&version_prefix(&submission.submission_id)))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(1)
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|item| from_attributes(item, "a corrected version"))
            .transpose()
    }
}
