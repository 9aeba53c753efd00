//! Every way a submission can be refused, and the one place each becomes a status, a body and headers.

use http::StatusCode;
use serde_json::{Value, json};
use tracing::{error, warn};
use uuid::Uuid;

use crate::ports::QueueError;
use crate::submission::{FieldProblem, MAX_BODY_BYTES, Rejection};

/// Seconds a client should wait before retrying when the queue is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Why the submit use case refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmitError {
    /// No verified patient identity.
    #[error("a patient identity is required")]
    Unauthenticated,
    /// The body is not declared as JSON.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// The body is over [`MAX_BODY_BYTES`].
    #[error("the body must be at most {MAX_BODY_BYTES} bytes")]
    TooLarge {
        /// The body's size.
        bytes: usize,
    },
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// The body breaks the contract; every problem is listed.
    #[error("the submission breaks {} rule(s) of the v1 contract", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// The submission names another patient than the caller.
    #[error("a patient may submit only their own surveys")]
    Forbidden {
        /// The refused submission.
        submission_id: Uuid,
    },
    /// The queue did not acknowledge; nothing was accepted.
    #[error("the service is busy; retry with the same submissionId")]
    Unavailable {
        /// The submission that was not accepted.
        submission_id: Uuid,
        /// What the queue answered (an error class, never content).
        cause: QueueError,
    },
}

impl From<Rejection> for SubmitError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::MalformedJson(detail) => SubmitError::Malformed(detail),
            Rejection::Invalid(problems) => SubmitError::Invalid(problems),
        }
    }
}

/// An HTTP answer: status, JSON body, and the `Retry-After` seconds when the client should come back later.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
    /// Seconds for the `Retry-After` header, when retrying later will help.
    pub retry_after: Option<u32>,
}

impl SubmitError {
    /// The HTTP status for this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            SubmitError::Unauthenticated => StatusCode::UNAUTHORIZED,
            SubmitError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SubmitError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            SubmitError::Malformed(_) | SubmitError::Invalid(_) => StatusCode::BAD_REQUEST,
            SubmitError::Forbidden { .. } => StatusCode::FORBIDDEN,
            SubmitError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable error code apps branch on (the `error` field).
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Unauthenticated => "unauthenticated",
            SubmitError::UnsupportedMediaType => "unsupported_media_type",
            SubmitError::TooLarge { .. } => "payload_too_large",
            SubmitError::Malformed(_) => "malformed_json",
            SubmitError::Invalid(_) => "invalid_submission",
            SubmitError::Forbidden { .. } => "forbidden",
            SubmitError::Unavailable { .. } => "unavailable",
        }
    }

    /// Seconds to wait before retrying, when a retry with the same submission id can succeed.
    pub fn retry_after(&self) -> Option<u32> {
        matches!(self, SubmitError::Unavailable { .. }).then_some(RETRY_AFTER_SECONDS)
    }

    /// The whole HTTP answer: `{"error", "message"}`, plus `fields` listing every problem of an invalid body.
    pub fn reply(&self) -> Reply {
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let SubmitError::Invalid(problems) = self {
            body["fields"] = json!(problems);
        }
        Reply {
            status: self.status(),
            body,
            retry_after: self.retry_after(),
        }
    }

    /// Logs the refusal with ids and counts only: never the body, which holds answers.
    pub fn log(&self, request_id: &str) {
        let outcome = self.code();
        match self {
            SubmitError::Unauthenticated => {
                warn!(request_id, outcome, "no patient identity in the request")
            }
            SubmitError::UnsupportedMediaType | SubmitError::Malformed(_) => {
                warn!(request_id, outcome)
            }
            SubmitError::TooLarge { bytes } => warn!(request_id, outcome, bytes),
            SubmitError::Invalid(problems) => {
                warn!(request_id, outcome, problems = problems.len())
            }
            SubmitError::Forbidden { submission_id } => warn!(
                request_id,
                submission_id = %submission_id,
                outcome,
                "patientId differs from the caller's identity"
            ),
            SubmitError::Unavailable {
                submission_id,
                cause,
            } => error!(request_id, submission_id = %submission_id, outcome, error = %cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_status_and_code() {
        let id = Uuid::nil();
        let cases = [
            (SubmitError::Unauthenticated, 401, "unauthenticated"),
            (
                SubmitError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (SubmitError::TooLarge { bytes: 1 }, 413, "payload_too_large"),
            (SubmitError::Malformed("x".into()), 400, "malformed_json"),
            (SubmitError::Invalid(vec![]), 400, "invalid_submission"),
            (
                SubmitError::Forbidden { submission_id: id },
                403,
                "forbidden",
            ),
            (
                SubmitError::Unavailable {
                    submission_id: id,
                    cause: QueueError("x".into()),
                },
                503,
                "unavailable",
            ),
        ];
        for (error, status, code) in cases {
            let reply = error.reply();
            assert_eq!(reply.status.as_u16(), status, "{error:?}");
            assert_eq!(reply.body["error"], code);
            assert_eq!(reply.body["message"], error.to_string());
            assert_eq!(
                reply.retry_after.is_some(),
                status == 503,
                "only a 503 asks to come back"
            );
        }
    }

    #[test]
    fn the_size_limit_is_named_from_the_constant() {
        assert_eq!(
            SubmitError::TooLarge { bytes: 0 }.to_string(),
            "the body must be at most 262144 bytes"
        );
    }
}
