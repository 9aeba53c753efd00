//! Submitting answers: `POST /v1/submissions` (the v1 JSON contract) and `POST /v1/fhir/QuestionnaireResponse`
//! (FHIR R4). Who may submit, how a body is judged, what gets queued, and what each outcome answers.
//!
//! HTTP-framework free: the submit function adapts a Lambda HTTP event to a [`SubmitRequest`] and a [`Reply`] back.
//!
//! - `identity`: whose submission the verified patient may send;
//! - `accept`: a body in either form, judged once (contract, then instrument);
//! - `error`: every refusal, and its status, body and headers in each form;
//! - `config`: the function's environment.

use crate::metrics::{self, Metric};
use serde_json::json;
use time::OffsetDateTime;
use tracing::info;

use crate::envelope::Envelope;
use crate::identity::Patient;
use crate::instrument::Catalogue;
use crate::ports::{Queue, QueueError};
use crate::submission::MAX_BODY_BYTES;

mod accept;
mod config;
mod error;
mod identity;

pub use accept::{Form, accept};
pub use config::SubmitConfig;
pub use error::{CLIENT_REFUSALS, RETRY_AFTER_SECONDS, Reply, SubmitError};

/// The parts of an HTTP request the use case looks at.
#[derive(Debug)]
pub struct SubmitRequest<'a> {
    /// Who is calling, from the authorizer's verified claims, or why nobody is.
    pub caller: Result<Patient, String>,
    /// Which route: the v1 JSON contract or FHIR.
    pub form: Form,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The body as received.
    pub body: &'a [u8],
    /// The `User-Agent` header: which app and version sent it, so a refusal spike can be traced to a release.
    pub client: Option<&'a str>,
    /// API Gateway's request id, to follow the submission through the logs.
    pub request_id: String,
    /// The server's receive time.
    pub received_at: OffsetDateTime,
}

/// What the queue acknowledged: the `202` body, the same for both forms.
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
            content_type: "application/json",
            retry_after: None,
        }
    }
}

/// The submit use case: authenticate, judge, enqueue.
#[derive(Debug, Clone)]
pub struct SubmitService<Q> {
    queue: Q,
    catalogue: &'static Catalogue,
}

impl<Q: Queue> SubmitService<Q> {
    /// A service that judges against `catalogue` and enqueues to `queue`.
    pub fn new(queue: Q, catalogue: &'static Catalogue) -> Self {
        SubmitService { queue, catalogue }
    }

    /// Accepts the submission once the queue has acknowledged it, or says why not.
    pub async fn submit(&self, request: &SubmitRequest<'_>) -> Result<Receipt, SubmitError> {
        let patient = request
            .caller
            .as_ref()
            .map_err(|reason| SubmitError::Unauthenticated(reason.clone()))?;
        require_media_type(request.form, request.content_type)?;
        require_size(request.body)?;
        let judged = accept(request.form, request.body, self.catalogue)?;
        identity::may_submit(patient, &judged.submission)?;
        let envelope = Envelope::new(
            judged,
            request.form.name(),
            request.request_id.clone(),
            request.received_at,
        );
        let submission_id = envelope.submission.submission_id;
        self.queue
            .send(&envelope)
            .await
            .map_err(|cause| match cause {
                QueueError::Refused(_) => SubmitError::NotQueueable {
                    submission_id,
                    cause,
                },
                QueueError::Unavailable(_) => SubmitError::Unavailable {
                    submission_id,
                    cause,
                },
            })?;
        info!(
            request_id = request.request_id,
            submission_id = %submission_id,
            trial_id = envelope.submission.trial_id,
            survey_id = envelope.submission.survey_id,
            received_as = request.form.name(),
            outcome = "accepted"
        );
        Ok(Receipt {
            submission_id,
            received_at: envelope.received_at,
        })
    }

    /// [`Self::submit`] as an HTTP answer in the request's form, with the refusal logged.
    pub async fn answer(&self, request: SubmitRequest<'_>) -> Reply {
        match self.submit(&request).await {
            Ok(receipt) => {
                metrics::add(Metric::Accepted, 1);
                receipt.reply()
            }
            Err(refusal) => {
                metrics::refused(refusal.code());
                refusal.log(&request.request_id, request.client);
                refusal.reply(request.form)
            }
        }
    }
}

fn require_media_type(form: Form, content_type: Option<&str>) -> Result<(), SubmitError> {
    form.accepts(content_type)
        .then_some(())
        .ok_or(SubmitError::UnsupportedMediaType {
            expected: form.media_type(),
        })
}

fn require_size(body: &[u8]) -> Result<(), SubmitError> {
    if body.len() > MAX_BODY_BYTES {
        Err(SubmitError::TooLarge { bytes: body.len() })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
