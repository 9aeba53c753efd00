//! Alerts, raised by the process use case: once per submission and rule, in the write, whatever the deliveries.

use serde_json::{Value, json};

use super::*;
use crate::alert::Severity;
use crate::item::AlertStatus;
use crate::testing::example::{example, phq9_answers};
use crate::testing::memory::MemoryStore;

fn record(message_id: &str, body: String) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.into());
    record.body = Some(body);
    record
}

/// A submission of `survey` with `answers`, under id `n`, completed at `completed_at`, as a queue record.
fn submitted(n: u32, survey: &str, answers: Value, completed_at: &str) -> SqsMessage {
    let body = example()
        .id(format!("00000000-0000-4000-8000-{n:012}"))
        .survey(survey, answers)
        .set("timepoint", json!(format!("day-{n}")))
        .set("completedAt", json!(completed_at))
        .envelope()
        .encode();
    record(&format!("m{n}"), body)
}

#[tokio::test]
async fn phq9_item_9_raises_one_urgent_alert_with_ids_only() {
    let store = MemoryStore::default();
    let report = Processor::new(store.clone(), 4)
        .process(vec![submitted(
            1,
            "phq-9",
            phq9_answers("LA6569-3"),
            "2026-11-22T08:00:03Z",
        )])
        .await;
    assert_eq!((report.stored, report.alerts), (1, 1));
    let alerts = store.alerts();
    let alert = &alerts[0];
    assert_eq!(alert.rule_id, "phq9-item9-self-harm");
    assert_eq!(alert.severity, Severity::Urgent);
    assert_eq!(alert.status, AlertStatus::Open);
    assert_eq!(alert.escalation.as_deref(), Some("pending"));
    assert_eq!(
        alert.submission_id,
        store.submissions()[0].submission.submission_id
    );
    let record = serde_json::to_string(alert).unwrap();
    assert!(
        !record.contains("LA6569-3") && !record.contains("answers"),
        "{record}"
    );
}

#[tokio::test]
async fn a_clean_phq9_raises_nothing() {
    let store = MemoryStore::default();
    let report = Processor::new(store.clone(), 4)
        .process(vec![submitted(
            1,
            "phq-9",
            phq9_answers("LA6568-5"),
            "2026-11-22T08:00:03Z",
        )])
        .await;
    assert_eq!((report.stored, report.alerts), (1, 0));
    assert!(store.alerts().is_empty());
}

#[tokio::test]
async fn the_same_submission_five_times_at_once_and_redelivered_raises_one_alert() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 8);
    let once = || submitted(1, "phq-9", phq9_answers("LA6571-9"), "2026-11-22T08:00:03Z");
    let report = processor.process((0..5).map(|_| once()).collect()).await;
    assert_eq!((report.stored, report.duplicates, report.alerts), (1, 4, 1));
    let report = processor.process(vec![once()]).await;
    assert_eq!((report.duplicates, report.alerts), (1, 0));
    assert_eq!(store.alerts().len(), 1);
}

#[tokio::test]
async fn worsening_pain_is_compared_with_the_report_completed_just_before() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 1);
    let pain = |n: u32, score: u8, at: &str| submitted(n, "pain-nrs", json!({"pain": score}), at);
    processor
        .process(vec![pain(1, 3, "2026-11-20T08:00:00Z")])
        .await;
    let report = processor
        .process(vec![pain(2, 4, "2026-11-21T08:00:00Z")])
        .await;
    assert_eq!(report.alerts, 0, "3 to 4 is stable");
    let report = processor
        .process(vec![pain(3, 6, "2026-11-22T08:00:00+02:00")])
        .await;
    assert_eq!(report.alerts, 1, "4 to 6 is worse by 2");
    let alerts = store.alerts();
    assert_eq!(alerts[0].rule_id, "pain-worsening");
    assert_eq!(
        alerts[0].compared_with.map(|id| id.to_string()),
        Some("00000000-0000-4000-8000-000000000002".into())
    );
    // A late report completed before all of them compares with none after it: nothing to worsen from.
    let report = processor
        .process(vec![pain(4, 6, "2026-11-19T08:00:00Z")])
        .await;
    assert_eq!(report.alerts, 0);
}
