//! A trial's submissions as analysts' tables: one per instrument version, one row per submission, one column per
//! answerable item in the questionnaire's order, then the scores. Answers are kept as stored: a choice is its code
//! (`LA6569-3`), several choices are joined with `;`, an unanswered item is empty.

use std::collections::BTreeMap;

use intake::instrument::Catalogue;
use intake::item::SubmissionItem;
use intake::submission::Answer;

/// The columns every table starts with.
pub const FIXED: [&str; 7] = [
    "submissionId",
    "patientId",
    "timepoint",
    "completedAt",
    "receivedAt",
    "receivedAs",
    "repeatOf",
];

/// One file's worth: a header and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The tables of `items`, by file stem (`phq-9-v1`). Submissions from before instruments (no version) share one
/// table per instrument (`pain-unversioned`) whose item columns are the answers' ids, sorted.
pub fn tables(items: &[SubmissionItem], catalogue: &Catalogue) -> BTreeMap<String, Table> {
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
            let (stem, questions, scores) = match catalogue
                .get(&survey, version.as_deref())
                .ok()
                .filter(|_| version.is_some())
            {
                Some(instrument) => (
                    format!("{survey}-v{}", instrument.version()),
                    instrument
                        .questionnaire
                        .items()
                        .into_iter()
                        .filter(|i| !matches!(i.item_type.as_str(), "group" | "display"))
                        .map(|i| i.link_id.clone())
                        .collect(),
                    instrument.scores.iter().map(|s| s.name.clone()).collect(),
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
            (stem, table(&members, &questions, &scores))
        })
        .collect()
}

fn table(members: &[&SubmissionItem], questions: &[String], scores: &[String]) -> Table {
    let mut header: Vec<String> = FIXED.iter().map(|c| (*c).to_owned()).collect();
    header.extend(questions.iter().cloned());
    for score in scores {
        header.push(format!("score:{score}"));
        header.push(format!("score:{score}:band"));
    }
    let mut rows: Vec<Vec<String>> = members
        .iter()
        .map(|item| {
            let s = &item.submission;
            let mut row = vec![
                s.submission_id.to_string(),
                s.patient_id.clone(),
                s.timepoint.clone(),
                s.completed_at.clone(),
                item.received_at.clone(),
                item.received_as.clone(),
                item.repeat_of.map(|r| r.to_string()).unwrap_or_default(),
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
    rows.sort_by(|a, b| (&a[4], &a[0]).cmp(&(&b[4], &b[0])));
    Table { header, rows }
}

fn cell(answer: &Answer) -> String {
    match answer {
        Answer::Number(number) => number.to_string(),
        Answer::Flag(flag) => flag.to_string(),
        Answer::Text(text) => text.clone(),
        Answer::Choices(choices) => choices.join(";"),
    }
}
