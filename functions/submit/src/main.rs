//! The submit Lambda: adapts API Gateway HTTP API events on both submission routes to the intake's submit use
//! case: `POST /v1/submissions` (the v1 JSON contract) and `POST /v1/fhir/QuestionnaireResponse` (FHIR R4).

use intake::aws::{CallBudget, SqsQueue, sdk_config};
use intake::config::Env;
use intake::identity::{Claims, PatientPolicy};
use intake::instrument::Catalogue;
use intake::metrics::Metrics;
use intake::ports::Queue;
use intake::submit::{Form, Reply, SubmitConfig, SubmitRequest, SubmitService};
use lambda_http::http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};
use time::OffsetDateTime;

/// The FHIR route's key, as API Gateway names it in the request context (template.yaml declares it).
const FHIR_ROUTE: &str = "POST /v1/fhir/QuestionnaireResponse";

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let config = SubmitConfig::from_env(&Env::process())?;
    let catalogue = Catalogue::embedded();
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(CallBudget::INTERACTIVE).await);
    let service = SubmitService::new(SqsQueue::new(sqs, config.queue_url), catalogue);

    run(service_fn(|request: Request| {
        let (service, identity, metrics) = (&service, &config.identity, &metrics);
        async move {
            let context = request.lambda_context();
            let response = handle(service, identity, request).await;
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            Ok::<_, Error>(response)
        }
    }))
    .await
}

async fn handle<Q: Queue>(
    service: &SubmitService<Q>,
    identity: &PatientPolicy,
    request: Request,
) -> Response<Body> {
    let context = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => Some(context),
        _ => None,
    };
    let claims = context
        .and_then(|context| context.authorizer.as_ref())
        .and_then(|authorizer| authorizer.jwt.as_ref())
        .map(|jwt| Claims::new(&jwt.claims));
    let request_id = context
        .and_then(|context| context.request_id.clone())
        .unwrap_or_else(|| request.lambda_context().request_id);
    let form = match context.and_then(|context| context.route_key.as_deref()) {
        Some(FHIR_ROUTE) => Form::Fhir,
        _ => Form::Json,
    };
    let received_at = OffsetDateTime::now_utc();
    let reply = service
        .answer(SubmitRequest {
            caller: identity.patient(claims, received_at),
            form,
            content_type: request
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok()),
            body: request.body(),
            client: request
                .headers()
                .get(USER_AGENT)
                .and_then(|value| value.to_str().ok()),
            request_id,
            received_at,
        })
        .await;
    to_response(reply)
}

