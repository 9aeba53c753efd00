//! Turns an SQS batch into stored submissions, reporting exactly the records that must come back.
//!
//! Each record runs in its own task, so a panic fails that record only; a semaphore bounds how many write at once.
//! Every record ends in one of: stored, duplicate (acknowledged), conflict (original kept, conflict recorded,
//! acknowledged), or failed (listed in `batchItemFailures`, redelivered by SQS, dead-lettered after
//! `maxReceiveCount`).

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::envelope::{Envelope, EnvelopeError, format_timestamp};
use crate::item::{ConflictItem, SubmissionItem};
use crate::ports::{PutOutcome, Store, StoreError};

/// Default bound on records written concurrently within one batch. A 100-record batch then needs two store
/// round trips, not seven (at 16); the bound keeps one invocation from flooding the table or the connection pool.
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    /// The same submission was already stored: a redelivery or an app resend.
    Duplicate,
    /// The id was stored with other content; the original stays, the resend is recorded as a conflict.
    Conflict,
}

/// Why a record failed; it goes back to the queue.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record has no body")]
    NoBody,
    #[error(transparent)]
    Poison(#[from] EnvelopeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("record task panicked")]
    Panicked,
    #[error("record not finished before the invocation's deadline")]
    OutOfTime,
}

/// Counts for one batch, and the response that tells SQS which records to redeliver.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub stored: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    pub failed: usize,
    pub response: SqsBatchResponse,
}

pub struct Processor<S> {
    store: Arc<S>,
    permits: Arc<Semaphore>,
}

impl<S: Store> Processor<S> {
    pub fn new(store: S, max_concurrency: usize) -> Self {
        Processor {
            store: Arc::new(store),
            permits: Arc::new(Semaphore::new(max_concurrency.max(1))),
        }
    }

    /// Processes every record of a batch. Never fails as a whole: a record's problem is that record's failure.
    pub async fn process(&self, records: Vec<SqsMessage>) -> BatchReport {
        self.process_until(records, Instant::now() + Duration::from_secs(24 * 3600))
            .await
    }

    /// As [`Self::process`], but a record still unfinished at `deadline` fails on its own. Without this a slow store
    /// call (throttling backoff, a hung connection) lets the whole invocation time out: every record of the batch
    /// is then received again, counts toward `maxReceiveCount`, and healthy records can end in the DLQ.
    pub async fn process_until(&self, records: Vec<SqsMessage>, deadline: Instant) -> BatchReport {
        let tasks: Vec<_> = records
            .into_iter()
            .map(|record| {
                let store = Arc::clone(&self.store);
                let permits = Arc::clone(&self.permits);
                let task = tokio::spawn(async move {
                    let work = async {
                        let _permit = permits
                            .acquire_owned()
                            .await
                            .expect("the semaphore is never closed");
                        store_record(store.as_ref(), record.body.as_deref()).await
                    };
                    // A write cut off here may or may not have landed; the redelivery finds out (duplicate).
                    tokio::time::timeout_at(deadline, work)
                        .await
                        .unwrap_or(Err(RecordError::OutOfTime))
                });
                // SQS always sets a message id. Were one missing, its failure would be reported with an empty
                // identifier, which Lambda treats as "the whole batch failed": a retry, never a silent drop.
                (record.message_id.unwrap_or_default(), task)
            })
            .collect();

        let mut report = BatchReport::default();
        for (message_id, task) in tasks {
            // A task's result is always awaited: dropping a panicked task's result would acknowledge its message.
            let result = task.await.unwrap_or_else(|join_error| {
                if join_error.is_panic() {
                    Err(RecordError::Panicked)
                } else {
                    Err(RecordError::Store(StoreError(
                        "record task was cancelled".into(),
                    )))
                }
            });
            match result {
                Ok(Outcome::Stored) => report.stored += 1,
                Ok(Outcome::Duplicate) => report.duplicates += 1,
                Ok(Outcome::Conflict) => report.conflicts += 1,
                Err(failure) => {
                    match &failure {
                        RecordError::Store(_) | RecordError::OutOfTime => {
                            warn!(message_id, error = %failure, "record will be retried")
                        }
                        _ => {
                            error!(message_id, error = %failure, "record failed; it goes to the DLQ after maxReceiveCount")
                        }
                    }
                    report.failed += 1;
                    report.response.add_failure(message_id);
                }
            }
        }
        info!(
            stored = report.stored,
            duplicates = report.duplicates,
            conflicts = report.conflicts,
            failed = report.failed,
            "batch processed"
        );
        report
    }
}

