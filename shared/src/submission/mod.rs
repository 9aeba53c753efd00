//! The v1 submission contract: what a patient app may send, and every rule it must meet.
//!
//! Validation collects every problem instead of stopping at the first, so an app developer can fix a payload in
//! one round trip. Problem texts never quote the submitted value: they end up in logs and support tickets.
//!
//! - [`json`]: the JSON reader, which refuses an object with a repeated key;
//! - `rules`: the field rules, each problem text built from the limit it names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use uuid::Uuid;

pub mod json;
mod rules;

pub(crate) use rules::canonical_number;
#[cfg(test)]
mod tests;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longest id (`trialId`, `patientId`, `surveyId`, `timepoint`, answer keys), in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Most answers in one submission.
pub const MAX_ANSWERS: usize = 200;
/// Longest free-text answer or choice, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Most choices in a multiple-choice answer.
pub const MAX_CHOICES: usize = 50;

/// Every required field of a v1 submission, in contract order; `answers` last.
pub const TOP_LEVEL_FIELDS: [&str; 7] = [
    "submissionId",
    "trialId",
    "patientId",
    "surveyId",
    "timepoint",
    "completedAt",
    "answers",
];

/// The optional fields: `surveyVersion`, the instrument version the app rendered (absent: the current one).
pub const OPTIONAL_FIELDS: [&str; 1] = ["surveyVersion"];

/// A submission that met every rule of the contract.
///
/// Field order and the sorted `answers` map make its JSON serialisation canonical, which the content hash relies on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    /// Chosen by the app once per completed questionnaire: the idempotency key.
    pub submission_id: Uuid,
    /// The trial the patient is enrolled in.
    pub trial_id: String,
    /// The patient, as the trial's identity provider names them.
    pub patient_id: String,
    /// The instrument filled in: the id of a questionnaire in the catalogue.
    pub survey_id: String,
    /// The instrument version filled in. Optional in a request; always set once judged against the catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_version: Option<String>,
    /// When in the trial's schedule it was filled in (`day-7`, `day-30`).
    pub timepoint: String,
    /// Kept exactly as the app sent it (after checking it is RFC 3339), so the stored record is what the patient's
    /// device recorded. A time ahead of the server's is flagged, never refused: the device clock may run fast.
    pub completed_at: String,
    /// Question id to answer, sorted, so that equal answers serialise equally.
    pub answers: BTreeMap<String, Answer>,
}

/// One answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    /// A score or a measurement, in one canonical form (an integral float is its integer).
    Number(Number),
    /// A yes/no answer.
    Flag(bool),
    /// Free text, or one choice.
    Text(String),
    /// Several choices.
    Choices(Vec<String>),
}

/// One broken rule, addressed by its JSON path (`answers.pain`, `answers.symptoms[2]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    /// Where: a JSON path into the body.
    pub field: String,
    /// What is wrong, never quoting the value.
    pub problem: String,
}

impl FieldProblem {
    /// A problem at `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldProblem {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Why a body is not a valid submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The body is not JSON at all; the text is serde_json's position-only description.
    MalformedJson(String),
    /// The body is JSON but breaks the contract.
    Invalid(Vec<FieldProblem>),
}

impl Submission {
    /// Parses and validates a request body.
    pub fn parse(body: &[u8]) -> Result<Self, Rejection> {
        let value = json::parse(body).map_err(|e| Rejection::MalformedJson(e.to_string()))?;
        Self::from_value(&value).map_err(Rejection::Invalid)
    }

    /// Validates an already parsed JSON value against every rule of the contract.
    pub fn from_value(value: &Value) -> Result<Self, Vec<FieldProblem>> {
        rules::check(value)
    }
}
