//! Realistic submissions, as patient apps send them, reproducible from a seed: an instrument of the catalogue, its
//! current version's questions answered (following `enableWhen`), in the v1 JSON form or as a FHIR
//! `QuestionnaireResponse`.

use std::collections::BTreeMap;

use intake::fhir::render;
use intake::instrument::definition::Item;
use intake::instrument::{Catalogue, Instrument, is_enabled};
use intake::submission::{Answer, MAX_TEXT_CHARS, Submission};
use intake::submit::Form;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// A submission as a patient app sends it.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The app's id for it (the idempotency key).
    pub submission_id: Uuid,
    /// The trial.
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// The submission in the v1 JSON form (what a FHIR request carries too).
    pub body: Value,
    /// The form it is sent in.
    pub form: Form,
}

/// How often each instrument is filled in a burst: the daily diary most, the diary of adverse events least.
const MIX: [(&str, u32); 6] = [
    ("qol-daily", 40),
    ("phq-9", 15),
    ("gad-7", 15),
    ("pain-nrs", 15),
    ("postop-recovery", 12),
    ("ae-diary", 3),
];
const WORDS: [&str; 14] = [
    "slept", "badly", "wound", "dressing", "changed", "walked", "a", "little", "pain", "after",
    "lunch", "better", "dizzy", "again",
];

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

impl Survey {
    /// A daily survey for `patient_id` at day 7, in the JSON form, reproducible from `seed`.
    pub fn new(trial_id: &str, patient_id: &str, seed: u64) -> Self {
        let rng = &mut fastrand::Rng::with_seed(seed);
        Self::of("qol-daily", trial_id, patient_id, "day-7", rng)
    }

    /// A survey of an instrument drawn from the burst's mix, in the JSON form.
    pub fn generate(
        trial_id: &str,
        patient_id: &str,
        timepoint: &str,
        rng: &mut fastrand::Rng,
    ) -> Self {
        let total: u32 = MIX.iter().map(|(_, weight)| weight).sum();
        let mut pick = rng.u32(0..total);
        let instrument = MIX
            .iter()
            .find(|(_, weight)| {
                let found = pick < *weight;
                pick = pick.saturating_sub(*weight);
                found
            })
            .map_or("qol-daily", |(id, _)| id);
        Self::of(instrument, trial_id, patient_id, timepoint, rng)
    }

    /// The instruments in the order one patient fills them: a weighted shuffle of the mix, common ones first.
    pub fn instrument_order(rng: &mut fastrand::Rng) -> Vec<&'static str> {
        let mut keyed: Vec<(f64, &str)> = MIX
            .iter()
            .map(|(id, weight)| (rng.f64().powf(1.0 / f64::from(*weight)), *id))
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
        keyed.into_iter().map(|(_, id)| id).collect()
    }

    /// A survey of instrument `id`'s current version, every shown question answered plausibly. Its id is drawn from
    /// `rng` too, so a seed reproduces a run, but salted with the trial: ids are unique across all trials, and a
    /// second run in a fresh trial must not collide with the first run's ids.
    pub fn of(
        id: &str,
        trial_id: &str,
        patient_id: &str,
        timepoint: &str,
        rng: &mut fastrand::Rng,
    ) -> Self {
        let instrument = catalogue()
            .current(id)
            .expect("an instrument of the catalogue");
        let submission_id = submission_id(trial_id, rng);
        let completed_at = OffsetDateTime::now_utc() - time::Duration::seconds(rng.i64(0..600));
        let body = json!({
            "submissionId": submission_id,
            "trialId": trial_id,
            "patientId": patient_id,
            "surveyId": id,
            "surveyVersion": instrument.version(),
            "timepoint": timepoint,
            "completedAt": completed_at.format(&Rfc3339).expect("a UTC time formats"),
            "answers": answers(instrument, rng),
        });
        Survey {
            submission_id,
            trial_id: trial_id.to_owned(),
            patient_id: patient_id.to_owned(),
            body,
            form: Form::Json,
        }
    }

    /// The same survey, sent as a FHIR `QuestionnaireResponse`.
    pub fn as_fhir(mut self) -> Self {
        self.form = Form::Fhir;
        self
    }

    /// The request an app sends: the route below the API URL, the content type and the body.
    pub fn request(&self) -> (&'static str, &'static str, String) {
        match self.form {
            Form::Json => ("/v1/submissions", "application/json", self.body.to_string()),
            Form::Fhir => {
                let submission = Submission::from_value(&self.body)
                    .expect("a generated survey keeps the contract");
                let response = render::questionnaire_response(catalogue(), &submission)
                    .expect("a generated survey names a published version");
                (
                    "/v1/fhir/QuestionnaireResponse",
                    "application/fhir+json",
                    response.to_string(),
                )
            }
        }
    }
}

/// Answers to every shown question of `instrument`, most required or not: optional ones four times in five.
pub fn answers(instrument: &Instrument, rng: &mut fastrand::Rng) -> Value {
    let questionnaire = instrument.questionnaire();
    let mut answers: BTreeMap<String, Answer> = BTreeMap::new();
    for item in questionnaire.items() {
        if !item.is_question() || !is_enabled(instrument, &item.link_id, &answers) {
            continue;
        }
        if item.is_required() || rng.u8(0..5) > 0 {
            answers.insert(item.link_id.clone(), answer(item, rng));
        }
    }
    serde_json::to_value(answers).expect("answers serialise")
}

