//! The ports between the intake rules and AWS: the queue, the submission store, the alert records and the alert
//! topics. `aws` implements them with the SDKs, `testing::memory` in memory for tests.

use std::future::Future;

use uuid::Uuid;

use crate::alert::Prior;
use crate::envelope::Envelope;
use crate::item::{AlertItem, AlertStatus, ConflictItem, SubmissionItem, SubmissionWrite};
use crate::notify::AlertMessage;

/// Where accepted submissions wait for processing.
pub trait Queue: Send + Sync + 'static {
    /// Returns once the queue has acknowledged (durably stored) the message.
    fn send(&self, envelope: &Envelope) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Where submissions are kept, each exactly once.
pub trait Store: Send + Sync + 'static {
    /// Writes a new submission with everything that goes with it (the claim on its id, its timepoint marker, its
    /// flags, its alerts), all or nothing, unless its id is already claimed or its timepoint already taken. Never
    /// overwrites.
    fn write_submission(
        &self,
        write: &SubmissionWrite,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;

    /// The same patient's latest stored submission of `item`'s instrument completed before it, for the rules that
    /// compare with the previous report.
    fn previous_submission(
        &self,
        item: &SubmissionItem,
    ) -> impl Future<Output = Result<Option<Prior>, StoreError>> + Send;

    /// Records a conflicting resend. Idempotent: recording the same conflict twice keeps one record.
    fn record_conflict(
        &self,
        conflict: &ConflictItem,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The alert records, after the transaction that raised them: read, listed, acknowledged, marked as sent.
pub trait Alerts: Send + Sync + 'static {
    /// The alert `alert_id`, read consistently.
    fn alert(
        &self,
        alert_id: Uuid,
    ) -> impl Future<Output = Result<Option<AlertItem>, StoreError>> + Send;

    /// A page of a trial's alerts, newest first, of one status or all.
    fn list(
        &self,
        trial_id: &str,
        status: Option<AlertStatus>,
        page: Page,
    ) -> impl Future<Output = Result<AlertPage, StoreError>> + Send;

    /// Acknowledges `alert` by `by` at `at`, unless someone did already: then the record as it is.
    fn acknowledge(
        &self,
        alert: &AlertItem,
        by: &str,
        at: &str,
    ) -> impl Future<Output = Result<AlertItem, StoreError>> + Send;

    /// Records that the alert topic accepted the alert's message (kept when already recorded).
    fn mark_notified(
        &self,
        alert_id: Uuid,
        at: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Open urgent alerts raised before `raised_before` and not escalated yet, oldest first.
    fn due_escalations(
        &self,
        raised_before: &str,
    ) -> impl Future<Output = Result<Vec<AlertItem>, StoreError>> + Send;

    /// Records the escalation, unless the alert was acknowledged or escalated meanwhile (then `false`).
    fn mark_escalated(
        &self,
        alert_id: Uuid,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Where a page of a list starts and how long it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// At most this many.
    pub limit: usize,
    /// After this position (the previous page's `next`).
    pub after: Option<Cursor>,
}

/// A position in a trial's alerts: the `AlertsByTrial` sort key and the alert of the last one returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Its `alertSort`.
    pub alert_sort: String,
    /// Its id.
    pub alert_id: Uuid,
}

/// One page of alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertPage {
    /// The alerts, newest first.
    pub alerts: Vec<AlertItem>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

/// Where alert messages go: a topic the study team subscribes e-mail, SMS or a webhook to.
pub trait Topic: Send + Sync + 'static {
    /// Returns once the topic has accepted the message.
    fn publish(
        &self,
        message: &AlertMessage,
    ) -> impl Future<Output = Result<(), TopicError>> + Send;
}

/// The topic did not accept a message. The text names the error class, never content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("topic unavailable: {0}")]
pub struct TopicError(pub String);

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
