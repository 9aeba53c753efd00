//! Every dangerous answer reaches the team once, whatever the app does: the paths real patient apps take, on the
//! deployed stack. An answer edited and resent under the same id, another patient's app reusing an id, a phone that
//! was offline for days syncing out of order, two reports of one patient in one batch, a double tap, escalation
//! sweeps that overlap, an alert whose delivery was parked, and one instant written three ways. The team is an SQS
//! queue subscribed to the topics.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use intake::alert::Report;
use intake::aws::{DynamoAlerts, SnsTopic};
use intake::envelope::Envelope;
use intake::escalate::Escalator;
use intake::instrument::Catalogue;
use intake::item::{AlertItem, AlertStatus, AuditItem, SubmissionItem};
use intake::ports::{AlertPage, Alerts, Claim, Duty, Page, StoreError};
use intake::submit::{Form, accept};
use intake::testing::example::phq9_answers;
use intake_e2e::deployed::{Deployed, eventually, fresh_trial};
use intake_e2e::inbox::AlertInbox;
use intake_e2e::{Survey, submit};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

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

/// A pain report completed `hours` ago.
fn pain(trial: &str, patient: &str, day: u32, score: u32, hours: i64) -> Survey {
    let mut report = survey(
        "pain-nrs",
        trial,
        patient,
        &format!("day-{day}"),
        json!({ "pain": score }),
    );
    report.body["completedAt"] = json!(
        (OffsetDateTime::now_utc() - time::Duration::hours(hours))
            .format(&Rfc3339)
            .unwrap()
    );
    report
}

async fn accepted(deployed: &Deployed, survey: &Survey) {
    let reply = submit(&deployed.http, &deployed.stack, &survey.body)
        .await
        .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
}

async fn team(deployed: &Deployed, escalation: bool) -> AlertInbox {
    let stack = &deployed.stack;
    let topic = if escalation {
        stack.escalation_topic_arn.clone()
    } else {
        stack.alert_topic_arn.clone()
    };
    AlertInbox::subscribe(
        &deployed.aws,
        &[&topic.expect("the stack names its topics")],
    )
    .await
    .unwrap()
}

/// The trial's alerts as stored, as JSON.
async fn alerts(deployed: &Deployed, trial: &str) -> Vec<Value> {
    deployed
        .aws
        .trial_alerts(&deployed.stack, trial)
        .await
        .unwrap()
        .into_iter()
        .map(|item| serde_dynamo::from_item(item).unwrap())
        .collect()
}

