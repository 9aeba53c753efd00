//! A trial's submissions as FHIR R4 `QuestionnaireResponse` NDJSON (one resource per line, the bulk-data
//! format), each rendered against the questionnaire version the patient filled in.

use intake::fhir::render::questionnaire_response;
use intake::instrument::Catalogue;
use intake::item::SubmissionItem;

use super::versions::{VersionNumbers, as_version};

/// The NDJSON lines (each ending in a newline), and how many submissions had no version to render against. Each
/// resource is version `versions` names of its submission (1 when absent): `amended` from 2 on.
pub fn ndjson(
    items: &[SubmissionItem],
    catalogue: &Catalogue,
    versions: &VersionNumbers,
) -> (Vec<String>, usize) {
    let mut lines = Vec::with_capacity(items.len());
    let mut not_fhir = 0;
    for item in items {
        let rendered = item
            .submission
            .survey_version
            .as_ref()
            .and_then(|_| questionnaire_response(catalogue, &item.submission))
            .map(|resource| {
                let id = item.submission.submission_id;
                as_version(resource, &id, versions.get(&id).copied().unwrap_or(1))
            });
        match rendered {
            Some(resource) => lines.push(format!("{resource}\n")),
            None => not_fhir += 1,
        }
    }
    (lines, not_fhir)
}
