use super::*;
use crate::testing::example;
use crate::testing::example::RECEIVED_AT as NOW;
use crate::testing::memory::MemoryQueue;

/// The example's patient, enrolled in the example's trial.
fn own() -> Result<Patient, String> {
    Ok(Patient {
        id: crate::testing::example::PATIENT_ID.into(),
        trials: vec![crate::testing::example::TRIAL_ID.into()],
    })
}

fn body() -> Vec<u8> {
    example().bytes()
}

async fn submit_as(
    queue: &MemoryQueue,
    caller: Result<Patient, String>,
    content_type: Option<&str>,
    body: &[u8],
) -> Reply {
    SubmitService::new(queue.clone(), Catalogue::embedded())
        .answer(SubmitRequest {
            caller,
            form: Form::Json,
            content_type,
            body,
            client: Some("epro-app/2.4.1 (iPhone15,2; iOS 18.1; build 4471)"),
            request_id: "req-1".into(),
            received_at: NOW,
        })
        .await
}

async fn submit(queue: &MemoryQueue, body: &[u8]) -> Reply {
    submit_as(queue, own(), Some("application/json"), body).await
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
        let reply = submit_as(&queue, own(), Some(content_type), &body()).await;
        assert_eq!(reply.status, 202, "{content_type}");
    }
}

#[tokio::test]
async fn refuses_a_request_without_identity_before_reading_it() {
    let queue = MemoryQueue::default();
    let reply = submit_as(
        &queue,
        Err("no verified token".into()),
        Some("text/plain"),
        b"junk",
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["error"], "unauthenticated");
    assert!(queue.sent().is_empty());
}

