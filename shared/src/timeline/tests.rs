//! Reports judged in the order they were completed, whatever order they arrive in: in order, out of order, two at
//! once, a double tap, a conflicting resend, a retried batch.

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::alert::Origin;
use crate::item::{Actor, AlertItem, AuditItem};
use crate::ports::Records;
use crate::process::Processor;
use crate::submission::Submission;
use crate::testing::example::example;
use crate::testing::memory::MemoryStore;
use crate::testing::stream::inserted;

fn id(n: u32) -> Uuid {
    format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
}

/// A pain report of patient `patient`, id `n`, completed on day `day` of November, scoring `pain`.
fn pain(patient: &str, n: u32, day: u32, pain: u32) -> String {
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
struct Trial {
    store: MemoryStore,
    assessor: Assessor<MemoryStore, MemoryStore>,
    /// The reports already on the stream, by key.
    streamed: std::collections::BTreeSet<(String, String)>,
}

impl Trial {
    fn new() -> Self {
        let store = MemoryStore::default();
        Trial {
            assessor: Assessor::new(store.clone(), store.clone()).unwrap(),
            store,
            streamed: Default::default(),
        }
    }

    /// Stores `bodies` as one batch and returns the stream records their writes produced (reports only, in the
    /// order they were written), without placing them yet.
    async fn store(&mut self, bodies: Vec<String>) -> Vec<EventRecord> {
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
    async fn send(&mut self, bodies: Vec<String>) -> TimelineReport {
        let stream = self.store(bodies).await;
        self.assessor.arrive(&stream).await.unwrap()
    }

    /// A site investigator's correction of report `n` to `pain`, stored as the staff API stores it (the version
    /// after the current one), and the stream record it produced, not placed yet.
    async fn correct(&self, n: u32, pain: u32) -> EventRecord {
        let original = self
            .store
            .submissions()
            .into_iter()
            .find(|item| item.submission.submission_id == id(n))
            .expect("report n is stored");
        let submission = &original.submission;
        let replaces = self
            .store
            .versions(&submission.trial_id, &submission.patient_id, Some(id(n)))
            .await
            .unwrap()
            .len() as u32
            + 1;
        let corrected = Submission {
            answers: serde_json::from_value(json!({ "pain": pain })).unwrap(),
            ..submission.clone()
        };
        let catalogue = crate::instrument::Catalogue::embedded().unwrap();
        let judged = crate::instrument::judge(catalogue, corrected).unwrap();
        let version = VersionItem::new(
            &original,
            replaces,
            (judged.submission, judged.scores),
            ("S-9", "2026-12-01T09:00:00.000Z", "transcribed wrongly"),
        );
        let actor = Actor {
            id: "S-9".into(),
            role: "epro/data.correct".into(),
        };
        let audit = AuditItem::of_correction(&version, &actor);
        assert!(self.store.correct(&version, &[], &audit).await.unwrap());
        inserted(&version)
    }

    fn alerts(&self, rule: &str) -> Vec<AlertItem> {
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

#[tokio::test]
async fn a_correction_that_makes_a_report_worse_than_the_one_before_raises_the_alert_as_a_correction()
 {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 3), pain("P-1", 2, 2, 4)])
        .await;
    assert!(trial.alerts("pain-worsening").is_empty(), "3 then 4");
    // Day 2 was 8 on the paper diary: the investigator corrects it.
    let correction = trial.correct(2, 8).await;
    let report = trial.assessor.arrive(&[correction]).await.unwrap();
    assert_eq!((report.placed, report.raised), (1, 1));
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].origin, Origin::Correction);
    assert_eq!(alerts[0].submission_id, id(2));
    assert_eq!(alerts[0].compared_with, Some(id(1)));
    assert_eq!(trial.store.timeline_entries().len(), 2, "its place stays");
}

