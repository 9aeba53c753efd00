//! `POST /v1/submissions`: who may submit, what gets queued, and what each outcome answers.
//!
//! HTTP-framework free: the submit function adapts a Lambda HTTP event to a [`SubmitRequest`] and a [`Reply`] back.
//!
//! - `identity`: the caller, from the verified token's claims;
//! - `error`: every refusal, and its status, body and headers;
//! - `config`: the function's environment.

use serde_json::json;
use time::OffsetDateTime;
use tracing::info;

use crate::envelope::Envelope;
use crate::ports::Queue;
use crate::submission::{MAX_BODY_BYTES, Submission};

mod config;
mod error;
mod identity;

pub use config::SubmitConfig;
pub use error::{RETRY_AFTER_SECONDS, Reply, SubmitError};
pub use identity::{Caller, PatientClaim};

/// The parts of an HTTP request the use case looks at.
#[derive(Debug)]
pub struct SubmitRequest<'a> {
    /// Who is calling, from the authorizer's claims.
    pub caller: Caller,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The body as received.
    pub body: &'a [u8],
    /// API Gateway's request id, to follow the submission through the logs.
    pub request_id: String,
    /// The server's receive time.
    pub received_at: OffsetDateTime,
}

/// What the queue acknowledged: the `202` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The accepted submission.
    pub submission_id: uuid::Uuid,
    /// When the API accepted it (server clock, RFC 3339, UTC).
    pub received_at: String,
}

impl Receipt {
    /// The `202 Accepted` answer.
    pub fn reply(&self) -> Reply {
        Reply {
            status: http::StatusCode::ACCEPTED,
            body: json!({
                "submissionId": self.submission_id,
                "status": "accepted",
                "receivedAt": self.received_at,
            }),
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
    /// A service that enqueues to `queue`.
    pub fn new(queue: Q) -> Self {
        SubmitService { queue }
    }

    /// Accepts the submission once the queue has acknowledged it, or says why not.
    pub async fn submit(&self, request: &SubmitRequest<'_>) -> Result<Receipt, SubmitError> {
        let patient = request.caller.patient()?;
        require_json(request.content_type)?;
        require_size(request.body)?;
        let submission = Submission::parse(request.body, request.received_at)?;
        identity::may_submit(patient, &submission)?;
        let envelope = Envelope::new(submission, request.request_id.clone(), request.received_at);
        self.queue
            .send(&envelope)
            .await
            .map_err(|cause| SubmitError::Unavailable {
                submission_id: envelope.submission.submission_id,
                cause,
            })?;
        info!(
            request_id = request.request_id,
            submission_id = %envelope.submission.submission_id,
            trial_id = envelope.submission.trial_id,
            outcome = "accepted"
        );
        Ok(Receipt {
            submission_id: envelope.submission.submission_id,
            received_at: envelope.received_at,
        })
    }

    /// [`Self::submit`] as an HTTP answer, with the refusal logged.
    pub async fn answer(&self, request: SubmitRequest<'_>) -> Reply {
        match self.submit(&request).await {
            Ok(receipt) => receipt.reply(),
            Err(refusal) => {
                refusal.log(&request.request_id);
                refusal.reply()
            }
        }
    }
}

/// `application/json`, with or without parameters such as `charset`.
fn require_json(content_type: Option<&str>) -> Result<(), SubmitError> {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
        .then_some(())
        .ok_or(SubmitError::UnsupportedMediaType)
}

fn require_size(body: &[u8]) -> Result<(), SubmitError> {
    if body.len() > MAX_BODY_BYTES {
        Err(SubmitError::TooLarge { bytes: body.len() })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::example;
    use crate::testing::example::RECEIVED_AT as NOW;
    use crate::testing::memory::MemoryQueue;

    fn body() -> Vec<u8> {
        example().bytes()
    }

    async fn submit_as(
        queue: &MemoryQueue,
        caller: Caller,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        SubmitService::new(queue.clone())
            .answer(SubmitRequest {
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
}
