//! The calendar's hard cases (daylight saving, travel, an anchor moved after some surveys were done, the last
//! repetition, windows that touch, withdrawal) and the placement of submissions. The checks' own tests, and the
//! helpers' other users, are in `check_tests`.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Schedules;
use super::calendar::{AnchorValue, Terms, local, occurrences, utc};
use super::definition::Schedule;
use super::placement::{Timing, place};
use crate::instrument::Catalogue;

pub(super) fn schedules() -> &'static Schedules {
    Schedules::embedded().expect("the embedded schedules parse")
}

pub(super) fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

pub(super) fn followup() -> &'static Schedule {
    schedules().get("postop-followup", Some("1")).unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn terms(from: &str, anchor: &str, zone: &str) -> Terms {
    let name = if anchor.len() == 10 {
        "surgery"
    } else {
        "enrolment"
    };
    Terms {
        from: at(from),
        anchors: [(name.to_owned(), AnchorValue::parse(anchor).unwrap())].into(),
        zone: zone.into(),
    }
}

/// The window of one occurrence, as UTC text: (opens, closes).
fn window(calendar: &[super::Occurrence], id: &str, instrument: &str) -> (String, String) {
    let o = calendar
        .iter()
        .find(|o| o.id == id && o.instrument == instrument)
        .unwrap_or_else(|| panic!("no {id} {instrument}"));
    (utc(o.window.opens), utc(o.window.closes))
}

/// A schedule built from the shipped follow-up, changed by `change`.
pub(super) fn planted(change: impl Fn(&mut Value)) -> Schedule {
    let mut value: Value = serde_json::from_str(followup().source).unwrap();
    change(&mut value);
    let source: &'static str = Box::leak(value.to_string().into_boxed_str());
    Schedule::parse(source, "schedules/postop-followup/1.json").unwrap()
}

#[test]
fn day_7_opens_at_eight_in_the_morning_local_time_on_either_side_of_a_daylight_saving_change() {
    // Berlin leaves summer time on 25 October 2026: surgery on the 20th puts day 6 (the window's first day) on
    // the 26th, after the change, so 08:00 local is 07:00 UTC, where it was 06:00 UTC the week before.
    let before = occurrences(
        followup(),
        &[terms("2026-10-01T00:00:00Z", "2026-10-10", "Europe/Berlin")],
        None,
    )
    .unwrap();
    let after = occurrences(
        followup(),
        &[terms("2026-10-01T00:00:00Z", "2026-10-20", "Europe/Berlin")],
        None,
    )
    .unwrap();
    assert_eq!(
        window(&before, "day-7", "phq-9"),
        (
            "2026-10-16T06:00:00.000Z".into(),
            "2026-10-19T06:00:00.000Z".into()
        )
    );
    assert_eq!(
        window(&after, "day-7", "phq-9"),
        (
            "2026-10-26T07:00:00.000Z".into(),
            "2026-10-29T07:00:00.000Z".into()
        )
    );
    // New York springs forward on 14 March 2027: the pain diary keeps opening at 20:00 local, so in UTC it
    // opens an hour earlier from the 14th on; its 4-hour window stays 4 hours.
    let diary = occurrences(
        followup(),
        &[terms(
            "2027-03-01T00:00:00Z",
            "2027-03-10",
            "America/New_York",
        )],
        None,
    )
    .unwrap();
    assert_eq!(
        window(&diary, "pain-diary-3", "pain-nrs"),
        (
            "2027-03-14T01:00:00.000Z".into(),
            "2027-03-14T05:00:00.000Z".into()
        ),
        "13 March, 20:00 EST"
    );
    assert_eq!(
        window(&diary, "pain-diary-4", "pain-nrs"),
        (
            "2027-03-15T00:00:00.000Z".into(),
            "2027-03-15T04:00:00.000Z".into()
        ),
        "14 March, 20:00 EDT"
    );
    let opens = diary
        .iter()
        .find(|o| o.id == "pain-diary-4")
        .unwrap()
        .window
        .opens;
    assert_eq!(
        local(opens, "America/New_York"),
        "2027-03-14T20:00:00-04:00[America/New_York]"
    );
}

