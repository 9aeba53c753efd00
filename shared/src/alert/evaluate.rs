//! Which rules a submission meets.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::rules::{Rule, RuleSet, Subject, Test};
use crate::instrument::{Instrument, Scores};
use crate::submission::Answer;

/// The patient's previous submission of the same instrument in the same trial, for `worsenedBy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    /// Its id, recorded on a worsening alert.
    pub submission_id: Uuid,
    /// Its answers.
    pub answers: BTreeMap<String, Answer>,
    /// Its scores.
    pub scores: Scores,
}

impl Prior {
    /// Of a patient's stored submissions of an instrument, given with their `completedAt`, the one completed last
    /// before `completed_at` (times compared as instants, whatever their offsets), never `submission_id` itself.
    pub fn latest_before(
        completed_at: &str,
        submission_id: Uuid,
        candidates: impl IntoIterator<Item = (String, Prior)>,
    ) -> Option<Prior> {
        let instant = |text: &str| OffsetDateTime::parse(text, &Rfc3339).ok();
        let now = instant(completed_at)?;
        candidates
            .into_iter()
            .filter(|(_, prior)| prior.submission_id != submission_id)
            .filter_map(|(at, prior)| Some((instant(&at)?, prior)))
            .filter(|(at, _)| *at < now)
            .max_by_key(|(at, _)| *at)
            .map(|(_, prior)| prior)
    }
}

/// The rules of `set` that a submission of `instrument` with these answers and scores meets. A rule whose subject
/// is unanswered, or that compares with a previous submission the patient does not have, does not fire.
pub fn evaluate<'r>(
    set: &'r RuleSet,
    instrument: &Instrument,
    answers: &BTreeMap<String, Answer>,
    scores: &Scores,
    prior: Option<&Prior>,
) -> Vec<&'r Rule> {
    set.rules
        .iter()
        .filter(|rule| {
            let now = || values(instrument, &rule.when.subject, answers, scores);
            match &rule.when.test {
                Test::AtLeast(bound) => now().iter().any(|v| v >= bound),
                Test::AtMost(bound) => now().iter().any(|v| v <= bound),
                Test::AnyOf(codes) => match &rule.when.subject {
                    Subject::Item(link_id) => chosen(answers, link_id).any(|c| codes.contains(c)),
                    Subject::Score(_) => false,
                },
                Test::WorsenedBy(step) => prior.is_some_and(|prior| {
                    let before = values(
                        instrument,
                        &rule.when.subject,
                        &prior.answers,
                        &prior.scores,
                    );
                    match (highest(&now()), highest(&before)) {
                        (Some(now), Some(before)) => now - before >= *step,
                        _ => false,
                    }
                }),
            }
        })
        .collect()
}

/// The subject's values: a number answer, a choice's ordinal value (each, for several choices), or a score.
fn values(
    instrument: &Instrument,
    subject: &Subject,
    answers: &BTreeMap<String, Answer>,
    scores: &Scores,
) -> Vec<f64> {
    match subject {
        Subject::Score(name) => scores
            .get(name)
            .and_then(|score| score.value.as_f64())
            .into_iter()
            .collect(),
        Subject::Item(link_id) => {
            let ordinal = |code: &str| instrument.item(link_id)?.option(code)?.ordinal();
            match answers.get(link_id) {
                Some(Answer::Number(number)) => number.as_f64().into_iter().collect(),
                Some(Answer::Text(code)) => ordinal(code).into_iter().collect(),
                Some(Answer::Choices(codes)) => codes.iter().filter_map(|c| ordinal(c)).collect(),
                Some(Answer::Flag(_)) | None => Vec::new(),
            }
        }
    }
}

/// The codes chosen for `link_id`.
fn chosen<'a>(
    answers: &'a BTreeMap<String, Answer>,
    link_id: &str,
) -> impl Iterator<Item = &'a String> {
    let codes: &[String] = match answers.get(link_id) {
        Some(Answer::Text(code)) => std::slice::from_ref(code),
        Some(Answer::Choices(codes)) => codes,
        _ => &[],
    };
    codes.iter()
}

fn highest(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}
