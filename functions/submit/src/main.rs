//! The submit Lambda: adapts API Gateway HTTP API events to the intake's submit use case.

use intake::api::{AuthMode, Reply, SubmitRequest, SubmitService};
use intake::aws::{CallBudget, SqsQueue, sdk_config};
use lambda_http::http::header::{CONTENT_TYPE, RETRY_AFTER};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let auth = AuthMode::from_env_values(
        std::env::var("AUTH_MODE").ok().as_deref(),
        std::env::var("PATIENT_CLAIM").ok().as_deref(),
    )?;
    if auth == AuthMode::Disabled {
        tracing::warn!(
            "AUTH_MODE=none: IDENTITY CHECKS ARE OFF. Any caller may submit for any patient. Local use only."
        );
    }
    let queue_url = intake::required_env("QUEUE_URL")?;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(CallBudget::INTERACTIVE).await);
    let service = SubmitService::new(SqsQueue::new(sqs, queue_url));

    run(service_fn(|request: Request| {
        let (service, auth) = (&service, &auth);
        async move { Ok::<_, Error>(handle(service, auth, request).await) }
    }))
    .await
}

async fn handle(
    service: &SubmitService<SqsQueue>,
    auth: &AuthMode,
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
            caller: auth.caller(claims),
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
