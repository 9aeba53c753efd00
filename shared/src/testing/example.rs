//! The contract's example submission (the one in docs/api.md), and variations on it: the fixture every test,
//! bench and corpus starts from, so the example is written out once.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::envelope::Envelope;
use crate::instrument::{Catalogue, Judged, judge};
use crate::submission::{MAX_BODY_BYTES, MAX_TEXT_CHARS, Submission};

/// When the example was received: a little before its `completedAt`, within the clock-skew tolerance.
pub const RECEIVED_AT: OffsetDateTime = datetime!(2026-11-22 08:00:00.5 UTC);
/// The example's submission id.
pub const SUBMISSION_ID: &str = "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f";
/// The example's trial.
pub const TRIAL_ID: &str = "ONC-2026-01";
/// The example's patient.
pub const PATIENT_ID: &str = "P-000123";
/// The API Gateway request id the example envelope carries.
pub const REQUEST_ID: &str = "req-1";

/// A submission body under construction, starting from the contract's example (docs/api.md).
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleSubmission {
    body: Value,
}

/// The contract's example submission (docs/api.md).
pub fn example() -> ExampleSubmission {
    ExampleSubmission {
        body: json!({
            "submissionId": SUBMISSION_ID,
            "trialId": TRIAL_ID,
            "patientId": PATIENT_ID,
            "surveyId": "qol-daily",
            "timepoint": "day-7",
            "completedAt": "2026-11-22T08:00:03Z",
            "answers": {
                "pain": 3, "fatigue": 5.5, "nausea": false, "comment": "slept badly",
                "symptoms": ["cough", "fever"]
            }
        }),
    }
}

impl ExampleSubmission {
    /// Sets any top-level field to any value, valid or not.
    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.body[field] = value;
        self
    }

    /// Removes a top-level field.
    pub fn without(mut self, field: &str) -> Self {
        if let Some(object) = self.body.as_object_mut() {
            object.remove(field);
        }
        self
    }

    /// Another submission id.
    pub fn id(self, id: impl ToString) -> Self {
        self.set("submissionId", json!(id.to_string()))
    }

    /// Another trial.
    pub fn trial(self, trial_id: &str) -> Self {
        self.set("trialId", json!(trial_id))
    }

    /// Another patient.
    pub fn patient(self, patient_id: &str) -> Self {
        self.set("patientId", json!(patient_id))
    }

    /// Another instrument, with its answers.
    pub fn survey(self, survey_id: &str, answers: Value) -> Self {
        self.set("surveyId", json!(survey_id)).answers(answers)
    }

    /// The instrument version the app rendered.
    pub fn version(self, version: &str) -> Self {
        self.set("surveyVersion", json!(version))
    }

    /// Sets (or adds) one answer.
    pub fn answer(mut self, question: &str, value: Value) -> Self {
        self.body["answers"][question] = value;
        self
    }

    /// Replaces every answer.
    pub fn answers(self, answers: Value) -> Self {
        self.set("answers", answers)
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        self.body.clone()
    }

    /// The body as the app sends it.
    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).expect("JSON always serialises")
    }

    /// The validated submission, as the API accepted it at [`RECEIVED_AT`]. Panics if a variation made it invalid.
    pub fn submission(&self) -> Submission {
        Submission::from_value(&self.body)
            .unwrap_or_else(|problems| panic!("the example must stay valid: {problems:?}"))
    }

    /// The submission judged against the embedded catalogue. Panics if a variation made it invalid.
    pub fn judged(&self) -> Judged {
        let catalogue = Catalogue::embedded();
        judge(catalogue, self.submission())
            .unwrap_or_else(|problems| panic!("the example must fit its instrument: {problems:?}"))
    }

    /// The queue message the API sends for it: request [`REQUEST_ID`], received at [`RECEIVED_AT`].
    pub fn envelope(&self) -> Envelope {
        Envelope::new(self.judged(), "json", REQUEST_ID.into(), RECEIVED_AT)
    }
}

/// PHQ-9 answers: items 1-8 "several days" (1 point each), item 9 as given.
pub fn phq9_answers(item9: &str) -> Value {
    let mut answers = serde_json::Map::new();
    for code in [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
    ] {
        answers.insert(code.into(), json!("LA6569-3"));
    }
    answers.insert("44260-8".into(), json!(item9));
    Value::Object(answers)
}

/// The largest valid submission like `base` (its ids): an adverse-event diary of the longest entries, in
/// three-byte characters, as many as fit in the body limit.
pub fn largest(base: ExampleSubmission) -> ExampleSubmission {
    let entry = "€".repeat(MAX_TEXT_CHARS);
    let diary = |entries: &[String]| {
        base.clone()
            .survey("ae-diary", json!({ "events": entries }))
    };
    let mut entries: Vec<String> = Vec::new();
    loop {
        entries.push(entry.clone());
        if diary(&entries).bytes().len() > MAX_BODY_BYTES {
            entries.pop();
            let left = MAX_BODY_BYTES - diary(&entries).bytes().len();
            // The last entry fills what is left (less its quotes and comma).
            let room = left.saturating_sub(3);
            let wide = (room / 3).min(MAX_TEXT_CHARS);
            let narrow = (room - wide * 3).min(MAX_TEXT_CHARS - wide);
            entries.push("€".repeat(wide) + &"x".repeat(narrow));
            return diary(&entries);
        }
    }
}

/// A study nurse of the example's trial, acting under the enrolment scope.
pub fn nurse() -> crate::item::Actor {
    crate::item::Actor {
        id: "nurse-1".into(),
        role: crate::identity::ENROLMENT_WRITE_SCOPE.into(),
    }
}
