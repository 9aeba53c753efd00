//! Enrolling writes the patient's calendar; each change keeps who, when and why, moves only what had not opened,
//! and is refused when made against a revision someone else already changed.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::*;
use crate::item::OccurrenceItem;
use crate::schedule::Timing;

fn schedules() -> &'static Schedules {
    Schedules::embedded().unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn surgery(date: &str) -> BTreeMap<String, String> {
    [("surgery".to_owned(), date.to_owned())].into()
}

fn request(anchors: BTreeMap<String, String>, zone: &str) -> EnrolRequest {
    EnrolRequest {
        patient_id: "p-001".into(),
        schedule_id: "postop-followup".into(),
        schedule_version: None,
        anchors,
        time_zone: zone.into(),
        reason: Some("consented at site 3".into()),
    }
}

fn enrolled(now: &str) -> Revision {
    enrol(
        "trial-a",
        request(surgery("2026-12-10"), "Europe/Berlin"),
        "nurse-1",
        at(now),
        schedules(),
    )
    .unwrap()
}

fn stored(revision: &Revision) -> Vec<OccurrenceItem> {
    revision
        .occurrences
        .iter()
        .map(|write| match write {
            OccurrenceWrite::New(item) | OccurrenceWrite::Moved(item) => item.clone(),
            other => panic!("{other:?} at enrolment"),
        })
        .collect()
}

fn change(anchors: BTreeMap<String, String>, zone: Option<&str>, expected: Option<u32>) -> Change {
    Change::Terms(ChangeRequest {
        anchors,
        time_zone: zone.map(Into::into),
        reason: "surgery rescheduled by the surgeon".into(),
        expected_revision: expected,
    })
}

#[test]
fn enrolling_writes_one_occurrence_per_survey_due_each_to_be_reminded_when_it_opens() {
    let revision = enrolled("2026-12-04T10:00:00Z");
    let items = stored(&revision);
    // day 7 (phq-9), day 30 (phq-9, postop-recovery), 14 evening pain diaries, 10 weekly GAD-7.
    assert_eq!(items.len(), 1 + 2 + 14 + 10);
    assert_eq!(revision.replaces, None);
    assert_eq!(revision.enrolment.revision, 1);
    assert_eq!(revision.enrolment.history[0].by, "nurse-1");
    assert_eq!(revision.enrolment.history[0].change, "enrolled");
    let day7 = items.iter().find(|o| o.occurrence_id == "day-7").unwrap();
    // Day 7 after 10 December is 17 December, 08:00 in Berlin (UTC+1), window −1/+2 days.
    assert_eq!(day7.due, "2026-12-17T07:00:00.000Z");
    assert_eq!(day7.opens, "2026-12-16T07:00:00.000Z");
    assert_eq!(day7.closes, "2026-12-19T07:00:00.000Z");
    assert_eq!(day7.due_at.as_deref(), Some(day7.opens.as_str()));
    assert!(
        items
            .iter()
            .all(|o| o.pk == "TRIAL#trial-a#PATIENT#p-001" && o.revision == 1)
    );
}

#[test]
fn the_enrolment_anchor_defaults_to_the_moment_of_enrolment() {
    let request = EnrolRequest {
        schedule_id: "burst-drill".into(),
        ..request(BTreeMap::new(), "America/New_York")
    };
    let revision = enrol(
        "trial-a",
        request,
        "nurse-1",
        at("2026-12-04T10:00:00Z"),
        schedules(),
    )
    .unwrap();
    assert_eq!(
        revision.enrolment.terms[0].anchors["enrolment"],
        "2026-12-04T10:00:00.000Z"
    );
    let check_in = stored(&revision)
        .into_iter()
        .find(|o| o.timepoint == "check-in")
        .unwrap();
    assert_eq!(check_in.opens, "2026-12-04T10:01:00.000Z");
}

#[test]
fn surgery_moved_moves_the_windows_not_yet_open_and_records_who_when_and_why() {
    let first = enrolled("2026-12-04T10:00:00Z");
    let mut items = stored(&first);
    // Day 7 was done on time; then, on 20 December, surgery is moved a week later (after day 7's window).
    let day7 = items
        .iter_mut()
        .find(|o| o.occurrence_id == "day-7")
        .unwrap();
    day7.done_timing = Some(Timing::OnTime);
    let second = revise(
        &first.enrolment,
        &items,
        change(surgery("2026-12-17"), None, Some(1)),
        "nurse-2",
        at("2026-12-20T09:00:00Z"),
        schedules(),
    )
    .unwrap();
    assert_eq!(second.replaces, Some(1));
    assert_eq!(second.enrolment.revision, 2);
    let entry = second.enrolment.history.last().unwrap();
    assert_eq!(
        (entry.by.as_str(), entry.change.as_str()),
        ("nurse-2", "terms-changed")
    );
    assert_eq!(entry.detail, "surgery 2026-12-10 → 2026-12-17");
    assert_eq!(entry.reason, "surgery rescheduled by the surgeon");
    let moved: Vec<&OccurrenceItem> = second
        .occurrences
        .iter()
        .filter_map(|w| match w {
            OccurrenceWrite::Moved(item) => Some(item),
            _ => None,
        })
        .collect();
    assert!(
        moved.iter().all(|o| o.occurrence_id != "day-7"),
        "a completed survey is never moved"
    );
    let day30 = moved.iter().find(|o| o.occurrence_id == "day-30").unwrap();
    assert_eq!(day30.due, "2027-01-16T07:00:00.000Z");
    // Pain diaries already open on 20 December stay where they were.
    assert!(moved.iter().all(|o| o.occurrence_id != "pain-diary-1"));
}

