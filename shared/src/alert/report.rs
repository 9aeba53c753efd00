//! A report: one content a patient's app had acknowledged with `202`, as the rules judge it. Usually a stored
//! submission; also a repeat of one (same patient, instrument and timepoint under a new id), and a conflicting
//! resend (a stored id sent again with other content). Every one of them is judged: what a patient typed and was
//! told was received is never left unread by the rules.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::instrument::Scores;
use crate::item::{ConflictItem, SubmissionItem};
use crate::submission::Submission;

/// Where a report's content stands, which decides the clinical event its alerts belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A stored submission: its own event.
    #[default]
    Submission,
    /// A stored submission repeating the first one of its instrument and timepoint: the first one's event, so a
    /// double tap meeting the same rule raises nothing more.
    Repeat,
    /// A stored id resent with other content (an answer edited, an id reused by another app): an event of its own
    /// per distinct content, the original left as it was.
    ConflictingResend,
    /// A site investigator's correction of a stored submission: the submission's event (or the first one's it
    /// repeats), so a rule the submission met already raises nothing more.
    Correction,
}

impl Origin {
    /// The name used in records and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Submission => "submission",
            Origin::Repeat => "repeat",
            Origin::ConflictingResend => "conflicting-resend",
            Origin::Correction => "correction",
        }
    }
}

/// One acknowledged content, as the rules read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The content: ids, instrument and version, completion time, answers.
    pub submission: Submission,
    /// Its scores, computed when the API accepted it.
    pub scores: Scores,
    /// Its content hash.
    pub content_hash: String,
    /// Stored, repeating, or conflicting.
    pub origin: Origin,
    /// For a repeat: the first submission of its instrument and timepoint.
    pub repeat_of: Option<Uuid>,
    /// For a conflicting resend: the stored original's content hash.
    pub original_content_hash: Option<String>,
}

/// The namespace of alert ids (a fixed, random UUID).
const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x5d1f_3c7a_8b2e_4f60_9a41_c0de_a1e7_0001);

/// The id of the alert `rule_id` raises on a stored submission, its own event (see [`Report::alert_id`] for repeats
/// and conflicting resends): the same every time it is computed, so a retried write or a second evaluation finds it
/// instead of raising another.
pub fn alert_id(submission_id: &Uuid, rule_id: &str) -> Uuid {
    event_alert_id(&submission_id.to_string(), rule_id)
}

/// The id of the alert `rule_id` raised on the conflicting resend of `submission_id` whose content hash is
/// `content_hash`.
pub fn resend_alert_id(submission_id: &Uuid, content_hash: &str, rule_id: &str) -> Uuid {
    event_alert_id(&resend_event(submission_id, content_hash), rule_id)
}

/// The clinical event of a conflicting resend: this content under that id.
fn resend_event(submission_id: &Uuid, content_hash: &str) -> String {
    format!("{submission_id}#{content_hash}")
}

/// The id of the alert `rule_id` raises on the clinical event `event` (a submission id, or a conflicting resend's
/// `<id>#<contentHash>`).
fn event_alert_id(event: &str, rule_id: &str) -> Uuid {
    Uuid::new_v5(&ALERT_NAMESPACE, format!("{event}/{rule_id}").as_bytes())
}

impl Report {
    /// A stored submission.
    pub fn stored(item: &SubmissionItem) -> Self {
        Report {
            submission: item.submission.clone(),
            scores: item.scores.clone(),
            content_hash: item.content_hash.clone(),
            origin: if item.repeat_of.is_some() {
                Origin::Repeat
            } else {
                Origin::Submission
            },
            repeat_of: item.repeat_of,
            original_content_hash: None,
        }
    }

    /// A corrected version of the stored submission `original`.
    pub fn corrected(original: &SubmissionItem, version: &crate::item::VersionItem) -> Self {
        Report {
            submission: version.submission.clone(),
            scores: version.scores.clone(),
            content_hash: version.content_hash.clone(),
            origin: Origin::Correction,
            repeat_of: original.repeat_of,
            original_content_hash: Some(original.content_hash.clone()),
        }
    }

    /// A conflicting resend.
    pub fn conflicting(conflict: &ConflictItem) -> Self {
        Report {
            submission: conflict.conflicting_submission.clone(),
            scores: conflict.scores.clone(),
            content_hash: conflict.content_hash.clone(),
            origin: Origin::ConflictingResend,
            repeat_of: None,
            original_content_hash: Some(conflict.original_content_hash.clone()),
        }
    }

    /// The clinical event its alerts belong to: the submission, the first one it repeats, or this content of a
    /// conflicting resend.
    pub fn event(&self) -> String {
        let id = self.submission.submission_id;
        match (self.origin, self.repeat_of) {
            (Origin::Repeat | Origin::Correction, Some(first)) => first.to_string(),
            (Origin::ConflictingResend, _) => resend_event(&id, &self.content_hash),
            _ => id.to_string(),
        }
    }

    /// The id of the alert `rule_id` raises on it.
    pub fn alert_id(&self, rule_id: &str) -> Uuid {
        event_alert_id(&self.event(), rule_id)
    }

    /// The submissions whose conflicting resends' alerts stand for its own: itself, and the first one it repeats.
    pub fn resent_as(&self) -> Vec<Uuid> {
        std::iter::once(self.submission.submission_id)
            .chain(self.repeat_of)
            .collect()
    }
}
