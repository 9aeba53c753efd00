//! Corrections on the timeline: a corrected report compared again with the report before it and by the report after
//! it, in whichever order the stream brings them; what becomes due raised once, nothing marked no longer due by a
//! correction, and a conflicting resend's standing alert not raised again.

use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::json;

use super::tests::{Trial, id, pain};
use crate::alert::Origin;
use crate::item::{Actor, AuditItem, VersionItem};
use crate::ports::Records;
use crate::submission::Submission;
use crate::testing::stream::inserted;

impl Trial {
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
        let catalogue = crate::instrument::Catalogue::embedded();
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
        let replaced = version.replaced_key(&original);
        assert!(
            self.store
                .correct(&version, &replaced, &[], &audit)
                .await
                .unwrap()
        );
        inserted(&version)
    }
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
