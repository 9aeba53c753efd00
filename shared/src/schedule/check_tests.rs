//! The shipped schedules pass every check and are locked; each check planted once, to see it fail.

use serde_json::{Value, json};

use super::check;
use super::definition::Schedule;
use super::tests::{catalogue, followup, planted, schedules};
use crate::instrument::catalogue::canonical_hash;

const LOCK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/instruments/catalogue.lock"
));

#[test]
fn the_shipped_schedules_pass_every_check() {
    let problems = check::schedules(schedules(), catalogue());
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(schedules().get("postop-followup", None).is_some());
    assert!(schedules().get("burst-drill", None).is_some());
}

#[test]
fn every_published_schedule_is_locked_and_unchanged() {
    for schedule in schedules().all() {
        let line = format!(
            "{}{} {} {}",
            super::SCHEDULES_DIR,
            schedule.id,
            schedule.version,
            canonical_hash(schedule.source)
        );
        assert!(
            LOCK.lines().any(|l| l == line),
            "{} is not in catalogue.lock as published (or changed after it was): a new version is published by \
             adding:\n{line}",
            schedule.path
        );
    }
    for line in LOCK.lines().filter(|l| l.starts_with(super::SCHEDULES_DIR)) {
        let mut fields = line.split_whitespace();
        let id = fields
            .next()
            .unwrap()
            .trim_start_matches(super::SCHEDULES_DIR);
        let version = fields.next().unwrap();
        assert!(
            schedules().get(id, Some(version)).is_some(),
            "schedule {id} version {version} is in catalogue.lock but gone: published versions stay"
        );
    }
}

/// A planted fault: what it is, how it changes the schedule, and the problem the check must report.
type Plant = (&'static str, Box<dyn Fn(&mut Value)>, &'static str);

#[test]
fn each_check_fails_on_the_schedule_it_guards() {
    let problems = |change: &dyn Fn(&mut Value)| check::schedule(&planted(change), catalogue());
    let cases: Vec<Plant> = vec![
        (
            "an instrument the catalogue lacks",
            Box::new(|v| {
                v["action"][1]["definitionCanonical"] =
                    json!("https://epro.example.org/fhir/Questionnaire/sf-36")
            }),
            "sf-36 is not an instrument of the catalogue",
        ),
        (
            "day 7 widened into day 30's window (both PHQ-9)",
            Box::new(|v| {
                v["action"][1]["relatedAction"][0]["extension"][0]["valueRange"]["high"]["value"] =
                    json!(22)
            }),
            "the windows of day-7 and day-30 (phq-9) overlap",
        ),
        (
            "a daily diary with a 25-hour window",
            Box::new(|v| {
                v["action"][3]["relatedAction"][0]["extension"][0]["valueRange"]["high"]["value"] =
                    json!(25)
            }),
            "(pain-nrs) overlap",
        ),
        (
            "a window that closes before it opens",
            Box::new(|v| {
                v["action"][1]["relatedAction"][0]["extension"][0]["valueRange"]["high"]["value"] =
                    json!(-2)
            }),
            "the window runs from at most 0",
        ),
        (
            "a negative offset",
            Box::new(|v| v["action"][1]["relatedAction"][0]["offsetDuration"]["value"] = json!(-7)),
            "the offset counts forward",
        ),
        (
            "a time of day on an hourly offset",
            Box::new(|v| v["action"][1]["relatedAction"][0]["offsetDuration"]["code"] = json!("h")),
            "a time of day needs an offset in days or weeks",
        ),
        (
            "no end to a repetition",
            Box::new(|v| v["action"][3]["timingTiming"]["repeat"]["count"] = json!(0)),
            "count must be 1 to 366",
        ),
        (
            "a year of daily diaries, more than one enrolment can write",
            Box::new(|v| v["action"][3]["timingTiming"]["repeat"]["count"] = json!(200)),
            "surveys due a patient: at most 98 can be enrolled at once",
        ),
        (
            "an element the calendar would ignore",
            Box::new(|v| v["action"][3]["timingTiming"]["repeat"]["dayOfWeek"] = json!(["mon"])),
            "timingTiming.repeat.dayOfWeek is not something the calendar reads",
        ),
        (
            "a second day-7",
            Box::new(|v| {
                let copy = v["action"][1].clone();
                v["action"].as_array_mut().unwrap().push(copy);
            }),
            "occurrence id day-7 is used twice",
        ),
    ];
    for (name, change, expected) in cases {
        let found = problems(&*change);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{name}: expected {expected:?} in {found:#?}"
        );
    }
    assert!(
        Schedule::parse(
            Box::leak(
                followup()
                    .source
                    .replace("AcceptableOffsetRangeSoa", "Elsewhere")
                    .into_boxed_str()
            ),
            "x"
        )
        .is_err(),
        "a timepoint without its window does not parse"
    );
}
