//! The sweep sends each reminder and each missed-survey notice once and records each miss once, however many sweeps
//! overlap; leaves completed, withdrawn and moved surveys alone; and retries what a topic refused.

use serde_json::json;
use time::OffsetDateTime;

use super::*;
use crate::enrolment::{Change, OccurrenceWrite, WithdrawRequest, enrol, revise};
use crate::item::{AuditItem, format_timestamp};
use crate::ports::Enrolments;
use crate::schedule::Schedules;
use crate::testing::example::nurse;
use crate::testing::memory::MemoryStore;
use crate::testing::topic::MemoryTopic;

/// Enrolled on the drill at 10:00:00 UTC: check-in open 10:01–10:03, follow-ups 10:03–10:05 and 10:05–10:07.
const ENROLLED: &str = "2026-12-04T10:00:00Z";

type Sweeper = Reminders<MemoryStore, MemoryTopic<ScheduleMessage>, MemoryTopic<ScheduleMessage>>;

fn at(hms: &str) -> OffsetDateTime {
    let text = format!("2026-12-04T{hms}Z");
    OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339).unwrap()
}

/// Enrols `patient` of trial T-1 on the drill at [`ENROLLED`], in `zone`.
async fn on_the_drill(store: &MemoryStore, patient: &str, zone: &str) {
    let request = serde_json::from_value(json!({
        "patientId": patient, "scheduleId": "burst-drill", "timeZone": zone
    }))
    .unwrap();
    let revision = enrol(
        "T-1",
        request,
        "nurse-1",
        ENROLLED.parse().unwrap(),
        Schedules::embedded().unwrap(),
    )
    .unwrap();
    assert!(
        store
            .write(
                &revision,
                &AuditItem::of_enrolment(&revision.enrolment, &nurse(), ENROLLED)
            )
            .await
            .unwrap()
    );
}

async fn enrolled(
    patients: usize,
) -> (
    MemoryStore,
    Sweeper,
    MemoryTopic<ScheduleMessage>,
    MemoryTopic<ScheduleMessage>,
) {
    let store = MemoryStore::default();
    for n in 0..patients {
        on_the_drill(&store, &format!("P-{n}"), "America/New_York").await;
    }
    let (reminders, missed) = (MemoryTopic::default(), MemoryTopic::default());
    let sweeper = Reminders::new(store.clone(), reminders.clone(), missed.clone());
    (store, sweeper, reminders, missed)
}

#[tokio::test]
async fn a_reminder_goes_out_once_when_a_window_opens_however_many_sweeps_overlap() {
    let (_, sweeper, reminders, _) = enrolled(20).await;
    assert_eq!(
        sweeper.sweep(at("10:00:30")).await.unwrap().reminded,
        0,
        "nothing open yet"
    );
    let (a, b, c) = tokio::join!(
        sweeper.sweep(at("10:01:05")),
        sweeper.sweep(at("10:01:06")),
        sweeper.sweep(at("10:01:07"))
    );
    let sent = a.unwrap().reminded + b.unwrap().reminded + c.unwrap().reminded;
    assert_eq!(sent, 20);
    let published = reminders.published();
    assert_eq!(published.len(), 20);
    let mut patients: Vec<&str> = published.iter().map(|m| m.patient_id.as_str()).collect();
    patients.sort_unstable();
    patients.dedup();
    assert_eq!(patients.len(), 20, "one reminder per patient");
    let message = &published[0];
    assert_eq!(
        (message.kind, message.timepoint.as_str()),
        ("due", "check-in")
    );
    assert_eq!(message.opens, "2026-12-04T10:01:00.000Z");
    assert_eq!(
        message.opens_local,
        "2026-12-04T05:01:00-05:00[America/New_York]"
    );
    assert_eq!(sweeper.sweep(at("10:02:00")).await.unwrap().reminded, 0);
}

