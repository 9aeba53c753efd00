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
async fn rules_comparing_reports_read_nothing_here_and_put_the_report_on_the_timeline() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 1);
    let pain = |n: u32, score: u8, at: &str| submitted(n, "pain-nrs", json!({"pain": score}), at);
    let report = processor
        .process(vec![
            pain(1, 3, "2026-11-20T08:00:00Z"),
            pain(2, 9, "2026-11-21T08:00:00Z"),
        ])
        .await;
    // Pain 9 is severe by itself; 3 to 9 is the timeline's to judge, in completion order.
    assert_eq!(report.alerts, 1);
    let alerts = store.alerts();
    assert_eq!(alerts[0].rule_id, "pain-severe");
    assert!(store.submissions().iter().all(|item| item.on_timeline));
    let phq9 = submitted(3, "phq-9", phq9_answers("LA6568-5"), "2026-11-22T08:00:03Z");
    processor.process(vec![phq9]).await;
    let stored = store.submissions();
    let phq9 = stored.iter().find(|i| i.submission.survey_id == "phq-9");
    assert!(
        !phq9.unwrap().on_timeline,
        "no rule of PHQ-9 compares reports"
    );
}

#[tokio::test]
async fn an_answer_edited_and_resent_under_its_id_raises_what_its_new_content_meets_once() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    let clean = submitted(1, "phq-9", phq9_answers("LA6568-5"), "2026-11-22T08:00:03Z");
    let edited = submitted(1, "phq-9", phq9_answers("LA6571-9"), "2026-11-22T08:00:03Z");
    processor.process(vec![clean]).await;
    assert!(store.alerts().is_empty());
    let report = processor
        .process(vec![edited.clone(), edited.clone()])
        .await;
    assert_eq!((report.conflicts, report.alerts), (2, 1));
    let again = processor.process(vec![edited]).await;
    assert_eq!((again.conflicts, again.alerts), (1, 0));
    let alerts = store.alerts();
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    let conflict = &store.conflicts()[0];
    assert_eq!(alert.rule_id, "phq9-item9-self-harm");
    assert_eq!(alert.origin, crate::alert::Origin::ConflictingResend);
    assert_eq!(alert.content_hash.as_ref(), Some(&conflict.content_hash));
    assert_eq!(
        alert.original_content_hash.as_ref(),
        Some(&conflict.original_content_hash)
    );
    assert_eq!(alert.submission_id, conflict.submission_id);
    // The original is untouched and raised nothing.
    assert_eq!(store.submissions().len(), 1);
    // A second, different edit is content of its own: an alert of its own.
    let severe_too = submitted(1, "phq-9", phq9_answers("LA6570-1"), "2026-11-22T08:00:04Z");
    let report = processor.process(vec![severe_too]).await;
    assert_eq!(report.alerts, 1);
    assert_eq!(store.alerts().len(), 2);
}

#[tokio::test]
async fn a_double_tap_is_one_alert_and_a_repeat_meeting_another_rule_raises_that_one() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 4);
    let tap = |n: u32, answers: Value| {
        let body = example()
            .id(format!("00000000-0000-4000-8000-{n:012}"))
            .survey("phq-9", answers)
            .set("timepoint", json!("day-7"))
            .envelope()
            .encode();
        record(&format!("m{n}"), body)
    };
    let report = processor
        .process(vec![tap(1, phq9_answers("LA6570-1"))])
        .await;
    assert_eq!(report.alerts, 1);
    let report = processor
        .process(vec![tap(2, phq9_answers("LA6570-1"))])
        .await;
    assert_eq!(
        (report.repeats, report.alerts),
        (1, 0),
        "one event, one alert"
    );
    let first_alert = store.alerts()[0].alert_id;
    let flag = store
        .flags()
        .into_iter()
        .find(|f| f.submission_id.to_string().ends_with("000000000002"))
        .unwrap();
    assert!(
        flag.detail.contains(&first_alert.to_string()),
        "the repeat points to the first one's alert: {}",
        flag.detail
    );
    let mut severe = phq9_answers("LA6570-1");
    for (_, answer) in severe.as_object_mut().unwrap().iter_mut().take(8) {
        *answer = json!("LA6571-9");
    }
    let report = processor.process(vec![tap(3, severe)]).await;
    assert_eq!((report.repeats, report.alerts), (1, 1));
    let mut rules: Vec<String> = store.alerts().into_iter().map(|a| a.rule_id).collect();
    rules.sort();
    assert_eq!(rules, ["phq9-item9-self-harm", "phq9-total-severe"]);
}
