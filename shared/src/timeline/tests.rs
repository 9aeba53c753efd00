//! Reports judged in the order they were completed, whatever order they arrive in: in order, out of order, two at
//! once, a double tap, a conflicting resend, a retried batch.

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::alert::Origin;
use crate::item::AlertItem;
use crate::process::Processor;
use crate::testing::example::example;
use crate::testing::memory::MemoryStore;
use crate::testing::stream::inserted;

pub(super) fn id(n: u32) -> Uuid {
    format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
}

/// A pain report of patient `patient`, id `n`, completed on day `day` of November, scoring `pain`.
pub(super) fn pain(patient: &str, n: u32, day: u32, pain: u32) -> String {
    example()
        .id(id(n))
        .patient(patient)
        .survey("pain-nrs", json!({ "pain": pain }))
        .set("timepoint", json!(format!("day-{day}")))
        .set("completedAt", json!(format!("2026-11-{day:02}T20:00:00Z")))
        .envelope()
        .encode()
}

/// The patient's app: the process function stores what it sends, the stream brings what was stored here.
pub(super) struct Trial {
    pub(super) store: MemoryStore,
    pub(super) assessor: Assessor<MemoryStore, MemoryStore>,
    /// The reports already on the stream, by key.
    streamed: std::collections::BTreeSet<(String, String)>,
}

impl Trial {
    pub(super) fn new() -> Self {
        let store = MemoryStore::default();
        Trial {
            assessor: Assessor::new(store.clone(), store.clone()).unwrap(),
            store,
            streamed: Default::default(),
        }
    }

    /// Stores `bodies` as one batch and returns the stream records their writes produced (reports only, in the
    /// order they were written), without placing them yet.
    pub(super) async fn store(&mut self, bodies: Vec<String>) -> Vec<EventRecord> {
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
        Processor::new(self.store.clone(), 4).process(records).await;
        let reports = self.store.submissions().into_iter().map(|item| {
            let key = (item.pk.clone(), item.sk.clone());
            (key, inserted(&item))
        });
        let conflicts = self.store.conflicts().into_iter().map(|conflict| {
            let key = (conflict.pk.clone(), conflict.sk.clone());
            (key, inserted(&conflict))
        });
        reports
            .chain(conflicts)
            .filter_map(|(key, record)| self.streamed.insert(key).then_some(record))
            .collect()
    }

    /// Stores `bodies` and places them, one stream batch.
    pub(super) async fn send(&mut self, bodies: Vec<String>) -> TimelineReport {
        let stream = self.store(bodies).await;
        self.assessor.arrive(&stream).await.unwrap()
    }

    pub(super) fn alerts(&self, rule: &str) -> Vec<AlertItem> {
        let mut alerts: Vec<AlertItem> = self
            .store
            .alerts()
            .into_iter()
            .filter(|a| a.rule_id == rule)
            .collect();
        alerts.sort_by_key(|a| a.submission_id);
        alerts
    }
}

#[tokio::test]
async fn a_report_worse_than_the_one_completed_before_it_raises_one_alert_naming_it() {
    let mut trial = Trial::new();
    trial.send(vec![pain("P-1", 1, 1, 3)]).await;
    let report = trial.send(vec![pain("P-1", 2, 2, 6)]).await;
    assert_eq!((report.placed, report.raised), (1, 1));
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].submission_id, id(2));
    assert_eq!(alerts[0].compared_with, Some(id(1)));
    assert_eq!(alerts[0].late_arrival, None);
    assert_eq!(alerts[0].delivery.as_deref(), Some("pending"));
}

#[tokio::test]
async fn an_earlier_report_arriving_last_is_placed_in_completion_order_and_raises_what_is_now_due()
{
    let mut trial = Trial::new();
    // Day 1 pain 5, day 3 pain 5, then day 2 pain 2 after three days offline.
    trial
        .send(vec![pain("P-1", 1, 1, 5), pain("P-1", 3, 3, 5)])
        .await;
    assert!(trial.alerts("pain-worsening").is_empty(), "5 then 5");
    let report = trial.send(vec![pain("P-1", 2, 2, 2)]).await;
    assert_eq!(report.raised, 1);
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].submission_id, id(3), "day 3 against day 2");
    assert_eq!(alerts[0].compared_with, Some(id(2)));
    assert_eq!(alerts[0].late_arrival, Some(id(2)));
}