fn to_response(reply: Reply) -> Response<Body> {
    let mut response = Response::builder()
        .status(reply.status)
        .header(CONTENT_TYPE, reply.content_type);
    if let Some(seconds) = reply.retry_after {
        response = response.header(RETRY_AFTER, seconds);
    }
    response
        .body(Body::Text(reply.body.to_string()))
        .expect("status and headers are always valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::testing::example::{self, PATIENT_ID as PATIENT};
    use intake::testing::memory::MemoryQueue;
    use serde_json::{Value, json};

    fn submission() -> Value {
        example::example().json()
    }

    /// The sample event `cargo lambda invoke` sends (`events/submission.json`): an API Gateway HTTP API (payload
    /// 2.0) request with the JWT authorizer's claims.
    const SAMPLE: &str = include_str!("../events/submission.json");

    /// The sample event with some claims changed (`null` removes one; `None`: no authorizer ran) and another body.
    fn event(claims: Option<Value>, body: &str, base64: bool) -> Request {
        let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
        match claims {
            Some(changes) => {
                let claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
                    .as_object_mut()
                    .unwrap();
                for (claim, value) in changes.as_object().unwrap() {
                    match value {
                        Value::Null => claims.remove(claim),
                        value => claims.insert(claim.clone(), value.clone()),
                    };
                }
            }
            None => {
                event["requestContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorizer");
            }
        }
        event["body"] = json!(body);
        event["isBase64Encoded"] = json!(base64);
        lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
    }

    #[tokio::test]
    async fn the_sample_event_is_the_contract_example_and_is_accepted() {
        let sample: Value = serde_json::from_str(SAMPLE).unwrap();
        let body: Value = serde_json::from_str(sample["body"].as_str().unwrap()).unwrap();
        assert_eq!(body, submission());
        let request = lambda_http::request::from_str(SAMPLE).unwrap();
        let (status, sent) = status_for(request).await;
        assert_eq!(status, 202);
        assert_eq!(sent[0].request_id, "sample-request-1");
    }

    async fn status_for(request: Request) -> (u16, Vec<intake::envelope::Envelope>) {
        let queue = MemoryQueue::default();
        let service = SubmitService::new(queue.clone(), Catalogue::embedded());
        let response = handle(&service, &PatientPolicy::default(), request).await;
        (response.status().as_u16(), queue.sent())
    }

    #[tokio::test]
    async fn the_patient_comes_from_the_authorizer_claim() {
        let claims = json!({ "patient_id": PATIENT, "sub": "someone" });
        let (status, sent) =
            status_for(event(Some(claims), &submission().to_string(), false)).await;
        assert_eq!(status, 202);
        assert_eq!(
            sent[0].request_id, "sample-request-1",
            "the API Gateway request id follows the submission"
        );
    }

    #[tokio::test]
    async fn no_authorizer_claims_is_401() {
        let (status, sent) = status_for(event(None, &submission().to_string(), false)).await;
        assert_eq!(status, 401);
        assert!(sent.is_empty());
    }

    #[tokio::test]
    async fn claims_without_the_patient_claim_are_401() {
        let (status, _) = status_for(event(
            Some(json!({ "patient_id": null })),
            &submission().to_string(),
            false,
        ))
        .await;
        assert_eq!(status, 401);
    }

    #[tokio::test]
    async fn another_patients_claim_is_403() {
        let claims = json!({ "patient_id": "P-999999" });
        let (status, sent) =
            status_for(event(Some(claims), &submission().to_string(), false)).await;
        assert_eq!(status, 403);
        assert!(sent.is_empty());
    }

    #[tokio::test]
    async fn the_fhir_route_reads_a_questionnaire_response_and_answers_in_fhir() {
        let catalogue = Catalogue::embedded();
        let response = intake::fhir::render::questionnaire_response(
            catalogue,
            &example::example().judged().submission,
        )
        .unwrap();
        let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
        event["routeKey"] = json!(FHIR_ROUTE);
        event["requestContext"]["routeKey"] = json!(FHIR_ROUTE);
        event["rawPath"] = json!("/v1/fhir/QuestionnaireResponse");
        event["headers"]["content-type"] = json!("application/fhir+json");
        event["body"] = json!(response.to_string());
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let (status, sent) = status_for(request).await;
        assert_eq!(status, 202);
        assert_eq!(sent[0].received_as, "fhir");

        // The same route refuses a v1 body, in FHIR's words.
        event["body"] = json!(submission().to_string());
        let queue = MemoryQueue::default();
        let service = SubmitService::new(queue.clone(), catalogue);
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let response = handle(&service, &PatientPolicy::default(), request).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/fhir+json");
        assert!(queue.sent().is_empty());
    }

    #[tokio::test]
    async fn a_base64_encoded_body_is_read_as_bytes() {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(submission().to_string());
        let (status, _) = status_for(event(
            Some(json!({ "patient_id": PATIENT })),
            &encoded,
            true,
        ))
        .await;
        assert_eq!(status, 202);
    }

    #[test]
    fn a_retry_after_reply_carries_the_header() {
        let reply = Reply {
            status: lambda_http::http::StatusCode::SERVICE_UNAVAILABLE,
            content_type: "application/json",
            body: json!({ "error": "unavailable" }),
            retry_after: Some(5),
        };
        let response = to_response(reply);
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[RETRY_AFTER], "5");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }
}
