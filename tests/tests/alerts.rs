//! Clinical alerts on the deployed stack, as a study team meets them: a dangerous answer reaches the alert topic
//! once, however often it is sent or delivered; clean and stable answers raise nothing; a worsening pain score
//! does; no message carries what a patient wrote; staff list and acknowledge through the API, each only in their
//! own trial; and an urgent alert nobody acknowledges is escalated, once. The team is an SQS queue subscribed to
//! the topics.

use std::time::Duration;

use futures::future::join_all;
use intake::alert::alert_id;
use intake::envelope::Envelope;
use intake::instrument::Catalogue;
use intake::submit::{Form, accept};
use intake::testing::example::phq9_answers;
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::inbox::AlertInbox;
use intake_e2e::{Survey, TokenRequest, get_from, mint_token, post_to, submit};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

const READ: &str = "epro/alerts.read";
const ACKNOWLEDGE: &str = "epro/alerts.acknowledge";
/// Time for a new alert to reach the topic on the local stack (stream poll, function, SNS, SQS).
const DELIVERY: Duration = Duration::from_secs(60);
/// Time to wait after the first delivery for a duplicate that must not come.
const SETTLE: Duration = Duration::from_secs(5);

fn survey(instrument: &str, trial: &str, patient: &str, timepoint: &str, answers: Value) -> Survey {
    let mut survey = Survey::of(
        instrument,
        trial,
        patient,
        timepoint,
        &mut fastrand::Rng::new(),
    );
    survey.body["answers"] = answers;
    survey
}

fn hours_ago(hours: i64) -> Value {
    json!(
        (OffsetDateTime::now_utc() - time::Duration::hours(hours))
            .format(&Rfc3339)
            .unwrap()
    )
}

fn topic(deployed: &Deployed, escalation: bool) -> String {
    let stack = &deployed.stack;
    let arn = if escalation {
        &stack.escalation_topic_arn
    } else {
        &stack.alert_topic_arn
    };
    arn.clone()
        .expect("the stack outputs name the alert topics")
}

