//! Corrected submissions in an export. The research files hold each submission's current version: the answers and
//! scores of its latest correction, with its number in the `version` column and, in FHIR, `status: amended` and
//! `meta.versionId`. Every version before the current one is kept in `QuestionnaireResponse.history.ndjson` beside
//! it (in the same folder: research, excluded or quarantined), the same resource `id` with its own
//! `meta.versionId`, as FHIR's `_history` holds a resource's past versions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use intake::instrument::Catalogue;
use intake::item::{SubmissionItem, VersionItem};
use intake::ports::Records;
use intake::submission::Submission;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Error;

/// Each corrected submission's versions (2 and up), in order, by submission id.
pub type Versions = BTreeMap<Uuid, Vec<VersionItem>>;

/// Each corrected submission's current version number, by submission id (absent: version 1).
pub type VersionNumbers = BTreeMap<Uuid, u32>;

/// Each corrected submission's versions before its current one, oldest first (version 1 as the patient sent it).
pub type History = BTreeMap<Uuid, Vec<(u32, Submission)>>;

/// The history file's name inside an export.
pub const HISTORY: &str = "QuestionnaireResponse.history.ndjson";

/// The corrections of `items`, read per patient.
pub async fn corrections<R: Records>(
    records: &R,
    trial_id: &str,
    items: &[SubmissionItem],
) -> Result<Versions, Error> {
    let patients: std::collections::BTreeSet<&str> = items
        .iter()
        .map(|i| i.submission.patient_id.as_str())
        .collect();
    let mut versions = Versions::new();
    for patient in patients {
        for version in records
            .versions(trial_id, patient, None)
            .await
            .map_err(|e| e.to_string())?
        {
            versions
                .entry(version.submission.submission_id)
                .or_default()
                .push(version);
        }
    }
    for list in versions.values_mut() {
        list.sort_by_key(|v| v.version);
    }
    Ok(versions)
}

/// `items` as they currently stand: each corrected one with its latest version's answers and scores; each
/// corrected one's version number, and its earlier versions.
pub fn current(
    items: &[SubmissionItem],
    versions: &Versions,
) -> (Vec<SubmissionItem>, VersionNumbers, History) {
    let mut numbers = VersionNumbers::new();
    let mut history = History::new();
    let items = items
        .iter()
        .map(|item| {
            let id = item.submission.submission_id;
            let Some((latest, earlier)) = versions.get(&id).and_then(|v| v.split_last()) else {
                return item.clone();
            };
            numbers.insert(id, latest.version);
            let past = std::iter::once((1, item.submission.clone()))
                .chain(earlier.iter().map(|v| (v.version, v.submission.clone())));
            history.insert(id, past.collect());
            SubmissionItem {
                submission: latest.submission.clone(),
                scores: latest.scores.clone(),
                content_hash: latest.content_hash.clone(),
                ..item.clone()
            }
        })
        .collect();
    (items, numbers, history)
}

/// A rendered `QuestionnaireResponse` as version `version` of its resource: its `id` (the submission's), its
/// `meta.versionId`, and `amended` once corrected.
pub fn as_version(mut resource: Value, submission_id: &Uuid, version: u32) -> Value {
    resource["id"] = json!(submission_id.to_string());
    resource["meta"] = json!({ "versionId": version.to_string() });
    if version > 1 {
        resource["status"] = json!("amended");
    }
    resource
}

/// Writes every version before the current one of each of `members` that was corrected to
/// `folder/QuestionnaireResponse.history.ndjson`; the file and its lines, or nothing when none was corrected.
pub fn write_history(
    folder: &Path,
    members: &[SubmissionItem],
    history: &History,
    catalogue: &Catalogue,
) -> Result<Option<(PathBuf, usize)>, Error> {
    let mut lines = Vec::new();
    for item in members {
        let id = item.submission.submission_id;
        for (number, submission) in history.get(&id).into_iter().flatten() {
            let rendered = submission
                .survey_version
                .as_ref()
                .and_then(|_| intake::fhir::render::questionnaire_response(catalogue, submission));
            if let Some(resource) = rendered {
                lines.push(format!("{}\n", as_version(resource, &id, *number)));
            }
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let path = folder.join(HISTORY);
    std::fs::write(&path, lines.join(""))?;
    Ok(Some((path, lines.len())))
}
