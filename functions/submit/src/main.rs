//! The submit Lambda: adapts API Gateway HTTP API events to the intake's submit use case.

use intake::api::{PatientClaim, Reply, SubmitRequest, SubmitService};
use intake::aws::{CallBudget, SqsQueue, sdk_config};
use intake::ports::Queue;
use lambda_http::http::header::{CONTENT_TYPE, RETRY_AFTER};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let patient_claim =
        PatientClaim::from_env_value(std::env::var("PATIENT_CLAIM").ok().as_deref());
    let queue_url = intake::required_env("QUEUE_URL")?;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(CallBudget::INTERACTIVE).await);
    let service = SubmitService::new(SqsQueue::new(sqs, queue_url));

    run(service_fn(|request: Request| {
        let (service, patient_claim) = (&service, &patient_claim);
        async move { Ok::<_, Error>(handle(service, patient_claim, request).await) }
    }))
    .await
}

async fn handle<Q: Queue>(
    service: &SubmitService<Q>,
    patient_claim: &PatientClaim,
    request: Request,
) -> Response<Body> {
    let context = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => Some(context),
        _ => None,
    };
    let claims = context
        .and_then(|context| context.authorizer.as_ref())
        .and_then(|authorizer| authorizer.jwt.as_ref())
        .map(|jwt| &jwt.claims);
    let request_id = context
        .and_then(|context| context.request_id.clone())
        .unwrap_or_else(|| request.lambda_context().request_id);
    let reply = service
        .submit(SubmitRequest {
            caller: patient_claim.caller(claims),
            content_type: request
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok()),
            body: request.body(),
            request_id,
            received_at: OffsetDateTime::now_utc(),
        })
        .await;
    to_response(reply)
}

fn to_response(reply: Reply) -> Response<Body> {
    let mut response = Response::builder()
        .status(reply.status)
        .header(CONTENT_TYPE, "application/json");
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
    use intake::memory::MemoryQueue;
    use serde_json::{Value, json};

    const PATIENT: &str = "P-000123";

    fn submission() -> Value {
        json!({
            "submissionId": "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f", "trialId": "ONC-2026-01", "patientId": PATIENT,
            "surveyId": "qol-daily", "timepoint": "day-7", "completedAt": "2026-11-22T08:00:03Z",
            "answers": { "pain": 3 }
        })
    }

    /// An API Gateway HTTP API (payload 2.0) event, with the JWT authorizer's claims when given.
    fn event(claims: Option<Value>, body: &str, base64: bool) -> Request {
        let mut context = json!({
            "routeKey": "POST /v1/submissions", "accountId": "123456789012", "stage": "$default",
            "requestId": "gw-request-1", "apiId": "api", "domainName": "api.example", "timeEpoch": 0,
            "http": { "method": "POST", "path": "/v1/submissions", "protocol": "HTTP/1.1", "sourceIp": "ip", "userAgent": "app" }
        });
        if let Some(claims) = claims {
            context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
        }
        let event = json!({
            "version": "2.0", "routeKey": "POST /v1/submissions", "rawPath": "/v1/submissions", "rawQueryString": "",
            "headers": { "content-type": "application/json", "host": "api.example" },
            "requestContext": context, "body": body, "isBase64Encoded": base64
        });
        lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
    }

    async fn status_for(request: Request) -> (u16, Vec<intake::envelope::Envelope>) {
        let queue = MemoryQueue::default();
        let service = SubmitService::new(queue.clone());
        let patient_claim = PatientClaim::from_env_value(None);
        let response = handle(&service, &patient_claim, request).await;
        (response.status().as_u16(), queue.sent())
    }

    #[tokio::test]
    async fn the_patient_comes_from_the_authorizer_claim() {
        let claims = json!({ "patient_id": PATIENT, "sub": "someone" });
        let (status, sent) =
            status_for(event(Some(claims), &submission().to_string(), false)).await;
        assert_eq!(status, 202);
        assert_eq!(
            sent[0].request_id, "gw-request-1",
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
            Some(json!({ "sub": PATIENT })),
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
            status: 503,
            body: json!({ "error": "unavailable" }),
            retry_after: Some(5),
        };
        let response = to_response(reply);
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[RETRY_AFTER], "5");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }
}
