//! Scores computed from answers: the sum of the answers' ordinal values (or numbers) that a questionnaire's score
//! declares ([`Score`]), and the band the sum falls in. A PHQ-9 total of 12 is "moderate", computed from the version
//! the patient filled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Number;

use super::catalogue::Instrument;
use super::score_declaration::Score;
use crate::submission::Answer;

/// A computed score, as stored with the submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreValue {
    /// The sum.
    pub value: Number,
    /// The band it falls in, when the score declares bands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
}

/// Computed scores by name.
pub type Scores = BTreeMap<String, ScoreValue>;

impl Score {
    /// The score of `answers`, or `None` when one of its items is unanswered (a partial sum would mislead).
    pub fn compute(
        &self,
        instrument: &Instrument,
        answers: &BTreeMap<String, Answer>,
    ) -> Option<ScoreValue> {
        let mut sum = 0.0;
        for link_id in &self.items {
            let item = instrument.item(link_id)?;
            sum += match answers.get(link_id)? {
                Answer::Number(number) => number.as_f64()?,
                Answer::Text(code) => item.option(code)?.ordinal()?,
                _ => return None,
            };
        }
        let band = self
            .bands
            .iter()
            .find(|band| (band.from..=band.to).contains(&sum))
            .map(|band| band.label.clone());
        Some(ScoreValue {
            value: crate::submission::canonical_number(&Number::from_f64(sum)?),
            band,
        })
    }
}

/// Every score `instrument` declares that `answers` complete.
pub fn compute_all(instrument: &Instrument, answers: &BTreeMap<String, Answer>) -> Scores {
    instrument
        .scores()
        .iter()
        .filter_map(|score| {
            score
                .compute(instrument, answers)
                .map(|value| (score.name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::instrument::Catalogue;

    /// Scores of `id`'s current version for items answered with the options of these ordinals, in item order.
    fn scores(id: &str, ordinals: &[usize]) -> Scores {
        let instrument = Catalogue::embedded().current(id).unwrap();
        let questionnaire = instrument.questionnaire();
        let scored: Vec<&str> = instrument.scores()[0]
            .items
            .iter()
            .map(String::as_str)
            .collect();
        let answers: BTreeMap<String, Answer> = scored
            .iter()
            .zip(ordinals)
            .map(|(link_id, ordinal)| {
                let item = questionnaire
                    .items()
                    .into_iter()
                    .find(|i| i.link_id == *link_id)
                    .unwrap();
                let code = item.answer_option[*ordinal].code().unwrap().to_owned();
                (link_id.to_string(), Answer::Text(code))
            })
            .collect();
        compute_all(instrument, &answers)
    }

    fn total(scores: &Scores) -> Value {
        json!({ "value": scores["total"].value, "band": scores["total"].band })
    }

    #[test]
    fn phq9_sums_the_nine_items_into_its_bands() {
        assert_eq!(
            total(&scores("phq-9", &[0; 9])),
            json!({"value": 0, "band": "none-minimal"})
        );
        assert_eq!(
            total(&scores("phq-9", &[1, 1, 1, 1, 1, 0, 0, 0, 0])),
            json!({"value": 5, "band": "mild"})
        );
        assert_eq!(
            total(&scores("phq-9", &[3, 3, 3, 3, 3, 2, 2, 0, 0])),
            json!({"value": 19, "band": "moderately-severe"})
        );
        assert_eq!(
            total(&scores("phq-9", &[3, 3, 3, 3, 3, 3, 2, 0, 0])),
            json!({"value": 20, "band": "severe"})
        );
        assert_eq!(
            total(&scores("phq-9", &[3; 9])),
            json!({"value": 27, "band": "severe"})
        );
    }

    #[test]
    fn gad7_sums_the_seven_items_into_its_bands() {
        assert_eq!(
            total(&scores("gad-7", &[2, 2, 2, 2, 2, 2, 3])),
            json!({"value": 15, "band": "severe"})
        );
        assert_eq!(
            total(&scores("gad-7", &[1, 1, 1, 1, 1, 1, 1])),
            json!({"value": 7, "band": "mild"})
        );
    }

    #[test]
    fn a_score_with_an_unanswered_item_is_not_computed() {
        assert!(
            scores("phq-9", &[3; 8]).is_empty(),
            "a partial sum would understate the score"
        );
    }
}