#[tokio::test]
async fn a_window_that_closes_with_nothing_is_missed_once_and_the_site_told_once() {
    let (store, sweeper, reminders, missed) = enrolled(5).await;
    sweeper.sweep(at("10:01:05")).await.unwrap();
    let (a, b) = tokio::join!(sweeper.sweep(at("10:03:05")), sweeper.sweep(at("10:03:06")));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.missed + b.missed, a.noticed + b.noticed), (5, 5));
    assert_eq!(missed.published().len(), 5);
    assert!(
        missed
            .published()
            .iter()
            .all(|m| m.kind == "missed" && m.timepoint == "check-in")
    );
    // The first follow-up opened at 10:03: reminded in the same sweeps.
    assert_eq!(
        reminders
            .published()
            .iter()
            .filter(|m| m.timepoint == "follow-up-1")
            .count(),
        5
    );
    let check_in = check_in(&store);
    assert!(check_in.missed_at.is_some() && check_in.noticed_at.is_some());
    assert_eq!(check_in.due_at, None, "nothing left for the sweep");
    let events: Vec<&str> = check_in.history.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["scheduled", "reminded", "missed", "noticed"]);
}

#[tokio::test]
async fn a_sweep_that_never_ran_while_a_window_was_open_records_the_miss_without_a_late_reminder() {
    let (_, sweeper, reminders, missed) = enrolled(1).await;
    let report = sweeper.sweep(at("10:03:30")).await.unwrap();
    assert_eq!(report.missed, 1);
    assert!(
        reminders
            .published()
            .iter()
            .all(|m| m.timepoint != "check-in"),
        "no reminder for a closed window"
    );
    assert_eq!(missed.published().len(), 1);
}

#[tokio::test]
async fn a_completed_survey_gets_no_reminder_and_no_miss() {
    let (store, sweeper, reminders, missed) = enrolled(1).await;
    // The patient filled the check-in early (in the grace before it opened): the process function marks it done.
    let mut check_in = check_in(&store);
    check_in.done_by = Some(uuid::Uuid::nil());
    check_in.done_timing = Some(crate::schedule::Timing::Early);
    check_in.clear_sweep();
    store.insert(&check_in);
    sweeper.sweep(at("10:01:05")).await.unwrap();
    sweeper.sweep(at("10:03:05")).await.unwrap();
    assert!(
        reminders
            .published()
            .iter()
            .all(|m| m.timepoint != "check-in")
    );
    assert!(missed.published().is_empty());
}

#[tokio::test]
async fn a_withdrawn_patient_is_reminded_of_nothing_more() {
    let (store, sweeper, reminders, missed) = enrolled(1).await;
    sweeper.sweep(at("10:01:05")).await.unwrap();
    let current = store.enrolment("T-1", "P-0").await.unwrap().unwrap();
    let occurrences = store.occurrences("T-1", "P-0").await.unwrap();
    let withdrawal = Change::Withdraw(WithdrawRequest {
        reason: "withdrew consent".into(),
        at: None,
    });
    let now = "2026-12-04T10:02:00Z".parse().unwrap();
    let revision = revise(
        &current,
        &occurrences,
        withdrawal,
        "pi-1",
        now,
        Schedules::embedded().unwrap(),
    )
    .unwrap();
    assert!(
        revision
            .occurrences
            .iter()
            .all(|w| matches!(w, OccurrenceWrite::Withdrawn(_)))
    );
    assert!(
        store
            .write(
                &revision,
                &AuditItem::of_enrolment(&revision.enrolment, &nurse(), ENROLLED)
            )
            .await
            .unwrap()
    );
    sweeper.sweep(at("10:03:05")).await.unwrap();
    sweeper.sweep(at("10:07:05")).await.unwrap();
    assert_eq!(
        reminders.published().len(),
        1,
        "the check-in reminder sent before the withdrawal only"
    );
    assert!(
        missed.published().is_empty(),
        "a withdrawn window is not a missed one"
    );
}

#[tokio::test]
async fn a_reminder_the_topic_refused_is_sent_by_the_next_sweep_once() {
    let store = MemoryStore::default();
    on_the_drill(&store, "P-0", "Europe/Berlin").await;
    let down = Reminders::new(
        store.clone(),
        MemoryTopic::unavailable(),
        MemoryTopic::<ScheduleMessage>::default(),
    );
    let report = down.sweep(at("10:01:05")).await.unwrap();
    assert_eq!((report.reminded, report.failed), (0, 1));
    let topic = MemoryTopic::default();
    let up = Reminders::new(
        store.clone(),
        topic.clone(),
        MemoryTopic::<ScheduleMessage>::default(),
    );
    assert_eq!(up.sweep(at("10:01:10")).await.unwrap().reminded, 1);
    assert_eq!(up.sweep(at("10:01:15")).await.unwrap().reminded, 0);
    assert_eq!(topic.published().len(), 1);
}

