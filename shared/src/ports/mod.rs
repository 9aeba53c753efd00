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
use crate::item::{ConflictWrite, EnrolmentItem, Flag, SubmissionWrite, TimepointMarker};

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
///
/// A new submission is written in steps, each write-once, so a redelivery completes what an interrupted delivery
/// began: the marker of its timepoint ([`Store::mark_timepoint`]), [`Store::write_submission`] under its id's key
/// (which makes the id unique), then its flags that do not depend on the calendar ([`Store::write_flags`]; a
/// redelivery that finds the submission stored writes them too). A stored submission always has, unless it is a
/// repeat, its marker; its flags once its queue record is done.
pub trait Store: Send + Sync + 'static {
    /// Marks a patient's instrument and timepoint as taken by a submission, unless it is marked already: then the
    /// submission that marked it (this one when an earlier delivery of it got that far). A released marker is
    /// taken again.
    fn mark_timepoint(
        &self,
        marker: &TimepointMarker,
    ) -> impl Future<Output = Result<Option<uuid::Uuid>, StoreError>> + Send;

    /// The key of the timepoint marker of the submission stored under `submission_id`'s key; `None` when nothing
    /// is stored there yet (it may be on its way) or the earlier layout's claim is. Ids only, read consistently.
    fn stored_marker_key(
        &self,
        submission_id: uuid::Uuid,
    ) -> impl Future<Output = Result<Option<crate::item::Key>, StoreError>> + Send;

    /// Gives `marker` back, if its submission still holds it: that submission turned out to be a conflicting resend
    /// of an id stored elsewhere, no first submission at this timepoint.
    fn release_timepoint(
        &self,
        marker: &TimepointMarker,
        at: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes the submission itself under its id's key, never overwriting (but the bare claim of the earlier layout
    /// on its own content, when no submission of it is stored): in one transaction with what must stand or fall with
    /// it (the survey due it completes and the check of the enrolment it was placed against, the flags of that
    /// placement, its alerts) when it has any of those; a single conditional put when it has none.
    fn write_submission(
        &self,
        write: &SubmissionWrite,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;

    /// Writes each flag unless it is there already (an earlier delivery raised it).
    fn write_flags<'a>(
        &self,
        flags: impl Iterator<Item = &'a Flag> + Send,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

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

/// What writing a submission found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The submission was written, with everything that goes with it.
    Written,
    /// The id is stored already (a redelivery, a double tap, an edited resend, another patient's app reusing it),
    /// with this content hash; nothing was written in its transaction.
    AlreadyStored {
        /// The stored submission's content hash.
        content_hash: String,
        /// The key of the stored submission's timepoint marker, when known (not for an id claimed by the earlier
        /// layout with other content).
        marker_key: Option<(String, String)>,
    },
    /// Nothing was written in its transaction: the patient's enrolment changed since the submission was placed on
    /// its calendar. Place it again.
    CalendarChanged,
    /// Nothing was written in its transaction: these alerts are raised already (a repeat meeting a rule its first
    /// submission met). Write it again without them.
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
