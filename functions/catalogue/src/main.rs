//! The catalogue Lambda: serves the instrument definitions apps render and the schedules they follow, as FHIR,
//! from the catalogue embedded at build time. `GET /v1/fhir/Questionnaire` (a Bundle of current versions), `…/{id}`
//! (current version), `…/{id}/_history/{version}` (a published version); the same for `PlanDefinition`. It needs no
//! AWS permission at all.

use intake::fhir::plan_definition;
use intake::fhir::questionnaire::{Answer, answer};
use intake::instrument::Catalogue;
use intake::metrics::Metrics;
use intake::schedule::Schedules;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let catalogue = Catalogue::embedded();
    let schedules = Schedules::embedded()?;
    run(service_fn(|request: Request| {
        let metrics = &metrics;
        async move {
            let response = handle((catalogue, schedules), &request);
            let context = request.lambda_context();
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            Ok::<_, Error>(response)
        }
    }))
    .await
}

fn handle((catalogue, schedules): (&Catalogue, &Schedules), request: &Request) -> Response<Body> {
    let verified = matches!(
        request.request_context_ref(),
        Some(RequestContext::ApiGatewayV2(context))
            if context.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).is_some_and(|jwt| !jwt.claims.is_empty())
    );
    let parameters = request.path_parameters();
    let if_none_match = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok());
    let (id, version) = (parameters.first("id"), parameters.first("version"));
    if request.uri().path().starts_with("/v1/fhir/PlanDefinition") {
        return to_response(plan_definition::answer(
            schedules,
            verified,
            id,
            version,
            if_none_match,
        ));
    }
    to_response(answer(catalogue, verified, id, version, if_none_match))
}

fn to_response(answer: Answer) -> Response<Body> {
    let mut response = Response::builder()
        .status(answer.status)
        .header(CONTENT_TYPE, answer.content_type);
    if let Some(etag) = answer.etag {
        response = response.header(ETAG, etag);
    }
    if let Some(cache_control) = answer.cache_control {
        response = response.header(CACHE_CONTROL, cache_control);
    }
    let body = answer.body.map_or(Body::Empty, Body::Text);
    response
        .body(body)
        .expect("status and headers are always valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The sample event `cargo lambda invoke` sends (`events/questionnaire.json`): a read of PHQ-9's current version.
    const SAMPLE: &str = include_str!("../events/questionnaire.json");

    fn request(change: impl Fn(&mut Value)) -> Request {
        let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
        change(&mut event);
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    fn json(response: &Response<Body>) -> Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("a text body, not {other:?}"),
        }
    }

    fn definitions() -> (&'static Catalogue, &'static Schedules) {
        (Catalogue::embedded(), Schedules::embedded().unwrap())
    }

    #[test]
    fn a_schedule_is_served_as_a_plan_definition() {
        let response = handle(
            definitions(),
            &request(|e| {
                e["rawPath"] = json!("/v1/fhir/PlanDefinition/postop-followup/_history/1");
                e["pathParameters"] = json!({"id": "postop-followup", "version": "1"});
            }),
        );
        assert_eq!(response.status(), 200);
        let body = json(&response);
        assert_eq!(
            (body["resourceType"].as_str(), body["id"].as_str()),
            (Some("PlanDefinition"), Some("postop-followup"))
        );
    }

    #[test]
    fn the_sample_event_reads_the_current_phq9() {
        let response = handle(definitions(), &request(|_| {}));
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/fhir+json");
        assert!(response.headers().contains_key(ETAG));
        assert_eq!(json(&response)["id"], "phq-9");
    }

    #[test]
    fn a_version_comes_from_the_history_path_and_the_bundle_from_the_bare_path() {
        let versioned = handle(
            definitions(),
            &request(|e| {
                e["rawPath"] = json!("/v1/fhir/Questionnaire/qol-daily/_history/1");
                e["pathParameters"] = json!({"id": "qol-daily", "version": "1"});
            }),
        );
        assert_eq!(json(&versioned)["version"], "1");
        assert!(
            versioned.headers()[CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let bundle = handle(
            definitions(),
            &request(|e| {
                e["rawPath"] = json!("/v1/fhir/Questionnaire");
                e.as_object_mut().unwrap().remove("pathParameters");
            }),
        );
        assert_eq!(json(&bundle)["resourceType"], "Bundle");
    }

    #[test]
    fn a_request_without_verified_claims_is_refused() {
        let response = handle(
            definitions(),
            &request(|e| {
                e["requestContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorizer");
            }),
        );
        assert_eq!(response.status(), 401);
    }
}
