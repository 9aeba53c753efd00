//! The audit trail: one record per change of state a person causes, written in the same transaction as the change
//! and never again. A trial's records share a partition, `pk = AUDIT#<trialId>`, sorted by `sk = <at>#<auditId>`:
//! the staff API and the export list them in the order they happened. No code path updates or deletes one: every
//! write is conditional on the key being new, and the template denies every function `UpdateItem` and `DeleteItem`
//! on these partitions.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{EnrolmentItem, RecordType};

/// The partition of a trial's audit trail.
pub fn audit_key(trial_id: &str) -> String {
    format!("{AUDIT_PREFIX}{trial_id}")
}

/// What every audit partition key starts with (the template's deny on changing them names it).
pub const AUDIT_PREFIX: &str = "AUDIT#";

/// What a person did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditAction {
    /// Enrolled a patient on a schedule.
    Enrolled,
    /// Changed an enrolment's anchors or time zone.
    TermsChanged,
    /// Withdrew a patient.
    Withdrawn,
    /// Acknowledged an alert.
    AlertAcknowledged,
    /// Excluded a submission from analysis ("entered in error").
    SubmissionExcluded,
    /// Brought an excluded submission back into analysis.
    SubmissionRestored,
    /// Corrected a submission's answers as a new version.
    SubmissionCorrected,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 7] = [
        AuditAction::Enrolled,
        AuditAction::TermsChanged,
        AuditAction::Withdrawn,
        AuditAction::AlertAcknowledged,
        AuditAction::SubmissionExcluded,
        AuditAction::SubmissionRestored,
        AuditAction::SubmissionCorrected,
    ];

    /// The name used in records, the API and the export.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Enrolled => "enrolled",
            AuditAction::TermsChanged => "terms-changed",
            AuditAction::Withdrawn => "withdrawn",
            AuditAction::AlertAcknowledged => "alert-acknowledged",
            AuditAction::SubmissionExcluded => "submission-excluded",
            AuditAction::SubmissionRestored => "submission-restored",
            AuditAction::SubmissionCorrected => "submission-corrected",
        }
    }

    /// The action named `name`.
    pub fn named(name: &str) -> Option<AuditAction> {
        Self::ALL.into_iter().find(|action| action.as_str() == name)
    }
}

/// What kind of record a change was made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditSubject {
    /// A patient's enrolment (its id is the patient's).
    Enrolment,
    /// An alert.
    Alert,
    /// A submission.
    Submission,
}

impl AuditSubject {
    /// The name used in records, the API and the export.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditSubject::Enrolment => "enrolment",
            AuditSubject::Alert => "alert",
            AuditSubject::Submission => "submission",
        }
    }
}

/// Who acted: the person the token names, and the permission (the OAuth scope) the action was taken under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The staff member's id, from the token.
    pub id: String,
    /// The scope that allowed the action, e.g. `epro/alerts.acknowledge`.
    pub role: String,
}

/// One audit record. Ids, references and the reason the person gave: the values a change set are in the record it
/// points to (`subjectType`, `subjectId`, `after`), which keeps its own history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditItem {
    /// `AUDIT#<trialId>`.
    pub pk: String,
    /// `<at as a fixed-width UTC key>#<auditId>`: the trail sorts by time.
    pub sk: String,
    /// Always [`RecordType::Audit`].
    pub record_type: RecordType,
    /// This record.
    pub audit_id: Uuid,
    /// The trial.
    pub trial_id: String,
    /// The patient the change concerns.
    pub patient_id: String,
    /// What was done.
    pub action: AuditAction,
    /// What it was done to.
    pub subject_type: AuditSubject,
    /// Its id (the patient's for an enrolment).
    pub subject_id: String,
    /// Who.
    pub by: String,
    /// Under which permission.
    pub role: String,
    /// When, in UTC, to the millisecond.
    pub at: String,
    /// Why, as the person wrote it (empty when the action asks for none: an acknowledgement, an enrolment made
    /// without one).
    #[serde(default)]
    pub reason: String,
    /// The state it replaced, as a reference (`revision 1`, `open`, `included`); empty for a creation.
    #[serde(default)]
    pub before: String,
    /// The state it made, as a reference.
    pub after: String,
}

/// A change, before it is attributed and timed.
struct Change<'a> {
    trial_id: &'a str,
    patient_id: &'a str,
    action: AuditAction,
    subject: (AuditSubject, String),
    reason: &'a str,
    before: String,
    after: String,
}

