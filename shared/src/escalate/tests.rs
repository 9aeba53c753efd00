//! Escalation: once, for urgent alerts left open past the time; never for high ones or acknowledged ones.

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::item::AlertItem;
use crate::ports::Alerts;
use crate::process::Processor;
use crate::testing::example::example;
use crate::testing::memory::MemoryStore;
use crate::testing::topic::MemoryTopic;
use aws_lambda_events::event::sqs::SqsMessage;

/// A store holding the alerts of a fever (urgent) and a wound discharge (high) on one submission.
async fn alerts() -> (MemoryStore, Vec<AlertItem>) {
    let store = MemoryStore::default();
    let body = example()
        .survey(
            "postop-recovery",
            json!({"temperature": 39.0, "wound": ["discharge"], "nausea": false}),
        )
        .envelope()
        .encode();
    let mut record = SqsMessage::default();
    record.message_id = Some("m1".into());
    record.body = Some(body);
    Processor::new(store.clone(), 1).process(vec![record]).await;
    let alerts = store.alerts();
    assert_eq!(alerts.len(), 2);
    (store, alerts)
}

fn raised(alerts: &[AlertItem]) -> OffsetDateTime {
    OffsetDateTime::parse(
        &alerts[0].raised_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

#[tokio::test]
async fn an_urgent_alert_left_open_is_escalated_once_and_a_high_one_never() {
    let (store, alerts) = alerts().await;
    let topic = MemoryTopic::default();
    let escalator = Escalator::new(store.clone(), topic.clone(), Duration::minutes(15));
    let early = escalator
        .sweep(raised(&alerts) + Duration::minutes(14))
        .await
        .unwrap();
    assert_eq!(early.escalated, 0, "not yet due");
    let due = escalator
        .sweep(raised(&alerts) + Duration::minutes(16))
        .await
        .unwrap();
    assert_eq!(due.escalated, 1);
    let again = escalator
        .sweep(raised(&alerts) + Duration::minutes(30))
        .await
        .unwrap();
    assert_eq!(again.escalated, 0, "once");
    let sent = topic.published();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].kind, sent[0].rule_id.as_str()),
        (MessageKind::Escalation, "postop-fever")
    );
    assert!(store.alerts().iter().any(|a| a.escalated_at.is_some()));
}

#[tokio::test]
async fn an_acknowledged_alert_is_never_escalated() {
    let (store, alerts) = alerts().await;
    let urgent = alerts.iter().find(|a| a.rule_id == "postop-fever").unwrap();
    store
        .acknowledge(urgent, "nurse-1", "2026-11-22T08:01:00.000Z")
        .await
        .unwrap();
    let topic = MemoryTopic::default();
    let report = Escalator::new(store, topic.clone(), Duration::minutes(15))
        .sweep(datetime!(2030-01-01 0:00 UTC))
        .await
        .unwrap();
    assert_eq!(report.escalated, 0);
    assert!(topic.published().is_empty());
}

#[tokio::test]
async fn a_topic_outage_leaves_the_alert_due_for_the_next_sweep() {
    let (store, alerts) = alerts().await;
    let later = raised(&alerts) + Duration::hours(1);
    let down = Escalator::new(
        store.clone(),
        MemoryTopic::unavailable(),
        Duration::minutes(15),
    );
    assert!(down.sweep(later).await.is_err());
    let topic = MemoryTopic::default();
    let report = Escalator::new(store, topic.clone(), Duration::minutes(15))
        .sweep(later)
        .await
        .unwrap();
    assert_eq!(report.escalated, 1);
}
