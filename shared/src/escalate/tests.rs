//! Escalation: once, for urgent alerts left open past the time; never for high ones or acknowledged ones.

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::item::{AlertItem, AuditItem};
use crate::ports::{Alerts, Claim, Duty};
use crate::process::Processor;
use crate::testing::example::{example, nurse};
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
        .acknowledge(
            urgent,
            &AuditItem::of_acknowledgement(
                &urgent.trial_id,
                &urgent.patient_id,
                &urgent.alert_id,
                &nurse(),
                "2026-11-22T08:01:00.000Z",
            ),
        )
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

#[tokio::test]
async fn sweeps_that_overlap_escalate_each_alert_once_and_count_only_what_they_recorded() {
    let store = MemoryStore::default();
    let fevers: Vec<SqsMessage> = (1..=3)
        .map(|n| {
            let body = example()
                .id(format!("00000000-0000-4000-8000-{n:012}"))
                .patient(&format!("P-{n:06}"))
                .survey(
                    "postop-recovery",
                    json!({"temperature": 39.0, "wound": ["none"], "nausea": false}),
                )
                .envelope()
                .encode();
            let mut record = SqsMessage::default();
            record.message_id = Some(format!("m{n}"));
            record.body = Some(body);
            record
        })
        .collect();
    Processor::new(store.clone(), 3).process(fevers).await;
    let later = raised(&store.alerts()) + Duration::hours(1);
    // A timed-out sweep's retry, the next tick and a duplicate delivery of the schedule, all at once, on a topic slow
    // enough that they interleave.
    let topic = MemoryTopic::slow(std::time::Duration::from_millis(20));
    let sweeps: Vec<_> = (0..4)
        .map(|_| Escalator::new(store.clone(), topic.clone(), Duration::minutes(15)))
        .collect();
    let (a, b, c, d) = tokio::join!(
        sweeps[0].sweep(later),
        sweeps[1].sweep(later),
        sweeps[2].sweep(later),
        sweeps[3].sweep(later)
    );
    let reports = [a, b, c, d].map(Result::unwrap);
    let escalated: usize = reports.iter().map(|r| r.escalated).sum();
    assert_eq!(escalated, 3, "{reports:?}");
    let mut sent: Vec<_> = topic.published().iter().map(|m| m.alert_id).collect();
    sent.sort();
    sent.dedup();
    assert_eq!(
        (topic.published().len(), sent.len()),
        (3, 3),
        "one message per alert"
    );
}

#[tokio::test]
async fn a_claim_its_sweep_abandoned_is_taken_over_once_it_is_stale() {
    let (store, alerts) = alerts().await;
    let urgent = alerts.iter().find(|a| a.rule_id == "postop-fever").unwrap();
    let later = raised(&alerts) + Duration::hours(1);
    // A sweep claimed it and died before sending.
    let abandoned = Claim::taken(later - Duration::minutes(1));
    assert!(
        store
            .claim(urgent.alert_id, Duty::Escalation, &abandoned)
            .await
            .unwrap()
    );
    let topic = MemoryTopic::default();
    let escalator = Escalator::new(store.clone(), topic.clone(), Duration::minutes(15));
    let held = escalator.sweep(later).await.unwrap();
    assert_eq!(
        (held.escalated, held.settled),
        (0, 1),
        "held, not stale yet"
    );
    let taken_over = escalator.sweep(later + Claim::LEASE).await.unwrap();
    assert_eq!(taken_over.escalated, 1);
    assert_eq!(topic.published().len(), 1);
}

#[tokio::test]
async fn a_claim_sent_again_after_its_answer_was_lost_is_still_its_own_and_no_one_elses() {
    let (store, alerts) = alerts().await;
    let urgent = alerts.iter().find(|a| a.rule_id == "postop-fever").unwrap();
    let now = raised(&alerts) + Duration::hours(1);
    for duty in [Duty::Delivery, Duty::Escalation] {
        let claim = Claim::taken(now);
        // The first request landed; its answer did not, so the SDK sends the same request again.
        assert!(store.claim(urgent.alert_id, duty, &claim).await.unwrap());
        assert!(
            store.claim(urgent.alert_id, duty, &claim).await.unwrap(),
            "{duty:?}: the claim that holds it takes it again"
        );
        let other = Claim::taken(now);
        assert!(
            !store.claim(urgent.alert_id, duty, &other).await.unwrap(),
            "{duty:?}: another live claim is refused"
        );
        // Done, and the record of it sent again after its answer was lost: still done by this claim.
        let done = format_timestamp(now);
        for attempt in ["first", "sent again"] {
            assert!(
                store
                    .complete(urgent.alert_id, duty, &claim.id, &done)
                    .await
                    .unwrap(),
                "{duty:?}: {attempt}"
            );
        }
        assert!(
            !store.claim(urgent.alert_id, duty, &claim).await.unwrap(),
            "{duty:?}: the claim's own request arriving late cannot take a duty done"
        );
        // Another claim (one that went stale, say) recording it done is refused, even at the very same instant.
        for at in [done.clone(), format_timestamp(now + Duration::seconds(1))] {
            assert!(
                !store
                    .complete(urgent.alert_id, duty, &other.id, &at)
                    .await
                    .unwrap(),
                "{duty:?}: nor can another claim record it done ({at})"
            );
        }
    }
}

#[tokio::test]
async fn an_alert_the_stream_never_delivered_is_delivered_by_the_sweep_once_and_never_by_both() {
    let (store, alerts) = alerts().await;
    let (alert_topic, escalation_topic) = (MemoryTopic::default(), MemoryTopic::default());
    let escalator = Escalator::new(store.clone(), escalation_topic, Duration::minutes(15))
        .delivering(alert_topic.clone(), Duration::minutes(2));
    let soon = escalator
        .sweep(raised(&alerts) + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(soon.delivered, 0, "the stream has its time first");
    let late = escalator
        .sweep(raised(&alerts) + Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(late.delivered, 2, "the high one too, which never escalates");
    // The parked stream batch, redriven or retried after all, sends nothing more.
    let stream: Vec<_> = store
        .alerts()
        .iter()
        .map(crate::testing::stream::inserted)
        .collect();
    let notified = crate::notify::Notifier::new(store.clone(), alert_topic.clone())
        .notify(&stream)
        .await
        .unwrap();
    assert_eq!((notified.sent, notified.already_sent), (0, 2));
    let again = escalator
        .sweep(raised(&alerts) + Duration::minutes(4))
        .await
        .unwrap();
    assert_eq!(again.delivered, 0);
    assert_eq!(alert_topic.published().len(), 2);
    assert!(
        store
            .alerts()
            .iter()
            .all(|a| a.notified_at.is_some() && a.delivery.is_none())
    );
}

#[test]
fn a_sweep_that_ran_to_its_end_beats_the_heart_and_one_that_failed_does_not() {
    let sweep = |topic: MemoryTopic| async move {
        let (store, alerts) = alerts().await;
        let due = raised(&alerts) + Duration::minutes(16);
        Escalator::new(store, topic, Duration::minutes(15))
            .sweep(due)
            .await
    };
    let (swept, counted) = crate::metrics::recorded::run(sweep(MemoryTopic::default()));
    assert_eq!(swept.unwrap().escalated, 1);
    assert_eq!(counted.counter("SweepsCompleted"), 1);

    let (swept, counted) = crate::metrics::recorded::run(sweep(MemoryTopic::unavailable()));
    assert!(swept.is_err(), "the topic refused the escalation");
    assert_eq!(counted.counter("SweepsCompleted"), 0);
}
