//! The queue message: a versioned envelope around a validated submission.
//!
//! The process function decodes every message with the same contract rules the API applied, so a message that
//! did not come through the API (or came from a future schema) is refused, never half-stored.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::submission::{FieldProblem, Submission};

/// The envelope schema this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub schema_version: u32,
    /// The API Gateway request id of the accepting request, to follow one submission through the logs.
    pub request_id: String,
    /// When the API accepted the submission (server clock, RFC 3339, UTC).
    pub received_at: String,
    pub submission: Submission,
}

/// Why a queue message cannot be processed. Every variant is permanent: retrying will not help, so the message
/// travels to the dead-letter queue after `maxReceiveCount` receives.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EnvelopeError {
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    #[error("message is not an envelope: {0}")]
    Shape(String),
    #[error("unsupported envelope schema version {0}")]
    UnsupportedVersion(u64),
    #[error("receivedAt is not an RFC 3339 date-time")]
    ReceivedAt,
    #[error("submission breaks the contract in {} field(s)", .0.len())]
    InvalidSubmission(Vec<FieldProblem>),
}

impl Envelope {
    pub fn new(submission: Submission, request_id: String, received_at: OffsetDateTime) -> Self {
        Envelope {
            schema_version: SCHEMA_VERSION,
            request_id,
            received_at: format_timestamp(received_at),
            submission,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an envelope is plain data and always serialises")
    }

    pub fn decode(body: &str) -> Result<Self, EnvelopeError> {
        let value: Value =
            serde_json::from_str(body).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
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

/// RFC 3339 in UTC with millisecond precision: sorts as text, which the by-trial index relies on.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at
        .replace_nanosecond(at.millisecond() as u32 * 1_000_000)
        .expect("whole milliseconds are a valid nanosecond value");
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(&format).expect("a UTC date-time always formats")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn submission() -> Submission {
        let body = json!({
            "submissionId": "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f", "trialId": "ONC-2026-01",
            "patientId": "P-000123", "surveyId": "qol-daily", "timepoint": "day-7",
            "completedAt": "2026-11-22T08:00:03Z",
            "answers": { "pain": 3, "fatigue": 5.5, "comment": "slept badly", "symptoms": ["cough"], "ok": true }
        });
        Submission::from_value(&body, datetime!(2026-11-22 08:00:00 UTC)).unwrap()
    }

    fn envelope() -> Envelope {
        Envelope::new(
            submission(),
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
    fn timestamps_are_utc_milliseconds_that_sort_as_text() {
        assert_eq!(
            format_timestamp(datetime!(2026-11-22 09:00:00 +01:00)),
            "2026-11-22T08:00:00.000Z"
        );
        let earlier = format_timestamp(datetime!(2026-11-22 08:00:00.999 UTC));
        let later = format_timestamp(datetime!(2026-11-22 08:00:01.001 UTC));
        assert!(earlier < later);
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
