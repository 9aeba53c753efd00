//! Each submission placed on its patient's calendar as it is written: stored with its timing, flagged when a data
//! manager should look, the survey due it completes marked in the same write, never refused.

use serde_json::{Value, json};

use super::*;
use crate::enrolment::{Change, OccurrenceWrite, WithdrawRequest, enrol, revise};
use crate::item::{FlagKind, OccurrenceItem, occurrence_sort_key, partition_key};
use crate::schedule::{Schedules, Timing};
use crate::testing::example::{PATIENT_ID, TRIAL_ID, example, phq9_answers};
use crate::testing::memory::MemoryStore;

/// The example patient enrolled on the post-op follow-up, surgery on 15 November in Berlin: day 7 is due on
/// 22 November at 08:00 local (07:00 UTC), its window 21 November 07:00 to 24 November 07:00 UTC.
fn enrolled() -> MemoryStore {
    let store = MemoryStore::default();
    let request = serde_json::from_value(json!({
        "patientId": PATIENT_ID, "scheduleId": "postop-followup",
        "anchors": { "surgery": "2026-11-15" }, "timeZone": "Europe/Berlin"
    }))
    .unwrap();
    let now = "2026-11-14T10:00:00Z".parse().unwrap();
    let revision = enrol(
        TRIAL_ID,
        request,
        "nurse-1",
        now,
        Schedules::embedded().unwrap(),
    )
    .unwrap();
    store.insert(&revision.enrolment);
    for write in &revision.occurrences {
        if let OccurrenceWrite::New(item) = write {
            store.insert(item);
        }
    }
    store
}

/// Staff withdraw the example patient, from 20 November 12:00 UTC (before day 7's window).
async fn withdraw(store: &MemoryStore) {
    let current = store
        .enrolment(TRIAL_ID, PATIENT_ID)
        .await
        .unwrap()
        .unwrap();
    let withdrawal = Change::Withdraw(WithdrawRequest {
        reason: "withdrew consent".into(),
        at: Some("2026-11-20T12:00:00Z".into()),
    });
    let now = "2026-11-20T13:00:00Z".parse().unwrap();
    let revision = revise(
        &current,
        &[],
        withdrawal,
        "pi-1",
        now,
        Schedules::embedded().unwrap(),
    )
    .unwrap();
    store.insert(&revision.enrolment);
}

fn phq9(n: u32, timepoint: &str, completed_at: &str, received_at: &str) -> SqsMessage {
    ahead_phq9(n, timepoint, completed_at, received_at, None)
}

fn ahead_phq9(
    n: u32,
    timepoint: &str,
    completed_at: &str,
    received_at: &str,
    ahead: Option<i64>,
) -> SqsMessage {
    let mut envelope = example()
        .id(format!("00000000-0000-4000-8000-{n:012}"))
        .survey("phq-9", phq9_answers("LA6568-5"))
        .set("timepoint", json!(timepoint))
        .set("completedAt", json!(completed_at))
        .envelope();
    envelope.received_at = received_at.into();
    envelope.clock_ahead_seconds = ahead;
    let mut record = SqsMessage::default();
    record.message_id = Some(format!("m{n}"));
    record.body = Some(envelope.encode());
    record
}

fn occurrence(store: &MemoryStore, id: &str) -> Value {
    let item: OccurrenceItem = store
        .get(
            &partition_key(TRIAL_ID, PATIENT_ID),
            &occurrence_sort_key(id, "phq-9"),
        )
        .unwrap()
        .unwrap();
    serde_json::to_value(item).unwrap()
}

fn timing(store: &MemoryStore, n: u32) -> Timing {
    let id = format!("00000000-0000-4000-8000-{n:012}");
    let item = store
        .submissions()
        .into_iter()
        .find(|s| s.submission.submission_id.to_string() == id)
        .unwrap();
    item.schedule.unwrap().timing
}