#[tokio::test]
async fn a_notice_claim_sent_again_after_its_answer_was_lost_is_still_its_own_and_no_one_elses() {
    let (store, _, _, _) = enrolled(1).await;
    let owed = check_in(&store);
    let claim = Claim::taken(at("10:01:05"));
    assert!(
        Sweep::claim(&store, &owed, Notice::Reminder, &claim)
            .await
            .unwrap()
    );
    assert!(
        Sweep::claim(&store, &owed, Notice::Reminder, &claim)
            .await
            .unwrap(),
        "the claim that holds it takes it again"
    );
    let other = Claim::taken(at("10:01:06"));
    assert!(
        !Sweep::claim(&store, &owed, Notice::Reminder, &other)
            .await
            .unwrap(),
        "another live claim is refused"
    );
    // Recorded, and the record sent again after its answer was lost: still recorded by this claim, once.
    recorded_and_sent_again(&store, &owed, Notice::Reminder, &claim).await;
    let reminded = check_in(&store);
    let events: Vec<&str> = reminded.history.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["scheduled", "reminded"], "one reminder, one event");
    assert!(
        !Sweep::claim(&store, &owed, Notice::Reminder, &claim)
            .await
            .unwrap(),
        "the claim's own request arriving late cannot take a reminder sent"
    );
    assert!(
        !Sweep::complete(&store, &owed, Notice::Reminder, &other.id, &claim.at)
            .await
            .unwrap(),
        "nor can another claim record it, even at the same instant"
    );
}

/// Records `notice` done by `claim`, then sends the same record again (its answer lost): both count as done.
async fn recorded_and_sent_again(
    store: &MemoryStore,
    owed: &crate::item::OccurrenceItem,
    notice: Notice,
    claim: &Claim,
) {
    for attempt in ["first", "sent again"] {
        assert!(
            Sweep::complete(store, owed, notice, &claim.id, &claim.at)
                .await
                .unwrap(),
            "{notice:?}: {attempt}"
        );
    }
}

/// The patient's check-in, as stored now.
fn check_in(store: &MemoryStore) -> crate::item::OccurrenceItem {
    store
        .occurrence_items()
        .into_iter()
        .find(|o| o.occurrence_id == "check-in")
        .unwrap()
}

/// The check-in's history, as events.
fn check_in_events(store: &MemoryStore) -> Vec<String> {
    check_in(store)
        .history
        .into_iter()
        .map(|e| e.event)
        .collect()
}

#[tokio::test]
async fn a_reminder_recorded_after_the_miss_and_sent_again_is_still_its_own_once() {
    let (store, _, _, _) = enrolled(1).await;
    let owed = check_in(&store);
    let claim = Claim::taken(at("10:02:59"));
    assert!(
        Sweep::claim(&store, &owed, Notice::Reminder, &claim)
            .await
            .unwrap()
    );
    // A slow publish across the close: another sweep records the miss before this one records its reminder.
    assert!(
        store
            .record_missed(&owed, &format_timestamp(at("10:03:01")))
            .await
            .unwrap()
    );
    recorded_and_sent_again(&store, &owed, Notice::Reminder, &claim).await;
    assert_eq!(check_in_events(&store), ["scheduled", "missed", "reminded"]);
}

#[tokio::test]
async fn a_missed_survey_notice_sent_again_after_its_answer_was_lost_is_recorded_once() {
    let (store, _, _, _) = enrolled(1).await;
    let owed = check_in(&store);
    assert!(
        store
            .record_missed(&owed, &format_timestamp(at("10:03:01")))
            .await
            .unwrap()
    );
    let claim = Claim::taken(at("10:03:05"));
    assert!(
        Sweep::claim(&store, &owed, Notice::Missed, &claim)
            .await
            .unwrap()
    );
    recorded_and_sent_again(&store, &owed, Notice::Missed, &claim).await;
    let other = Claim::taken(at("10:03:06"));
    assert!(
        !Sweep::complete(&store, &owed, Notice::Missed, &other.id, &claim.at)
            .await
            .unwrap(),
        "another claim recording it is refused"
    );
    assert_eq!(check_in_events(&store), ["scheduled", "missed", "noticed"]);
}