#[tokio::test]
async fn refuses_another_patients_submission() {
    let queue = MemoryQueue::default();
    let reply = submit_as(
        &queue,
        Ok(Patient {
            id: "P-999999".into(),
            trials: vec![example::TRIAL_ID.into()],
        }),
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
        let reply = submit_as(&queue, own(), content_type, &body()).await;
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

async fn submit_form(queue: &MemoryQueue, form: Form, content_type: &str, body: &[u8]) -> Reply {
    SubmitService::new(queue.clone(), Catalogue::embedded())
        .answer(SubmitRequest {
            caller: own(),
            form,
            content_type: Some(content_type),
            body,
            client: Some("epro-app/2.4.1 (iPhone15,2; iOS 18.1; build 4471)"),
            request_id: "req-1".into(),
            received_at: NOW,
        })
        .await
}

fn fhir_body() -> Vec<u8> {
    let judged = example().judged();
    crate::fhir::render::questionnaire_response(Catalogue::embedded(), &judged.submission)
        .unwrap()
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn a_questionnaire_response_is_accepted_with_the_same_receipt_and_queued_as_fhir() {
    let queue = MemoryQueue::default();
    let reply = submit_form(
        &queue,
        Form::Fhir,
        "application/fhir+json; fhirVersion=4.0",
        &fhir_body(),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(
        reply.body["submissionId"],
        crate::testing::example::SUBMISSION_ID
    );
    assert_eq!(reply.content_type, "application/json");
    let sent = queue.sent();
    assert_eq!(sent[0].received_as, "fhir");
    assert_eq!(sent[0].submission, example().judged().submission);
}

#[tokio::test]
async fn each_route_takes_only_its_own_media_type() {
    let queue = MemoryQueue::default();
    let reply = submit_form(&queue, Form::Fhir, "application/json", &fhir_body()).await;
    assert_eq!(reply.status, 415);
    assert_eq!(reply.body["resourceType"], "OperationOutcome");
    assert_eq!(
        reply.body["issue"][0]["diagnostics"],
        "Content-Type must be application/fhir+json"
    );
    let reply = submit_form(&queue, Form::Json, "application/fhir+json", &body()).await;
    assert_eq!(reply.status, 415);
    assert_eq!(
        reply.body["message"],
        "Content-Type must be application/json"
    );
    assert!(queue.sent().is_empty());
}

#[tokio::test]
async fn answers_that_break_their_instrument_are_listed_with_their_items() {
    let queue = MemoryQueue::default();
    let body = example()
        .answer("pain", json!(11))
        .answer("mood", json!("happy"))
        .bytes();
    let reply = submit(&queue, &body).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["fields"],
        json!([
            {"field": "answers.pain", "problem": "must be from 0 to 10"},
            {"field": "answers.mood", "problem": "must be a whole number"}
        ])
    );
    assert!(queue.sent().is_empty());
}

#[tokio::test]
async fn a_message_the_queue_refuses_is_a_422_that_asks_for_no_retry() {
    let reply = submit(&MemoryQueue::refusing(), &body()).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["error"], "not_queueable");
    assert_eq!(reply.retry_after, None, "retrying would be refused again");
}

#[tokio::test]
async fn the_version_resolved_and_the_scores_travel_in_the_envelope() {
    let queue = MemoryQueue::default();
    let body = example()
        .survey("phq-9", crate::testing::example::phq9_answers("LA6571-9"))
        .bytes();
    assert_eq!(submit(&queue, &body).await.status, 202);
    let sent = queue.sent();
    assert_eq!(sent[0].submission.survey_version.as_deref(), Some("1"));
    assert_eq!(sent[0].scores["total"].value, serde_json::Number::from(11));
    assert_eq!(sent[0].scores["total"].band.as_deref(), Some("moderate"));
}

#[tokio::test]
async fn a_patient_may_not_submit_into_a_trial_their_token_does_not_name() {
    let queue = MemoryQueue::default();
    let elsewhere = Ok(Patient {
        id: crate::testing::example::PATIENT_ID.into(),
        trials: vec!["ANOTHER-TRIAL".into()],
    });
    let reply = submit_as(&queue, elsewhere, Some("application/json"), &body()).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body["message"],
        "a patient may submit only to a trial their token names"
    );
    assert!(queue.sent().is_empty());
}

#[test]
fn each_acknowledgement_and_each_refusal_by_reason_is_counted() {
    let queue = MemoryQueue::default();
    let (_, counted) = crate::metrics::recorded::run(async {
        submit(&queue, &body()).await;
        submit(&queue, b"{not json").await;
        submit(&queue, b"{also not json").await;
        submit_as(
            &queue,
            Err("no token".into()),
            Some("application/json"),
            &body(),
        )
        .await;
    });
    assert_eq!(counted.counter("Accepted"), 1);
    assert_eq!(counted.counter("Refused{reason=malformed_json}"), 2);
    assert_eq!(counted.counter("Refused{reason=unauthenticated}"), 1);
    assert_eq!(counted.counters.len(), 3, "{counted:?}");
}

#[tokio::test]
async fn a_refusal_logs_which_fields_broke_and_which_app_sent_them_never_the_values() {
    let capture = crate::logging::capture::Capture::default();
    let _logging = tracing::subscriber::set_default(capture.subscriber("TRACE"));
    let body = example()
        .answer("pain", json!(4711))
        .answer("mood", json!("canary: my neighbour hit me"))
        .bytes();
    let reply = submit(&MemoryQueue::default(), &body).await;
    assert_eq!(reply.status, 400);

    let text = capture.text();
    let refusal = capture
        .lines()
        .into_iter()
        .find(|line| line["outcome"] == "invalid_submission")
        .expect("the refusal is logged");
    let fields = refusal["fields"].as_str().expect("the broken fields");
    assert!(
        fields.contains("answers.pain") && fields.contains("answers.mood"),
        "{refusal}"
    );
    assert_eq!(refusal["problems"], 2);
    assert_eq!(refusal["client"], "epro-app/2.4.1");
    assert!(!text.contains("4711") && !text.contains("canary"), "{text}");

    // A sentence where a key belongs (an app bug) is not repeated either.
    let body = example().answer("canary he hit me", json!(1)).bytes();
    assert_eq!(submit(&MemoryQueue::default(), &body).await.status, 400);
    let text = capture.text();
    assert!(
        text.contains("<unrecognised>") && !text.contains("canary"),
        "{text}"
    );
}