impl AuditItem {
    /// The record of `change`, made by `actor` at `at`.
    fn new(change: Change, actor: &Actor, at: &str) -> Self {
        // Time-ordered, and ordered within a millisecond in one process: two changes one person makes in quick
        // succession list in the order they were made.
        let audit_id = Uuid::now_v7();
        let (subject_type, subject_id) = change.subject;
        AuditItem {
            pk: audit_key(change.trial_id),
            // Fixed width, whatever precision `at` was written with: keys sort as the instants do.
            sk: format!(
                "{}#{audit_id}",
                super::instant_key(at).unwrap_or_else(|| at.to_owned())
            ),
            record_type: RecordType::Audit,
            audit_id,
            trial_id: change.trial_id.to_owned(),
            patient_id: change.patient_id.to_owned(),
            action: change.action,
            subject_type,
            subject_id,
            by: actor.id.clone(),
            role: actor.role.clone(),
            at: at.to_owned(),
            reason: change.reason.to_owned(),
            before: change.before,
            after: change.after,
        }
    }

    /// The record of the revision `enrolment` now stands at (its last history entry), made by `actor` at `at`
    /// (to the millisecond, as every audit record: the history entry's time is the schedule's, to the second).
    pub fn of_enrolment(enrolment: &EnrolmentItem, actor: &Actor, at: &str) -> Self {
        let entry = enrolment
            .history
            .last()
            .expect("an enrolment has the history of its revisions");
        let action = match entry.change.as_str() {
            "enrolled" => AuditAction::Enrolled,
            "terms-changed" => AuditAction::TermsChanged,
            "withdrawn" => AuditAction::Withdrawn,
            other => unreachable!(
                "an enrolment revision is enrolled, terms-changed or withdrawn, not {other}"
            ),
        };
        let before = match entry.revision {
            1 => String::new(),
            revision => format!("revision {}", revision - 1),
        };
        let change = Change {
            trial_id: &enrolment.trial_id,
            patient_id: &enrolment.patient_id,
            action,
            subject: (AuditSubject::Enrolment, enrolment.patient_id.clone()),
            reason: &entry.reason,
            before,
            after: format!("revision {}", entry.revision),
        };
        Self::new(change, actor, at)
    }

    /// The record of acknowledging the alert `alert_id` of `patient_id` in `trial_id`.
    pub fn of_acknowledgement(
        trial_id: &str,
        patient_id: &str,
        alert_id: &Uuid,
        actor: &Actor,
        at: &str,
    ) -> Self {
        let change = Change {
            trial_id,
            patient_id,
            action: AuditAction::AlertAcknowledged,
            subject: (AuditSubject::Alert, alert_id.to_string()),
            reason: "",
            before: "open".into(),
            after: "acknowledged".into(),
        };
        Self::new(change, actor, at)
    }

    /// The record of the correction `version`, made by `actor`.
    pub fn of_correction(version: &super::VersionItem, actor: &Actor) -> Self {
        let submission = &version.submission;
        let change = Change {
            trial_id: &submission.trial_id,
            patient_id: &submission.patient_id,
            action: AuditAction::SubmissionCorrected,
            subject: (
                AuditSubject::Submission,
                submission.submission_id.to_string(),
            ),
            reason: &version.reason,
            before: format!("version {}", version.replaces),
            after: format!("version {}", version.version),
        };
        Self::new(change, actor, &version.corrected_at)
    }

    /// The record of the exclusion state `exclusion` now stands at, made by `actor`.
    pub fn of_exclusion(exclusion: &super::ExclusionItem, actor: &Actor) -> Self {
        let (action, before, after) = if exclusion.excluded {
            (AuditAction::SubmissionExcluded, "included", "excluded")
        } else {
            (AuditAction::SubmissionRestored, "excluded", "included")
        };
        let change = Change {
            trial_id: &exclusion.trial_id,
            patient_id: &exclusion.patient_id,
            action,
            subject: (
                AuditSubject::Submission,
                exclusion.submission_id.to_string(),
            ),
            reason: &exclusion.reason,
            before: format!("{before} (exclusion revision {})", exclusion.revision - 1),
            after: format!("{after} (exclusion revision {})", exclusion.revision),
        };
        Self::new(change, actor, &exclusion.at)
    }
}
