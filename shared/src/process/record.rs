//! One queue record: decoded, written once, and classified.

use time::OffsetDateTime;
use tracing::{info, warn};

use crate::envelope::{Envelope, EnvelopeError};
use crate::item::{ConflictItem, SubmissionItem, SubmissionWrite, format_timestamp};
use crate::ports::{Store, StoreError, WriteOutcome};

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written for the first time, with the alerts it raised.
    Stored {
        /// How many alerts its answers raised.
        raised: usize,
    },
    /// Written for the first time, and flagged: it repeats an earlier submission of the same instrument and
    /// timepoint by the same patient, under a new id.
    Repeat {
        /// How many alerts its answers raised.
        raised: usize,
    },
    /// The same submission was already stored: a redelivery or an app resend.
    Duplicate,
    /// The id was stored with other content; the original stays, the resend is recorded as a conflict.
    Conflict,
}

/// Why a record failed; it goes back to the queue.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// SQS delivered a record without a body.
    #[error("record has no body")]
    NoBody,
    /// The body is not an envelope this build reads: retrying cannot help, so it ends in the DLQ.
    #[error(transparent)]
    Poison(#[from] EnvelopeError),
    /// The store failed after the SDK's retries; SQS redelivers the record.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record's task panicked.
    #[error("record task panicked")]
    Panicked,
    /// The record's task was cancelled before it finished (the runtime shutting down).
    #[error("record task was cancelled")]
    Cancelled,
    /// The invocation's deadline came first.
    #[error("record not finished before the invocation's deadline")]
    OutOfTime,
    /// The embedded alert rules do not load: a build defect that `make test` rules out. The record waits in the
    /// queue, then the DLQ, rather than being stored without its alerts.
    #[error("alert rules unavailable: {0}")]
    Rules(String),
}

impl RecordError {
    /// A failure another receive can cure (the store, time), as opposed to one that will fail every time.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RecordError::Store(_) | RecordError::OutOfTime | RecordError::Cancelled
        )
    }
}

/// Decodes a record's body and writes its submission once.
pub(super) async fn store_record<S: Store>(
    store: &S,
    body: Option<&str>,
) -> Result<Outcome, RecordError> {
    let envelope = Envelope::decode(body.ok_or(RecordError::NoBody)?)?;
    let now = format_timestamp(OffsetDateTime::now_utc());
    let mut write = SubmissionWrite::new(SubmissionItem::new(envelope, now.clone()), &now);
    write.alerts = super::alerts::raised(store, &write.item, &now).await?;
    loop {
        match store.write_submission(&write).await? {
            WriteOutcome::Written => {
                for alert in &write.alerts {
                    // Ids and the rule only: the message that follows (notify) says no more.
                    info!(
                        alert_id = %alert.alert_id,
                        submission_id = %alert.submission_id,
                        trial_id = alert.trial_id,
                        rule_id = alert.rule_id,
                        severity = alert.severity.as_str(),
                        "alert raised"
                    );
                }
                let raised = write.alerts.len();
                return Ok(if write.item.repeat_of.is_some() {
                    Outcome::Repeat { raised }
                } else {
                    Outcome::Stored { raised }
                });
            }
            WriteOutcome::Claimed { content_hash } if content_hash == write.item.content_hash => {
                return Ok(Outcome::Duplicate);
            }
            WriteOutcome::Claimed { content_hash } => {
                return record_conflict(store, write.item, content_hash, now).await;
            }
            WriteOutcome::TimepointTaken { first } if write.timepoint.is_some() => {
                write = write.as_repeat_of(first, &now);
            }
            WriteOutcome::TimepointTaken { .. } => {
                return Err(StoreError("a repeat was refused its timepoint".into()).into());
            }
        }
    }
}

/// The id is stored with other content: the original stays, the resend is kept beside it for an operator.
async fn record_conflict<S: Store>(
    store: &S,
    item: SubmissionItem,
    original_content_hash: String,
    now: String,
) -> Result<Outcome, RecordError> {
    let submission_id = item.submission.submission_id.to_string();
    let trial_id = item.submission.trial_id.clone();
    let conflict = ConflictItem::new(item, original_content_hash, now);
    store.record_conflict(&conflict).await?;
    // Ids only, the same as the submit function logs: never the patient, never the content.
    warn!(
        submission_id,
        trial_id,
        conflict_sk = conflict.sk,
        "conflicting resend: original kept, conflict recorded"
    );
    Ok(Outcome::Conflict)
}