#[tokio::test]
async fn the_report_after_a_corrected_one_is_compared_with_the_correction_and_says_so() {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 6), pain("P-1", 2, 2, 6)])
        .await;
    assert!(trial.alerts("pain-worsening").is_empty(), "6 then 6");
    // Day 1 was 2: day 2 is now worse by 4.
    let correction = trial.correct(1, 2).await;
    let report = trial
        .assessor
        .arrive(std::slice::from_ref(&correction))
        .await
        .unwrap();
    assert_eq!(report.raised, 1);
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.submission_id, id(2));
    assert_eq!(alert.origin, Origin::Submission);
    assert_eq!(alert.compared_with, Some(id(1)));
    assert_eq!(alert.after_correction_of, Some(id(1)), "prompted by it");
    assert_eq!(alert.late_arrival, None, "nothing arrived late");
    let again = trial.assessor.arrive(&[correction]).await.unwrap();
    assert_eq!((again.raised, again.reassessed), (0, 0), "a retried batch");
}

#[tokio::test]
async fn a_correction_streamed_before_its_original_is_placed_raises_its_alert_once() {
    let mut trial = Trial::new();
    trial.send(vec![pain("P-1", 1, 1, 3)]).await;
    let original = trial.store(vec![pain("P-1", 2, 2, 4)]).await;
    let correction = trial.correct(2, 9).await;
    // The versions' partition streams apart from the patient's: the correction may come first. The original, placed
    // after, is compared as it was sent (as it would have been, had it come first).
    let first = trial
        .assessor
        .arrive(std::slice::from_ref(&correction))
        .await
        .unwrap();
    let then = trial.assessor.arrive(&original).await.unwrap();
    let again = trial.assessor.arrive(&[correction]).await.unwrap();
    assert_eq!((first.raised, then.raised, again.raised), (1, 0, 0));
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].origin, Origin::Correction);
    assert_eq!(alerts[0].still_due, None);
    assert_eq!(trial.store.timeline_entries().len(), 2);
}

#[tokio::test]
async fn a_correction_never_marks_an_alert_no_longer_due() {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 3), pain("P-1", 2, 2, 7)])
        .await;
    let raised = trial.alerts("pain-worsening");
    assert_eq!(raised.len(), 1);
    // Day 2 was 4: the alert raised on 7 stays as it was.
    let to_four = trial.correct(2, 4).await;
    let report = trial.assessor.arrive(&[to_four]).await.unwrap();
    assert_eq!((report.raised, report.reassessed), (0, 0));
    assert_eq!(trial.alerts("pain-worsening"), raised);
    // Then 8: the same alert (once per report), still as raised.
    let to_eight = trial.correct(2, 8).await;
    let report = trial.assessor.arrive(&[to_eight]).await.unwrap();
    assert_eq!((report.raised, report.reassessed), (0, 0));
    assert_eq!(trial.alerts("pain-worsening"), raised);
}

#[tokio::test]
async fn a_correction_of_the_report_before_never_marks_the_next_ones_alert_no_longer_due() {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 3), pain("P-1", 3, 3, 7)])
        .await;
    // Day 2 at 3 arrives late: day 3 (7) is still worse by 4.
    trial.send(vec![pain("P-1", 2, 2, 3)]).await;
    let raised = trial.alerts("pain-worsening");
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].still_due, None);
    // Day 2 was 6: worse than day 1 by 3, an alert of its own; day 3 would not be raised against it now, and its
    // alert stays as raised.
    let day_two = trial.correct(2, 6).await;
    let report = trial.assessor.arrive(&[day_two]).await.unwrap();
    assert_eq!((report.raised, report.reassessed), (1, 0));
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(
        (alerts[0].submission_id, alerts[0].origin),
        (id(2), Origin::Correction)
    );
    assert_eq!(alerts[1], raised[0]);
}