/// Waits until the trial holds `count` alerts (a minute at most, then a few seconds for any extra one), and returns
/// them.
async fn settled_alerts(deployed: &Deployed, trial: &str, count: usize) -> Vec<Value> {
    eventually(DELIVERY, || async {
        let found = alerts(deployed, trial).await;
        Ok((found.len() >= count).then_some(()))
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    alerts(deployed, trial).await
}

fn ids(alerts: &[Value]) -> Vec<Uuid> {
    alerts
        .iter()
        .map(|a| a["alertId"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn of_rule<'a>(alerts: &'a [Value], rule: &str) -> Vec<&'a Value> {
    alerts.iter().filter(|a| a["ruleId"] == rule).collect()
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn an_answer_edited_and_resent_under_the_same_id_raises_the_alert_its_new_content_demands_once()
 {
    let deployed = Deployed::load().await;
    let mut inbox = team(&deployed, false).await;
    let trial = fresh_trial("EDITED");
    let original = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6568-5"),
    );
    accepted(&deployed, &original).await;
    deployed.drained().await;
    // The patient went back and changed item 9 from "not at all" to "nearly every day"; the app kept the id.
    let mut edited = original.clone();
    edited.body["answers"] = phq9_answers("LA6571-9");
    accepted(&deployed, &edited).await;
    accepted(&deployed, &edited).await;
    deployed.drained().await;

    let stored = settled_alerts(&deployed, &trial, 1).await;
    assert_eq!(
        stored.len(),
        1,
        "one alert for the edited content: {stored:?}"
    );
    let alert = &stored[0];
    assert_eq!(alert["ruleId"], "phq9-item9-self-harm");
    assert_eq!(alert["submissionId"], original.submission_id.to_string());
    assert_eq!(alert["origin"], "conflicting-resend", "{alert}");
    assert!(
        alert["contentHash"].is_string()
            && alert["originalContentHash"].is_string()
            && alert["contentHash"] != alert["originalContentHash"],
        "names both versions: {alert}"
    );
    let delivered = inbox
        .wait_for("alert", &ids(&stored), DELIVERY, SETTLE)
        .await
        .unwrap();
    assert!(delivered.values().all(|n| *n == 1), "{delivered:?}");
    let message = inbox.messages().find(|m| m["trialId"] == trial).unwrap();
    assert_eq!(message["origin"], "conflicting-resend");
    // The original stays as it was.
    let item = deployed.stored_item(&original).await;
    let item: SubmissionItem = serde_dynamo::from_item(item).unwrap();
    assert_eq!(
        serde_json::to_value(&item.submission.answers).unwrap()["44260-8"],
        "LA6568-5"
    );
    inbox.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn another_patients_app_reusing_a_stored_id_still_gets_its_dangerous_answer_alerted() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("REUSED");
    let first = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6568-5"),
    );
    accepted(&deployed, &first).await;
    deployed.drained().await;
    // An app bug: another patient's survey goes out under the same id.
    let mut other = survey(
        "postop-recovery",
        &trial,
        "P-000002",
        "day-7",
        json!({"temperature": 39.1, "wound": ["none"], "nausea": false}),
    );
    other.submission_id = first.submission_id;
    other.body["submissionId"] = json!(first.submission_id);
    accepted(&deployed, &other).await;
    deployed.drained().await;

    let stored = settled_alerts(&deployed, &trial, 1).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["ruleId"], "postop-fever");
    assert_eq!(stored[0]["patientId"], "P-000002");
    assert_eq!(stored[0]["origin"], "conflicting-resend");
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn an_offline_phone_syncing_out_of_order_is_judged_in_the_order_the_reports_were_completed() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("OFFLINE");
    // Day 1 pain 5, day 3 pain 5 arrive; day 2 pain 2 arrives last: day 3 is 3 worse than day 2.
    let (day1, day2, day3) = (
        pain(&trial, "P-000001", 1, 5, 72),
        pain(&trial, "P-000001", 2, 2, 48),
        pain(&trial, "P-000001", 3, 5, 24),
    );
    // Day 1 pain 3, day 3 pain 5 arrive (an alert, rightly so then); day 2 pain 4 arrives last: day 3 is 1 worse
    // than day 2 and its alert is no longer due. It is kept, and says so.
    let (early, middle, late) = (
        pain(&trial, "P-000002", 1, 3, 72),
        pain(&trial, "P-000002", 2, 4, 48),
        pain(&trial, "P-000002", 3, 5, 24),
    );
    for report in [&day1, &day3, &early, &late] {
        accepted(&deployed, report).await;
    }
    deployed.drained().await;
    settled_alerts(&deployed, &trial, 1).await;
    for report in [&day2, &middle] {
        accepted(&deployed, report).await;
    }
    deployed.drained().await;

    let stored = eventually(DELIVERY, || async {
        let found = alerts(&deployed, &trial).await;
        let reassessed = found.iter().any(|a| a["stillDue"] == false);
        Ok((found.len() >= 2 && reassessed).then_some(found))
    })
    .await;
    let worse = of_rule(&stored, "pain-worsening");
    assert_eq!(worse.len(), 2, "{stored:?}");
    let late_raised = worse
        .iter()
        .find(|a| a["patientId"] == "P-000001")
        .expect("day 3 against day 2");
    assert_eq!(late_raised["submissionId"], day3.submission_id.to_string());
    assert_eq!(late_raised["comparedWith"], day2.submission_id.to_string());
    assert_eq!(late_raised["lateArrival"], day2.submission_id.to_string());
    let no_longer = worse
        .iter()
        .find(|a| a["patientId"] == "P-000002")
        .expect("the alert raised before day 2 arrived stays");
    assert_eq!(no_longer["submissionId"], late.submission_id.to_string());
    assert_eq!(no_longer["comparedWith"], early.submission_id.to_string());
    assert_eq!(no_longer["stillDue"], false, "{no_longer}");
    assert_eq!(
        no_longer["reassessedAgainst"],
        middle.submission_id.to_string()
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn two_reports_of_one_patient_in_one_batch_are_compared_with_each_other() {
    let deployed = Deployed::load().await;
    let (stack, aws) = (&deployed.stack, &deployed.aws);
    let trial = fresh_trial("ONE-BATCH");
    let (before, after) = (
        pain(&trial, "P-000001", 1, 2, 30),
        pain(&trial, "P-000001", 2, 6, 6),
    );
    let envelope = |report: &Survey| {
        let judged = accept(
            Form::Json,
            report.body.to_string().as_bytes(),
            Catalogue::embedded(),
        )
        .unwrap();
        Envelope::new(
            judged,
            "json",
            format!("batch-{}", report.submission_id),
            OffsetDateTime::now_utc(),
        )
    };
    // One SendMessageBatch: the event source hands both to one invocation.
    let entries = [&before, &after].map(|report| {
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id(report.submission_id.simple().to_string())
            .message_body(envelope(report).encode())
            .build()
            .unwrap()
    });
    let sent = aws
        .sqs
        .send_message_batch()
        .queue_url(&stack.queue_url)
        .set_entries(Some(entries.to_vec()))
        .send()
        .await
        .unwrap();
    assert!(sent.failed.is_empty());
    deployed.drained().await;

    let stored = settled_alerts(&deployed, &trial, 1).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["ruleId"], "pain-worsening");
    assert_eq!(stored[0]["submissionId"], after.submission_id.to_string());
    assert_eq!(stored[0]["comparedWith"], before.submission_id.to_string());
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_double_tap_is_one_alert_one_message_and_one_escalation_and_a_repeat_meeting_another_rule_raises_that_one()
 {
    let deployed = Deployed::load().await;
    let mut inbox = team(&deployed, false).await;
    let mut escalations = team(&deployed, true).await;
    let trial = fresh_trial("DOUBLE-TAP");
    let tap = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6570-1"),
    );
    // The second tap went out before the app saved the id: the same answers under a new one.
    let mut again = tap.clone();
    again.submission_id = Uuid::new_v4();
    again.body["submissionId"] = json!(again.submission_id);
    accepted(&deployed, &tap).await;
    accepted(&deployed, &again).await;
    deployed.drained().await;
    let first = settled_alerts(&deployed, &trial, 1).await;
    assert_eq!(first.len(), 1, "one clinical event, one alert: {first:?}");

    // Later the patient fills the same timepoint once more, now also severe overall (total 2 × 8 + 2 = 18 + …).
    let mut severe = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6570-1"),
    );
    for item in [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
    ] {
        severe.body["answers"][item] = json!("LA6571-9");
    }
    accepted(&deployed, &severe).await;
    deployed.drained().await;
    let stored = settled_alerts(&deployed, &trial, 2).await;
    assert_eq!(
        of_rule(&stored, "phq9-item9-self-harm").len(),
        1,
        "{stored:?}"
    );
    assert_eq!(of_rule(&stored, "phq9-total-severe").len(), 1, "{stored:?}");
    assert_eq!(stored.len(), 2);

    let delivered = inbox
        .wait_for("alert", &ids(&stored), DELIVERY, SETTLE)
        .await
        .unwrap();
    assert!(delivered.values().all(|n| *n == 1), "{delivered:?}");
    let urgent: Vec<Uuid> = ids(&of_rule(&stored, "phq9-item9-self-harm")
        .into_iter()
        .cloned()
        .collect::<Vec<_>>());
    // The local stack escalates after 30 s; the sweep runs every minute.
    let escalated = escalations
        .wait_for(
            "escalation",
            &urgent,
            Duration::from_secs(180),
            Duration::from_secs(70),
        )
        .await
        .unwrap();
    assert_eq!(escalated[&urgent[0]], 1, "one escalation");
    let ours = escalations
        .messages()
        .filter(|m| m["trialId"] == trial.as_str())
        .count();
    assert_eq!(ours, 1, "no second escalation for the double tap");
    inbox.close().await.unwrap();
    escalations.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn escalation_sweeps_that_overlap_send_one_message_per_alert() {
    let deployed = Deployed::load().await;
    let mut escalations = team(&deployed, true).await;
    let trial = fresh_trial("OVERLAP");
    let urgent: Vec<Survey> = (1..=4)
        .map(|n| {
            survey(
                "phq-9",
                &trial,
                &format!("P-{n:06}"),
                "day-7",
                phq9_answers("LA6569-3"),
            )
        })
        .collect();
    for report in &urgent {
        accepted(&deployed, report).await;
    }
    deployed.drained().await;
    let stored = settled_alerts(&deployed, &trial, urgent.len()).await;
    assert_eq!(stored.len(), urgent.len());

    // A timed-out sweep's retry, the next tick and a duplicate delivery of the schedule, all at once, against the
    // deployed table and topic (the deployed schedule's own sweep may join in). Each sees this trial's alerts only,
    // so other tests' alerts keep their own pace.
    let config = aws_config::load_from_env().await;
    let sweeps = (0..4).map(|_| {
        let alerts = TrialOnly(
            DynamoAlerts::new(
                aws_sdk_dynamodb::Client::new(&config),
                deployed.stack.table_name.clone(),
            ),
            trial.clone(),
        );
        let escalator = Escalator::new(
            alerts,
            SnsTopic::new(
                aws_sdk_sns::Client::new(&config),
                deployed.stack.escalation_topic_arn.clone().unwrap(),
            ),
            time::Duration::ZERO,
        );
        async move { escalator.sweep(OffsetDateTime::now_utc()).await }
    });
    let reports = join_all(sweeps).await;
    let escalated: usize = reports.iter().map(|r| r.as_ref().unwrap().escalated).sum();
    let counted = escalations
        .wait_for(
            "escalation",
            &ids(&stored),
            DELIVERY,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert!(counted.values().all(|n| *n == 1), "{counted:?}");
    assert_eq!(
        escalated,
        urgent.len(),
        "the sweeps count only escalations they recorded, each once"
    );
    let after = alerts(&deployed, &trial).await;
    assert!(
        after
            .iter()
            .all(|a| a["escalatedAt"].is_string() && a["escalationClaim"].is_null()),
        "{after:?}"
    );
    escalations.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn an_alert_whose_delivery_was_parked_reaches_the_team_once() {
    let deployed = Deployed::load().await;
    let (stack, aws) = (&deployed.stack, &deployed.aws);
    let mut inbox = team(&deployed, false).await;
    let trial = fresh_trial("PARKED");
    // A high-severity alert (never escalated) whose stream batch the event source gave up on: it is in the table,
    // open, and no message went out. Written as the process function writes it, but arriving on the stream as a
    // change the notify function's filter lets through no more than a parked batch.
    let report = pain(&trial, "P-000001", 1, 9, 1);
    let judged = accept(
        Form::Json,
        report.body.to_string().as_bytes(),
        Catalogue::embedded(),
    )
    .unwrap();
    let envelope = Envelope::new(judged, "json", "parked".into(), OffsetDateTime::now_utc());
    let item = SubmissionItem::new(envelope, "2026-01-01T00:00:00.000Z".into());
    let alerting = intake::alert::Alerting::embedded().unwrap();
    let (set, _) = alerting.rules_for("pain-nrs", "1").unwrap();
    let rule = set.rules.iter().find(|r| r.id == "pain-severe").unwrap();
    let raised_at = intake::item::format_timestamp(OffsetDateTime::now_utc());
    let alert = AlertItem::raise(&Report::stored(&item), set, rule, None, &raised_at);
    let mut record: HashMap<String, AttributeValue> = serde_dynamo::to_item(&alert).unwrap();
    record.insert("recordType".into(), AttributeValue::S("parked".into()));
    aws.dynamodb
        .put_item()
        .table_name(&stack.table_name)
        .set_item(Some(record))
        .send()
        .await
        .unwrap();
    aws.dynamodb
        .update_item()
        .table_name(&stack.table_name)
        .key("pk", AttributeValue::S(alert.pk.clone()))
        .key("sk", AttributeValue::S(alert.sk.clone()))
        .update_expression("SET recordType = :alert")
        .expression_attribute_values(":alert", AttributeValue::S("alert".into()))
        .send()
        .await
        .unwrap();

    // The sweep runs every minute and steps in once the stream had its time.
    let delivered = inbox
        .wait_for(
            "alert",
            &[alert.alert_id],
            Duration::from_secs(180),
            Duration::from_secs(70),
        )
        .await
        .unwrap();
    assert_eq!(delivered[&alert.alert_id], 1, "delivered once");
    inbox.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn the_same_instant_written_three_ways_is_one_submission() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("INSTANT");
    let json_z = survey(
        "pain-nrs",
        &trial,
        "P-000001",
        "day-1",
        json!({ "pain": 3 }),
    );
    let instant = OffsetDateTime::now_utc().replace_millisecond(250).unwrap();
    let utc = instant.format(&Rfc3339).unwrap();
    assert!(utc.ends_with(".25Z"), "{utc}");
    let mut z = json_z.clone();
    z.body["completedAt"] = json!(utc);
    let mut offset = json_z.clone().as_fhir();
    offset.body["completedAt"] = json!(utc.replace('Z', "+00:00"));
    let mut millis = json_z.clone();
    millis.body["completedAt"] = json!(utc.replace(".25Z", ".250Z"));
    for copy in [&z, &offset, &millis] {
        let (path, content_type, body) = copy.request();
        let token = intake_e2e::mint_token(
            &deployed.http,
            &deployed.stack,
            &intake_e2e::TokenRequest::patient("P-000001", &trial),
        )
        .await
        .unwrap();
        let reply = intake_e2e::post_to(
            &deployed.http,
            &deployed.stack,
            path,
            Some(&token),
            content_type,
            body,
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 202, "{}", reply.body);
    }
    deployed.drained().await;
    let records = deployed
        .aws
        .patient_answer_records(&deployed.stack, &trial, "P-000001")
        .await
        .unwrap();
    let kinds: Vec<&String> = records.keys().collect();
    assert_eq!(
        kinds,
        [&format!("SUBMISSION#{}", z.submission_id)],
        "one submission, no conflict"
    );
}

/// The deployed alert records, as far as one trial's alerts go: the sweep under test follows up only those.
struct TrialOnly<A>(A, String);

impl<A: Alerts> Alerts for TrialOnly<A> {
    async fn alert(&self, id: Uuid) -> Result<Option<AlertItem>, StoreError> {
        self.0.alert(id).await
    }
    async fn raise(&self, alert: &AlertItem) -> Result<bool, StoreError> {
        self.0.raise(alert).await
    }
    async fn reassess(
        &self,
        id: Uuid,
        against: Uuid,
        still_due: bool,
        at: &str,
    ) -> Result<(), StoreError> {
        self.0.reassess(id, against, still_due, at).await
    }
    async fn list(
        &self,
        trial: &str,
        status: Option<AlertStatus>,
        page: Page,
    ) -> Result<AlertPage, StoreError> {
        self.0.list(trial, status, page).await
    }
    async fn acknowledge(
        &self,
        alert: &AlertItem,
        audit: &AuditItem,
    ) -> Result<AlertItem, StoreError> {
        self.0.acknowledge(alert, audit).await
    }
    async fn due(&self, duty: Duty, raised_before: &str) -> Result<Vec<AlertItem>, StoreError> {
        let mut due = self.0.due(duty, raised_before).await?;
        due.retain(|alert| alert.trial_id == self.1);
        Ok(due)
    }
    async fn claim(&self, id: Uuid, duty: Duty, claim: &Claim) -> Result<bool, StoreError> {
        self.0.claim(id, duty, claim).await
    }
    async fn complete(
        &self,
        id: Uuid,
        duty: Duty,
        claim: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        self.0.complete(id, duty, claim, at).await
    }
    async fn release(&self, id: Uuid, duty: Duty, claim: &str) -> Result<(), StoreError> {
        self.0.release(id, duty, claim).await
    }
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_sweeps_claim_sent_again_after_its_answer_was_lost_is_still_its_own() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("RESENTCLAIM");
    let report = survey(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        phq9_answers("LA6569-3"),
    );
    accepted(&deployed, &report).await;
    // Claimed as soon as it is stored: the stack's own sweep may escalate it 30 s after it was raised.
    let stored = eventually(DELIVERY, || async {
        let found = alerts(&deployed, &trial).await;
        Ok((!found.is_empty()).then_some(found))
    })
    .await;
    let alert_id = ids(&stored)[0];
    let config = aws_config::load_from_env().await;
    let alerts = DynamoAlerts::new(
        aws_sdk_dynamodb::Client::new(&config),
        deployed.stack.table_name.clone(),
    );
    let claim = Claim::taken(OffsetDateTime::now_utc());
    assert!(
        alerts
            .claim(alert_id, Duty::Escalation, &claim)
            .await
            .unwrap()
    );
    // The SDK sends the very same request again when the first one's answer is lost: it landed, and is ours.
    assert!(
        alerts
            .claim(alert_id, Duty::Escalation, &claim)
            .await
            .unwrap(),
        "the claim that holds the escalation takes it again"
    );
    let other = Claim::taken(OffsetDateTime::now_utc());
    assert!(
        !alerts
            .claim(alert_id, Duty::Escalation, &other)
            .await
            .unwrap(),
        "another sweep's live claim is refused"
    );
    let done = intake::item::format_timestamp(OffsetDateTime::now_utc());
    for attempt in ["recorded", "recorded again after a lost answer"] {
        assert!(
            alerts
                .complete(alert_id, Duty::Escalation, &claim.id, &done)
                .await
                .unwrap(),
            "{attempt}"
        );
    }
    assert!(
        !alerts
            .claim(alert_id, Duty::Escalation, &claim)
            .await
            .unwrap(),
        "the claim's own request arriving late cannot take an escalation done"
    );
    assert!(
        !alerts
            .complete(alert_id, Duty::Escalation, &other.id, &done)
            .await
            .unwrap(),
        "another sweep's claim recording it done at the same instant is not taken for this one's"
    );
}