#[tokio::test]
async fn a_survey_in_its_window_is_on_time_and_completes_the_survey_due_once() {
    let store = enrolled();
    let processor = Processor::new(store.clone(), 4);
    let day7 = phq9(
        1,
        "day-7",
        "2026-11-22T08:00:03Z",
        "2026-11-22T08:00:04.000Z",
    );
    processor.process(vec![day7.clone()]).await;
    processor.process(vec![day7]).await;
    assert_eq!(timing(&store, 1), Timing::OnTime);
    let placed = store.submissions()[0].schedule.clone().unwrap();
    assert_eq!(placed.occurrence_id.as_deref(), Some("day-7"));
    assert_eq!(placed.opens.as_deref(), Some("2026-11-21T07:00:00.000Z"));
    let day7 = occurrence(&store, "day-7");
    assert_eq!(day7["doneBy"], "00000000-0000-4000-8000-000000000001");
    assert_eq!(day7["doneTiming"], "on-time");
    assert!(
        day7.get("dueAt").is_none(),
        "the sweep has nothing left to do for it: {day7}"
    );
    assert_eq!(
        day7["history"].as_array().unwrap().len(),
        2,
        "a redelivery adds nothing: {day7}"
    );
    assert!(store.flags().is_empty());
}

#[tokio::test]
async fn a_survey_completed_after_its_miss_is_late_and_keeps_the_miss_in_its_history() {
    let store = enrolled();
    let key = (
        partition_key(TRIAL_ID, PATIENT_ID),
        occurrence_sort_key("day-7", "phq-9"),
    );
    let mut missed: OccurrenceItem = store.get(&key.0, &key.1).unwrap().unwrap();
    missed.missed_at = Some("2026-11-24T07:00:10.000Z".into());
    missed.history.push(crate::item::OccurrenceEvent::new(
        "2026-11-24T07:00:10.000Z",
        "missed",
        String::new(),
    ));
    store.insert(&missed);
    Processor::new(store.clone(), 4)
        .process(vec![phq9(
            2,
            "day-7",
            "2026-11-24T10:00:00Z",
            "2026-11-24T10:00:01.000Z",
        )])
        .await;
    assert_eq!(timing(&store, 2), Timing::Late);
    let day7 = occurrence(&store, "day-7");
    assert_eq!(day7["doneTiming"], "late");
    assert_eq!(day7["missedAt"], "2026-11-24T07:00:10.000Z");
    let events: Vec<&str> = day7["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["scheduled", "missed", "completed"]);
}

#[tokio::test]
async fn a_survey_outside_its_window_is_stored_flagged_and_leaves_the_survey_due_open() {
    let store = enrolled();
    // Day 30's window is in December: sent for day 30 on 22 November.
    Processor::new(store.clone(), 4)
        .process(vec![phq9(
            3,
            "day-30",
            "2026-11-22T08:00:03Z",
            "2026-11-22T08:00:04.000Z",
        )])
        .await;
    assert_eq!(timing(&store, 3), Timing::OutOfWindow);
    let flags = store.flags();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].kind, FlagKind::OutOfWindow);
    assert!(flags[0].detail.contains("day-30"), "{}", flags[0].detail);
    assert!(occurrence(&store, "day-30").get("doneBy").is_none());
}

#[tokio::test]
async fn an_instrument_the_schedule_does_not_ask_for_is_unscheduled_and_a_patient_not_enrolled_is_not_flagged()
 {
    let store = enrolled();
    let processor = Processor::new(store.clone(), 4);
    processor
        .process(vec![record(
            10,
            example().id("00000000-0000-4000-8000-000000000010"),
        )])
        .await;
    let other_patient = example()
        .id("00000000-0000-4000-8000-000000000011")
        .patient("P-999");
    processor.process(vec![record(11, other_patient)]).await;
    assert_eq!(timing(&store, 10), Timing::Unscheduled);
    assert_eq!(timing(&store, 11), Timing::NoEnrolment);
    let kinds: Vec<FlagKind> = store.flags().iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FlagKind::Unscheduled]);
}

