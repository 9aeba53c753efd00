//! Every way a submission can be refused, and the one place each becomes a status, a body and headers: a v1 JSON
//! error on `/v1/submissions`, a FHIR `OperationOutcome` on `/v1/fhir/QuestionnaireResponse`.

use http::StatusCode;
use serde_json::{Value, json};
use tracing::{error, warn};
use uuid::Uuid;

use super::Form;
use crate::fhir::{Issue, operation_outcome};
use crate::ports::QueueError;
use crate::submission::{FieldProblem, MAX_BODY_BYTES};

/// Seconds a client should wait before retrying when the queue is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// The codes of refusals answered 4xx, each counted as the `Refused` metric's `reason`: the template's refusal-rate
/// alarms watch every one of them (the 5xx one, `unavailable`, is the API's 5xx alarm's).
pub const CLIENT_REFUSALS: [&str; 8] = [
    "unauthenticated",
    "unsupported_media_type",
    "payload_too_large",
    "malformed_json",
    "malformed_resource",
    "invalid_submission",
    "not_queueable",
    "forbidden",
];

/// Why the submit use case refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmitError {
    /// No verified patient identity: why (no token, no patient or trial claim, a token too long-lived).
    #[error("a verified patient identity is required: {0}")]
    Unauthenticated(String),
    /// The body is not declared in the route's media type.
    #[error("Content-Type must be {expected}")]
    UnsupportedMediaType {
        /// The media type the route accepts.
        expected: &'static str,
    },
    /// The body is over [`MAX_BODY_BYTES`].
    #[error("the body must be at most {MAX_BODY_BYTES} bytes")]
    TooLarge {
        /// The body's size.
        bytes: usize,
    },
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// A FHIR body that is not a well-formed `QuestionnaireResponse`.
    #[error("the body is not a well-formed QuestionnaireResponse ({} issue(s))", .0.len())]
    Unstructured(Vec<Issue>),
    /// A JSON body that breaks the v1 contract or its instrument; every problem is listed.
    #[error("the submission breaks {} rule(s) of the v1 contract or its instrument", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// A FHIR response that breaks the contract or its questionnaire; every problem is listed.
    #[error("the QuestionnaireResponse breaks {} rule(s)", .0.len())]
    Unprocessable(Vec<Issue>),
    /// The submission names another patient than the caller, or a trial their token does not name.
    #[error("{reason}")]
    Forbidden {
        /// The refused submission.
        submission_id: Uuid,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// The queue did not acknowledge; nothing was accepted, and a retry can succeed.
    #[error("the service is busy; retry with the same submissionId")]
    Unavailable {
        /// The submission that was not accepted.
        submission_id: Uuid,
        /// What the queue answered (an error class, never content).
        cause: QueueError,
    },
    /// The queue refused this message itself: a retry would be refused again.
    #[error(
        "the submission cannot be queued as sent; retrying will not help (quote the submissionId to support)"
    )]
    NotQueueable {
        /// The submission that was not accepted.
        submission_id: Uuid,
        /// What the queue answered.
        cause: QueueError,
    },
}

/// An HTTP answer: status, body (JSON or FHIR JSON), and the `Retry-After` seconds when coming back later helps.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Value,
    /// The body's media type.
    pub content_type: &'static str,
    /// Seconds for the `Retry-After` header, when retrying later will help.
    pub retry_after: Option<u32>,
}

