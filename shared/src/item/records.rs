//! The records written with a submission, each once: the marker of the first submission at a timepoint (ahead of
//! it) and the flags a data manager should see; and the bare claim on an id the earlier layout wrote.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ID_SK, RecordType, SubmissionItem, claim_key};

/// The claim on a submission id that the layout before 2026-12-06 wrote ahead of the submission, under the key the
/// submission itself now takes ([`super::submission_key`]). Where one stands it still guards its id: a resend with
/// other content is a conflict; with the same content it is that submission (stored in its patient's partition), or,
/// when an earlier delivery stopped after the claim, the submission to store over it.
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
    /// When the submission that took it gave it back: a resend of a stored id with other content (at another
    /// timepoint, or from another patient) is no first submission here. A released marker is free to take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
}

/// The key of the marker of `survey_id` at `timepoint` in the patient's partition `pk`.
pub fn timepoint_marker_key(pk: &str, survey_id: &str, timepoint: &str) -> (String, String) {
    (pk.to_owned(), format!("TIMEPOINT#{survey_id}#{timepoint}"))
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
    /// The claim the earlier layout wrote on `item`'s id.
    pub fn of(item: &SubmissionItem, at: &str) -> Self {
        IdClaim {
            pk: claim_key(&item.submission.submission_id),
            sk: ID_SK.into(),
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
        let (pk, sk) = item.marker_key();
        TimepointMarker {
            pk,
            sk,
            record_type: RecordType::Timepoint,
            submission_id: item.submission.submission_id,
            marked_at: at.to_owned(),
            released_at: None,
        }
    }
}

impl Flag {
    /// A flag of `kind` on `item`.
    pub fn on(item: &SubmissionItem, kind: FlagKind, detail: String, at: &str) -> Self {
        Flag {
            pk: item.patient_partition(),
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