#[test]
fn a_patient_who_travels_keeps_the_windows_already_open_and_gets_the_rest_in_the_new_zone() {
    // Enrolled in Berlin, surgery 1 December; at noon on 5 December, before that evening's diary (4) opens, the
    // patient flies to New York.
    let enrolled = terms("2026-11-30T09:00:00Z", "2026-12-01", "Europe/Berlin");
    let travelled = Terms {
        from: at("2026-12-05T11:00:00Z"),
        zone: "America/New_York".into(),
        ..enrolled.clone()
    };
    let calendar = occurrences(followup(), &[enrolled, travelled], None).unwrap();
    // Diary 3 (4 December, 20:00 Berlin) had opened: it stays.
    assert_eq!(
        window(&calendar, "pain-diary-3", "pain-nrs"),
        (
            "2026-12-04T19:00:00.000Z".into(),
            "2026-12-04T23:00:00.000Z".into()
        )
    );
    // Diary 4 had not: 20:00 on 5 December in New York.
    assert_eq!(
        window(&calendar, "pain-diary-4", "pain-nrs"),
        (
            "2026-12-06T01:00:00.000Z".into(),
            "2026-12-06T05:00:00.000Z".into()
        )
    );
    let day7 = calendar.iter().find(|o| o.id == "day-7").unwrap();
    assert_eq!((day7.zone.as_str(), day7.terms), ("America/New_York", 2));
}

#[test]
fn surgery_moved_after_some_surveys_were_done_moves_only_the_windows_not_yet_open() {
    // Surgery was on 1 December; at noon on the 9th (day-7's window, 7-10 December, is open) the date is corrected
    // to the 3rd. Day 7 stays as the patient saw it; day 30 and the diary evenings still to come move by two days;
    // diary evenings that had opened stay.
    let enrolled = terms("2026-11-30T09:00:00Z", "2026-12-01", "UTC");
    let moved = Terms {
        from: at("2026-12-09T12:00:00Z"),
        ..terms("2026-12-09T12:00:00Z", "2026-12-03", "UTC")
    };
    let calendar = occurrences(followup(), &[enrolled.clone(), moved], None).unwrap();
    let unmoved = occurrences(followup(), &[enrolled], None).unwrap();
    assert_eq!(
        window(&calendar, "day-7", "phq-9"),
        window(&unmoved, "day-7", "phq-9")
    );
    assert_eq!(
        window(&calendar, "day-30", "phq-9"),
        (
            "2026-12-31T08:00:00.000Z".into(),
            "2027-01-05T08:00:00.000Z".into()
        )
    );
    assert_eq!(
        window(&calendar, "pain-diary-7", "pain-nrs"),
        window(&unmoved, "pain-diary-7", "pain-nrs"),
        "diary 7 opened on the evening of 8 December"
    );
    assert_eq!(
        window(&calendar, "pain-diary-8", "pain-nrs").0,
        "2026-12-11T20:00:00.000Z",
        "diary 8 had not opened: now the 8th evening after the 3rd"
    );
}

#[test]
fn an_anchor_moved_earlier_drops_the_windows_it_would_put_in_the_past() {
    let enrolled = terms("2026-11-30T09:00:00Z", "2026-12-01", "UTC");
    let moved = terms("2026-12-01T12:00:00Z", "2026-11-01", "UTC");
    let calendar = occurrences(followup(), &[enrolled, moved], None).unwrap();
    // Day 7 under the new date closed on 9 November: nobody could do it, nobody is told they missed it.
    assert!(calendar.iter().all(|o| o.id != "day-7"));
    // Day 30 under the new date (29 November - 4 December) had not opened under the old one: it moves.
    assert_eq!(
        window(&calendar, "day-30", "phq-9").0,
        "2026-11-29T08:00:00.000Z"
    );
}

