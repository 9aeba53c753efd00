//! A trial's submissions as analysts' tables: one per instrument version, one row per submission, one column per
//! answerable item in the questionnaire's order, then the scores. Answers are kept as stored: a choice is its code
//! (`LA6569-3`), several entries are joined with `;` (a `;` or `\` inside an entry is written `\;` or `\\`, so a
//! diary entry with a semicolon never reads as two), an unanswered item is empty. Each table's codebook says what
//! every column holds.

use std::collections::BTreeMap;

use intake::instrument::Catalogue;
use intake::item::SubmissionItem;
use intake::submission::Answer;

use super::versions::VersionNumbers;

/// The columns every table starts with, and what each holds (the codebook repeats it).
pub const FIXED: [(&str, &str); 13] = [
    (
        "submissionId",
        "the submission's id (UUID), chosen by the app",
    ),
    ("patientId", "the patient's study id"),
    (
        "surveyVersion",
        "the instrument version the patient filled in",
    ),
    (
        "version",
        "1: as the patient sent it; 2 and up: corrected by a site investigator (the answers and scores are that \
         version's; the audit trail names each correction, and a FHIR export keeps earlier versions in \
         QuestionnaireResponse.history.ndjson)",
    ),
    (
        "timepoint",
        "the timepoint the app labelled it with (day-7)",
    ),
    (
        "completedAt",
        "when the patient completed it, by the device's clock (RFC 3339)",
    ),
    ("receivedAt", "when the API accepted it (UTC, RFC 3339)"),
    (
        "storedAt",
        "when it was written to the table (UTC, RFC 3339)",
    ),
    ("receivedAs", "json or fhir: the form the app sent"),
    (
        "repeatOf",
        "the earlier submission of the same timepoint it repeats, if any",
    ),
    (
        "flags",
        "what a data manager should check, joined with ;: repeat, clock-ahead (the device's clock ran ahead)",
    ),
    (
        "scheduleStatus",
        "where it sits on the patient's calendar: on-time, early, late, out-of-window, unscheduled, \
         after-withdrawal, no-enrolment; empty before schedules existed",
    ),
    (
        "surveyDue",
        "the survey due it completes (day-7), when it completes one",
    ),
];

/// The column holding the arrival time, by which rows are ordered.
const RECEIVED_AT: usize = 6;

/// One file's worth: a header and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// An instrument version's submissions and the codebook that says what each of its columns holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub data: Table,
    pub codebook: Table,
}

/// The tables of `items`, by file stem (`phq-9-v1`). Submissions from before instruments (no version) share one
/// table per instrument (`pain-unversioned`) whose item columns are the answers' ids, sorted.
pub fn tables(
    items: &[SubmissionItem],
    catalogue: &Catalogue,
    versions: &VersionNumbers,
) -> BTreeMap<String, Sheet> {
    let mut groups: BTreeMap<(String, Option<String>), Vec<&SubmissionItem>> = BTreeMap::new();
    for item in items {
        let s = &item.submission;
        groups
            .entry((s.survey_id.clone(), s.survey_version.clone()))
            .or_default()
            .push(item);
    }
    groups
        .into_iter()
        .map(|((survey, version), members)| {
            let instrument = catalogue
                .get(&survey, version.as_deref())
                .ok()
                .filter(|_| version.is_some());
            let (stem, questions, scores) = match instrument {
                Some(instrument) => (
                    format!("{survey}-v{}", instrument.version()),
                    instrument
                        .questionnaire()
                        .items()
                        .into_iter()
                        .filter(|i| !matches!(i.item_type.as_str(), "group" | "display"))
                        .map(|i| i.link_id.clone())
                        .collect(),
                    instrument.scores().iter().map(|s| s.name.clone()).collect(),
                ),
                None => {
                    let mut ids: Vec<String> = members
                        .iter()
                        .flat_map(|m| m.submission.answers.keys().cloned())
                        .collect();
                    ids.sort();
                    ids.dedup();
                    (format!("{survey}-unversioned"), ids, Vec::new())
                }
            };
            let sheet = Sheet {
                data: table(&members, (&questions, &scores), versions),
                codebook: super::codebook::codebook(instrument, &questions),
            };
            (stem, sheet)
        })
        .collect()
}

fn table(
    members: &[&SubmissionItem],
    (questions, scores): (&[String], &[String]),
    versions: &VersionNumbers,
) -> Table {
    let mut header: Vec<String> = FIXED.iter().map(|(c, _)| (*c).to_owned()).collect();
    header.extend(questions.iter().cloned());
    for score in scores {
        header.push(format!("score:{score}"));
        header.push(format!("score:{score}:band"));
    }
    let mut rows: Vec<Vec<String>> = members
        .iter()
        .map(|item| {
            let s = &item.submission;
            let mut flags = Vec::new();
            if item.repeat_of.is_some() {
                flags.push("repeat");
            }
            if item.clock_ahead_seconds.is_some() {
                flags.push("clock-ahead");
            }
            let placement = item.schedule.as_ref();
            let mut row = vec![
                s.submission_id.to_string(),
                s.patient_id.clone(),
                s.survey_version.clone().unwrap_or_default(),
                versions
                    .get(&s.submission_id)
                    .copied()
                    .unwrap_or(1)
                    .to_string(),
                s.timepoint.clone(),
                s.completed_at.clone(),
                item.received_at.clone(),
                item.stored_at.clone(),
                item.received_as.clone(),
                item.repeat_of.map(|r| r.to_string()).unwrap_or_default(),
                flags.join(";"),
                placement
                    .map(|p| p.timing.as_str().to_owned())
                    .unwrap_or_default(),
                placement
                    .and_then(|p| p.occurrence_id.clone())
                    .unwrap_or_default(),
            ];
            row.extend(
                questions
                    .iter()
                    .map(|q| s.answers.get(q).map(cell).unwrap_or_default()),
            );
            for score in scores {
                let value = item.scores.get(score);
                row.push(value.map(|v| v.value.to_string()).unwrap_or_default());
                row.push(value.and_then(|v| v.band.clone()).unwrap_or_default());
            }
            row
        })
        .collect();
    // Arrival order, as the by-trial index lists them; the id breaks ties so the file is reproducible.
    rows.sort_by(|a, b| (&a[RECEIVED_AT], &a[0]).cmp(&(&b[RECEIVED_AT], &b[0])));
    Table { header, rows }
}

fn cell(answer: &Answer) -> String {
    match answer {
        Answer::Number(number) => number.to_string(),
        Answer::Flag(flag) => flag.to_string(),
        Answer::Text(text) => text.clone(),
        Answer::Choices(entries) => entries
            .iter()
            .map(|entry| entry.replace('\\', "\\\\").replace(';', "\\;"))
            .collect::<Vec<_>>()
            .join(";"),
    }
}
