//! A trial's submissions out, for analysts and for FHIR systems: listed through the by-trial index (keys only,
//! paginated), read 100 at a time, then written as one CSV per instrument version (`table`) and as
//! `QuestionnaireResponse` NDJSON (`fhir`), each line rendered against the version the patient filled in; and the
//! trial's schedule compliance (`compliance`). Beside each table, its `codebook`; every CSV cell safe to open in a
//! spreadsheet (`spreadsheet`); and a `manifest` of the files with their SHA-256.
//!
//! This reads the live table with ordinary queries, which suits a trial of up to a few hundred thousand
//! submissions. For larger ones, or a snapshot at a point in time, use DynamoDB's export to S3 (docs/data.md).

pub mod audit;
pub mod codebook;
pub mod compliance;
pub mod deidentify;
#[cfg(test)]
mod deidentify_tests;
pub mod fhir;
pub mod manifest;
pub mod secret;
pub mod spreadsheet;
pub mod table;
#[cfg(test)]
mod tests;
pub mod versions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use intake::instrument::Catalogue;
use intake::item::{SubmissionItem, submission_id_of_key};

use crate::{Aws, Error, Stack};

/// What was written, for the operator's summary.
#[derive(Debug, Default)]
pub struct Written {
    /// Each file, with the number of submissions in it.
    pub files: Vec<(PathBuf, usize)>,
    /// Submissions that could not be rendered as FHIR (from before instruments: no version).
    pub not_fhir: usize,
    /// Submissions completed after their patient's withdrawal: kept, written apart under `quarantined/`.
    pub quarantined: usize,
    /// Submissions a person excluded from analysis: kept, written apart under `excluded/`.
    pub excluded: usize,
}

/// The folder, inside an export, for submissions completed after their patient was withdrawn.
pub const QUARANTINED: &str = "quarantined";
/// The folder, inside an export, for submissions a site investigator excluded from analysis (entered in error).
pub const EXCLUDED: &str = "excluded";

/// The submissions excluded from analysis now, by id.
pub type Excluded = std::collections::BTreeSet<uuid::Uuid>;

/// When each withdrawn patient of the trial was withdrawn (UTC, as their enrolment records it), by patient id.
pub type Withdrawals = BTreeMap<String, String>;

/// Whether a stored submission was completed after its patient's withdrawal: stored and alerted on (safety goes
/// on), but not research data. Judged against the enrolment as it stands at export time, not only as it stood
/// when the submission was placed: a withdrawal recorded later, or backdated, quarantines what it covers.
pub fn is_quarantined(item: &SubmissionItem, withdrawals: &Withdrawals) -> bool {
    let placement = item.schedule.as_ref();
    if placement.is_some_and(|p| p.timing == intake::schedule::Timing::AfterWithdrawal) {
        return true;
    }
    let Some(withdrawn) = withdrawals.get(&item.submission.patient_id) else {
        return false;
    };
    // The server-checked completion time when placed, else the device's; the receive time if neither reads.
    let completed = placement
        .map(|p| p.placed_at.as_str())
        .unwrap_or(&item.submission.completed_at);
    let instant = |at: &str| at.parse::<jiff::Timestamp>().ok();
    match (
        instant(completed).or_else(|| instant(&item.received_at)),
        instant(withdrawn),
    ) {
        (Some(completed), Some(withdrawn)) => completed >= withdrawn,
        // A time that does not read: kept apart rather than risk research data after a withdrawal.
        _ => true,
    }
}

/// Every submission of `trial_id`, in arrival order. `listed` and `read` report progress (counts so far).
pub async fn load(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    listed: impl Fn(usize),
    read: impl Fn(usize, usize),
) -> Result<Vec<SubmissionItem>, Error> {
    let mut keys = aws.trial_submission_keys(stack, trial_id).await?;
    keys.retain(|(pk, sk)| submission_id_of_key(pk, sk).is_some());
    listed(keys.len());
    let mut items = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        let found = aws.get_items(stack, chunk).await?;
        for key in chunk {
            let item = found
                .get(key)
                .ok_or_else(|| format!("{} {} listed by the index but not found", key.0, key.1))?;
            items.push(serde_dynamo::from_item::<_, SubmissionItem>(item.clone())?);
        }
        read(items.len(), keys.len());
    }
    Ok(items)
}

