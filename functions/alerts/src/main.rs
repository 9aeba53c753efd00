//! The alerts Lambda: the staff API. Adapts `GET /v1/trials/{trialId}/alerts`,
//! `POST /v1/alerts/{alertId}/acknowledgement`, `GET /v1/trials/{trialId}/flags`,
//! `PUT` and `GET /v1/trials/{trialId}/submissions/{submissionId}/exclusion`, `POST` and `GET …/versions` and
//! `GET /v1/trials/{trialId}/audit` to the intake's staff use case.

use intake::aws::{CallBudget, DynamoAlerts, DynamoStore, sdk_config};
use intake::config::Env;
use intake::identity::{Claims, StaffPolicy};
use intake::instrument::Catalogue;
use intake::metrics::Metrics;
use intake::ports::{Alerts, Flags, Records};
use intake::staff::{
    Correction, Exclusion, StaffConfig, StaffReply, StaffRequest, StaffRoute, StaffService,
};
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
    let config = StaffConfig::from_env(&Env::process())?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(CallBudget::INTERACTIVE).await);
    let service = StaffService::new(
        DynamoAlerts::new(dynamodb.clone(), config.table_name.clone()),
        DynamoStore::new(dynamodb, config.table_name.clone()),
        config.identity.clone(),
        Catalogue::embedded(),
    );

    run(service_fn(|request: Request| {
        let (service, identity, metrics) = (&service, &config.identity, &metrics);
        async move {
            let response = handle(service, identity, &request).await;
            let context = request.lambda_context();
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            Ok::<_, Error>(response)
        }
    }))
    .await
}

async fn handle<A: Alerts + Flags, R: Records>(
    service: &StaffService<A, R>,
    identity: &StaffPolicy,
    request: &Request,
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
    let parameters = request.path_parameters();
    let query = request.query_string_parameters();
    let trial_id = parameters.first("trialId").unwrap_or_default();
    let route = match context.and_then(|context| context.route_key.as_deref()) {
        Some("GET /v1/trials/{trialId}/alerts") => StaffRoute::List {
            trial_id,
            status: query.first("status"),
            limit: query.first("limit"),
            cursor: query.first("cursor"),
        },
        Some("POST /v1/alerts/{alertId}/acknowledgement") => StaffRoute::Acknowledge {
            alert_id: parameters.first("alertId").unwrap_or_default(),
        },
        Some("GET /v1/trials/{trialId}/flags") => StaffRoute::Flags {
            trial_id,
            kind: query.first("kind"),
            limit: query.first("limit"),
            cursor: query.first("cursor"),
        },
        Some("PUT /v1/trials/{trialId}/submissions/{submissionId}/exclusion") => {
            StaffRoute::Exclusion(Exclusion {
                trial_id,
                submission_id: parameters.first("submissionId").unwrap_or_default(),
                body: request.body().as_ref(),
                if_match: request
                    .headers()
                    .get(IF_MATCH)
                    .and_then(|v| v.to_str().ok()),
            })
        }
        Some("GET /v1/trials/{trialId}/submissions/{submissionId}/exclusion") => {
            StaffRoute::ExclusionState {
                trial_id,
                submission_id: parameters.first("submissionId").unwrap_or_default(),
            }
        }
        Some("POST /v1/trials/{trialId}/submissions/{submissionId}/versions") => {
            StaffRoute::Correction(Correction {
                trial_id,
                submission_id: parameters.first("submissionId").unwrap_or_default(),
                body: request.body().as_ref(),
            })
        }
        Some("GET /v1/trials/{trialId}/submissions/{submissionId}/versions") => {
            StaffRoute::Versions {
                trial_id,
                submission_id: parameters.first("submissionId").unwrap_or_default(),
                patient_id: query.first("patientId"),
                all: query.first("all"),
            }
        }
        Some("GET /v1/trials/{trialId}/audit") => StaffRoute::Audit {
            trial_id,
            limit: query.first("limit"),
            cursor: query.first("cursor"),
        },
        // A route the template does not send here.
        _ => return to_response(StaffReply::no_such_route()),
    };
    let reply = service
        .answer(StaffRequest {
            caller: identity.staff(claims, OffsetDateTime::now_utc()),
            route,
            request_id,
        })
        .await;
    to_response(reply)
}

fn to_response(reply: StaffReply) -> Response<Body> {
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
    use intake::testing::example::{example, phq9_answers};
    use intake::testing::memory::MemoryStore;

    /// The sample events `cargo lambda invoke` sends (`events/list.json`, `events/acknowledgement.json`): a nurse of
    /// ONC-2026-01 listing open alerts, and acknowledging the example's alert.
    const LIST: &str = include_str!("../events/list.json");
    const ACKNOWLEDGEMENT: &str = include_str!("../events/acknowledgement.json");

    /// A store holding the alert the contract example raises when its PHQ-9 item 9 is "several days".
    async fn store() -> MemoryStore {
        let store = MemoryStore::default();
        let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
        record.message_id = Some("m1".into());
        record.body = Some(
            example()
                .survey("phq-9", phq9_answers("LA6569-3"))
                .envelope()
                .encode(),
        );
        intake::process::Processor::new(store.clone(), 1)
            .process(vec![record])
            .await;
        store
    }

    async fn answer(store: &MemoryStore, event: &str) -> (u16, serde_json::Value) {
        let service = StaffService::new(
            store.clone(),
            store.clone(),
            StaffPolicy::default(),
            Catalogue::embedded(),
        );
        let request = lambda_http::request::from_str(event).unwrap();
        let response = handle(&service, &StaffPolicy::default(), &request).await;
        let body = match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("a JSON body, not {other:?}"),
        };
        (response.status().as_u16(), body)
    }

    #[tokio::test]
    async fn the_sample_requests_list_the_open_alert_then_acknowledge_it() {
        let store = store().await;
        let alert = store.alerts()[0].alert_id.to_string();
        let (status, body) = answer(&store, LIST).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["alerts"][0]["alertId"], alert.as_str());
        let event = ACKNOWLEDGEMENT.replace("a56e5ecd-18d3-5933-8767-dc484240e96b", &alert);
        let (status, body) = answer(&store, &event).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["acknowledgedBy"], "nurse-1");
    }
}
