//! The contract's example submission (the one in the README), and variations on it: the fixture every test,
//! bench and corpus starts from, so the example is written out once.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::envelope::Envelope;
use crate::submission::Submission;

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

/// A submission body under construction, starting from the README's example.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleSubmission {
    body: Value,
}

/// The README's example submission.
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
        Submission::from_value(&self.body, RECEIVED_AT)
            .unwrap_or_else(|problems| panic!("the example must stay valid: {problems:?}"))
    }

    /// The queue message the API sends for it: request [`REQUEST_ID`], received at [`RECEIVED_AT`].
    pub fn envelope(&self) -> Envelope {
        Envelope::new(self.submission(), REQUEST_ID.into(), RECEIVED_AT)
    }
}
