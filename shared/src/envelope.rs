//! The queue message: a versioned envelope around a judged submission and what was derived from it (its scores).
//!
//! Judged once, at the edge: the process function checks an envelope's structure and stores it. It never applies
//! the contract or the catalogue again, so a submission acknowledged with `202` cannot turn into poison because a
//! rule or a definition changed after it was accepted. Schema 1 envelopes (written before instruments) still read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::instrument::{Judged, Scores};
use crate::item::format_timestamp;
use crate::submission::{Submission, json};

/// How far a device's clock may run ahead of the server's before its submission is flagged (never refused: a
/// fast phone clock must not lose a survey).
pub const CLOCK_TOLERANCE: time::Duration = time::Duration::minutes(5);

/// The envelope schema this build writes.
pub const SCHEMA_VERSION: u32 = 2;
/// The envelope schemas this build reads: 1 (before instruments) and 2.
pub const READABLE_VERSIONS: [u64; 2] = [1, 2];
/// The submission queue's `MaximumMessageSize` (SQS's largest): the largest valid body (256 KiB) and its envelope
/// fit with room to spare.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

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
    /// The form it arrived in: `json` or `fhir` (schema 1 envelopes were all JSON).
    #[serde(default = "json_form")]
    pub received_as: String,
    /// The accepted submission, its instrument version resolved (schema 2).
    pub submission: Submission,
    /// Whether the app named no version and the API resolved it (then the version is not part of the content).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub survey_version_resolved: bool,
    /// The scores its instrument version declares, computed at the edge.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scores: Scores,
    /// How far ahead of `receivedAt` the device's `completedAt` was, when beyond [`CLOCK_TOLERANCE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_ahead_seconds: Option<i64>,
}

fn json_form() -> String {
    "json".to_owned()
}

/// Why a queue message cannot be processed. Every variant is permanent: retrying will not help, so the message
/// travels to the dead-letter queue after `maxReceiveCount` receives. No text quotes the message's content.
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
}

impl Envelope {
    /// The envelope for a submission judged at the edge, accepted in `form` by request `request_id` at
    /// `received_at`.
    pub fn new(
        judged: Judged,
        form: &str,
        request_id: String,
        received_at: OffsetDateTime,
    ) -> Self {
        let completed_at = OffsetDateTime::parse(&judged.submission.completed_at, &Rfc3339).ok();
        let clock_ahead_seconds = completed_at
            .map(|completed| completed - received_at)
            .filter(|ahead| *ahead > CLOCK_TOLERANCE)
            .map(|ahead| ahead.whole_seconds());
        Envelope {
            schema_version: SCHEMA_VERSION,
            request_id,
            received_at: format_timestamp(received_at),
            received_as: form.to_owned(),
            submission: judged.submission,
            survey_version_resolved: judged.version_resolved,
            scores: judged.scores,
            clock_ahead_seconds,
        }
    }

