//! Realistic submissions, as patient apps send them, reproducible from a seed.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// A submission body as a patient app would send it.
#[derive(Debug, Clone)]
pub struct Survey {
    pub submission_id: Uuid,
    pub trial_id: String,
    pub patient_id: String,
    pub body: Value,
}

const SURVEYS: [&str; 4] = ["qol-daily", "pain-weekly", "eq-5d-5l", "promis-29"];
const SYMPTOMS: [&str; 8] = [
    "cough",
    "fever",
    "nausea",
    "headache",
    "dizziness",
    "rash",
    "swelling",
    "insomnia",
];
const WORDS: [&str; 12] = [
    "slept", "badly", "wound", "dressing", "changed", "walked", "a", "little", "pain", "after",
    "lunch", "better",
];

impl Survey {
    /// A survey for `patient_id` at day 7, reproducible from `seed`.
    pub fn new(trial_id: &str, patient_id: &str, seed: u64) -> Self {
        Self::generate(
            trial_id,
            patient_id,
            "day-7",
            &mut fastrand::Rng::with_seed(seed),
        )
    }

    /// A realistic questionnaire: 8–30 scored items, a few yes/no items, a symptom checklist and, often, free text
    /// (now and then a long one). Bodies range from about 0.3 to 3 KB, like real ePRO instruments.
    pub fn generate(
        trial_id: &str,
        patient_id: &str,
        timepoint: &str,
        rng: &mut fastrand::Rng,
    ) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        let submission_id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let completed_at = OffsetDateTime::now_utc() - time::Duration::seconds(rng.i64(0..600));
        let mut answers = serde_json::Map::new();
        for item in 1..=rng.usize(8..=30) {
            answers.insert(format!("q{item:02}"), json!(rng.u8(0..=10)));
        }
        for item in 1..=rng.usize(0..=4) {
            answers.insert(format!("yn{item}"), json!(rng.bool()));
        }
        answers.insert("sleepHours".into(), json!(f64::from(rng.u8(6..=20)) / 2.0));
        let symptoms: Vec<&str> = SYMPTOMS
            .iter()
            .copied()
            .filter(|_| rng.u8(0..4) == 0)
            .collect();
        answers.insert("symptoms".into(), json!(symptoms));
        if rng.u8(0..3) > 0 {
            let words = if rng.u8(0..10) == 0 {
                rng.usize(150..=300)
            } else {
                rng.usize(3..=40)
            };
            let text: Vec<&str> = (0..words)
                .map(|_| WORDS[rng.usize(..WORDS.len())])
                .collect();
            let mut comment = text.join(" ");
            comment.truncate(intake::submission::MAX_TEXT_CHARS);
            answers.insert("comment".into(), json!(comment));
        }
        let body = json!({
            "submissionId": submission_id,
            "trialId": trial_id,
            "patientId": patient_id,
            "surveyId": SURVEYS[rng.usize(..SURVEYS.len())],
            "timepoint": timepoint,
            "completedAt": completed_at.format(&Rfc3339).expect("a UTC time formats"),
            "answers": answers,
        });
        Survey {
            submission_id,
            trial_id: trial_id.to_owned(),
            patient_id: patient_id.to_owned(),
            body,
        }
    }
}
