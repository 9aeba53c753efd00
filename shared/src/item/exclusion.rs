//! Whether a submission is excluded from analysis ("entered in error"): the submission itself is never changed or
//! deleted; this record says whether the research export leaves it out, and each change of it is audited. A
//! trial's exclusions share a partition, `pk = EXCLUSION#<trialId>`, `sk = SUBMISSION#<submissionId>`: the export
//! reads them in one query.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{RecordType, submission_sort_key};

/// The partition of a trial's exclusions.
pub fn exclusion_key(trial_id: &str) -> String {
    format!("EXCLUSION#{trial_id}")
}

/// Where a submission stands in analysis, as its last change left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionItem {
    /// `EXCLUSION#<trialId>`.
    pub pk: String,
    /// `SUBMISSION#<submissionId>`.
    pub sk: String,
    /// Always [`RecordType::Exclusion`].
    pub record_type: RecordType,
    /// The trial.
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// The submission.
    pub submission_id: Uuid,
    /// Whether it is left out of analysis now.
    pub excluded: bool,
    /// 1 for the first exclusion, one more for each change: a change names the revision it replaces.
    pub revision: u32,
    /// Why, for the last change.
    pub reason: String,
    /// Who made the last change.
    pub by: String,
    /// When (UTC).
    pub at: String,
}

impl ExclusionItem {
    /// The state after setting `excluded` on `submission_id`, replacing `current` (none before the first change).
    pub fn next(
        current: Option<&ExclusionItem>,
        (trial_id, patient_id, submission_id): (&str, &str, Uuid),
        excluded: bool,
        reason: &str,
        by: &str,
        at: &str,
    ) -> Self {
        ExclusionItem {
            pk: exclusion_key(trial_id),
            sk: submission_sort_key(&submission_id),
            record_type: RecordType::Exclusion,
            trial_id: trial_id.to_owned(),
            patient_id: patient_id.to_owned(),
            submission_id,
            excluded,
            revision: current.map_or(1, |c| c.revision + 1),
            reason: reason.to_owned(),
            by: by.to_owned(),
            at: at.to_owned(),
        }
    }
}
