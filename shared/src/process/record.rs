//! One queue record: decoded, written once, and classified.

use time::OffsetDateTime;
use tracing::warn;

use crate::envelope::{Envelope, EnvelopeError};
use crate::item::{ConflictItem, SubmissionItem, format_timestamp};
use crate::ports::{PutOutcome, Store, StoreError};

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written for the first time.
    Stored,
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
