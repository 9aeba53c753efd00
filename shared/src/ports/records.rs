//! A trial's record over time: exclusions, corrected versions and the audit trail.

use std::future::Future;

use uuid::Uuid;

use super::StoreError;
use crate::item::{AlertItem, AuditItem, ExclusionItem, SubmissionItem, VersionItem};

/// A trial's record over time: which submissions are excluded from analysis, and the audit trail of every change
/// a person made.
pub trait Records: Send + Sync + 'static {
    /// The key the patient's submission is stored under, if it is stored (its id's, or from before 2026-12-06 its
    /// patient's partition). Keys only: no answer is read.
    fn stored_key(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> impl Future<Output = Result<Option<(String, String)>, StoreError>> + Send;

    /// The submission's exclusion state, read consistently; `None` if nobody ever excluded it.
    fn exclusion(
        &self,
        trial_id: &str,
        submission_id: Uuid,
    ) -> impl Future<Output = Result<Option<ExclusionItem>, StoreError>> + Send;

    /// Writes `next` and `audit` all or nothing, if the submission is stored (under `stored`, its key) and `next`
    /// replaces the revision that stands (none for revision 1): else nothing, and `false`.
    fn change_exclusion(
        &self,
        next: &ExclusionItem,
        stored: &(String, String),
        audit: &AuditItem,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The patient's stored submission (version 1, as the patient sent it), read consistently.
    fn submission(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> impl Future<Output = Result<Option<SubmissionItem>, StoreError>> + Send;

    /// The corrected versions of the patient's submissions (of `submission_id` only, when given), by submission and
    /// version, read consistently.
    fn versions(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Option<Uuid>,
    ) -> impl Future<Output = Result<Vec<VersionItem>, StoreError>> + Send;

    /// The content hashes of the conflicting resends of the patient's submission (other content sent under its
    /// id), read consistently: keys and hashes only, never their answers.
    fn resend_hashes(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Writes `version`, the alerts it newly raises and `audit` all or nothing, if the version it replaces is
    /// stored (under `replaced`, [`VersionItem::replaced_key`]) and no other replaced it first: else nothing, and
    /// `false`.
    fn correct(
        &self,
        version: &VersionItem,
        replaced: &(String, String),
        alerts: &[AlertItem],
        audit: &AuditItem,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A page of a trial's audit trail, oldest first, after the record whose sort key is `after`.
    fn audit_trail(
        &self,
        trial_id: &str,
        limit: usize,
        after: Option<String>,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send;

    /// Every exclusion record of a trial (excluded now or restored).
    fn exclusions(
        &self,
        trial_id: &str,
    ) -> impl Future<Output = Result<Vec<ExclusionItem>, StoreError>> + Send;
}

/// One page of an audit trail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditPage {
    /// The records, oldest first.
    pub records: Vec<AuditItem>,
    /// The sort key the next page starts after, when there may be one.
    pub next: Option<String>,
}
