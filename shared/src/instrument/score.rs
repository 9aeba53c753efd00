//! Scores declared in a questionnaire (our `score` extension): the sum of the answers' ordinal values (or numbers),
//! and the band the sum falls in. A PHQ-9 total of 12 is "moderate", computed from the version the patient filled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Number;

use super::catalogue::Instrument;
use super::definition::{Coding, Extension, Questionnaire, SCORE_PATH};
use crate::submission::Answer;

/// A declared score.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Its key in the stored `scores` (`total`).
    pub name: String,
    /// The LOINC (or other) code of the score, when it has one.
    pub code: Option<Coding>,
    /// How it is computed: `sum` is the only method.
    pub method: String,
    /// The items summed, by `linkId`.
    pub items: Vec<String>,
    /// Named ranges of the value, in order.
    pub bands: Vec<Band>,
}

/// A named range of a score (`0`–`4`: `none-minimal`), bounds included.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Lowest value in the band.
    pub from: f64,
    /// Highest value in the band.
    pub to: f64,
    /// The band's name.
    pub label: String,
}

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
    /// Every score the questionnaire declares; a malformed declaration is an error naming it.
    pub fn declared(questionnaire: &Questionnaire) -> Result<Vec<Score>, String> {
        let Some(base) = questionnaire.base() else {
            return Ok(Vec::new());
        };
        let url = format!("{base}{SCORE_PATH}");
        questionnaire
            .extension
            .iter()
            .filter(|extension| extension.url == url)
            .map(Score::from_extension)
            .collect()
    }

    fn from_extension(extension: &Extension) -> Result<Score, String> {
        let part = |name: &'static str| extension.extension.iter().filter(move |e| e.url == name);
        let text = |name: &'static str| {
            part(name)
                .next()
                .and_then(Extension::text)
                .map(str::to_owned)
                .ok_or_else(|| format!("a score declares no {name}"))
        };
        let bands = part("band")
            .map(|band| {
                let sub = |name: &str| band.extension.iter().find(|e| e.url == name);
                Ok(Band {
                    from: sub("from")
                        .and_then(Extension::number)
                        .ok_or("a band has no from")?,
                    to: sub("to")
                        .and_then(Extension::number)
                        .ok_or("a band has no to")?,
                    label: sub("label")
                        .and_then(Extension::text)
                        .ok_or("a band has no label")?
                        .to_owned(),
                })
            })
            .collect::<Result<Vec<_>, &str>>()?;
        Ok(Score {
            name: text("name")?,
            code: part("code").next().and_then(|e| e.value_coding.clone()),
            method: text("method")?,
            items: part("item")
                .filter_map(|e| e.text().map(str::to_owned))
                .collect(),
            bands,
        })
    }

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
        let instrument = Catalogue::embedded().unwrap().current(id).unwrap();
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
