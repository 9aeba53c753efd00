//! The two ports between the intake rules and AWS. `aws` implements them with the SDKs, `memory` in memory for tests.

use std::future::Future;

use crate::envelope::Envelope;
use crate::item::{ConflictItem, SubmissionItem};

/// Where accepted submissions wait for processing.
pub trait Queue: Send + Sync + 'static {
    /// Returns once the queue has acknowledged (durably stored) the message.
    fn send(&self, envelope: &Envelope) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Where submissions are kept, each exactly once.
pub trait Store: Send + Sync + 'static {
    /// Writes `item` unless an item with its key exists; never overwrites.
    fn put_if_absent(
        &self,
        item: &SubmissionItem,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;

    /// Records a conflicting resend. Idempotent: recording the same conflict twice keeps one record.
    fn record_conflict(
        &self,
        conflict: &ConflictItem,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What a conditional write found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The item was written.
    Created,
    /// An item with that key was already there; this is its content hash.
    AlreadyExists {
        /// The stored item's content hash.
        content_hash: String,
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
