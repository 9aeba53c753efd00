//! `POST /v1/submissions`: who may submit, what gets queued, and which status and body each outcome gets.
//!
//! HTTP-framework free: the submit function adapts a Lambda HTTP event to a [`SubmitRequest`] and a [`Reply`] back.

use std::collections::HashMap;

use serde_json::{Value, json};
use time::OffsetDateTime;
use tracing::{error, info, warn};

use crate::envelope::Envelope;
use crate::ports::Queue;
use crate::submission::{MAX_BODY_BYTES, Rejection, Submission};

/// Seconds a client should wait before retrying when the queue is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Which JWT claim names the patient. API Gateway's JWT authorizer has verified the token (signature, issuer,
/// audience, expiry) before the function runs; this only reads who the verified caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientClaim(String);

impl PatientClaim {
    pub const DEFAULT: &str = "patient_id";

    /// From `PATIENT_CLAIM`; unset or empty means [`Self::DEFAULT`].
    pub fn from_env_value(claim: Option<&str>) -> Self {
        PatientClaim(
            claim
                .filter(|c| !c.is_empty())
                .unwrap_or(Self::DEFAULT)
                .to_owned(),
        )
    }

    /// The caller, as told by the authorizer's claims (absent when no authorizer ran: fail closed).
    pub fn caller(&self, claims: Option<&HashMap<String, String>>) -> Caller {
        claims
            .and_then(|claims| claims.get(&self.0))
            .filter(|id| !id.is_empty())
            .map_or(Caller::Anonymous, |id| Caller::Patient(id.clone()))
    }
}

/// Who is submitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Patient(String),
    /// No identity: refused with 401.
    Anonymous,
}

/// The parts of an HTTP request the API looks at.
#[derive(Debug)]
pub struct SubmitRequest<'a> {
    pub caller: Caller,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub request_id: String,
    pub received_at: OffsetDateTime,
}

/// An HTTP answer: status, JSON body, and the `Retry-After` seconds when the client should come back later.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u32>,
}

impl Reply {
    fn error(status: u16, error: &str, message: &str) -> Self {
        Reply {
            status,
            body: json!({ "error": error, "message": message }),
            retry_after: None,
        }
    }
}

/// The submit use case: authenticate, validate, enqueue.
#[derive(Debug, Clone)]
pub struct SubmitService<Q> {
    queue: Q,
}

impl<Q: Queue> SubmitService<Q> {
    pub fn new(queue: Q) -> Self {
        SubmitService { queue }
    }