#[test]
fn a_repeating_timepoint_ends_at_its_count_and_its_windows_may_touch() {
    let calendar = occurrences(
        followup(),
        &[terms("2026-11-30T09:00:00Z", "2026-12-01", "UTC")],
        None,
    )
    .unwrap();
    let diaries: Vec<_> = calendar
        .iter()
        .filter(|o| o.timepoint == "pain-diary")
        .collect();
    assert_eq!(diaries.len(), 14);
    assert_eq!(diaries.last().unwrap().id, "pain-diary-14");
    assert_eq!(
        utc(diaries.last().unwrap().window.opens),
        "2026-12-15T20:00:00.000Z"
    );
    let weekly: Vec<_> = calendar
        .iter()
        .filter(|o| o.timepoint == "gad-weekly")
        .collect();
    assert_eq!((weekly.len(), weekly[9].id.as_str()), (10, "gad-weekly-10"));

    // The drill's follow-ups: [3, 5) and [5, 7) minutes after enrolment, touching. A survey at exactly 5 minutes
    // answers the second, on time; one a millisecond earlier, the first.
    let drill = schedules().get("burst-drill", None).unwrap();
    let calendar = occurrences(
        drill,
        &[terms("2026-12-04T10:00:00Z", "2026-12-04T10:00:00Z", "UTC")],
        None,
    )
    .unwrap();
    assert_eq!(
        window(&calendar, "follow-up-1", "qol-daily"),
        (
            "2026-12-04T10:03:00.000Z".into(),
            "2026-12-04T10:05:00.000Z".into()
        )
    );
    let at_five = place(&calendar, None, "qol-daily", "", at("2026-12-04T10:05:00Z"));
    assert_eq!(
        (at_five.timing, at_five.occurrence.unwrap().id.as_str()),
        (Timing::OnTime, "follow-up-2")
    );
    let just_before = place(
        &calendar,
        None,
        "qol-daily",
        "",
        at("2026-12-04T10:04:59.999Z"),
    );
    assert_eq!(just_before.occurrence.unwrap().id, "follow-up-1");
}

#[test]
fn windows_closed_before_enrolment_are_not_expected() {
    // Enrolled on 20 December, surgery on 1 December: day 7 and most diary evenings were over before anyone
    // could ask for them.
    let calendar = occurrences(
        followup(),
        &[terms("2026-12-20T09:00:00Z", "2026-12-01", "UTC")],
        None,
    )
    .unwrap();
    assert!(
        calendar
            .iter()
            .all(|o| o.id != "day-7" && o.id != "pain-diary-14")
    );
    assert!(calendar.iter().any(|o| o.id == "day-30"));
}

#[test]
fn withdrawal_ends_every_window_not_closed_by_then() {
    let calendar = occurrences(
        followup(),
        &[terms("2026-11-30T09:00:00Z", "2026-12-01", "UTC")],
        Some(at("2026-12-08T12:00:00Z")),
    )
    .unwrap();
    let withdrawn = |id: &str| calendar.iter().find(|o| o.id == id).unwrap().withdrawn;
    assert!(!withdrawn("pain-diary-6"), "closed on the 7th");
    assert!(withdrawn("day-7"), "open on the 8th");
    assert!(withdrawn("day-30"));
    // A survey completed before withdrawal still counts; one after is flagged.
    let before = place(
        &calendar,
        Some(at("2026-12-08T12:00:00Z")),
        "phq-9",
        "day-7",
        at("2026-12-08T09:00:00Z"),
    );
    assert_eq!(before.timing, Timing::OnTime);
    let after = place(
        &calendar,
        Some(at("2026-12-08T12:00:00Z")),
        "phq-9",
        "day-7",
        at("2026-12-08T13:00:00Z"),
    );
    assert_eq!(after.timing, Timing::AfterWithdrawal);
    let unscheduled = place(
        &calendar,
        Some(at("2026-12-08T12:00:00Z")),
        "ae-diary",
        "x",
        at("2026-12-09T09:00:00Z"),
    );
    assert_eq!(unscheduled.timing, Timing::AfterWithdrawal);
}

