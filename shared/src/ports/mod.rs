//! The ports between the intake rules and AWS: the queue, the submission store, the alert records, the patients'
//! timelines, enrolments and calendars, the schedule sweep, a trial's record over time, and the topics. `aws`
//! implements them with the SDKs, `testing::memory` in memory for tests.
//!
//! - [`alerts`]: the alert records and the claims on their follow-up.
//! - [`timeline`]: the patients' timelines.
//! - [`flags`]: a trial's flags.
//! - [`calendar`]: enrolments, calendars and the sweep.
//! - [`records`]: exclusions, versions and the audit trail.
//! - [`topic`]: where messages go.

mod alerts;
mod calendar;
mod flags;
mod records;
mod timeline;
mod topic;

use std::future::Future;

use crate::envelope::Envelope;
use crate::item::{ConflictWrite, EnrolmentItem, SubmissionWrite};

pub use alerts::{AlertPage, Alerts, Claim, Cursor, Duty, Page};
pub use calendar::{Enrolments, Notice, Sweep};
pub use flags::{FlagCursor, FlagPage, Flags, ListedFlag};
pub use records::{AuditPage, Records};
pub use timeline::Timeline;
pub use topic::{Publishable, Topic, TopicError};

/// Where accepted submissions wait for processing.
pub trait Queue: Send + Sync + 'static {
    /// Returns once the queue has acknowledged (durably stored) the message.
    fn send(&self, envelope: &Envelope) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Where submissions are kept, each exactly once.
pub trait Store: Send + Sync + 'static {
    /// Writes a new submission with everything that goes with it (the claim on its id, its timepoint marker, its
    /// flags, the survey due it completes, its alerts), all or nothing, unless its id is already claimed, its
    /// timepoint already taken or one of its alerts already raised. Never overwrites.
    fn write_submission(
        &self,
        write: &SubmissionWrite,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;

    /// The patient's enrolment in the trial, if any, read consistently (a submission is placed on the calendar as
    /// it stands; the write then checks it still does).
    fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> impl Future<Output = Result<Option<EnrolmentItem>, StoreError>> + Send;

    /// Records a conflicting resend with the alerts its content raises, all or nothing; whether it did. Idempotent:
    /// recording the same conflict twice keeps one record and raises nothing more (`false`).
    fn record_conflict(
        &self,
        write: &ConflictWrite,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
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
    /// Nothing was written: the patient's enrolment changed since the submission was placed on its calendar.
    /// Place it again.
    CalendarChanged,
    /// Nothing was written: these alerts are raised already (a repeat meeting a rule its first submission met).
    /// Write it again without them.
    AlertsRaised {
        /// The alerts that exist.
        existing: Vec<uuid::Uuid>,
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

impl StoreError {
    /// The error class DynamoDB gives a request it refuses as malformed or inconsistent (a start key outside the
    /// key condition, say): the request's fault, never worth retrying.
    pub const VALIDATION: &'static str = "ValidationException";

    /// Whether the store refused the request itself, rather than failing to serve it.
    pub fn is_refusal(&self) -> bool {
        self.0 == Self::VALIDATION
    }
}