    /// The message body.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an envelope is plain data and always serialises")
    }

    /// Reads a message body: its structure, not its judgement.
    pub fn decode(body: &str) -> Result<Self, EnvelopeError> {
        let value =
            json::parse(body.as_bytes()).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        let version = value
            .get("schemaVersion")
            .and_then(Value::as_u64)
            .ok_or_else(|| EnvelopeError::Shape("schemaVersion is missing".into()))?;
        if !READABLE_VERSIONS.contains(&version) {
            return Err(EnvelopeError::UnsupportedVersion(version));
        }
        let envelope: Envelope = serde_json::from_value(value).map_err(|error| {
            // serde's messages can quote a value; only where the mismatch is may be said.
            EnvelopeError::Shape(format!(
                "a field is missing or of the wrong type ({:?})",
                error.classify()
            ))
        })?;
        OffsetDateTime::parse(&envelope.received_at, &Rfc3339)
            .map_err(|_| EnvelopeError::ReceivedAt)?;
        Ok(envelope)
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
            example().judged(),
            "fhir",
            "req-1".into(),
            datetime!(2026-11-22 08:00:01.123456 UTC),
        )
    }

    fn with(change: impl Fn(&mut Value)) -> String {
        let mut value: Value = serde_json::from_str(&envelope().encode()).unwrap();
        change(&mut value);
        value.to_string()
    }

    #[test]
    fn round_trips_exactly() {
        let original = envelope();
        let decoded = Envelope::decode(&original.encode()).unwrap();
        assert_eq!(decoded, original);
    }

    #[test]
    fn carries_version_request_receive_time_form_and_scores() {
        let value: Value = serde_json::from_str(&envelope().encode()).unwrap();
        assert_eq!(value["schemaVersion"], 2);
        assert_eq!(value["requestId"], "req-1");
        assert_eq!(value["receivedAt"], "2026-11-22T08:00:01.123Z");
        assert_eq!(value["receivedAs"], "fhir");
        assert_eq!(value["submission"]["surveyVersion"], "2");
        assert_eq!(value["submission"]["answers"]["fatigue"], 5.5);
        let phq9 = example().survey("phq-9", example::phq9_answers("LA6569-3"));
        let scored: Value = serde_json::from_str(
            &Envelope::new(phq9.judged(), "json", "r".into(), example::RECEIVED_AT).encode(),
        )
        .unwrap();
        assert_eq!(
            scored["scores"],
            json!({"total": {"value": 9, "band": "mild"}})
        );
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
        assert_eq!(
            Envelope::decode(&with(|v| v["schemaVersion"] = json!(3))),
            Err(EnvelopeError::UnsupportedVersion(3))
        );
        assert_eq!(
            Envelope::decode(&with(|v| v["receivedAt"] = json!("yesterday"))),
            Err(EnvelopeError::ReceivedAt)
        );
        assert!(matches!(
            Envelope::decode(&with(
                |v| v["submission"]["answers"]["pain"] = json!({"nested": 1})
            )),
            Err(EnvelopeError::Shape(_))
        ));
    }

    #[test]
    fn a_shape_error_never_quotes_the_message() {
        let canary = "canary-words-of-a-patient";
        let error = Envelope::decode(&with(|v| v["submission"]["submissionId"] = json!(canary)))
            .unwrap_err();
        assert!(!error.to_string().contains(canary), "{error}");
        let error =
            Envelope::decode(&with(|v| v["requestId"] = json!({"text": canary}))).unwrap_err();
        assert!(!error.to_string().contains(canary), "{error}");
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
    fn an_envelope_accepted_under_older_rules_still_reads() {
        // Each of these was acceptable when queued and is refused by today's contract or catalogue.
        for accepted_then in [
            with(|v| v["submission"]["surveyVersion"] = json!("99")),
            with(|v| v["submission"]["surveyId"] = json!("retired-instrument")),
            with(|v| v["submission"]["answers"]["pain"] = json!(42)),
            with(|v| v["submission"]["answers"]["comment"] = json!("x".repeat(5_000))),
            with(|v| v["submission"]["completedAt"] = json!("2030-01-01T00:00:00Z")),
        ] {
            assert!(Envelope::decode(&accepted_then).is_ok(), "{accepted_then}");
        }
        // Schema 1, written before instruments: no version, no form, no scores.
        let schema1 = with(|v| {
            v["schemaVersion"] = json!(1);
            let object = v.as_object_mut().unwrap();
            object.remove("receivedAs");
            object.remove("scores");
            v["submission"]
                .as_object_mut()
                .unwrap()
                .remove("surveyVersion");
        });
        let decoded = Envelope::decode(&schema1).unwrap();
        assert_eq!(
            (decoded.schema_version, decoded.received_as.as_str()),
            (1, "json")
        );
        assert_eq!(decoded.submission.survey_version, None);
    }

    #[test]
    fn a_device_clock_running_ahead_is_measured_beyond_the_tolerance_only() {
        let at = |completed: &str| {
            let judged = example().set("completedAt", json!(completed)).judged();
            Envelope::new(judged, "json", "r".into(), example::RECEIVED_AT).clock_ahead_seconds
        };
        // Received at 08:00:00.5.
        assert_eq!(at("2026-11-22T09:00:00.5Z"), Some(3_600));
        assert_eq!(
            at("2026-11-22T10:00:00.5+01:00"),
            Some(3_600),
            "offsets count"
        );
        assert_eq!(
            at("2026-11-22T08:05:00.5Z"),
            None,
            "exactly the tolerance is fine"
        );
        assert_eq!(at("2026-11-22T08:05:01.5Z"), Some(301));
        assert_eq!(
            at("2026-11-20T08:00:00Z"),
            None,
            "a survey completed offline days ago is normal"
        );
    }

    #[test]
    fn the_largest_valid_body_fits_the_queue() {
        let envelope = Envelope::new(
            example::largest(example()).judged(),
            "json",
            "a-request-id-of-api-gateway-length".into(),
            example::RECEIVED_AT,
        );
        let size = envelope.encode().len();
        assert!(
            example::largest(example()).bytes().len() > crate::submission::MAX_BODY_BYTES - 4_096
        );
        assert!(size <= MAX_MESSAGE_BYTES, "{size} bytes");
    }
}
