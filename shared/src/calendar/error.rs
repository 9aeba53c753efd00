//! Why the calendar API refuses a request, each reason mapped to its status in one place.

use http::StatusCode;
use serde_json::{Value, json};
use tracing::warn;

use crate::enrolment::EnrolmentError;
use crate::ports::StoreError;

/// A refusal of the calendar API.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarApiError {
    /// No staff or patient identity in the verified claims.
    #[error("{0}")]
    Unauthenticated(String),
    /// The token lacks the route's scope, or names other trials.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No enrolment of this patient in this trial (one in another trial is not revealed either).
    #[error("{0}")]
    NotFound(&'static str),
    /// The body or a parameter is wrong.
    #[error("{field} {problem}")]
    Invalid {
        /// Which field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The enrolment's state does not allow it (enrolled already, withdrawn), or a change came first.
    #[error("{0}")]
    Conflict(&'static str),
    /// `If-Match` names a revision that is no longer current.
    #[error("the enrolment is at revision {current}, not {expected}: read it again")]
    Stale {
        /// The revision stored.
        current: u32,
        /// The revision the caller changed.
        expected: u32,
    },
    /// `If-Match` names a weak tag, which never matches (If-Match compares strongly).
    #[error("If-Match compares strongly: send the ETag as read (\"3\"), not a weak one")]
    WeakTag,
    /// The table did not answer after the SDK's retries.
    #[error("the enrolment store is unavailable; retry")]
    Unavailable(String),
}

impl From<StoreError> for CalendarApiError {
    fn from(error: StoreError) -> Self {
        CalendarApiError::Unavailable(error.0)
    }
}

impl From<EnrolmentError> for CalendarApiError {
    fn from(error: EnrolmentError) -> Self {
        match error {
            EnrolmentError::Invalid { field, problem } => CalendarApiError::Invalid {
                field: field.into(),
                problem,
            },
            EnrolmentError::UnknownSchedule(_) => CalendarApiError::Invalid {
                field: "scheduleId".into(),
                problem: error.to_string(),
            },
            EnrolmentError::State(why) => CalendarApiError::Conflict(why),
            EnrolmentError::Stale { current, expected } => {
                CalendarApiError::Stale { current, expected }
            }
        }
    }
}

impl CalendarApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            CalendarApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            CalendarApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            CalendarApiError::NotFound(_) => StatusCode::NOT_FOUND,
            CalendarApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            CalendarApiError::Conflict(_) => StatusCode::CONFLICT,
            CalendarApiError::Stale { .. } | CalendarApiError::WeakTag => {
                StatusCode::PRECONDITION_FAILED
            }
            CalendarApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarApiError::Unauthenticated(_) => "unauthenticated",
            CalendarApiError::Forbidden(_) => "forbidden",
            CalendarApiError::NotFound(_) => "not_found",
            CalendarApiError::Invalid { .. } => "bad_request",
            CalendarApiError::Conflict(_) => "conflict",
            CalendarApiError::Stale { .. } | CalendarApiError::WeakTag => "stale",
            CalendarApiError::Unavailable(_) => "unavailable",
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({ "error": self.code(), "message": self.to_string() })
    }

    /// Logs the refusal with ids and the reason only (a field name, never a value sent).
    pub fn log(&self, request_id: &str) {
        let outcome = self.code();
        match self {
            CalendarApiError::Unavailable(cause) => warn!(request_id, outcome, cause),
            CalendarApiError::Invalid { field, .. } => warn!(request_id, outcome, field),
            other => warn!(request_id, outcome, reason = %other),
        }
    }
}
