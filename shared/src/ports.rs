//! The two ports between the intake rules and AWS. `aws` implements them with the SDKs, `memory` in memory for tests.

use std::future::Future;

use crate::envelope::Envelope;
use crate::item::{ConflictItem, SubmissionWrite};

/// Where accepted submissions wait for processing.
pub trait Queue: Send + Sync + 'static {
    /// Returns once the queue has acknowledged (durably stored) the message.
    fn send(&self, envelope: &Envelope) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Where submissions are kept, each exactly once.
pub trait Store: Send + Sync + 'static {
    /// Writes a new submission with everything that goes with it (the claim on its id, its timepoint marker, its
    /// flags), all or nothing, unless its id is already claimed or its timepoint already taken. Never overwrites.
    fn write_submission(
        &self,
        write: &SubmissionWrite,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;

    /// Records a conflicting resend. Idempotent: recording the same conflict twice keeps one record.
    fn record_conflict(
        &self,
        conflict: &ConflictItem,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What a submission write found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Everything was written.
    Written,
    /// Nothing was written: the id is claimed already, by a submission with this content hash.
    Claimed {
        /// The stored submission's content hash.
        content_hash: String,
    },
    /// Nothing was written: this patient's submission of this instrument and timepoint is stored already, under
    /// another id. Write it again as a repeat of that one.
    TimepointTaken {
        /// The first submission.
        first: uuid::Uuid,
    },
}

/// The queue did not take the message. The text names the error class, never content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    /// No acknowledgement after the SDK's retries: a later retry can succeed.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The queue refused this very message (its size or characters): retrying it can never succeed.
    #[error("queue refused the message: {0}")]
    Refused(String),
}

/// A store call failed, after the SDK's retries. The text names the error class, never item content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);
