//! The stored submission.

use serde::{Deserialize, Serialize};

use super::{RecordType, content_hash, partition_key, submission_key, trial_shard};
use crate::envelope::Envelope;
use crate::instrument::Scores;
use crate::submission::Submission;

/// A stored submission: every submission field as an attribute of the same name, plus the intake metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionItem {
    /// `SUBMISSIONID#<submissionId>` ([`super::submission_key`]); `TRIAL#<trialId>#PATIENT#<patientId>` on one stored
    /// before 2026-12-06.
    pub pk: String,
    /// `CLAIM`; `SUBMISSION#<submissionId>` on one stored before 2026-12-06.
    pub sk: String,
    /// Always [`RecordType::Submission`].
    pub record_type: RecordType,
    /// `<trialId>#<nn>`: the `ByTrialShardReceivedAt` index key ([`trial_shard`]). Always written; absent (empty
    /// here, and never written empty: an index key cannot be) on submissions stored before the index was sharded,
    /// until `make migrate` gives them theirs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trial_shard: String,
    /// Every submission field, at top level.
    #[serde(flatten)]
    pub submission: Submission,
    /// When the API accepted it.
    pub received_at: String,
    /// When the process function wrote it.
    pub stored_at: String,
    /// [`content_hash`] of the submission.
    pub content_hash: String,
    /// The envelope schema it came in.
    pub schema_version: u32,
    /// API Gateway's id of the accepting request.
    pub request_id: String,
    /// The form it arrived in: `json` or `fhir`.
    pub received_as: String,
    /// The scores its instrument version declares (`total`: value and band), computed when it was accepted.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scores: Scores,
    /// How far ahead of the server's receive time the device's `completedAt` was, when over the tolerance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_ahead_seconds: Option<i64>,
    /// The earlier submission of the same instrument and timepoint by the same patient, when this one repeats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<uuid::Uuid>,
    /// Whether the app named no version and the API resolved it (`surveyVersion` is then not part of the content).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub survey_version_resolved: bool,
    /// Whether its instrument's rules compare it with the patient's previous report: the table's stream then
    /// brings it to the timeline function, which places it in completion order ([`crate::timeline`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_timeline: bool,
    /// Where it sits on the patient's calendar ([`super::SchedulePlacement`]); absent on submissions stored before
    /// schedules existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<super::SchedulePlacement>,
}

impl SubmissionItem {
    /// The item for an envelope, written at `stored_at`.
    pub fn new(envelope: Envelope, stored_at: String) -> Self {
        let Envelope {
            schema_version,
            request_id,
            received_at,
            received_as,
            submission,
            survey_version_resolved,
            scores,
            clock_ahead_seconds,
        } = envelope;
        let content_hash = content_hash(&as_sent(&submission, survey_version_resolved));
        let (pk, sk) = submission_key(&submission.submission_id);
        SubmissionItem {
            pk,
            sk,
            record_type: RecordType::Submission,
            trial_shard: trial_shard(&submission.trial_id, &submission.submission_id),
            content_hash,
            submission,
            received_at,
            stored_at,
            schema_version,
            request_id,
            received_as,
            scores,
            clock_ahead_seconds,
            repeat_of: None,
            survey_version_resolved,
            on_timeline: false,
            schedule: None,
        }
    }

    /// The partition of its patient's other records: marker, flags, conflicts, calendar, timeline.
    pub fn patient_partition(&self) -> String {
        partition_key(&self.submission.trial_id, &self.submission.patient_id)
    }

    /// The key of the marker of its instrument and timepoint in its patient's partition.
    pub fn marker_key(&self) -> (String, String) {
        let submission = &self.submission;
        super::timepoint_marker_key(
            &self.patient_partition(),
            &submission.survey_id,
            &submission.timepoint,
        )
    }

    /// Whether `content_hash` is this submission's content: its hash, or the one written before the instant was
    /// canonical (a claim stored then).
    pub fn has_content(&self, content_hash: &str) -> bool {
        content_hash == self.content_hash
            || content_hash == super::legacy_content_hash(&self.submission)
    }
}

/// The submission as the app sent it: without the version the API resolved for it.
fn as_sent(submission: &Submission, version_resolved: bool) -> Submission {
    let mut sent = submission.clone();
    if version_resolved {
        sent.survey_version = None;
    }
    sent
}