/// A plausible answer: low scores far more often than high ones, a normal temperature but now and then a fever.
fn answer(item: &Item, rng: &mut fastrand::Rng) -> Answer {
    let skewed = |rng: &mut fastrand::Rng, options: usize| {
        // Each option a fifth as likely as the one before: most patients answer "not at all".
        let mut index = 0;
        while index + 1 < options && rng.u8(0..5) == 0 {
            index += 1;
        }
        index
    };
    match item.item_type.as_str() {
        "boolean" => Answer::Flag(rng.u8(0..4) == 0),
        "integer" => {
            let (min, max) = (
                item.min_value().unwrap_or(0.0) as i64,
                item.max_value().unwrap_or(10.0) as i64,
            );
            let span = (max - min).max(0) as f64;
            Answer::Number((min + (span * rng.f64().powi(2)).round() as i64).into())
        }
        "decimal" if item.link_id == "temperature" => {
            let celsius = if rng.u8(0..20) == 0 {
                38.5 + rng.f64() * 1.3
            } else {
                36.1 + rng.f64() * 1.5
            };
            Answer::Number(
                serde_json::Number::from_f64((celsius * 10.0).round() / 10.0).expect("finite"),
            )
        }
        "decimal" => {
            let (min, max) = (
                item.min_value().unwrap_or(0.0),
                item.max_value().unwrap_or(10.0),
            );
            let value = min + (max - min) * rng.f64().powi(2);
            Answer::Number(
                serde_json::Number::from_f64((value * 2.0).round() / 2.0).expect("finite"),
            )
        }
        "choice" if item.is_repeating() => {
            // Mostly the first option alone ("none", the commonest symptom); now and then one or two others, never
            // with an option that excludes the rest.
            let options: Vec<&str> = item.answer_option.iter().filter_map(|o| o.code()).collect();
            let others: Vec<&str> = item
                .answer_option
                .iter()
                .skip(1)
                .filter(|o| !o.is_exclusive())
                .filter_map(|o| o.code())
                .collect();
            let mut chosen = vec![options[0].to_owned()];
            if rng.u8(0..5) == 0 && !others.is_empty() {
                chosen = (0..rng.usize(1..=2))
                    .map(|_| others[rng.usize(..others.len())].to_owned())
                    .collect();
                chosen.sort();
                chosen.dedup();
            }
            Answer::Choices(chosen)
        }
        "choice" => {
            let index = skewed(rng, item.answer_option.len());
            Answer::Text(
                item.answer_option[index]
                    .code()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
        _ if item.is_repeating() => {
            Answer::Choices((0..rng.usize(1..=3)).map(|_| text(item, rng)).collect())
        }
        _ => Answer::Text(text(item, rng)),
    }
}

/// A few words, now and then many, within the item's `maxLength`.
fn text(item: &Item, rng: &mut fastrand::Rng) -> String {
    let words = if rng.u8(0..10) == 0 {
        rng.usize(150..=300)
    } else {
        rng.usize(3..=40)
    };
    let mut text: Vec<&str> = (0..words)
        .map(|_| WORDS[rng.usize(..WORDS.len())])
        .collect();
    let limit = item.max_length.unwrap_or(MAX_TEXT_CHARS);
    while text.join(" ").chars().count() > limit {
        text.pop();
    }
    text.join(" ")
}

/// A random (version 4) submission id from `rng`, salted with `trial_id`.
fn submission_id(trial_id: &str, rng: &mut fastrand::Rng) -> Uuid {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    trial_id.hash(&mut hasher);
    let salt = hasher.finish().to_le_bytes();
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    for (byte, salt) in bytes.iter_mut().zip(salt.iter().cycle()) {
        *byte ^= salt;
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::instrument::judge;

    #[test]
    fn every_generated_survey_fits_its_instrument_in_both_forms() {
        let rng = &mut fastrand::Rng::with_seed(11);
        for n in 0..400 {
            let survey = Survey::generate("T-1", "P-000001", "day-7", rng);
            let submission = Submission::from_value(&survey.body).unwrap();
            judge(catalogue(), submission)
                .unwrap_or_else(|problems| panic!("{problems:?}\n{}", survey.body));
            let (path, content_type, body) = survey.clone().as_fhir().request();
            assert_eq!(
                (path, content_type),
                ("/v1/fhir/QuestionnaireResponse", "application/fhir+json")
            );
            let judged = intake::submit::accept(Form::Fhir, body.as_bytes(), catalogue());
            assert!(judged.is_ok(), "survey {n}: {judged:?}");
        }
    }

    #[test]
    fn the_mix_covers_every_instrument_and_follows_enable_when() {
        let rng = &mut fastrand::Rng::with_seed(5);
        let surveys: Vec<Survey> = (0..600)
            .map(|_| Survey::generate("T", "P-1", "day-7", rng))
            .collect();
        for (id, _) in MIX {
            assert!(
                surveys.iter().any(|s| s.body["surveyId"] == id),
                "{id} never drawn"
            );
        }
        let postop: Vec<&Value> = surveys
            .iter()
            .filter(|s| s.body["surveyId"] == "postop-recovery")
            .map(|s| &s.body["answers"])
            .collect();
        assert!(
            postop
                .iter()
                .any(|a| a["nausea"] == true && a.get("nausea-severity").is_some())
        );
        assert!(
            postop
                .iter()
                .all(|a| a["nausea"] == true || a.get("nausea-severity").is_none())
        );
    }
}
