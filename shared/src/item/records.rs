//! The records written with a submission, each once: the claim on its id and the marker of the first submission
//! at a timepoint (ahead of it), and the flags a data manager should see.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{RecordType, SubmissionItem, claim_key};

/// The one claim on a submission id, whatever trial or patient sends it: one id, one record, everywhere. A resend
/// compares its content hash with the claim's: different is a conflict; equal is this submission, to be completed
/// if an earlier delivery stopped part-way, a duplicate once it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdClaim {
    /// `SUBMISSIONID#<submissionId>`.
    pub pk: String,
    /// `CLAIM`.
    pub sk: String,
    /// Always [`RecordType::Claim`].
    pub record_type: RecordType,
    /// The claimed id.
    pub submission_id: Uuid,
    /// The stored submission's content hash.
    pub content_hash: String,
    /// When the claim was written.
    pub claimed_at: String,
}

/// The first submission of an instrument at a timepoint, per patient: a second one under a new id (an app
/// reinstalled, a double tap before the id was saved) is stored, and flagged as a repeat of this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimepointMarker {
    /// The patient's partition.
    pub pk: String,
    /// `TIMEPOINT#<surveyId>#<timepoint>`.
    pub sk: String,
    /// Always [`RecordType::Timepoint`].
    pub record_type: RecordType,
    /// The first submission.
    pub submission_id: Uuid,
    /// When it was stored.
    pub marked_at: String,
}

/// What a flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    /// A second submission of the same instrument and timepoint by the same patient, under a new id.
    Repeat,
    /// `completedAt` more than the tolerance ahead of the server's receive time: the device's clock runs fast.
    ClockAhead,
    /// A resend of a stored submission id with other content (a [`super::ConflictItem`]).
    Conflict,
    /// A survey due, completed outside its window and its graces.
    OutOfWindow,
    /// No survey of this instrument was due for the patient near its completion.
    Unscheduled,
    /// Completed after the patient was withdrawn.
    AfterWithdrawal,
}

impl FlagKind {
    /// Every kind.
    pub const ALL: [FlagKind; 6] = [
        FlagKind::Repeat,
        FlagKind::ClockAhead,
        FlagKind::Conflict,
        FlagKind::OutOfWindow,
        FlagKind::Unscheduled,
        FlagKind::AfterWithdrawal,
    ];

    /// The name used in records and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Repeat => "repeat",
            FlagKind::ClockAhead => "clock-ahead",
            FlagKind::Conflict => "conflict",
            FlagKind::OutOfWindow => "out-of-window",
            FlagKind::Unscheduled => "unscheduled",
            FlagKind::AfterWithdrawal => "after-withdrawal",
        }
    }

    /// Whether placing the submission on its patient's calendar raised it: such a flag stands or falls with the
    /// placement, so it is written with the submission, never ahead of it.
    pub fn comes_from_placement(self) -> bool {
        matches!(
            self,
            FlagKind::OutOfWindow | FlagKind::Unscheduled | FlagKind::AfterWithdrawal
        )
    }

    /// The kind named `name`.
    pub fn named(name: &str) -> Option<FlagKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// Something a data manager should look at, listed per trial by the `FlagsByTrial` index. Ids and figures only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    /// The patient's partition.
    pub pk: String,
    /// `FLAG#<kind>#<submissionId>`.
    pub sk: String,
    /// Always [`RecordType::Flag`].
    pub record_type: RecordType,
    /// What it is about.
    pub kind: FlagKind,
    /// The flagged submission.
    pub submission_id: Uuid,
    /// Its trial, for the `FlagsByTrial` index.
    pub flag_trial_id: String,
    /// When it was raised, for the `FlagsByTrial` index.
    pub flagged_at: String,
    /// What to look at, in words: ids and figures, never answers.
    pub detail: String,
}

impl IdClaim {
    /// The claim on `item`'s id.
    pub fn of(item: &SubmissionItem, at: &str) -> Self {
        IdClaim {
            pk: claim_key(&item.submission.submission_id),
            sk: "CLAIM".into(),
            record_type: RecordType::Claim,
            submission_id: item.submission.submission_id,
            content_hash: item.content_hash.clone(),
            claimed_at: at.to_owned(),
        }
    }
}

impl TimepointMarker {
    /// The marker `item` sets as the first submission of its instrument and timepoint.
    pub fn of(item: &SubmissionItem, at: &str) -> Self {
        let submission = &item.submission;
        TimepointMarker {
            pk: item.pk.clone(),
            sk: format!(
                "TIMEPOINT#{}#{}",
                submission.survey_id, submission.timepoint
            ),
            record_type: RecordType::Timepoint,
            submission_id: submission.submission_id,
            marked_at: at.to_owned(),
        }
    }
}

impl Flag {
    /// A flag of `kind` on `item`.
    pub fn on(item: &SubmissionItem, kind: FlagKind, detail: String, at: &str) -> Self {
        Flag {
            pk: item.pk.clone(),
            sk: format!("FLAG#{}#{}", kind.as_str(), item.submission.submission_id),
            record_type: RecordType::Flag,
            kind,
            submission_id: item.submission.submission_id,
            flag_trial_id: item.submission.trial_id.clone(),
            flagged_at: at.to_owned(),
            detail,
        }
    }
}
