//! One message per new alert, whatever the retries; never for anything else; never with an answer in it.

use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::json;

use super::*;
use crate::process::Processor;
use crate::testing::example::{example, phq9_answers};
use crate::testing::memory::MemoryStore;
use crate::testing::stream::inserted;
use crate::testing::topic::MemoryTopic;
use aws_lambda_events::event::sqs::SqsMessage;

/// Stores submissions through the process use case and returns the stream records their writes produced.
async fn stored(bodies: Vec<String>) -> (MemoryStore, Vec<EventRecord>) {
    let store = MemoryStore::default();
    let records = bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| {
            let mut record = SqsMessage::default();
            record.message_id = Some(format!("m{n}"));
            record.body = Some(body);
            record
        })
        .collect();
    Processor::new(store.clone(), 4).process(records).await;
    let mut stream: Vec<EventRecord> = store.submissions().iter().map(inserted).collect();
    stream.extend(store.alerts().iter().map(inserted));
    (store, stream)
}

fn postop(id: u32, temperature: f64, notes: &str) -> String {
    let mut answers = json!({"temperature": temperature, "wound": ["none"], "nausea": false});
    if !notes.is_empty() {
        answers["notes"] = json!(notes);
    }
    example()
        .id(format!("00000000-0000-4000-8000-{id:012}"))
        .survey("postop-recovery", answers)
        .envelope()
        .encode()
}

#[tokio::test]
async fn each_new_alert_is_one_message_and_a_retried_batch_sends_nothing_twice() {
    let phq9 = example()
        .survey("phq-9", phq9_answers("LA6571-9"))
        .envelope()
        .encode();
    let (store, stream) = stored(vec![phq9, postop(2, 39.2, "")]).await;
    assert_eq!(store.alerts().len(), 2);
    let topic = MemoryTopic::default();
    let notifier = Notifier::new(store.clone(), topic.clone());
    let report = notifier.notify(&stream).await.unwrap();
    assert_eq!(
        (report.sent, report.already_sent, report.ignored),
        (2, 0, 2)
    );
    assert!(store.alerts().iter().all(|a| a.notified_at.is_some()));
    let retried = notifier.notify(&stream).await.unwrap();
    assert_eq!((retried.sent, retried.already_sent), (0, 2));
    assert_eq!(topic.published().len(), 2);
    let message = topic
        .published()
        .into_iter()
        .find(|m| m.rule_id == "postop-fever")
        .unwrap();
    assert_eq!(message.kind, MessageKind::Alert);
    assert_eq!(message.subject(), "[URGENT] ePRO alert, trial ONC-2026-01");
}

#[tokio::test]
async fn a_message_carries_ids_label_severity_and_time_never_an_answer() {
    let canary = "canary: I feel hot and the wound smells";
    let (store, stream) = stored(vec![postop(1, 39.2, canary)]).await;
    let topic = MemoryTopic::default();
    Notifier::new(store, topic.clone())
        .notify(&stream)
        .await
        .unwrap();
    let message = &topic.published()[0];
    let text = format!("{}{}", message.subject(), message.body());
    for leak in [canary, "39.2", "notes", "answers"] {
        assert!(!text.contains(leak), "{leak:?} in {text}");
    }
    let body: serde_json::Value = serde_json::from_str(&message.body()).unwrap();
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "alertId",
            "instrument",
            "kind",
            "label",
            "origin",
            "patientId",
            "raisedAt",
            "ruleId",
            "severity",
            "submissionId",
            "trialId"
        ]
    );
}

#[tokio::test]
async fn when_the_topic_is_down_the_batch_fails_and_nothing_is_marked_sent() {
    let (store, stream) = stored(vec![postop(1, 39.2, "")]).await;
    let down = Notifier::new(store.clone(), MemoryTopic::unavailable());
    assert!(matches!(
        down.notify(&stream).await,
        Err(NotifyError::Topic(_))
    ));
    assert!(store.alerts()[0].notified_at.is_none());
    let topic = MemoryTopic::default();
    let report = Notifier::new(store.clone(), topic.clone())
        .notify(&stream)
        .await
        .unwrap();
    assert_eq!(report.sent, 1, "the retry sends it");
}

#[tokio::test]
async fn a_submission_or_a_modified_alert_in_the_stream_sends_nothing() {
    let (store, stream) = stored(vec![postop(1, 37.0, "")]).await;
    assert!(store.alerts().is_empty());
    let topic = MemoryTopic::default();
    let report = Notifier::new(store, topic.clone())
        .notify(&stream)
        .await
        .unwrap();
    assert_eq!((report.sent, report.ignored), (0, 1));
    let (store, mut stream) = stored(vec![postop(2, 39.0, "")]).await;
    stream
        .iter_mut()
        .for_each(|r| r.event_name = "MODIFY".into());
    let report = Notifier::new(store, topic.clone())
        .notify(&stream)
        .await
        .unwrap();
    assert_eq!(report.sent, 0, "an acknowledgement is not a new alert");
    assert!(topic.published().is_empty());
}

#[tokio::test]
async fn a_worsening_alert_a_correction_made_due_names_both_reports_in_its_message() {
    let (store, _) = stored(vec![postop(1, 39.2, "")]).await;
    let mut alert = store.alerts().remove(0);
    let (before, corrected) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    alert.compared_with = Some(before);
    alert.after_correction_of = Some(corrected);
    let message = message::AlertMessage::of(message::MessageKind::Alert, &alert);
    let body: serde_json::Value = serde_json::from_str(&message.body()).unwrap();
    assert_eq!(body["comparedWith"], json!(before));
    assert_eq!(body["afterCorrectionOf"], json!(corrected));
    assert!(body.get("lateArrival").is_none());
}