#[tokio::test]
async fn a_window_moved_after_the_sweep_read_it_is_not_reminded_at_its_old_time() {
    let (store, sweeper, reminders, _) = enrolled(1).await;
    let stale = check_in(&store);
    let mut moved = stale.clone();
    moved.opens = "2026-12-04T11:01:00.000Z".into();
    moved.due_at = Some(moved.opens.clone());
    store.insert(&moved);
    let claim = Claim::taken(at("10:01:05"));
    assert!(
        !Sweep::claim(&store, &stale, Notice::Reminder, &claim)
            .await
            .unwrap()
    );
    sweeper.sweep(at("10:01:05")).await.unwrap();
    assert!(
        reminders
            .published()
            .iter()
            .all(|m| m.timepoint != "check-in")
    );
}

#[tokio::test]
async fn a_timepoint_with_two_instruments_is_one_reminder_naming_both_and_each_miss_is_its_own() {
    let store = MemoryStore::default();
    let request = serde_json::from_value(json!({
        "patientId": "P-0", "scheduleId": "postop-followup", "timeZone": "Europe/Berlin",
        "anchors": { "surgery": "2026-12-10" }
    }))
    .unwrap();
    let enrolled = "2026-12-04T10:00:00Z".parse().unwrap();
    let revision = enrol(
        "T-1",
        request,
        "nurse-1",
        enrolled,
        Schedules::embedded().unwrap(),
    )
    .unwrap();
    store
        .write(
            &revision,
            &AuditItem::of_enrolment(&revision.enrolment, &nurse(), ENROLLED),
        )
        .await
        .unwrap();
    let (reminders, missed) = (MemoryTopic::default(), MemoryTopic::default());
    let sweeper = Reminders::new(store.clone(), reminders.clone(), missed.clone());
    // Day 30 (9 January, 08:00 Berlin) opens two days early and closes three days late.
    let opened = OffsetDateTime::parse(
        "2027-01-07T07:00:30Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    sweeper.sweep(opened).await.unwrap();
    let day30: Vec<ScheduleMessage> = reminders
        .published()
        .into_iter()
        .filter(|m| m.timepoint == "day-30")
        .collect();
    assert_eq!(day30.len(), 1, "{day30:?}");
    assert_eq!(day30[0].instruments, ["phq-9", "postop-recovery"]);
    let closed = OffsetDateTime::parse(
        "2027-01-12T07:00:30Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    sweeper.sweep(closed).await.unwrap();
    let mut missed_day30: Vec<Vec<String>> = missed
        .published()
        .into_iter()
        .filter(|m| m.timepoint == "day-30")
        .map(|m| m.instruments)
        .collect();
    missed_day30.sort();
    assert_eq!(
        missed_day30,
        [vec!["phq-9".to_owned()], vec!["postop-recovery".to_owned()]]
    );
}

#[test]
fn a_subject_stays_under_what_sns_accepts_whatever_the_ids() {
    use crate::ports::Publishable;
    let long = "X".repeat(64);
    let store_item = {
        let request = serde_json::from_value(json!({
            "patientId": long, "scheduleId": "burst-drill", "timeZone": "UTC"
        }))
        .unwrap();
        let revision = enrol(
            &long,
            request,
            "n",
            ENROLLED.parse().unwrap(),
            Schedules::embedded().unwrap(),
        )
        .unwrap();
        revision.occurrences[0].item().clone()
    };
    for notice in [Notice::Reminder, Notice::Missed] {
        let subject = ScheduleMessage::of(notice, &store_item).subject();
        assert!(subject.chars().count() < 100, "{subject}");
    }
}

#[test]
fn every_sweep_that_ran_to_its_end_beats_the_heart_even_with_nothing_due() {
    let (swept, counted) = crate::metrics::recorded::run(async {
        let (_, sweeper, _, _) = enrolled(1).await;
        sweeper.sweep(at("09:00:00")).await
    });
    assert_eq!(swept.unwrap().reminded, 0, "nothing was due");
    assert_eq!(counted.counter("SweepsCompleted"), 1);
}