impl SubmitError {
    /// The HTTP status for this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            SubmitError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            SubmitError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SubmitError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            SubmitError::Malformed(_) | SubmitError::Unstructured(_) | SubmitError::Invalid(_) => {
                StatusCode::BAD_REQUEST
            }
            SubmitError::Unprocessable(_) | SubmitError::NotQueueable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            SubmitError::Forbidden { .. } => StatusCode::FORBIDDEN,
            SubmitError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable error code apps branch on (the v1 `error` field).
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Unauthenticated(_) => "unauthenticated",
            SubmitError::UnsupportedMediaType { .. } => "unsupported_media_type",
            SubmitError::TooLarge { .. } => "payload_too_large",
            SubmitError::Malformed(_) => "malformed_json",
            SubmitError::Unstructured(_) => "malformed_resource",
            SubmitError::Invalid(_) | SubmitError::Unprocessable(_) => "invalid_submission",
            SubmitError::Forbidden { .. } => "forbidden",
            SubmitError::Unavailable { .. } => "unavailable",
            SubmitError::NotQueueable { .. } => "not_queueable",
        }
    }

    /// The FHIR issue type of this refusal, for an `OperationOutcome`.
    fn issue_code(&self) -> &'static str {
        match self {
            SubmitError::Unauthenticated(_) => "login",
            SubmitError::UnsupportedMediaType { .. } => "not-supported",
            SubmitError::TooLarge { .. } => "too-costly",
            SubmitError::Malformed(_) | SubmitError::Unstructured(_) => "structure",
            SubmitError::Invalid(_) | SubmitError::Unprocessable(_) => "invalid",
            SubmitError::Forbidden { .. } => "forbidden",
            SubmitError::Unavailable { .. } => "transient",
            SubmitError::NotQueueable { .. } => "processing",
        }
    }

    /// Seconds to wait before retrying, when a retry with the same submission id can succeed.
    pub fn retry_after(&self) -> Option<u32> {
        matches!(self, SubmitError::Unavailable { .. }).then_some(RETRY_AFTER_SECONDS)
    }

    /// The whole HTTP answer in `form`'s format.
    pub fn reply(&self, form: Form) -> Reply {
        let (body, content_type) = match form {
            Form::Json => {
                let mut body = json!({ "error": self.code(), "message": self.to_string() });
                if let SubmitError::Invalid(problems) = self {
                    body["fields"] = json!(problems);
                }
                (body, "application/json")
            }
            Form::Fhir => {
                let issues = match self {
                    SubmitError::Unstructured(issues) | SubmitError::Unprocessable(issues) => {
                        issues.clone()
                    }
                    other => vec![Issue::error(other.issue_code(), other.to_string(), None)],
                };
                (operation_outcome(&issues), crate::fhir::FHIR_JSON)
            }
        };
        Reply {
            status: self.status(),
            body,
            content_type,
            retry_after: self.retry_after(),
        }
    }

    /// Logs the refusal with ids, counts and the paths of the broken fields: never the body, which holds answers.
    /// `client` is the app's `User-Agent`, so a spike of refusals leads to the release that sends them.
    pub fn log(&self, request_id: &str, client: Option<&str>) {
        let outcome = self.code();
        // The first product token only (`epro-app/2.4.1`): the rest of a User-Agent (device, OS build) helps
        // fingerprint a person.
        let client = client
            .and_then(|agent| agent.split_whitespace().next())
            .map(|product| bounded(product, MAX_LOGGED_PATH));
        match self {
            SubmitError::Unauthenticated(reason) => warn!(request_id, client, outcome, reason),
            SubmitError::UnsupportedMediaType { .. } | SubmitError::Malformed(_) => {
                warn!(request_id, client, outcome)
            }
            SubmitError::TooLarge { bytes } => warn!(request_id, client, outcome, bytes),
            SubmitError::Invalid(problems) => warn!(
                request_id,
                client,
                outcome,
                problems = problems.len(),
                fields = logged_fields(problems.iter().map(|problem| problem.field.as_str()))
            ),
            SubmitError::Unstructured(issues) | SubmitError::Unprocessable(issues) => warn!(
                request_id,
                client,
                outcome,
                problems = issues.len(),
                fields = logged_fields(
                    issues
                        .iter()
                        .flat_map(|issue| &issue.expression)
                        .map(String::as_str)
                )
            ),
            SubmitError::Forbidden {
                submission_id,
                reason,
            } => {
                warn!(request_id, client, submission_id = %submission_id, outcome, reason)
            }
            SubmitError::Unavailable {
                submission_id,
                cause,
            }
            | SubmitError::NotQueueable {
                submission_id,
                cause,
            } => {
                error!(request_id, client, submission_id = %submission_id, outcome, error = %cause)
            }
        }
    }
}

