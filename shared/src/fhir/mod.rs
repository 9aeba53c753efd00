//! FHIR R4 at the edge: questionnaires served to apps, `QuestionnaireResponse`s read in and rendered back out, and
//! `OperationOutcome`s for what is refused. The intake's own model stays the v1 submission; FHIR is its other form.
//!
//! - [`outcome`]: the `OperationOutcome` resource;
//! - [`response`]: a `QuestionnaireResponse` read into the v1 submission it carries;
//! - [`render`]: a stored submission rendered as a `QuestionnaireResponse`;
//! - [`questionnaire`]: the catalogue as `Questionnaire` resources and a `Bundle`, with their `ETag`s;
//! - [`plan_definition`]: the schedules as `PlanDefinition` resources, the same way.

use std::collections::BTreeMap;

use crate::submission::FieldProblem;

pub mod outcome;
pub mod plan_definition;
pub mod questionnaire;
pub mod render;
pub mod response;
#[cfg(test)]
mod strict_tests;
#[cfg(test)]
mod tests;

pub use outcome::{Issue, operation_outcome};

/// The media type of FHIR's JSON format.
pub const FHIR_JSON: &str = "application/fhir+json";
/// The system of a submission's identifier: a URI, `urn:uuid:<submissionId>`.
pub const IDENTIFIER_SYSTEM: &str = "urn:ietf:rfc:3986";
/// The trial extension, below the catalogue's canonical base.
pub const TRIAL_EXTENSION: &str = "/StructureDefinition/trial";
/// The timepoint extension, below the catalogue's canonical base.
pub const TIMEPOINT_EXTENSION: &str = "/StructureDefinition/timepoint";

const ROOT: &str = "QuestionnaireResponse";

/// Where each field of a v1 submission sits in the `QuestionnaireResponse` it was read from, so that a problem
/// found by the v1 rules points at the response's own element (a FHIRPath expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The FHIRPath of each answered item, by `linkId`.
    items: BTreeMap<String, String>,
    trial: String,
    timepoint: String,
}

impl Paths {
    /// Paths for responses to questionnaires under the canonical `base`.
    pub fn new(base: &str) -> Self {
        Paths {
            items: BTreeMap::new(),
            trial: format!("{base}{TRIAL_EXTENSION}"),
            timepoint: format!("{base}{TIMEPOINT_EXTENSION}"),
        }
    }

    /// The FHIRPath expression of a v1 field path (`answers.wound[1]` → `QuestionnaireResponse.item[1].item[0].answer[1]`).
    pub fn expression(&self, field: &str) -> String {
        match field {
            "submissionId" => format!("{ROOT}.identifier.value"),
            "trialId" => format!("{ROOT}.extension('{}').value", self.trial),
            "timepoint" => format!("{ROOT}.extension('{}').value", self.timepoint),
            "patientId" => format!("{ROOT}.subject.reference"),
            "surveyId" | "surveyVersion" => format!("{ROOT}.questionnaire"),
            "completedAt" => format!("{ROOT}.authored"),
            "answers" => format!("{ROOT}.item"),
            other => match other.strip_prefix("answers.") {
                Some(answer) => {
                    let (link_id, index) = match answer.split_once('[') {
                        Some((link_id, rest)) => (link_id, rest.strip_suffix(']')),
                        None => (answer, None),
                    };
                    match (self.items.get(link_id), index) {
                        (Some(path), Some(index)) => format!("{path}.answer[{index}]"),
                        (Some(path), None) => path.clone(),
                        (None, _) => format!("{ROOT}.repeat(item).where(linkId='{link_id}')"),
                    }
                }
                None => ROOT.to_owned(),
            },
        }
    }

    /// A v1 problem as an `OperationOutcome` issue at the response's element.
    pub fn issue(&self, problem: &FieldProblem) -> Issue {
        let code = if problem.problem == "is required" {
            "required"
        } else {
            "value"
        };
        Issue::error(
            code,
            problem.problem.clone(),
            Some(self.expression(&problem.field)),
        )
    }
}