async fn store_record<S: Store>(store: &S, body: Option<&str>) -> Result<Outcome, RecordError> {
    let envelope = Envelope::decode(body.ok_or(RecordError::NoBody)?)?;
    let item = SubmissionItem::new(envelope, format_timestamp(OffsetDateTime::now_utc()));
    match store.put_if_absent(&item).await? {
        PutOutcome::Created => Ok(Outcome::Stored),
        PutOutcome::AlreadyExists { content_hash } if content_hash == item.content_hash => {
            Ok(Outcome::Duplicate)
        }
        PutOutcome::AlreadyExists { content_hash } => {
            let submission_id = item.submission.submission_id.to_string();
            let (trial_id, patient_id) = (
                item.submission.trial_id.clone(),
                item.submission.patient_id.clone(),
            );
            let conflict = ConflictItem::new(
                item,
                content_hash,
                format_timestamp(OffsetDateTime::now_utc()),
            );
            store.record_conflict(&conflict).await?;
            warn!(
                submission_id,
                trial_id,
                patient_id,
                conflict_sk = conflict.sk,
                "conflicting resend: original kept, conflict recorded"
            );
            Ok(Outcome::Conflict)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::content_hash;
    use crate::memory::MemoryStore;
    use crate::submission::Submission;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use time::macros::datetime;

    fn envelope(id: &str, pain: i32) -> Envelope {
        let body = json!({
            "submissionId": id, "trialId": "ONC-2026-01", "patientId": "P-000123", "surveyId": "qol-daily",
            "timepoint": "day-7", "completedAt": "2026-11-22T08:00:03Z", "answers": { "pain": pain }
        });
        let submission = Submission::from_value(&body, datetime!(2026-11-22 08:00:00 UTC)).unwrap();
        Envelope::new(submission, "req".into(), datetime!(2026-11-22 08:00:01 UTC))
    }

    fn id(n: u32) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }

    fn record(message_id: &str, body: &str) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = Some(message_id.into());
        record.body = Some(body.into());
        record
    }

    fn good(message_id: &str, n: u32) -> SqsMessage {
        record(message_id, &envelope(&id(n), 3).encode())
    }

    fn failed_ids(report: &BatchReport) -> Vec<&str> {
        let mut ids: Vec<&str> = report
            .response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// A store that delegates to a `MemoryStore` but fails, panics or waits for chosen submissions.
    #[derive(Default)]
    struct FaultyStore {
        inner: MemoryStore,
        fail_for: Option<String>,
        panic_for: Option<String>,
        hang_for: Option<String>,
        latency: Duration,
        in_flight: AtomicUsize,
        most_in_flight: AtomicUsize,
    }

    impl Store for FaultyStore {
        async fn put_if_absent(&self, item: &SubmissionItem) -> Result<PutOutcome, StoreError> {
            let id = item.submission.submission_id.to_string();
            if self.panic_for.as_deref() == Some(id.as_str()) {
                panic!("injected panic");
            }
            if self.fail_for.as_deref() == Some(id.as_str()) {
                return Err(StoreError("ProvisionedThroughputExceededException".into()));
            }
            if self.hang_for.as_deref() == Some(id.as_str()) {
                std::future::pending::<()>().await;
            }
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(self.latency).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.inner.put_if_absent(item).await
        }

        async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
            self.inner.record_conflict(conflict).await
        }
    }

    #[tokio::test]
    async fn stores_each_record_once() {
        let store = MemoryStore::default();
        let processor = Processor::new(store.clone(), 4);
        let report = processor
            .process((1..=10).map(|n| good(&format!("m{n}"), n)).collect())
            .await;
        assert_eq!((report.stored, report.failed), (10, 0));
        assert!(report.response.batch_item_failures.is_empty());
        assert_eq!(store.submissions().len(), 10);
    }

    #[tokio::test]
    async fn a_redelivered_or_resent_submission_is_a_duplicate_and_acknowledged() {
        let store = MemoryStore::default();
        let processor = Processor::new(store.clone(), 4);
        processor.process(vec![good("m1", 1)]).await;
        let first = store.submissions();
        // Same content, new request id and receive time: still the same submission.
        let resend = Envelope::new(
            envelope(&id(1), 3).submission,
            "req-2".into(),
            datetime!(2026-11-22 09:00:00 UTC),
        );
        let report = processor
            .process(vec![good("m2", 1), record("m3", &resend.encode())])
            .await;
        assert_eq!((report.stored, report.duplicates, report.failed), (0, 2, 0));
        assert!(report.response.batch_item_failures.is_empty());
        assert_eq!(
            store.submissions(),
            first,
            "the stored item must not change"
        );
    }

    #[tokio::test]
    async fn duplicates_within_one_batch_store_one_item() {
        let store = MemoryStore::default();
        let report = Processor::new(store.clone(), 8)
            .process((0..5).map(|i| good(&format!("m{i}"), 7)).collect())
            .await;
        assert_eq!((report.stored, report.duplicates), (1, 4));
        assert_eq!(store.submissions().len(), 1);
    }

    #[tokio::test]
    async fn a_conflicting_resend_keeps_the_original_and_records_the_conflict() {
        let store = MemoryStore::default();
        let processor = Processor::new(store.clone(), 4);
        processor.process(vec![good("m1", 1)]).await;
        let original = store.submissions();
        let changed = envelope(&id(1), 9);

        let report = processor
            .process(vec![record("m2", &changed.encode())])
            .await;
        assert_eq!((report.conflicts, report.failed), (1, 0));
        assert!(
            report.response.batch_item_failures.is_empty(),
            "a conflict is acknowledged"
        );
        assert_eq!(store.submissions(), original);

        let conflicts = store.conflicts();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].original_content_hash, original[0].content_hash);
        assert_eq!(conflicts[0].content_hash, content_hash(&changed.submission));
        assert_eq!(conflicts[0].conflicting_submission, changed.submission);

        // The same conflicting message delivered again is recorded once.
        processor
            .process(vec![record("m3", &changed.encode())])
            .await;
        assert_eq!(store.conflicts().len(), 1);
    }

    /// Three records, the second of which meets `store`'s fault: only that one may come back.
    async fn only_the_faulty_record_fails(store: FaultyStore) {
        let report = Processor::new(store, 4)
            .process(vec![good("m1", 1), good("m2", 2), good("m3", 3)])
            .await;
        assert_eq!(failed_ids(&report), ["m2"]);
        assert_eq!((report.stored, report.failed), (2, 1));
    }

    #[tokio::test]
    async fn a_store_error_fails_only_that_record() {
        only_the_faulty_record_fails(FaultyStore {
            fail_for: Some(id(2)),
            ..FaultyStore::default()
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_unfinished_at_the_deadline_fails_alone_and_the_batch_still_answers() {
        let store = FaultyStore {
            hang_for: Some(id(2)),
            ..FaultyStore::default()
        };
        let started = Instant::now();
        let deadline = started + Duration::from_secs(4);
        let report = Processor::new(store, 4)
            .process_until(vec![good("m1", 1), good("m2", 2), good("m3", 3)], deadline)
            .await;
        assert_eq!(failed_ids(&report), ["m2"]);
        assert_eq!((report.stored, report.failed), (2, 1));
        assert_eq!(
            Instant::now(),
            deadline,
            "answered at the deadline, not after"
        );
    }

    #[tokio::test]
    async fn unparseable_records_fail_so_they_reach_the_dlq() {
        let store = MemoryStore::default();
        let mut no_body = SqsMessage::default();
        no_body.message_id = Some("m4".into());
        let mut future_version: serde_json::Value =
            serde_json::from_str(&envelope(&id(5), 1).encode()).unwrap();
        future_version["schemaVersion"] = json!(99);
        let records = vec![
            good("m1", 1),
            record("m2", "{not json"),
            record("m3", r#"{"schemaVersion": 1, "hello": "world"}"#),
            no_body,
            record("m5", &future_version.to_string()),
        ];
        let report = Processor::new(store.clone(), 4).process(records).await;
        assert_eq!(failed_ids(&report), ["m2", "m3", "m4", "m5"]);
        assert_eq!(report.stored, 1);
        assert_eq!(store.submissions().len(), 1);
    }

    #[tokio::test]
    async fn a_panic_in_one_record_fails_only_that_record() {
        only_the_faulty_record_fails(FaultyStore {
            panic_for: Some(id(2)),
            ..FaultyStore::default()
        })
        .await;
    }

    #[tokio::test]
    async fn the_batch_response_has_the_shape_lambda_expects() {
        let report = Processor::new(MemoryStore::default(), 4)
            .process(vec![good("m1", 1), record("m2", "junk")])
            .await;
        let wire = serde_json::to_value(&report.response).unwrap();
        assert_eq!(
            wire,
            json!({ "batchItemFailures": [{ "itemIdentifier": "m2" }] })
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_concurrently_up_to_the_bound() {
        let store = Arc::new(FaultyStore {
            latency: Duration::from_millis(20),
            ..FaultyStore::default()
        });
        let processor = Processor {
            store: Arc::clone(&store),
            permits: Arc::new(Semaphore::new(8)),
        };
        let report = processor
            .process((1..=40).map(|n| good(&format!("m{n}"), n)).collect())
            .await;
        assert_eq!(report.stored, 40);
        let most = store.most_in_flight.load(Ordering::SeqCst);
        assert!(
            (2..=8).contains(&most),
            "{most} writes were in flight at once"
        );
    }
}