/// The longest field path or client name a log line repeats; an app's own key names could be long.
const MAX_LOGGED_PATH: usize = 120;
/// How many broken fields a log line names; the count says how many there were.
const MAX_LOGGED_FIELDS: usize = 20;

/// The broken fields' paths (`answers.pain`, `QuestionnaireResponse.item[2].answer[0]`): where, never what. A path
/// holds keys the app chose, so one that is not made of identifier characters (a sentence typed where a key
/// belongs) is logged as `<unrecognised>`.
fn logged_fields<'a>(paths: impl Iterator<Item = &'a str>) -> String {
    paths
        .take(MAX_LOGGED_FIELDS)
        .map(|path| {
            let identifier = path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-[]()'=".contains(c));
            if identifier {
                bounded(path, MAX_LOGGED_PATH)
            } else {
                "<unrecognised>".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn bounded(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_of_the_callers_doing_is_listed_for_the_alarms() {
        for (refusal, status, code) in every_refusal() {
            assert_eq!(refusal.code(), code);
            assert_eq!(
                CLIENT_REFUSALS.contains(&code),
                status < 500,
                "{code} ({status})"
            );
        }
    }

    fn every_refusal() -> Vec<(SubmitError, u16, &'static str)> {
        let id = Uuid::nil();
        vec![
            (
                SubmitError::Unauthenticated("no verified token".into()),
                401,
                "unauthenticated",
            ),
            (
                SubmitError::UnsupportedMediaType {
                    expected: "application/json",
                },
                415,
                "unsupported_media_type",
            ),
            (SubmitError::TooLarge { bytes: 1 }, 413, "payload_too_large"),
            (SubmitError::Malformed("x".into()), 400, "malformed_json"),
            (SubmitError::Unstructured(vec![]), 400, "malformed_resource"),
            (SubmitError::Invalid(vec![]), 400, "invalid_submission"),
            (
                SubmitError::Unprocessable(vec![]),
                422,
                "invalid_submission",
            ),
            (
                SubmitError::Forbidden {
                    submission_id: id,
                    reason: "a patient may submit only their own surveys",
                },
                403,
                "forbidden",
            ),
            (
                SubmitError::Unavailable {
                    submission_id: id,
                    cause: QueueError::Unavailable("x".into()),
                },
                503,
                "unavailable",
            ),
            (
                SubmitError::NotQueueable {
                    submission_id: id,
                    cause: QueueError::Refused("x".into()),
                },
                422,
                "not_queueable",
            ),
        ]
    }

    #[test]
    fn each_refusal_has_its_status_and_code_in_the_v1_form() {
        for (error, status, code) in every_refusal() {
            let reply = error.reply(Form::Json);
            assert_eq!(reply.status.as_u16(), status, "{error:?}");
            assert_eq!(reply.body["error"], code);
            assert_eq!(reply.body["message"], error.to_string());
            assert_eq!(reply.content_type, "application/json");
            assert_eq!(
                reply.retry_after.is_some(),
                status == 503,
                "only a 503 asks to come back"
            );
        }
    }

    #[test]
    fn each_refusal_is_an_operation_outcome_with_the_same_status_in_the_fhir_form() {
        for (error, status, _) in every_refusal() {
            let reply = error.reply(Form::Fhir);
            assert_eq!(reply.status.as_u16(), status, "{error:?}");
            assert_eq!(reply.content_type, "application/fhir+json");
            assert_eq!(reply.body["resourceType"], "OperationOutcome");
        }
        let login = SubmitError::Unauthenticated("no verified token".into()).reply(Form::Fhir);
        assert_eq!(login.body["issue"][0]["code"], "login");
        assert_eq!(login.body["issue"][0]["severity"], "error");
    }

    #[test]
    fn the_size_limit_is_named_from_the_constant() {
        assert_eq!(
            SubmitError::TooLarge { bytes: 0 }.to_string(),
            "the body must be at most 262144 bytes"
        );
    }
}
