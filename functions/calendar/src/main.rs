//! The calendar Lambda: enrolments, compliance and a patient's own schedule. Adapts the API's routes to the
//! intake's calendar use case.

use intake::aws::{CallBudget, DynamoStore, sdk_config};
use intake::calendar::{
    CalendarConfig, CalendarReply, CalendarRequest, CalendarRoute, CalendarService,
};
use intake::config::Env;
use intake::identity::Claims;
use intake::metrics::Metrics;
use intake::ports::Enrolments;
use intake::schedule::Schedules;
use lambda_http::http::StatusCode;
use lambda_http::http::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};
use time::OffsetDateTime;

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let config = CalendarConfig::from_env(&Env::process())?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(CallBudget::INTERACTIVE).await);
    let service = CalendarService::new(
        DynamoStore::new(dynamodb, config.table_name.clone()),
        config.policy.clone(),
        Schedules::embedded()?,
    );

    run(service_fn(|request: Request| {
        let (service, metrics) = (&service, &metrics);
        async move {
            let response = handle(service, &request).await;
            let context = request.lambda_context();
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            Ok::<_, Error>(response)
        }
    }))
    .await
}

async fn handle<E: Enrolments>(service: &CalendarService<E>, request: &Request) -> Response<Body> {
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
    let parameters = request.path_parameters();
    let query = request.query_string_parameters();
    let trial_id = parameters.first("trialId").unwrap_or_default();
    let patient_id = parameters.first("patientId").unwrap_or_default();
    let route = match context.and_then(|context| context.route_key.as_deref()) {
        Some("POST /v1/trials/{trialId}/enrolments") => CalendarRoute::Enrol { trial_id },
        Some("GET /v1/trials/{trialId}/enrolments/{patientId}") => CalendarRoute::Read {
            trial_id,
            patient_id,
        },
        Some("PATCH /v1/trials/{trialId}/enrolments/{patientId}") => CalendarRoute::Change {
            trial_id,
            patient_id,
        },
        Some("POST /v1/trials/{trialId}/enrolments/{patientId}/withdrawal") => {
            CalendarRoute::Withdraw {
                trial_id,
                patient_id,
            }
        }
        Some("GET /v1/trials/{trialId}/compliance") => CalendarRoute::Compliance { trial_id },
        Some("GET /v1/patients/me/schedule") => CalendarRoute::MySchedule {
            trial_id: query.first("trialId"),
        },
        // A route the template does not send here.
        _ => {
            let body = serde_json::json!({ "error": "not_found", "message": "no such route" });
            return to_response(CalendarReply {
                status: StatusCode::NOT_FOUND,
                body,
                etag: None,
            });
        }
    };
    let if_match = request
        .headers()
        .get(IF_MATCH)
        .and_then(|v| v.to_str().ok());
    let reply = service
        .answer(CalendarRequest {
            claims,
            route,
            body: request.body().as_ref(),
            if_match,
            request_id,
            now: OffsetDateTime::now_utc(),
        })
        .await;
    to_response(reply)
}

fn to_response(reply: CalendarReply) -> Response<Body> {
    let mut response = Response::builder()
        .status(reply.status)
        .header(CONTENT_TYPE, "application/json");
    if let Some(etag) = reply.etag {
        response = response.header(ETAG, etag);
    }
    response
        .body(Body::Text(reply.body.to_string()))
        .expect("status and headers are always valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::calendar::CalendarPolicy;
    use intake::testing::memory::MemoryStore;

    /// The sample events `cargo lambda invoke` sends: a nurse of ONC-2026-01 enrolling P-000123 on the
    /// post-op follow-up (`events/enrol.json`), and that patient reading their schedule (`events/schedule.json`).
    const ENROL: &str = include_str!("../events/enrol.json");
    const SCHEDULE: &str = include_str!("../events/schedule.json");

    async fn answer(
        service: &CalendarService<MemoryStore>,
        event: &str,
    ) -> (u16, serde_json::Value) {
        let request = lambda_http::request::from_str(event).unwrap();
        let response = handle(service, &request).await;
        let body = match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("a JSON body, not {other:?}"),
        };
        (response.status().as_u16(), body)
    }

    #[tokio::test]
    async fn the_sample_requests_enrol_a_patient_who_then_reads_their_schedule() {
        let service = CalendarService::new(
            MemoryStore::default(),
            CalendarPolicy::default(),
            Schedules::embedded().unwrap(),
        );
        let (status, body) = answer(&service, ENROL).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["scheduleId"], "postop-followup");
        let (status, body) = answer(&service, SCHEDULE).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["timeZone"], "Europe/Berlin");
        let unknown = SCHEDULE.replace("GET /v1/patients/me/schedule", "GET /v1/patients/me/other");
        assert_eq!(answer(&service, &unknown).await.0, 404);
    }
}
