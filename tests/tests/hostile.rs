//! The hostile corpus (`intake_e2e::hostile`): every request gets a clear 4xx, none is enqueued, none gets a 5xx.
//! First through the submit use case in memory (exact: the queue must stay empty), then through the deployed API.

use intake::identity::Patient;
use intake::instrument::Catalogue;
use intake::submit::{Form, SubmitRequest, SubmitService};
use intake::testing::memory::MemoryQueue;
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::hostile::{HostileRequest, Layer, corpus, trace_of_refused};
use intake_e2e::{TokenRequest, mint_token};
use time::OffsetDateTime;

const PATIENT: &str = "P-000666";

#[tokio::test]
async fn the_submit_use_case_refuses_every_hostile_body_and_enqueues_nothing() {
    let queue = MemoryQueue::default();
    let service = SubmitService::new(queue.clone(), Catalogue::embedded());
    let requests: Vec<HostileRequest> = corpus("HOSTILE", PATIENT)
        .into_iter()
        .filter(|r| r.layer() == Layer::Function)
        .collect();
    assert!(requests.len() >= 90);
    for request in &requests {
        // What the function receives: API Gateway delivers a JSON body as text, invalid UTF-8 replaced by U+FFFD.
        let delivered = String::from_utf8_lossy(&request.body);
        let reply = service
            .answer(SubmitRequest {
                caller: Ok(Patient {
                    id: PATIENT.into(),
                    trials: vec!["HOSTILE".into()],
                }),
                form: Form::Json,
                content_type: request.content_type.as_deref(),
                body: delivered.as_bytes(),
                client: None,
                request_id: "hostile".into(),
                received_at: OffsetDateTime::now_utc(),
            })
            .await;
        assert!(
            reply.status.is_client_error(),
            "{}: {} {}",
            request.name,
            reply.status,
            reply.body
        );
        assert!(
            reply.body["error"].is_string() && reply.body["message"].is_string(),
            "{}",
            request.name
        );
        intake::invariants::request_body(&request.body);
    }
    assert!(queue.sent().is_empty(), "a hostile request was enqueued");
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn the_deployed_api_refuses_every_hostile_request_with_a_4xx_and_stores_nothing() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let trial = fresh_trial("HOSTILE");
    let token = mint_token(http, stack, &TokenRequest::patient(PATIENT, &trial))
        .await
        .unwrap();
    let dead_letters_before = aws.queue_depth(&stack.dead_letter_queue_url).await.unwrap();

    let mut failures = Vec::new();
    let requests = corpus(&trial, PATIENT);
    for request in &requests {
        let (status, body) = match request.send(http, &stack.api_url, &token).await {
            Ok(response) => (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            ),
            Err(error) => {
                failures.push(format!("{}: no answer ({error})", request.name));
                continue;
            }
        };
        let clear = match request.layer() {
            // The function's refusals are JSON with an error code; the gateway's are its own.
            Layer::Function => serde_json::from_str::<serde_json::Value>(&body)
                .is_ok_and(|reply| reply["error"].is_string()),
            Layer::Gateway => true,
        };
        if !(400..500).contains(&status) || !clear {
            failures.push(format!(
                "{}: {status} {}",
                request.name,
                body.chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile requests were not refused cleanly:\n{}",
        failures.len(),
        requests.len(),
        failures.join("\n")
    );

    deployed.drained().await;
    if let Some(trace) = trace_of_refused(&deployed, &trial, PATIENT, dead_letters_before).await {
        panic!("{trace}");
    }
}
