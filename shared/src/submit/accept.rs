//! A request body, in either form, judged once at the edge: the v1 contract's rules, then the instrument version
//! it was filled in on. Nothing after the `202` judges it again.

use crate::fhir::response::{self, Unreadable};
use crate::instrument::{self, Catalogue, Judged};
use crate::submission::{Rejection, Submission, json};

use super::SubmitError;

/// The two forms of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `POST /v1/submissions`, `application/json`: the v1 contract.
    Json,
    /// `POST /v1/fhir/QuestionnaireResponse`, `application/fhir+json`: a FHIR R4 `QuestionnaireResponse`.
    Fhir,
}

impl Form {
    /// The media type the form's route accepts.
    pub fn media_type(self) -> &'static str {
        match self {
            Form::Json => "application/json",
            Form::Fhir => crate::fhir::FHIR_JSON,
        }
    }

    /// Whether `content_type` declares the form's media type (parameters such as `charset` or `fhirVersion` aside).
    pub fn accepts(self, content_type: Option<&str>) -> bool {
        content_type
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case(self.media_type()))
    }

    /// The name stored with the submission (`receivedAs`).
    pub fn name(self) -> &'static str {
        match self {
            Form::Json => "json",
            Form::Fhir => "fhir",
        }
    }
}

/// Parses `body` in `form` and judges it against `catalogue`.
pub fn accept(form: Form, body: &[u8], catalogue: &Catalogue) -> Result<Judged, SubmitError> {
    match form {
        Form::Json => {
            let submission = Submission::parse(body).map_err(|rejection| match rejection {
                Rejection::MalformedJson(detail) => SubmitError::Malformed(detail),
                Rejection::Invalid(problems) => SubmitError::Invalid(problems),
            })?;
            instrument::judge(catalogue, submission).map_err(SubmitError::Invalid)
        }
        Form::Fhir => {
            let value = json::parse(body).map_err(|e| SubmitError::Malformed(e.to_string()))?;
            let read =
                response::read(&value, catalogue).map_err(|unreadable| match unreadable {
                    Unreadable::Structure(issues) => SubmitError::Unstructured(issues),
                    Unreadable::Rule(issues) => SubmitError::Unprocessable(issues),
                })?;
            let issues = |problems: Vec<_>| {
                SubmitError::Unprocessable(problems.iter().map(|p| read.paths.issue(p)).collect())
            };
            let submission = Submission::from_value(&read.body).map_err(issues)?;
            instrument::judge(catalogue, submission).map_err(issues)
        }
    }
}
