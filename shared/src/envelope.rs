//! The queue message: a versioned envelope around a validated submission.
//!
//! The process function decodes every message with the same contract rules the API applied, so a message that
//! did not come through the API (or came from a future schema) is refused, never half-stored.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::item::format_timestamp;
use crate::submission::{FieldProblem, Submission, json};

/// The envelope schema this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// What the submit function puts on the queue for each accepted submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// The API Gateway request id of the accepting request, to follow one submission through the logs.
    pub request_id: String,
    /// When the API accepted the submission (server clock, RFC 3339, UTC).
    pub received_at: String,
    /// The accepted submission.
    pub submission: Submission,
}

/// Why a queue message cannot be processed. Every variant is permanent: retrying will not help, so the message
/// travels to the dead-letter queue after `maxReceiveCount` receives.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnvelopeError {
    /// Not JSON (or an object with a repeated key).
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not shaped as an envelope.
    #[error("message is not an envelope: {0}")]
    Shape(String),
    /// Written by a build with another envelope schema.
    #[error("unsupported envelope schema version {0}")]
    UnsupportedVersion(u64),
    /// `receivedAt` is not a date-time.
    #[error("receivedAt is not an RFC 3339 date-time")]
    ReceivedAt,
    /// The submission inside breaks the contract.
    #[error("submission breaks the contract in {} field(s)", .0.len())]
    InvalidSubmission(Vec<FieldProblem>),
}

impl Envelope {
    /// The envelope for a submission accepted by request `request_id` at `received_at`.
    pub fn new(submission: Submission, request_id: String, received_at: OffsetDateTime) -> Self {
        Envelope {
            schema_version: SCHEMA_VERSION,
            request_id,
            received_at: format_timestamp(received_at),
            submission,
        }
    }

    /// The message body.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an envelope is plain data and always serialises")
    }

    /// Reads a message body, refusing anything this build did not write.
    pub fn decode(body: &str) -> Result<Self, EnvelopeError> {
        let value =
            json::parse(body.as_bytes()).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let version = value
            .get("schemaVersion")
            .and_then(Value::as_u64)
            .ok_or_else(|| EnvelopeError::Shape("schemaVersion is missing".into()))?;
        if version != u64::from(SCHEMA_VERSION) {
            return Err(EnvelopeError::UnsupportedVersion(version));
        }
        let text = |field: &str| {
            value
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| EnvelopeError::Shape(format!("{field} is missing")))
        };
        let request_id = text("requestId")?;
        let received_at = text("receivedAt")?;
        let received =
            OffsetDateTime::parse(&received_at, &Rfc3339).map_err(|_| EnvelopeError::ReceivedAt)?;
        let submission = value
            .get("submission")
            .ok_or_else(|| EnvelopeError::Shape("submission is missing".into()))?;
        // Judged at its receive time, so the future-date rule means the same here as it did in the API.
        let submission = Submission::from_value(submission, received)
            .map_err(EnvelopeError::InvalidSubmission)?;
        Ok(Envelope {
            schema_version: SCHEMA_VERSION,
            request_id,
            received_at,
            submission,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::example;
    use serde_json::json;
    use time::macros::datetime;

    fn envelope() -> Envelope {
        Envelope::new(
            example().submission(),
            "req-1".into(),
            datetime!(2026-11-22 08:00:01.123456 UTC),
        )
    }

    #[test]
    fn round_trips_exactly() {
        let original = envelope();
        let decoded = Envelope::decode(&original.encode()).unwrap();
        assert_eq!(decoded, original);
    }

    #[test]
    fn carries_version_request_and_receive_time() {
        let value: Value = serde_json::from_str(&envelope().encode()).unwrap();
        assert_eq!(value["schemaVersion"], 1);
        assert_eq!(value["requestId"], "req-1");
        assert_eq!(value["receivedAt"], "2026-11-22T08:00:01.123Z");
        assert_eq!(value["submission"]["answers"]["fatigue"], 5.5);
    }

    #[test]
    fn refuses_what_did_not_come_from_the_api() {
        assert!(matches!(
            Envelope::decode("not json"),
            Err(EnvelopeError::NotJson(_))
        ));
        assert!(matches!(
            Envelope::decode(r#"{"hello": "world"}"#),
            Err(EnvelopeError::Shape(_))
        ));
        let mut value: Value = serde_json::from_str(&envelope().encode()).unwrap();
        value["schemaVersion"] = json!(2);
        assert_eq!(
            Envelope::decode(&value.to_string()),
            Err(EnvelopeError::UnsupportedVersion(2))
        );
        let mut value: Value = serde_json::from_str(&envelope().encode()).unwrap();
        value["receivedAt"] = json!("yesterday");
        assert_eq!(
            Envelope::decode(&value.to_string()),
            Err(EnvelopeError::ReceivedAt)
        );
    }

    #[test]
    fn a_message_with_a_repeated_key_is_refused_like_a_request_body() {
        let twice = envelope()
            .encode()
            .replacen('{', "{\"requestId\":\"other\",", 1);
        assert!(matches!(
            Envelope::decode(&twice),
            Err(EnvelopeError::NotJson(detail)) if detail.contains("same key twice")
        ));
    }

    #[test]
    fn applies_the_contract_rules_again() {
        let mut value: Value = serde_json::from_str(&envelope().encode()).unwrap();
        value["submission"]["answers"]["pain"] = json!(null);
        value["submission"]["patientId"] = json!("");
        let Err(EnvelopeError::InvalidSubmission(problems)) = Envelope::decode(&value.to_string())
        else {
            panic!("an invalid submission must be refused");
        };
        assert_eq!(problems.len(), 2);
    }
}
