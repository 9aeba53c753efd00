//! A corrected version of a submission. The submission as the patient sent it is version 1 and never changes; a
//! site investigator's correction is a new item, written once, naming the version it replaces. A patient's
//! corrections share a partition of their own, `pk = VERSION#<trialId>#<patientId>`, sorted by
//! `sk = <submissionId>#<nnnn>`: the staff API may put items there without being able to touch the patient's
//! partition, which holds the submissions. The current version is the highest.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{RecordType, SubmissionItem, content_hash};
use crate::instrument::Scores;
use crate::submission::Submission;

/// What every version partition key starts with (the template's grant names it).
pub const VERSION_PREFIX: &str = "VERSION#";

/// The partition of a patient's corrected versions.
pub fn version_key(trial_id: &str, patient_id: &str) -> String {
    format!("{VERSION_PREFIX}{trial_id}#{patient_id}")
}

/// The sort key of version `version` (2 and up) of a submission: fixed width up to version 9999, which a
/// correction refuses to pass.
pub fn version_sort_key(submission_id: &Uuid, version: u32) -> String {
    format!("{}{version:04}", version_prefix(submission_id))
}

/// What every version sort key of a submission starts with.
pub fn version_prefix(submission_id: &Uuid) -> String {
    format!("{submission_id}#")
}

/// The most versions a submission may have.
pub const MAX_VERSION: u32 = 9_999;

/// One corrected version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionItem {
    /// `VERSION#<trialId>#<patientId>`.
    pub pk: String,
    /// `<submissionId>#<nnnn>`.
    pub sk: String,
    /// Always [`RecordType::Version`].
    pub record_type: RecordType,
    /// Every submission field as corrected: the original's ids, instrument version, timepoint and completion time,
    /// with the corrected answers.
    #[serde(flatten)]
    pub submission: Submission,
    /// 2 for the first correction, one more for each after it.
    pub version: u32,
    /// The version it replaces.
    pub replaces: u32,
    /// The scores its instrument version declares, computed from the corrected answers.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scores: Scores,
    /// [`content_hash`] of the corrected submission.
    pub content_hash: String,
    /// Who corrected it (the staff id from the token).
    pub corrected_by: String,
    /// When (UTC).
    pub corrected_at: String,
    /// Why, as they wrote it.
    pub reason: String,
    /// As the original's: whether its instrument's rules compare reports, so the table's stream brings the
    /// correction to the timeline function, which compares it and the report after it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_timeline: bool,
}

impl VersionItem {
    /// The version after `replaces` of `original`, with `submission` (judged, its version set) and its `scores`.
    pub fn new(
        original: &SubmissionItem,
        replaces: u32,
        (submission, scores): (Submission, Scores),
        (by, at, reason): (&str, &str, &str),
    ) -> Self {
        let version = replaces + 1;
        VersionItem {
            pk: version_key(&submission.trial_id, &submission.patient_id),
            sk: version_sort_key(&original.submission.submission_id, version),
            record_type: RecordType::Version,
            content_hash: content_hash(&submission),
            submission,
            version,
            replaces,
            scores,
            corrected_by: by.to_owned(),
            corrected_at: at.to_owned(),
            reason: reason.to_owned(),
            on_timeline: original.on_timeline,
        }
    }

    /// The key of the version it replaces: the submission itself (`original`, as stored) for version 1, an earlier
    /// version otherwise.
    pub fn replaced_key(&self, original: &SubmissionItem) -> (String, String) {
        let submission = &self.submission;
        match self.replaces {
            1 => (original.pk.clone(), original.sk.clone()),
            earlier => (
                self.pk.clone(),
                version_sort_key(&submission.submission_id, earlier),
            ),
        }
    }
}