#[test]
fn a_submission_is_on_time_early_late_out_of_window_or_unscheduled() {
    let calendar = occurrences(
        followup(),
        &[terms("2026-11-30T09:00:00Z", "2026-12-01", "UTC")],
        None,
    )
    .unwrap();
    // Day 7: window 7 December 08:00 to 10 December 08:00 UTC, a day's grace either side.
    let timing = |timepoint: &str, time: &str| {
        let placed = place(&calendar, None, "phq-9", timepoint, at(time));
        (placed.timing, placed.occurrence.map(|o| o.id))
    };
    let day7 = Some("day-7".to_owned());
    assert_eq!(
        timing("day-7", "2026-12-07T08:00:00Z"),
        (Timing::OnTime, day7.clone())
    );
    assert_eq!(
        timing("day-7", "2026-12-10T07:59:59Z"),
        (Timing::OnTime, day7.clone())
    );
    assert_eq!(
        timing("day-7", "2026-12-10T08:00:00Z"),
        (Timing::Late, day7.clone())
    );
    assert_eq!(
        timing("day-7", "2026-12-06T09:00:00Z"),
        (Timing::Early, day7.clone())
    );
    assert_eq!(
        timing("day-7", "2026-12-20T09:00:00Z"),
        (Timing::OutOfWindow, day7.clone())
    );
    // An app that sends another timepoint name: placed by time.
    assert_eq!(
        timing("week-1", "2026-12-08T09:00:00Z"),
        (Timing::OnTime, day7)
    );
    assert_eq!(
        timing("week-1", "2026-12-20T09:00:00Z"),
        (Timing::Unscheduled, None)
    );
    let other = place(
        &calendar,
        None,
        "ae-diary",
        "day-7",
        at("2026-12-08T09:00:00Z"),
    );
    assert_eq!(other.timing, Timing::Unscheduled);
}

#[test]
fn an_unknown_zone_or_a_missing_anchor_is_an_error_not_a_guess() {
    assert!(
        occurrences(
            followup(),
            &[terms("2026-11-30T09:00:00Z", "2026-12-01", "Mars/Olympus")],
            None
        )
        .is_err()
    );
    let drill_terms = terms("2026-11-30T09:00:00Z", "2026-12-01", "UTC");
    let drill = schedules().get("burst-drill", None).unwrap();
    assert!(
        occurrences(drill, &[drill_terms], None).is_err(),
        "the drill counts from the enrolment"
    );
}

#[test]
fn a_daily_time_that_daylight_saving_skips_moves_that_day_only() {
    // A diary at 02:30 in Berlin: on 28 March 2027 clocks jump from 02:00 to 03:00.
    let diary = planted(|v| {
        let action = v["action"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["id"] == "pain-diary")
            .unwrap();
        action["timingTiming"]["repeat"]["timeOfDay"] = json!(["02:30:00"]);
    });
    // The first diary falls on that day (surgery on the 27th, diaries from the next day).
    let calendar = occurrences(
        &diary,
        &[terms("2027-03-20T00:00:00Z", "2027-03-27", "Europe/Berlin")],
        None,
    )
    .unwrap();
    let due = |id: &str| {
        let o = calendar.iter().find(|o| o.id == id).unwrap();
        local(o.due, "Europe/Berlin")
    };
    assert_eq!(
        due("pain-diary-1"),
        "2027-03-28T03:30:00+02:00[Europe/Berlin]",
        "after the gap"
    );
    assert_eq!(
        due("pain-diary-2"),
        "2027-03-29T02:30:00+02:00[Europe/Berlin]",
        "back at the time of day"
    );
    assert_eq!(
        due("pain-diary-3"),
        "2027-03-30T02:30:00+02:00[Europe/Berlin]"
    );
}