#[tokio::test]
async fn a_survey_after_withdrawal_is_stored_flagged_and_still_raises_its_alerts() {
    let store = enrolled();
    withdraw(&store).await;
    let mut self_harm = phq9(
        4,
        "day-7",
        "2026-11-22T08:00:03Z",
        "2026-11-22T08:00:04.000Z",
    );
    let body = self_harm
        .body
        .take()
        .unwrap()
        .replace("LA6568-5", "LA6571-9");
    self_harm.body = Some(body);
    let report = Processor::new(store.clone(), 4)
        .process(vec![self_harm])
        .await;
    assert_eq!((report.stored, report.alerts), (1, 1));
    assert_eq!(timing(&store, 4), Timing::AfterWithdrawal);
    assert_eq!(store.flags()[0].kind, FlagKind::AfterWithdrawal);
}

#[tokio::test]
async fn a_device_clock_running_ahead_is_placed_by_the_time_the_server_received_it() {
    let store = enrolled();
    // The phone says day 7's window is open (22 November); the server received it on 20 November, before the
    // window and its grace: out of window, not on time.
    Processor::new(store.clone(), 4)
        .process(vec![ahead_phq9(
            5,
            "day-7",
            "2026-11-22T08:00:03Z",
            "2026-11-20T06:00:00.000Z",
            Some(180_003),
        )])
        .await;
    let item = &store.submissions()[0];
    assert!(item.clock_ahead_seconds.is_some());
    assert_eq!(
        item.schedule.as_ref().unwrap().placed_at,
        "2026-11-20T06:00:00.000Z"
    );
    assert_eq!(timing(&store, 5), Timing::OutOfWindow);
}

fn record(n: u32, submission: crate::testing::example::ExampleSubmission) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(format!("m{n}"));
    record.body = Some(submission.envelope().encode());
    record
}

/// A store whose enrolment is withdrawn by staff just after the process function read it, before its write.
struct WithdrawnMeanwhile {
    inner: MemoryStore,
    withdrawn: std::sync::atomic::AtomicBool,
}

impl crate::ports::Store for WithdrawnMeanwhile {
    async fn write_flags<'a>(
        &self,
        flags: impl Iterator<Item = &'a crate::item::Flag> + Send,
    ) -> Result<(), crate::ports::StoreError> {
        self.inner.write_flags(flags).await
    }

    async fn stored_marker_key(
        &self,
        submission_id: uuid::Uuid,
    ) -> Result<Option<crate::item::Key>, crate::ports::StoreError> {
        self.inner.stored_marker_key(submission_id).await
    }

    async fn release_timepoint(
        &self,
        marker: &crate::item::TimepointMarker,
        at: &str,
    ) -> Result<(), crate::ports::StoreError> {
        self.inner.release_timepoint(marker, at).await
    }

    async fn mark_timepoint(
        &self,
        marker: &crate::item::TimepointMarker,
    ) -> Result<Option<uuid::Uuid>, crate::ports::StoreError> {
        self.inner.mark_timepoint(marker).await
    }

    async fn write_submission(
        &self,
        write: &crate::item::SubmissionWrite,
    ) -> Result<crate::ports::WriteOutcome, crate::ports::StoreError> {
        if !self
            .withdrawn
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            withdraw(&self.inner).await;
        }
        self.inner.write_submission(write).await
    }

    async fn record_conflict(
        &self,
        write: &crate::item::ConflictWrite,
    ) -> Result<bool, crate::ports::StoreError> {
        self.inner.record_conflict(write).await
    }

    async fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<crate::item::EnrolmentItem>, crate::ports::StoreError> {
        self.inner.enrolment(trial_id, patient_id).await
    }
}

#[tokio::test]
async fn an_enrolment_changed_between_placement_and_write_places_the_submission_again() {
    let store = enrolled();
    let racing = WithdrawnMeanwhile {
        inner: store.clone(),
        withdrawn: false.into(),
    };
    let report = Processor::new(racing, 4)
        .process(vec![phq9(
            6,
            "day-7",
            "2026-11-22T08:00:03Z",
            "2026-11-22T08:00:04.000Z",
        )])
        .await;
    assert_eq!(report.stored, 1);
    assert_eq!(
        timing(&store, 6),
        Timing::AfterWithdrawal,
        "placed against the enrolment as it now stands"
    );
    assert!(
        occurrence(&store, "day-7").get("doneBy").is_none(),
        "a withdrawn survey is not completed"
    );
}