async fn stored_alerts(deployed: &Deployed, trial: &str) -> Vec<(String, String)> {
    let alerts = deployed
        .aws
        .trial_alerts(&deployed.stack, trial)
        .await
        .unwrap();
    let text = |item: &std::collections::HashMap<_, aws_sdk_dynamodb::types::AttributeValue>,
                name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut pairs: Vec<(String, String)> = alerts
        .iter()
        .map(|item| (text(item, "patientId"), text(item, "ruleId")))
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_dangerous_answer_sent_five_times_at_once_and_redelivered_is_one_alert_delivered_once() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let mut team = AlertInbox::subscribe(aws, &[&topic(&deployed, false)])
        .await
        .unwrap();
    let trial = fresh_trial("ALERT-ONCE");
    let phq9 = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6569-3"),
    );
    let replies = join_all((0..5).map(|_| submit(http, stack, &phq9.body))).await;
    assert!(replies.iter().all(|r| r.as_ref().unwrap().status == 202));
    deployed.drained().await;
    // A redelivery of its queue message, as after a worker was killed mid-batch.
    let judged = accept(
        Form::Json,
        phq9.body.to_string().as_bytes(),
        Catalogue::embedded(),
    )
    .unwrap();
    let envelope = Envelope::new(
        judged,
        "json",
        "redelivered".into(),
        OffsetDateTime::now_utc(),
    );
    aws.sqs
        .send_message()
        .queue_url(&stack.queue_url)
        .message_body(envelope.encode())
        .send()
        .await
        .unwrap();
    deployed.drained().await;

    let alert = alert_id(&phq9.submission_id, "phq9-item9-self-harm");
    let delivered = team
        .wait_for("alert", &[alert], DELIVERY, SETTLE)
        .await
        .unwrap();
    assert_eq!(delivered[&alert], 1, "delivered exactly once");
    assert_eq!(
        stored_alerts(&deployed, &trial).await,
        [("P-000001".to_owned(), "phq9-item9-self-harm".to_owned())]
    );
    let message = team
        .messages()
        .find(|m| m["alertId"] == alert.to_string())
        .unwrap();
    assert_eq!(message["severity"], "urgent");
    assert_eq!(message["submissionId"], phq9.submission_id.to_string());
    team.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn clean_and_stable_answers_raise_nothing_and_a_worsening_pain_score_raises_one() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let mut team = AlertInbox::subscribe(aws, &[&topic(&deployed, false)])
        .await
        .unwrap();
    let trial = fresh_trial("ALERT-RULES");
    let pain = |patient: &str, day: u8, score: u8, hours: i64| {
        let mut s = survey(
            "pain-nrs",
            &trial,
            patient,
            &format!("day-{day}"),
            json!({"pain": score}),
        );
        s.body["completedAt"] = hours_ago(hours);
        s
    };
    let first = [
        survey(
            "phq-9",
            &trial,
            "P-CLEAN",
            "day-7",
            phq9_answers("LA6568-5"),
        ),
        pain("P-STABLE", 1, 3, 48),
        pain("P-WORSE", 1, 3, 48),
    ];
    for s in &first {
        assert_eq!(submit(http, stack, &s.body).await.unwrap().status, 202);
    }
    deployed.drained().await;
    let later = [pain("P-STABLE", 2, 4, 24), pain("P-WORSE", 2, 6, 24)];
    for s in &later {
        assert_eq!(submit(http, stack, &s.body).await.unwrap().status, 202);
    }
    deployed.drained().await;

    let worse = alert_id(&later[1].submission_id, "pain-worsening");
    let delivered = team
        .wait_for("alert", &[worse], DELIVERY, SETTLE)
        .await
        .unwrap();
    assert_eq!(delivered[&worse], 1);
    assert_eq!(
        stored_alerts(&deployed, &trial).await,
        [("P-WORSE".to_owned(), "pain-worsening".to_owned())],
        "3 to 4 is stable, a clean PHQ-9 is clean"
    );
    let ours: Vec<&Value> = team
        .messages()
        .filter(|m| m["trialId"] == trial.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    team.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn no_delivered_message_carries_an_answer_or_free_text() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let mut team = AlertInbox::subscribe(aws, &[&topic(&deployed, false)])
        .await
        .unwrap();
    let trial = fresh_trial("ALERT-CANARY");
    let canary = format!(
        "canary {}: feverish, the wound smells",
        Uuid::new_v4().simple()
    );
    let postop = survey(
        "postop-recovery",
        &trial,
        "P-000001",
        "day-7",
        json!({"temperature": 39.4, "wound": ["discharge"], "nausea": false, "notes": canary}),
    );
    assert_eq!(submit(http, stack, &postop.body).await.unwrap().status, 202);
    let alerts = [
        alert_id(&postop.submission_id, "postop-fever"),
        alert_id(&postop.submission_id, "postop-wound-discharge-or-opening"),
    ];
    let delivered = team
        .wait_for("alert", &alerts, DELIVERY, SETTLE)
        .await
        .unwrap();
    assert!(delivered.values().all(|n| *n == 1), "{delivered:?}");
    for body in team.bodies().filter(|b| b.contains(&trial)) {
        for leak in [canary.as_str(), "39.4", "discharge\"", "notes", "answers"] {
            assert!(!body.contains(leak), "{leak:?} delivered: {body}");
        }
    }
    team.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn staff_list_and_acknowledge_their_trials_alerts_and_no_one_else_can() {
    let deployed = Deployed::load().await;
    let (stack, http) = (&deployed.stack, &deployed.http);
    let trial = fresh_trial("ALERT-STAFF");
    let phq9 = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6571-9"),
    );
    assert_eq!(submit(http, stack, &phq9.body).await.unwrap().status, 202);
    deployed.drained().await;
    let alert = alert_id(&phq9.submission_id, "phq9-item9-self-harm");
    let token =
        |request: TokenRequest| async move { mint_token(http, stack, &request).await.unwrap() };
    let nurse = token(TokenRequest::staff(
        "nurse-1",
        &[&trial],
        &format!("{READ} {ACKNOWLEDGE}"),
    ))
    .await;
    let colleague = token(TokenRequest::staff(
        "nurse-2",
        &[&trial],
        &format!("{READ} {ACKNOWLEDGE}"),
    ))
    .await;
    let reader = token(TokenRequest::staff("monitor-1", &[&trial], READ)).await;
    let elsewhere = token(TokenRequest::staff(
        "nurse-9",
        &["OTHER-TRIAL"],
        &format!("{READ} {ACKNOWLEDGE}"),
    ))
    .await;
    let patient = token(TokenRequest::patient("P-000001", &trial)).await;
    let list = |status: &str| format!("/v1/trials/{trial}/alerts?status={status}");
    let acknowledgement = format!("/v1/alerts/{alert}/acknowledgement");
    let get = |path: String, token: Option<String>| async move {
        get_from(http, stack, &path, token.as_deref())
            .await
            .unwrap()
    };
    let ack = |token: Option<String>| {
        let path = acknowledgement.clone();
        async move {
            post_to(http, stack, &path, token.as_deref(), "application/json", "")
                .await
                .unwrap()
        }
    };

    let open = get(list("open"), Some(nurse.clone())).await;
    assert_eq!(open.status, 200, "{}", open.body);
    assert_eq!(open.body["alerts"][0]["alertId"], alert.to_string());
    assert_eq!(open.body["alerts"][0]["patientId"], "P-000001");
    // Refused: no token, a patient's token (no scope), a read-only token acknowledging, another trial's staff.
    assert_eq!(get(list("open"), None).await.status, 401);
    assert_eq!(ack(None).await.status, 401);
    assert_eq!(get(list("open"), Some(patient.clone())).await.status, 403);
    assert_eq!(ack(Some(patient)).await.status, 403);
    assert_eq!(ack(Some(reader.clone())).await.status, 403);
    assert_eq!(get(list("open"), Some(elsewhere.clone())).await.status, 403);
    let hidden = ack(Some(elsewhere)).await;
    assert_eq!(
        hidden.status, 404,
        "another trial's alert is not disclosed: {}",
        hidden.body
    );
    assert_eq!(get(list("closed"), Some(reader.clone())).await.status, 400);
    // A cursor belongs to the list it was issued for: sent back with another status it is the client's 400, never
    // a 503 that tells the client to retry the same request forever.
    let page = get(format!("{}&limit=1", list("open")), Some(reader.clone())).await;
    let cursor = page.body["next"]
        .as_str()
        .expect("a full page names its next")
        .to_owned();
    let other = get(
        format!("{}&limit=1&cursor={cursor}", list("acknowledged")),
        Some(reader.clone()),
    )
    .await;
    assert_eq!(other.status, 400, "{}", other.body);

    let first = ack(Some(nurse.clone())).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["status"], "acknowledged");
    assert_eq!(first.body["acknowledgedBy"], "user-nurse-1");
    let again = ack(Some(colleague)).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["acknowledgedBy"], "user-nurse-1",
        "the first acknowledgement stands"
    );
    assert_eq!(again.body["acknowledgedAt"], first.body["acknowledgedAt"]);
    let open = get(list("open"), Some(reader.clone())).await;
    assert_eq!(open.body["alerts"], json!([]));
    let done = get(list("acknowledged"), Some(reader)).await;
    assert_eq!(done.body["alerts"][0]["alertId"], alert.to_string());
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn an_urgent_alert_nobody_acknowledges_is_escalated_once_and_an_acknowledged_one_never() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let mut escalations = AlertInbox::subscribe(aws, &[&topic(&deployed, true)])
        .await
        .unwrap();
    let trial = fresh_trial("ALERT-ESCALATE");
    let ignored = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6570-1"),
    );
    let handled = survey(
        "phq-9",
        &trial,
        "P-000002",
        "day-7",
        phq9_answers("LA6570-1"),
    );
    for s in [&ignored, &handled] {
        assert_eq!(submit(http, stack, &s.body).await.unwrap().status, 202);
    }
    deployed.drained().await;
    let (ignored, handled) = (
        alert_id(&ignored.submission_id, "phq9-item9-self-harm"),
        alert_id(&handled.submission_id, "phq9-item9-self-harm"),
    );
    let nurse = mint_token(
        http,
        stack,
        &TokenRequest::staff("nurse-1", &[&trial], ACKNOWLEDGE),
    )
    .await
    .unwrap();
    let path = format!("/v1/alerts/{handled}/acknowledgement");
    assert_eq!(
        post_to(http, stack, &path, Some(&nurse), "application/json", "")
            .await
            .unwrap()
            .status,
        200
    );

    // The local stack escalates after 30 s, and the sweep runs every minute.
    let sent = escalations
        .wait_for(
            "escalation",
            &[ignored],
            Duration::from_secs(180),
            Duration::from_secs(70),
        )
        .await
        .unwrap();
    assert_eq!(sent[&ignored], 1, "escalated once, not on every sweep");
    assert_eq!(
        escalations.count("escalation", &handled),
        0,
        "acknowledged in time"
    );
    escalations.close().await.unwrap();
}
