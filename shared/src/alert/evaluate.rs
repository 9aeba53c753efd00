//! Which rules a report meets: by its own answers and scores ([`met`]), or compared with the report completed just
//! before it ([`worsened`]).

use std::collections::BTreeMap;

use super::rules::{Rule, RuleSet, Subject, Test};
use crate::instrument::{Instrument, Scores};
use crate::submission::Answer;

/// A report's answers and scores, with the instrument version they were given on (which knows each choice's
/// ordinal value).
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    /// The instrument version filled in.
    pub instrument: &'a Instrument,
    /// Its answers.
    pub answers: &'a BTreeMap<String, Answer>,
    /// Its scores.
    pub scores: &'a Scores,
}

/// The rules of `set` that `report` meets by itself: every rule but those comparing with the previous report. A
/// rule whose subject is unanswered does not fire.
pub fn met<'r>(set: &'r RuleSet, report: Answered<'_>) -> Vec<&'r Rule> {
    set.rules
        .iter()
        .filter(|rule| {
            let now = || values(report, &rule.when.subject);
            match &rule.when.test {
                Test::AtLeast(bound) => now().iter().any(|v| v >= bound),
                Test::AtMost(bound) => now().iter().any(|v| v <= bound),
                Test::AnyOf(codes) => match &rule.when.subject {
                    Subject::Item(link_id) => {
                        chosen(report.answers, link_id).any(|c| codes.contains(c))
                    }
                    Subject::Score(_) => false,
                },
                Test::WorsenedBy(_) => false,
            }
        })
        .collect()
}

/// The rules of `set` comparing with the previous report that `report` meets against `before`, the same patient's
/// report of the instrument completed just before it. A subject unanswered in either does not fire.
pub fn worsened<'r>(set: &'r RuleSet, report: Answered<'_>, before: Answered<'_>) -> Vec<&'r Rule> {
    set.rules
        .iter()
        .filter(|rule| match &rule.when.test {
            Test::WorsenedBy(step) => {
                let subject = &rule.when.subject;
                match (
                    highest(&values(report, subject)),
                    highest(&values(before, subject)),
                ) {
                    (Some(now), Some(then)) => now - then >= *step,
                    _ => false,
                }
            }
            _ => false,
        })
        .collect()
}

/// The subject's values: a number answer, a choice's ordinal value (each, for several choices), or a score.
fn values(report: Answered<'_>, subject: &Subject) -> Vec<f64> {
    match subject {
        Subject::Score(name) => report
            .scores
            .get(name)
            .and_then(|score| score.value.as_f64())
            .into_iter()
            .collect(),
        Subject::Item(link_id) => {
            let ordinal = |code: &str| report.instrument.item(link_id)?.option(code)?.ordinal();
            match report.answers.get(link_id) {
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