    pub async fn submit(&self, request: SubmitRequest<'_>) -> Reply {
        let request_id = request.request_id.as_str();
        let Caller::Patient(patient) = &request.caller else {
            warn!(
                request_id,
                outcome = "unauthenticated",
                "no patient identity in the request"
            );
            return Reply::error(401, "unauthenticated", "a patient identity is required");
        };
        if !is_json(request.content_type) {
            warn!(request_id, outcome = "unsupported_media_type");
            return Reply::error(
                415,
                "unsupported_media_type",
                "Content-Type must be application/json",
            );
        }
        if request.body.len() > MAX_BODY_BYTES {
            warn!(
                request_id,
                outcome = "payload_too_large",
                bytes = request.body.len()
            );
            return Reply::error(
                413,
                "payload_too_large",
                "the body must be at most 262144 bytes",
            );
        }
        let submission = match Submission::parse(request.body, request.received_at) {
            Ok(submission) => submission,
            Err(Rejection::MalformedJson(detail)) => {
                warn!(request_id, outcome = "malformed_json");
                return Reply::error(
                    400,
                    "malformed_json",
                    &format!("the body is not valid JSON: {detail}"),
                );
            }
            Err(Rejection::Invalid(problems)) => {
                warn!(
                    request_id,
                    outcome = "invalid_submission",
                    problems = problems.len()
                );
                return Reply {
                    status: 400,
                    body: json!({
                        "error": "invalid_submission",
                        "message": format!("the submission breaks {} rule(s) of the v1 contract", problems.len()),
                        "fields": problems,
                    }),
                    retry_after: None,
                };
            }
        };
        let submission_id = submission.submission_id.to_string();
        if *patient != submission.patient_id {
            warn!(
                request_id,
                submission_id,
                outcome = "forbidden",
                "patientId differs from the caller's identity"
            );
            return Reply::error(
                403,
                "forbidden",
                "a patient may submit only their own surveys",
            );
        }

        let envelope = Envelope::new(submission, request.request_id.clone(), request.received_at);
        if let Err(failure) = self.queue.send(&envelope).await {
            error!(request_id, submission_id, outcome = "unavailable", error = %failure);
            return Reply {
                status: 503,
                body: json!({ "error": "unavailable", "message": "the service is busy; retry with the same submissionId" }),
                retry_after: Some(RETRY_AFTER_SECONDS),
            };
        }
        info!(
            request_id,
            submission_id,
            trial_id = envelope.submission.trial_id,
            outcome = "accepted"
        );
        Reply {
            status: 202,
            body: json!({
                "submissionId": submission_id,
                "status": "accepted",
                "receivedAt": envelope.received_at,
            }),
            retry_after: None,
        }
    }
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryQueue;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 08:00:00.5 UTC);

    fn body() -> Vec<u8> {
        serde_json::to_vec(&json!({
            "submissionId": "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f", "trialId": "ONC-2026-01",
            "patientId": "P-000123", "surveyId": "qol-daily", "timepoint": "day-7",
            "completedAt": "2026-11-22T08:00:03Z", "answers": { "pain": 3, "comment": "slept badly" }
        }))
        .unwrap()
    }

    async fn submit_as(
        queue: &MemoryQueue,
        caller: Caller,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        SubmitService::new(queue.clone())
            .submit(SubmitRequest {
                caller,
                content_type,
                body,
                request_id: "req-1".into(),
                received_at: NOW,
            })
            .await
    }

    async fn submit(queue: &MemoryQueue, body: &[u8]) -> Reply {
        submit_as(
            queue,
            Caller::Patient("P-000123".into()),
            Some("application/json"),
            body,
        )
        .await
    }

    #[tokio::test]
    async fn accepts_and_enqueues_a_valid_submission() {
        let queue = MemoryQueue::default();
        let reply = submit(&queue, &body()).await;
        assert_eq!(reply.status, 202);
        assert_eq!(
            reply.body,
            json!({"submissionId": "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f", "status": "accepted", "receivedAt": "2026-11-22T08:00:00.500Z"})
        );
        let sent = queue.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].request_id, "req-1");
        assert_eq!(sent[0].received_at, "2026-11-22T08:00:00.500Z");
        assert_eq!(sent[0].submission.patient_id, "P-000123");
    }

    #[tokio::test]
    async fn accepts_a_charset_parameter_and_any_case() {
        for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
            let queue = MemoryQueue::default();
            let reply = submit_as(
                &queue,
                Caller::Patient("P-000123".into()),
                Some(content_type),
                &body(),
            )
            .await;
            assert_eq!(reply.status, 202, "{content_type}");
        }
    }

    #[tokio::test]
    async fn refuses_a_request_without_identity_before_reading_it() {
        let queue = MemoryQueue::default();
        let reply = submit_as(&queue, Caller::Anonymous, Some("text/plain"), b"junk").await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.body["error"], "unauthenticated");
        assert!(queue.sent().is_empty());
    }

    #[tokio::test]
    async fn refuses_another_patients_submission() {
        let queue = MemoryQueue::default();
        let reply = submit_as(
            &queue,
            Caller::Patient("P-999999".into()),
            Some("application/json"),
            &body(),
        )
        .await;
        assert_eq!(reply.status, 403);
        assert_eq!(reply.body["error"], "forbidden");
        assert!(queue.sent().is_empty());
    }

    #[tokio::test]
    async fn refuses_other_content_types_with_415() {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/jsonp"),
            Some("multipart/form-data"),
        ] {
            let queue = MemoryQueue::default();
            let reply = submit_as(
                &queue,
                Caller::Patient("P-000123".into()),
                content_type,
                &body(),
            )
            .await;
            assert_eq!(reply.status, 415, "{content_type:?}");
            assert_eq!(reply.body["error"], "unsupported_media_type");
            assert!(queue.sent().is_empty());
        }
    }

    #[tokio::test]
    async fn refuses_bodies_over_256_kib_with_413() {
        let queue = MemoryQueue::default();
        let mut big = body();
        big.resize(MAX_BODY_BYTES + 1, b' ');
        assert_eq!(submit(&queue, &big).await.status, 413);
        assert!(queue.sent().is_empty());
        // Trailing white space is still JSON: exactly at the limit is accepted.
        big.truncate(MAX_BODY_BYTES);
        assert_eq!(submit(&queue, &big).await.status, 202);
    }

    #[tokio::test]
    async fn malformed_json_gets_its_own_error() {
        let queue = MemoryQueue::default();
        let reply = submit(&queue, b"{not json").await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body["error"], "malformed_json");
        assert!(queue.sent().is_empty());
    }

    #[tokio::test]
    async fn invalid_submissions_list_every_problem() {
        let queue = MemoryQueue::default();
        let reply = submit(
            &queue,
            br#"{"submissionId": "x", "answers": {"pain": null}}"#,
        )
        .await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body["error"], "invalid_submission");
        let fields = reply.body["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 7);
        assert_eq!(
            fields[0],
            json!({"field": "submissionId", "problem": "must be a UUID in its 36-character form (8-4-4-4-12 hex digits)"})
        );
        assert!(queue.sent().is_empty());
    }

    #[tokio::test]
    async fn an_unreachable_queue_gives_503_with_retry_after() {
        let reply = submit(&MemoryQueue::unavailable(), &body()).await;
        assert_eq!(reply.status, 503);
        assert_eq!(reply.body["error"], "unavailable");
        assert_eq!(reply.retry_after, Some(RETRY_AFTER_SECONDS));
        assert!(
            !reply.body.to_string().contains("memory queue"),
            "internals must not leak"
        );
    }

    #[test]
    fn the_patient_claim_defaults_to_patient_id() {
        assert_eq!(
            PatientClaim::from_env_value(None),
            PatientClaim("patient_id".into())
        );
        assert_eq!(
            PatientClaim::from_env_value(Some("")),
            PatientClaim("patient_id".into())
        );
        assert_eq!(
            PatientClaim::from_env_value(Some("sub")),
            PatientClaim("sub".into())
        );
    }

    #[test]
    fn the_caller_comes_from_the_configured_claim() {
        let jwt = PatientClaim::from_env_value(None);
        let claims = HashMap::from([
            ("patient_id".to_string(), "P-1".to_string()),
            ("sub".to_string(), "u".to_string()),
        ]);
        assert_eq!(jwt.caller(Some(&claims)), Caller::Patient("P-1".into()));
        assert_eq!(jwt.caller(None), Caller::Anonymous);
        assert_eq!(jwt.caller(Some(&HashMap::new())), Caller::Anonymous);
        let empty = HashMap::from([("patient_id".to_string(), String::new())]);
        assert_eq!(jwt.caller(Some(&empty)), Caller::Anonymous);
        let sub = PatientClaim::from_env_value(Some("sub"));
        assert_eq!(sub.caller(Some(&claims)), Caller::Patient("u".into()));
    }
}