#[test]
fn a_change_made_against_an_older_revision_is_refused() {
    let first = enrolled("2026-12-04T10:00:00Z");
    let items = stored(&first);
    let stale = revise(
        &first.enrolment,
        &items,
        change(surgery("2026-12-11"), None, Some(0)),
        "nurse-2",
        at("2026-12-05T09:00:00Z"),
        schedules(),
    );
    assert_eq!(
        stale,
        Err(EnrolmentError::Stale {
            current: 1,
            expected: 0
        })
    );
    let nothing = revise(
        &first.enrolment,
        &items,
        change(surgery("2026-12-10"), Some("Europe/Berlin"), None),
        "nurse-2",
        at("2026-12-05T09:00:00Z"),
        schedules(),
    );
    assert!(
        matches!(
            nothing,
            Err(EnrolmentError::Invalid {
                field: "anchors",
                ..
            })
        ),
        "{nothing:?}"
    );
}

#[test]
fn a_patient_who_moves_zone_gets_the_windows_not_yet_open_in_the_new_zone() {
    let first = enrolled("2026-12-04T10:00:00Z");
    let second = revise(
        &first.enrolment,
        &stored(&first),
        change(BTreeMap::new(), Some("America/New_York"), None),
        "nurse-2",
        at("2026-12-05T09:00:00Z"),
        schedules(),
    )
    .unwrap();
    let day7 = second
        .occurrences
        .iter()
        .find_map(|w| match w {
            OccurrenceWrite::Moved(o) if o.occurrence_id == "day-7" => Some(o),
            _ => None,
        })
        .unwrap();
    // Day 7 is now 17 December 08:00 in New York (UTC−5), counted from surgery on 10 December in New York.
    assert_eq!(day7.due, "2026-12-17T13:00:00.000Z");
    assert_eq!(day7.time_zone, "America/New_York");
    assert_eq!(
        second.enrolment.history[1].detail,
        "time zone Europe/Berlin → America/New_York"
    );
}

#[test]
fn withdrawal_ends_the_surveys_not_yet_closed_and_the_enrolment_changes_no_more() {
    let first = enrolled("2026-12-04T10:00:00Z");
    let withdrawn = revise(
        &first.enrolment,
        &stored(&first),
        Change::Withdraw(WithdrawRequest {
            reason: "withdrew consent".into(),
            at: Some("2026-12-18T12:00:00Z".into()),
        }),
        "investigator-1",
        at("2026-12-19T09:00:00Z"),
        schedules(),
    )
    .unwrap();
    let ended: Vec<&str> = withdrawn
        .occurrences
        .iter()
        .filter_map(|w| match w {
            OccurrenceWrite::Withdrawn(o) => Some(o.occurrence_id.as_str()),
            _ => None,
        })
        .collect();
    // Day 7 (closes 19 December 07:00) was still open at the withdrawal; the first pain diaries had closed.
    assert!(ended.contains(&"day-7"));
    assert!(!ended.contains(&"pain-diary-1"));
    assert_eq!(
        withdrawn.enrolment.withdrawal.as_ref().unwrap().at,
        "2026-12-18T12:00:00.000Z"
    );
    let again = revise(
        &withdrawn.enrolment,
        &[],
        change(surgery("2026-12-11"), None, None),
        "nurse-2",
        at("2026-12-20T09:00:00Z"),
        schedules(),
    );
    assert!(matches!(again, Err(EnrolmentError::State(_))));
}

#[test]
fn what_the_schedule_cannot_use_is_refused_before_anything_is_written() {
    let now = at("2026-12-04T10:00:00Z");
    let bad_zone = enrol(
        "trial-a",
        request(surgery("2026-12-10"), "Mars/Olympus"),
        "n",
        now,
        schedules(),
    );
    assert!(matches!(
        bad_zone,
        Err(EnrolmentError::Invalid {
            field: "timeZone",
            ..
        })
    ));
    let unknown_anchor = enrol(
        "trial-a",
        request(
            surgery("2026-12-10")
                .into_iter()
                .chain([("baseline".into(), "2026-12-01".into())])
                .collect(),
            "UTC",
        ),
        "n",
        now,
        schedules(),
    );
    assert!(matches!(
        unknown_anchor,
        Err(EnrolmentError::Invalid {
            field: "anchors",
            ..
        })
    ));
    let missing_anchor = enrol(
        "trial-a",
        request(BTreeMap::new(), "UTC"),
        "n",
        now,
        schedules(),
    );
    assert!(
        matches!(
            missing_anchor,
            Err(EnrolmentError::Invalid {
                field: "anchors",
                ..
            })
        ),
        "{missing_anchor:?}"
    );
    let no_schedule = enrol(
        "trial-a",
        EnrolRequest {
            schedule_id: "nightly".into(),
            ..request(surgery("2026-12-10"), "UTC")
        },
        "n",
        now,
        schedules(),
    );
    assert!(matches!(
        no_schedule,
        Err(EnrolmentError::UnknownSchedule(_))
    ));
}
