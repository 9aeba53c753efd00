//! A resend of a stored submission id with other content.

use serde::{Deserialize, Serialize};

use super::{AlertItem, FlagKind, RecordType, SubmissionItem};
use crate::instrument::Scores;
use crate::submission::Submission;

/// A resend of a stored submission id with different content. The original stays untouched; this record lets an
/// operator see both versions and decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictItem {
    /// The patient's partition, as for the submission.
    pub pk: String,
    /// `CONFLICT#<submissionId>#<contentHash of the resend>`.
    pub sk: String,
    /// Always [`RecordType::Conflict`].
    pub record_type: RecordType,
    /// The id both versions share.
    pub submission_id: uuid::Uuid,
    /// The stored original's content hash.
    pub original_content_hash: String,
    /// The resend's content hash.
    pub content_hash: String,
    /// When the process function found the conflict.
    pub detected_at: String,
    /// API Gateway's id of the request that sent the resend.
    pub request_id: String,
    /// When the API accepted the resend.
    pub conflicting_received_at: String,
    /// The resend, whole, for an operator to compare.
    pub conflicting_submission: Submission,
    /// The resend's scores, computed when the API accepted it: the alert rules read them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scores: Scores,
    /// Whether its instrument's rules compare it with the patient's previous report (see
    /// [`SubmissionItem::on_timeline`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_timeline: bool,
    /// Always [`FlagKind::Conflict`]: conflicts are listed with the flags.
    pub kind: FlagKind,
    /// What to look at, in words (ids and hashes).
    pub detail: String,
    /// The trial of the partition it is recorded in, for the `FlagsByTrial` index.
    pub flag_trial_id: String,
    /// When it was found, for the `FlagsByTrial` index.
    pub flagged_at: String,
}

impl ConflictItem {
    /// Notes in its detail the alerts the resend's own answers raised, so whoever reads the flag knows to look at
    /// both versions now.
    pub fn note_alerts(&mut self, alerts: &[AlertItem]) {
        for alert in alerts {
            self.detail.push_str(&format!(
                "; its answers raised {} alert {} ({})",
                alert.severity.as_str(),
                alert.alert_id,
                alert.rule_id
            ));
        }
    }

    /// The conflict record for `rejected`, which collided with a stored item whose hash is `original_content_hash`.
    /// Its key includes the rejected content's hash, so a redelivery of the same conflicting message records it once.
    pub fn new(
        rejected: SubmissionItem,
        original_content_hash: String,
        detected_at: String,
    ) -> Self {
        let submission_id = rejected.submission.submission_id;
        let detail = format!(
            "{submission_id} resent with other content (stored {}, resent {})",
            &original_content_hash[..original_content_hash.len().min(12)],
            &rejected.content_hash[..rejected.content_hash.len().min(12)]
        );
        ConflictItem {
            pk: rejected.patient_partition(),
            sk: format!(
                "{}{}",
                conflict_prefix(&submission_id),
                rejected.content_hash
            ),
            record_type: RecordType::Conflict,
            submission_id,
            original_content_hash,
            content_hash: rejected.content_hash,
            detected_at: detected_at.clone(),
            request_id: rejected.request_id,
            conflicting_received_at: rejected.received_at,
            kind: FlagKind::Conflict,
            detail,
            flag_trial_id: rejected.submission.trial_id.clone(),
            flagged_at: detected_at,
            conflicting_submission: rejected.submission,
            scores: rejected.scores,
            on_timeline: rejected.on_timeline,
        }
    }
}

/// What the sort key of every conflicting resend of a submission starts with.
pub fn conflict_prefix(submission_id: &uuid::Uuid) -> String {
    format!("CONFLICT#{submission_id}#")
}
