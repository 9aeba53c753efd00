//! The process use case: turns an SQS batch into stored submissions, reporting exactly the records that must
//! come back.
//!
//! Each record runs in its own task, so a panic fails that record only; a semaphore bounds how many write at once.
//! Every record ends in one of: stored, duplicate (acknowledged), conflict (original kept, conflict recorded,
//! acknowledged), or failed (listed in `batchItemFailures`, redelivered by SQS, dead-lettered after
//! `maxReceiveCount`).
//!
//! - `record`: one record, decoded, written once and classified;
//! - `alerts`: the alerts a report raises by its own answers, written in its transaction;
//! - `calendar`: the submission placed on its patient's calendar (stored with it; the survey due it completes
//!   updated in its transaction);
//! - `config`: the function's environment.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsMessage};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::{Instrument, error, info, warn};

use crate::metrics::{self, Metric};
use crate::ports::Store;

#[cfg(test)]
mod alert_tests;
mod alerts;
mod calendar;
#[cfg(test)]
mod calendar_tests;
mod config;
#[cfg(test)]
mod metric_tests;
mod record;
#[cfg(test)]
mod resume_tests;
#[cfg(test)]
mod tests;

pub use config::ProcessConfig;
pub use record::{Outcome, RecordError};

// A record's panic is caught by its task only if panics unwind: a build that aborts on panic (cargo-lambda's
// release default, unless the profile names `panic`) would lose the whole batch to one record, so it cannot compile.
const _: () = assert!(
    cfg!(panic = "unwind"),
    "the process function isolates a panicking record only if panics unwind: set panic = \"unwind\""
);

/// Default bound on records written concurrently within one batch. A 100-record batch then needs two store
/// round trips, not seven (at 16); the bound keeps one invocation from flooding the table or the connection pool.
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

/// Counts for one batch, and the response that tells SQS which records to redeliver.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Records written for the first time.
    pub stored: usize,
    /// Of those, submissions that repeat an earlier one of the same instrument and timepoint (flagged).
    pub repeats: usize,
    /// Records already stored with the same content.
    pub duplicates: usize,
    /// Records whose id was stored with other content.
    pub conflicts: usize,
    /// Records handed back to SQS.
    pub failed: usize,
    /// Alerts raised by the records written.
    pub alerts: usize,
    /// The partial batch response: the failed records' message ids.
    pub response: SqsBatchResponse,
}

/// Stores batches of queued submissions, each record at most once, `max_concurrency` at a time.
pub struct Processor<S> {
    store: Arc<S>,
    permits: Arc<Semaphore>,
}

impl<S: Store> Processor<S> {
    /// A processor writing to `store`, at most `max_concurrency` records at once.
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
        // EMF holds at most 100 values of a metric per document: time every `stride`-th record, an even sample.
        let stride = records.len().div_ceil(metrics::MAX_VALUES).max(1);
        let tasks: Vec<_> = records
            .into_iter()
            .enumerate()
            .map(|(index, record)| {
                let store = Arc::clone(&self.store);
                let permits = Arc::clone(&self.permits);
                let enqueued_at = enqueued_at(&record).filter(|_| index % stride == 0);
                // The submit invocation's X-Ray trace, which SQS carried: a failure's log leads to its request.
                let trace = record.attributes.get("AWSTraceHeader").cloned();
                let task = tokio::spawn(
                    async move {
                        let work = async {
                            let _permit = permits
                                .acquire_owned()
                                .await
                                .expect("the semaphore is never closed");
                            let outcome =
                                record::store_record(store.as_ref(), record.body.as_deref()).await;
                            if let (Ok(Outcome::Stored { .. } | Outcome::Repeat { .. }), Some(at)) =
                                (&outcome, enqueued_at)
                            {
                                metrics::milliseconds(Metric::QueueToStoreLatency, since_ms(at));
                            }
                            outcome
                        };
                        // A write cut off here may have landed in part; the redelivery completes it (or finds it stored).
                        tokio::time::timeout_at(deadline, work)
                            .await
                            .unwrap_or(Err(RecordError::OutOfTime))
                    }
                    // A spawned task starts outside every span: hand it the invocation's, so each line it logs
                    // (conflict, alert, failure) carries the request id and trace id.
                    .instrument(tracing::Span::current()),
                );
                // SQS always sets a message id. Were one missing, its failure would be reported with an empty
                // identifier, which Lambda treats as "the whole batch failed": a retry, never a silent drop.
                (record.message_id.unwrap_or_default(), trace, task)
            })
            .collect();

        let mut report = BatchReport::default();
        for (message_id, trace, task) in tasks {
            // A task's result is always awaited: dropping a panicked task's result would acknowledge its message.
            let result = task.await.unwrap_or_else(|join_error| {
                Err(if join_error.is_panic() {
                    RecordError::Panicked
                } else {
                    RecordError::Cancelled
                })
            });
            match result {
                Ok(Outcome::Stored { raised }) => {
                    report.stored += 1;
                    report.alerts += raised;
                }
                Ok(Outcome::Repeat { raised }) => {
                    report.stored += 1;
                    report.repeats += 1;
                    report.alerts += raised;
                }
                Ok(Outcome::Duplicate) => report.duplicates += 1,
                Ok(Outcome::Conflict { raised }) => {
                    report.conflicts += 1;
                    report.alerts += raised;
                }
                Err(failure) => {
                    if failure.is_transient() {
                        warn!(message_id, trace, error = %failure, "record will be retried")
                    } else {
                        error!(message_id, trace, error = %failure, "record failed; it goes to the DLQ after maxReceiveCount")
                    }
                    report.failed += 1;
                    report.response.add_failure(message_id);
                }
            }
        }
        info!(
            stored = report.stored,
            repeats = report.repeats,
            duplicates = report.duplicates,
            conflicts = report.conflicts,
            failed = report.failed,
            alerts = report.alerts,
            "batch processed"
        );
        report.count();
        report
    }
}

impl BatchReport {
    /// Adds the batch's counts to the function's metrics.
    fn count(&self) {
        metrics::add(Metric::Stored, self.stored);
        metrics::add(Metric::Duplicates, self.duplicates);
        metrics::add(Metric::Conflicts, self.conflicts);
        metrics::add(Metric::FailedRecords, self.failed);
        metrics::add(Metric::AlertsRaised, self.alerts);
    }
}

/// When SQS received the message (its `SentTimestamp`, Unix milliseconds), if it says.
fn enqueued_at(record: &SqsMessage) -> Option<u64> {
    record.attributes.get("SentTimestamp")?.parse().ok()
}

/// Milliseconds from `at` (Unix milliseconds) to now; zero if the clocks disagree.
fn since_ms(at: u64) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    now.saturating_sub(at) as f64
}