#[tokio::test]
async fn an_alert_a_later_arrival_makes_no_longer_due_is_kept_and_marked() {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 3), pain("P-1", 3, 3, 5)])
        .await;
    assert_eq!(trial.alerts("pain-worsening").len(), 1, "3 then 5");
    let report = trial.send(vec![pain("P-1", 2, 2, 4)]).await;
    assert_eq!((report.raised, report.reassessed), (0, 1));
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1, "never withdrawn");
    let alert = &alerts[0];
    assert_eq!(alert.compared_with, Some(id(1)), "as raised");
    assert_eq!(alert.still_due, Some(false));
    assert_eq!(alert.reassessed_against, Some(id(2)));
    // Day 2 resent (a duplicate, not placed again) and day 2 placed again (a retried stream batch): no change.
    let again = trial.send(vec![pain("P-1", 2, 2, 4)]).await;
    assert_eq!((again.raised, again.reassessed), (0, 0));
}

#[tokio::test]
async fn two_reports_of_one_patient_written_before_either_is_placed_are_compared_with_each_other() {
    let mut trial = Trial::new();
    // One batch: both stored before the stream brings either here.
    let stream = trial
        .store(vec![pain("P-1", 2, 2, 6), pain("P-1", 1, 1, 2)])
        .await;
    assert_eq!(stream.len(), 2);
    trial.assessor.arrive(&stream).await.unwrap();
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].submission_id, alerts[0].compared_with),
        (id(2), Some(id(1)))
    );
}

#[tokio::test]
async fn a_retried_batch_raises_nothing_more_and_other_patients_never_compare() {
    let mut trial = Trial::new();
    trial.send(vec![pain("P-1", 1, 1, 2)]).await;
    let stream = trial
        .store(vec![pain("P-1", 2, 2, 7), pain("P-2", 3, 1, 0)])
        .await;
    let first = trial.assessor.arrive(&stream).await.unwrap();
    let again = trial.assessor.arrive(&stream).await.unwrap();
    assert_eq!((first.raised, again.raised), (1, 0));
    // P-2's first report has no predecessor: P-1's reports are not its.
    assert_eq!(trial.alerts("pain-worsening").len(), 1);
    assert_eq!(trial.store.timeline_entries().len(), 3);
}

#[tokio::test]
async fn a_double_tap_worse_than_before_is_one_alert() {
    let mut trial = Trial::new();
    trial.send(vec![pain("P-1", 1, 1, 2)]).await;
    // The same day-2 report twice under two ids (the app did not save the first id before the second tap).
    let tap = pain("P-1", 2, 2, 6);
    let again = tap.replace(&id(2).to_string(), &id(3).to_string());
    trial.send(vec![tap]).await;
    trial.send(vec![again]).await;
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].submission_id, id(2));
}

#[tokio::test]
async fn a_conflicting_resend_is_compared_with_the_report_before_it_and_never_compared_with() {
    let mut trial = Trial::new();
    trial.send(vec![pain("P-1", 1, 1, 2)]).await;
    trial.send(vec![pain("P-1", 2, 2, 3)]).await;
    // Day 2 edited to 7 and resent under its id: compared with day 1, not with its own original.
    trial
        .send(vec![pain("P-1", 2, 2, 7).replace("20:00:00Z", "20:30:00Z")])
        .await;
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].origin, Origin::ConflictingResend);
    assert_eq!(alerts[0].submission_id, id(2));
    assert_eq!(alerts[0].compared_with, Some(id(1)));
    // Day 3 at 4 is compared with the stored day 2 (3), not with the conflicting copy (7): stable.
    trial.send(vec![pain("P-1", 4, 3, 4)]).await;
    assert_eq!(trial.alerts("pain-worsening").len(), 1);
}

#[tokio::test]
async fn instruments_without_rules_comparing_reports_never_reach_the_timeline() {
    let mut trial = Trial::new();
    let phq9 = example()
        .survey("phq-9", crate::testing::example::phq9_answers("LA6569-3"))
        .envelope()
        .encode();
    let stream = trial.store(vec![phq9]).await;
    assert!(
        stream
            .iter()
            .all(|r| !r.change.new_image.contains_key("onTimeline")),
        "the stream's filter keeps them away"
    );
    let report = trial.assessor.arrive(&stream).await.unwrap();
    assert_eq!((report.placed, report.ignored), (0, 1));
    let pain_stream = trial.store(vec![pain("P-1", 1, 1, 2)]).await;
    assert!(pain_stream[0].change.new_image.contains_key("onTimeline"));
}