/// When each of `items`' patients was withdrawn, for those who were: their enrolments, read as they stand.
pub async fn withdrawals(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    items: &[SubmissionItem],
) -> Result<Withdrawals, Error> {
    use intake::ports::Store;
    let store = intake::aws::DynamoStore::new(aws.dynamodb.clone(), stack.table_name.clone());
    let patients: std::collections::BTreeSet<&str> = items
        .iter()
        .map(|i| i.submission.patient_id.as_str())
        .collect();
    let mut withdrawn = Withdrawals::new();
    for patient in patients {
        let enrolment = store
            .enrolment(trial_id, patient)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(withdrawal) = enrolment.and_then(|e| e.withdrawal) {
            withdrawn.insert(patient.to_owned(), withdrawal.at);
        }
    }
    Ok(withdrawn)
}

/// The submissions of `trial_id` excluded from analysis now (an exclusion later restored is not).
pub async fn excluded<R: intake::ports::Records>(
    records: &R,
    trial_id: &str,
) -> Result<Excluded, Error> {
    Ok(records
        .exclusions(trial_id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|exclusion| exclusion.excluded)
        .map(|exclusion| exclusion.submission_id)
        .collect())
}

/// What an export knows of each submission beyond its item: its patient's withdrawal, whether a person excluded it,
/// and its current version.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// When each withdrawn patient was withdrawn.
    pub withdrawals: Withdrawals,
    /// The submissions excluded from analysis.
    pub excluded: Excluded,
    /// Each corrected submission's current version number.
    pub versions: versions::VersionNumbers,
    /// Each corrected submission's earlier versions (none in a de-identified export).
    pub history: versions::History,
}

/// Writes `items` (as they currently stand) under `folder` as CSV tables and/or FHIR NDJSON. Those a person
/// excluded from analysis go under `folder/excluded/` instead, and of the rest those completed after their
/// patient's withdrawal under `folder/quarantined/`, in the same forms: no analysis set includes them by accident,
/// and none is lost.
pub fn write(
    folder: &Path,
    items: &[SubmissionItem],
    catalogue: &Catalogue,
    (csv, fhir): (bool, bool),
    standing: &Standing,
) -> Result<Written, Error> {
    let Standing {
        withdrawals,
        excluded,
        ..
    } = standing;
    let (apart, research): (Vec<SubmissionItem>, Vec<SubmissionItem>) =
        items.iter().cloned().partition(|item| {
            excluded.contains(&item.submission.submission_id) || is_quarantined(item, withdrawals)
        });
    let (excluded, quarantined): (Vec<SubmissionItem>, Vec<SubmissionItem>) = apart
        .into_iter()
        .partition(|item| excluded.contains(&item.submission.submission_id));
    let mut written = write_set(folder, &research, catalogue, (csv, fhir), standing)?;
    for (name, set) in [(EXCLUDED, &excluded), (QUARANTINED, &quarantined)] {
        if !set.is_empty() {
            let apart = write_set(&folder.join(name), set, catalogue, (csv, fhir), standing)?;
            written.files.extend(apart.files);
            written.not_fhir += apart.not_fhir;
        }
    }
    written.excluded = excluded.len();
    written.quarantined = quarantined.len();
    Ok(written)
}

fn write_set(
    folder: &Path,
    items: &[SubmissionItem],
    catalogue: &Catalogue,
    (csv, fhir): (bool, bool),
    standing: &Standing,
) -> Result<Written, Error> {
    let versions = &standing.versions;
    std::fs::create_dir_all(folder)?;
    let mut written = Written::default();
    if csv {
        for (stem, sheet) in table::tables(items, catalogue, versions) {
            for (path, table) in [
                (folder.join(format!("{stem}.csv")), &sheet.data),
                (folder.join(format!("{stem}.codebook.csv")), &sheet.codebook),
            ] {
                let header: Vec<&str> = table.header.iter().map(String::as_str).collect();
                let rows = spreadsheet::write_csv(&path, &header, &table.rows)?;
                written.files.push((path, rows));
            }
        }
    }
    if fhir {
        let (lines, not_fhir) = fhir::ndjson(items, catalogue, versions);
        let path = folder.join("QuestionnaireResponse.ndjson");
        std::fs::write(&path, lines.join(""))?;
        written.files.push((path, lines.len()));
        written.not_fhir = not_fhir;
        written.files.extend(versions::write_history(
            folder,
            items,
            &standing.history,
            catalogue,
        )?);
    }
    Ok(written)
}

/// Submissions per instrument version, for the summary.
pub fn by_instrument(items: &[SubmissionItem]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        let s = &item.submission;
        let key = match &s.survey_version {
            Some(version) => format!("{} v{version}", s.survey_id),
            None => format!("{} (unversioned)", s.survey_id),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
}
