//! FHIR `OperationOutcome`: how the FHIR routes say what went wrong, one issue per problem, each with a severity,
//! an issue type code and a FHIRPath expression pointing at the offending element.

use serde::Serialize;
use serde_json::{Value, json};

/// One issue of an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// `error` for everything the intake refuses.
    pub severity: &'static str,
    /// The FHIR issue type: `structure`, `required`, `value`, `not-supported`, `business-rule`, `login`, …
    pub code: &'static str,
    /// What is wrong, never quoting a submitted value.
    pub diagnostics: String,
    /// Where: FHIRPath expressions into the submitted resource.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

impl Issue {
    /// An error of type `code` at `expression` (empty: the request as a whole).
    pub fn error(
        code: &'static str,
        diagnostics: impl Into<String>,
        expression: Option<String>,
    ) -> Self {
        Issue {
            severity: "error",
            code,
            diagnostics: diagnostics.into(),
            expression: expression.into_iter().collect(),
        }
    }
}

/// The `OperationOutcome` resource for `issues`.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_lists_each_issue_with_severity_code_and_expression() {
        let outcome = operation_outcome(&[
            Issue::error(
                "required",
                "is required",
                Some("QuestionnaireResponse.authored".into()),
            ),
            Issue::error("login", "a patient identity is required", None),
        ]);
        assert_eq!(
            outcome,
            json!({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "required", "diagnostics": "is required",
                 "expression": ["QuestionnaireResponse.authored"]},
                {"severity": "error", "code": "login", "diagnostics": "a patient identity is required"}
            ]})
        );
    }
}