#[tokio::test]
async fn a_correction_finds_due_again_an_alert_a_late_report_had_marked_no_longer_due() {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 3), pain("P-1", 3, 3, 5)])
        .await;
    // Day 2 at 4 arrives late: day 3 (5) is no longer worse by 2.
    trial.send(vec![pain("P-1", 2, 2, 4)]).await;
    assert_eq!(trial.alerts("pain-worsening")[0].still_due, Some(false));
    // Day 3 was 9: worse than day 2 by 5.
    let correction = trial.correct(3, 9).await;
    let report = trial.assessor.arrive(&[correction]).await.unwrap();
    assert_eq!((report.raised, report.reassessed), (0, 1));
    let alerts = trial.alerts("pain-worsening");
    assert_eq!(alerts.len(), 1, "never a second alert");
    assert_eq!(alerts[0].still_due, Some(true));
    assert_eq!(alerts[0].reassessed_against, Some(id(2)));
}

#[tokio::test]
async fn a_correction_raises_no_worsening_alert_a_conflicting_resend_of_the_report_raised() {
    let mut trial = Trial::new();
    trial.send(vec![pain("P-1", 1, 1, 2)]).await;
    trial.send(vec![pain("P-1", 2, 2, 3)]).await;
    // Day 2 edited to 7 and resent under its id: alerted on as a conflicting resend.
    trial
        .send(vec![pain("P-1", 2, 2, 7).replace("20:00:00Z", "20:30:00Z")])
        .await;
    let resent = trial.alerts("pain-worsening");
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].origin, Origin::ConflictingResend);
    // The investigator makes the resent answer the record's: the team is not alerted twice.
    let correction = trial.correct(2, 7).await;
    let report = trial.assessor.arrive(&[correction]).await.unwrap();
    assert_eq!(report.raised, 0);
    assert_eq!(trial.alerts("pain-worsening"), resent);
}

#[tokio::test]
async fn a_correction_arriving_before_the_late_report_it_corrects_still_marks_nothing() {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 3), pain("P-1", 3, 3, 7)])
        .await;
    let raised = trial.alerts("pain-worsening");
    assert_eq!(raised.len(), 1);
    // Day 2 (3) comes late, and its correction to 6 streams before it (the versions' partition is another shard).
    let original = trial.store(vec![pain("P-1", 2, 2, 3)]).await;
    let correction = trial.correct(2, 6).await;
    trial.assessor.arrive(&[correction]).await.unwrap();
    let report = trial.assessor.arrive(&original).await.unwrap();
    assert_eq!(report.reassessed, 0);
    let day_three = trial
        .alerts("pain-worsening")
        .into_iter()
        .find(|a| a.submission_id == id(3))
        .unwrap();
    assert_eq!(day_three, raised[0], "as raised, not marked");
}

#[tokio::test]
async fn a_resend_alert_marked_no_longer_due_does_not_stand_for_a_correction_that_is_due() {
    let mut trial = Trial::new();
    trial
        .send(vec![pain("P-1", 1, 1, 3), pain("P-1", 3, 3, 3)])
        .await;
    // Day 3 resent as 5: alerted on. Day 2 (4) then arrives late: the resend's alert is no longer due.
    trial
        .send(vec![pain("P-1", 3, 3, 5).replace("20:00:00Z", "20:30:00Z")])
        .await;
    trial.send(vec![pain("P-1", 2, 2, 4)]).await;
    let resent = trial.alerts("pain-worsening");
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].still_due, Some(false), "{resent:#?}");
    // Day 3 corrected to 9: worse than day 2 by 5, and no alert standing says so: raised.
    let correction = trial.correct(3, 9).await;
    let report = trial.assessor.arrive(&[correction]).await.unwrap();
    assert_eq!(report.raised, 1);
    let corrected = trial
        .alerts("pain-worsening")
        .into_iter()
        .find(|a| a.origin == Origin::Correction)
        .expect("the correction's alert");
    assert_eq!(corrected.compared_with, Some(id(2)));
}
