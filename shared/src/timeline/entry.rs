//! A report's place on its patient's timeline: a small record in the patient's partition whose sort key orders the
//! reports of one instrument by the instant they were completed, so the report just before or after one is a
//! one-item query, whatever the patient's history.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::item::{
    ConflictItem, RecordType, SubmissionItem, VersionItem, instant_key, partition_key,
    submission_sort_key,
};
use crate::submission::Submission;

/// The sort key prefix of an instrument's timeline in a patient's partition.
pub fn timeline_prefix(survey_id: &str) -> String {
    format!("TIMELINE#{survey_id}#")
}

/// One report on a timeline. Keys and pointers only: the report's answers stay in its own record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// The patient's partition, as for their submissions.
    pub pk: String,
    /// `TIMELINE#<surveyId>#<completed instant>#<submissionId>`, and `#<contentHash>` after it for a conflicting
    /// resend: in completion order, a stored submission before the conflicting copies of its id.
    pub sk: String,
    /// Always [`RecordType::Timeline`].
    pub record_type: RecordType,
    /// The report's submission id.
    pub submission_id: Uuid,
    /// Whether it is a conflicting resend (never compared with by another report: the stored version is).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conflicting: bool,
    /// The sort key of a conflicting resend's record in the partition; for a submission, `SUBMISSION#<id>` (it is
    /// read by its id, [`crate::item::submission_key`]). A submission's corrections are read beside it: the report it
    /// stands for is its current version.
    pub report_sk: String,
    /// When the timeline function placed it.
    pub placed_at: String,
}

impl TimelineEntry {
    /// The entry of a stored submission.
    pub fn stored(item: &SubmissionItem, at: &str) -> Option<Self> {
        Self::of_submission(&item.submission, at)
    }

    /// The entry of a corrected submission: its original's, since a correction keeps the completion time.
    pub fn corrected(version: &VersionItem, at: &str) -> Option<Self> {
        Self::of_submission(&version.submission, at)
    }

    fn of_submission(submission: &Submission, at: &str) -> Option<Self> {
        Some(TimelineEntry {
            pk: partition_key(&submission.trial_id, &submission.patient_id),
            sk: format!(
                "{}{}#{}",
                timeline_prefix(&submission.survey_id),
                instant_key(&submission.completed_at)?,
                submission.submission_id
            ),
            record_type: RecordType::Timeline,
            submission_id: submission.submission_id,
            conflicting: false,
            report_sk: submission_sort_key(&submission.submission_id),
            placed_at: at.to_owned(),
        })
    }

    /// The entry of a conflicting resend.
    pub fn conflicting(conflict: &ConflictItem, at: &str) -> Option<Self> {
        let submission = &conflict.conflicting_submission;
        Some(TimelineEntry {
            pk: conflict.pk.clone(),
            sk: format!(
                "{}{}#{}#{}",
                timeline_prefix(&submission.survey_id),
                instant_key(&submission.completed_at)?,
                submission.submission_id,
                conflict.content_hash
            ),
            record_type: RecordType::Timeline,
            submission_id: submission.submission_id,
            conflicting: true,
            report_sk: conflict.sk.clone(),
            placed_at: at.to_owned(),
        })
    }

    /// The instrument's timeline prefix this entry is on.
    pub fn prefix(&self) -> &str {
        // `TIMELINE#<surveyId>#`: up to the second `#`.
        let end = self
            .sk
            .match_indices('#')
            .nth(1)
            .map_or(self.sk.len(), |(at, _)| at + 1);
        &self.sk[..end]
    }

    /// Its position among stored submissions: `<prefix><instant>#<submissionId>`. A stored submission's own key; a
    /// conflicting copy's without the hash, so the stored version of its id sorts at the same position.
    pub fn position(&self) -> &str {
        if self.conflicting {
            self.sk
                .rsplit_once('#')
                .map_or(self.sk.as_str(), |(p, _)| p)
        } else {
            &self.sk
        }
    }
}
