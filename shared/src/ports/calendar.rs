//! Enrolments and the patients' calendars of surveys due, and the scheduled sweep over them.

use std::future::Future;

use super::{Claim, StoreError};
use crate::enrolment::Revision;
use crate::item::{AuditItem, EnrolmentItem, EnrolmentStanding, OccurrenceItem};

/// Patients' enrolments and the surveys due under them (their calendars).
pub trait Enrolments: Send + Sync + 'static {
    /// The patient's enrolment in the trial, read consistently.
    fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> impl Future<Output = Result<Option<EnrolmentItem>, StoreError>> + Send;

    /// Who the patient's enrolment names and whether withdrawn, read consistently, and nothing else of it.
    fn standing(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> impl Future<Output = Result<Option<EnrolmentStanding>, StoreError>> + Send;

    /// The patient's surveys due, read consistently.
    fn occurrences(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> impl Future<Output = Result<Vec<OccurrenceItem>, StoreError>> + Send;

    /// Writes a revision and its audit record all or nothing, unless the enrolment is no longer the one it was made
    /// against (another change came first, or the patient is enrolled already): then nothing, and `false`.
    fn write(
        &self,
        revision: &Revision,
        audit: &AuditItem,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every survey due in a trial, every patient (for compliance and the wave forecast).
    fn calendar(
        &self,
        trial_id: &str,
    ) -> impl Future<Output = Result<Vec<OccurrenceItem>, StoreError>> + Send;
}

/// The surveys due whose window opened or closed, for the scheduled sweep: each reminder and each missed-survey
/// notice sent once by one sweep, each miss recorded once, however many sweeps overlap.
pub trait Sweep: Send + Sync + 'static {
    /// Surveys due in `shard` whose next step is due at or before `until`, oldest first.
    fn due(
        &self,
        shard: u32,
        until: &str,
    ) -> impl Future<Output = Result<Vec<OccurrenceItem>, StoreError>> + Send;

    /// Takes `notice` of the survey due for `claim`, if it is still owed (not sent, not completed, not withdrawn,
    /// its window unmoved) and not held by another live claim (`claim` holding it already is a request sent again
    /// after its answer was lost); whether it did.
    fn claim(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim: &Claim,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records `notice` sent at `at` (accepted by its topic), if `claim_id` still holds it; whether it did.
    fn complete(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Hands `notice` back (its topic refused it), if `claim_id` still holds it.
    fn release(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the survey missed at `at` (its window closed with nothing), unless it was completed, withdrawn,
    /// moved or recorded missed already; whether it did.
    fn record_missed(
        &self,
        item: &OccurrenceItem,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What the sweep sends about a survey due, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Its window opened: the patient's reminder, on the reminder topic.
    Reminder,
    /// Its window closed with nothing: the site's notice, on the missed-survey topic.
    Missed,
}
