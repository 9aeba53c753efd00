//! Why the staff API refuses a request, each reason mapped to its status in one place.

use http::StatusCode;
use serde_json::{Value, json};
use tracing::warn;

use crate::ports::StoreError;

/// A refusal of the staff API.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StaffError {
    /// No staff identity in the verified claims.
    #[error("{0}")]
    Unauthenticated(String),
    /// The token lacks the route's scope, or names other trials.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such alert or submission among the caller's trials (another trial's is not revealed either).
    #[error("{0}")]
    NotFound(&'static str),
    /// `If-Match` names another revision than the one that stands.
    #[error("{0}")]
    Stale(String),
    /// The change cannot be made as the record stands, or another change came first.
    #[error("{0}")]
    Conflict(&'static str),
    /// A correction names a version that is not the current one (ODK Central's stale `deprecatedID`).
    #[error(
        "version {named} is not the current one: version {current} is; read the versions again"
    )]
    Superseded {
        /// The version the correction names.
        named: u32,
        /// The current version.
        current: u32,
    },
    /// A body larger than a submission may be.
    #[error("the body is larger than a submission may be (256 KiB)")]
    TooLarge,
    /// Corrected answers the instrument version refuses, each problem with its field (never the value).
    #[error("the corrected answers do not fit the instrument version")]
    Invalid(Vec<crate::submission::FieldProblem>),
    /// A query parameter, a header or the body is wrong.
    #[error("{field}: {problem}")]
    BadRequest {
        /// Which parameter.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The table refused the request as invalid: something in the request itself (a position that does not fit
    /// the list), never worth retrying.
    #[error("the request does not fit this list; start it again without a cursor")]
    Refused(String),
    /// The table did not answer after the SDK's retries.
    #[error("the alert store is unavailable; retry")]
    Unavailable(String),
}

impl From<StoreError> for StaffError {
    fn from(error: StoreError) -> Self {
        if error.is_refusal() {
            StaffError::Refused(error.0)
        } else {
            StaffError::Unavailable(error.0)
        }
    }
}

impl StaffError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            StaffError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            StaffError::Forbidden(_) => StatusCode::FORBIDDEN,
            StaffError::NotFound(_) => StatusCode::NOT_FOUND,
            StaffError::Stale(_) => StatusCode::PRECONDITION_FAILED,
            StaffError::Conflict(_) | StaffError::Superseded { .. } => StatusCode::CONFLICT,
            StaffError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StaffError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            StaffError::BadRequest { .. } | StaffError::Refused(_) => StatusCode::BAD_REQUEST,
            StaffError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StaffError::Unauthenticated(_) => "unauthenticated",
            StaffError::Forbidden(_) => "forbidden",
            StaffError::NotFound(_) => "not_found",
            StaffError::Stale(_) => "stale",
            StaffError::Conflict(_) | StaffError::Superseded { .. } => "conflict",
            StaffError::Invalid(_) => "invalid",
            StaffError::TooLarge => "too_large",
            StaffError::BadRequest { .. } | StaffError::Refused(_) => "bad_request",
            StaffError::Unavailable(_) => "unavailable",
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let StaffError::Invalid(problems) = self {
            body["problems"] = problems
                .iter()
                .map(|p| json!({ "field": p.field, "problem": p.problem }))
                .collect();
        }
        body
    }

    /// Logs the refusal with ids and the reason only.
    pub fn log(&self, request_id: &str) {
        let outcome = self.code();
        match self {
            StaffError::Unavailable(cause) | StaffError::Refused(cause) => {
                warn!(request_id, outcome, cause)
            }
            other => warn!(request_id, outcome, reason = %other),
        }
    }
}
