//! What every published schedule must satisfy, against the catalogue it names, so that a calendar never meets a
//! surprise and no two surveys of one instrument compete for the same submission: `make test` runs it.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::calendar::{AnchorValue, Terms, occurrences};
use super::definition::Schedule;
use super::resource::unread_elements;
use super::{SCHEDULES_DIR, Schedules};
use crate::instrument::Catalogue;
use crate::instrument::check::is_id;

/// The most repetitions of one timepoint: a year of daily diaries.
pub const MAX_REPEATS: u32 = 366;

/// Zones and anchor dates the overlap check computes calendars for: either side of both daylight-saving changes
/// in Europe and North America, and a quiet day.
const PROBE_ZONES: [&str; 3] = ["UTC", "Europe/Berlin", "America/New_York"];
const PROBE_DATES: [&str; 5] = [
    "2027-01-15",
    "2027-03-13",
    "2027-03-27",
    "2027-10-30",
    "2027-11-06",
];

/// Every problem of every schedule, each naming its file.
pub fn schedules(schedules: &Schedules, catalogue: &Catalogue) -> Vec<String> {
    schedules
        .all()
        .flat_map(|s| {
            schedule(s, catalogue)
                .into_iter()
                .map(move |p| format!("{}: {p}", s.path))
        })
        .collect()
}

/// Every problem of one published version.
pub fn schedule(schedule: &Schedule, catalogue: &Catalogue) -> Vec<String> {
    let mut problems = Vec::new();
    let expected = format!("{SCHEDULES_DIR}{}/{}.json", schedule.id, schedule.version);
    if schedule.path != expected {
        problems.push(format!("must be stored as {expected}"));
    }
    if !is_id(&schedule.id) {
        problems.push("id must be 1-64 characters of [A-Za-z0-9._:-]".into());
    }
    if !schedule.version.parse::<u32>().is_ok_and(|v| v > 0) || schedule.version.starts_with('0') {
        problems.push("version must be a whole number from 1, without leading zeros".into());
    }
    if !matches!(schedule.status.as_str(), "active" | "retired") {
        problems.push("status must be active or retired".into());
    }
    if schedule.url != format!("{}/PlanDefinition/{}", catalogue.base(), schedule.id) {
        problems.push(format!(
            "url must be {}/PlanDefinition/{}",
            catalogue.base(),
            schedule.id
        ));
    }
    let value: serde_json::Value = serde_json::from_str(schedule.source).unwrap_or_default();
    for element in unread_elements(&value) {
        problems.push(format!("{element} is not something the calendar reads"));
    }
    if schedule.grace.value < 0 {
        problems.push("the late grace cannot be negative".into());
    }
    let mut names = BTreeSet::new();
    for anchor in &schedule.anchors {
        if !is_id(&anchor.name) || !names.insert(&anchor.name) {
            problems.push(format!(
                "anchor {}: names must be ids and unique",
                anchor.name
            ));
        }
    }
    if schedule.timepoints.is_empty() {
        problems.push("a schedule has at least one timepoint".into());
    }
    let mut occurrence_ids = BTreeSet::new();
    for timepoint in &schedule.timepoints {
        let at = format!("timepoint {}", timepoint.id);
        if !is_id(&timepoint.id) {
            problems.push(format!(
                "{at}: its id is what apps send: 1-64 characters of [A-Za-z0-9._:-]"
            ));
        }
        if timepoint.instruments.is_empty() {
            problems.push(format!("{at}: names no instrument"));
        }
        for instrument in &timepoint.instruments {
            if catalogue.versions(instrument).is_empty() {
                problems.push(format!(
                    "{at}: {instrument} is not an instrument of the catalogue"
                ));
            }
        }
        let (low, high) = timepoint.window;
        if low.value > 0 || high.value <= 0 {
            problems.push(format!(
                "{at}: the window runs from at most 0 before the due time to after it"
            ));
        }
        if timepoint.offset.value < 0 {
            problems.push(format!("{at}: the offset counts forward from the anchor"));
        }
        if timepoint.time_of_day.is_some() && !timepoint.offset.unit.is_calendar() {
            problems.push(format!(
                "{at}: a time of day needs an offset in days or weeks"
            ));
        }
        if let Some(repeat) = timepoint.repeat {
            if repeat.count < 1 || repeat.count > MAX_REPEATS {
                problems.push(format!("{at}: count must be 1 to {MAX_REPEATS}"));
            }
            if repeat.every.value <= 0 {
                problems.push(format!("{at}: the period must be positive"));
            }
            if timepoint.time_of_day.is_some() && !repeat.every.unit.is_calendar() {
                problems.push(format!("{at}: a time of day repeats only by days or weeks"));
            }
        }
        for n in 1..=timepoint.count().min(MAX_REPEATS) {
            if !occurrence_ids.insert(timepoint.occurrence_id(n)) {
                problems.push(format!(
                    "{at}: occurrence id {} is used twice",
                    timepoint.occurrence_id(n)
                ));
            }
        }
    }
    // An enrolment writes its surveys due in one transaction with itself.
    let surveys: u64 = schedule
        .timepoints
        .iter()
        .map(|t| u64::from(t.count()) * t.instruments.len() as u64)
        .sum();
    if surveys > crate::enrolment::MAX_OCCURRENCES as u64 {
        problems.push(format!(
            "{surveys} surveys due a patient: at most {} can be enrolled at once",
            crate::enrolment::MAX_OCCURRENCES
        ));
    }
    if problems.is_empty() {
        problems.extend(overlaps(schedule));
    }
    problems
}

/// Windows of one instrument counted from one anchor must not overlap (touching is fine: a window is closed at its
/// start and open at its end), in any zone, across daylight-saving changes: otherwise a submission could answer
/// either.
fn overlaps(schedule: &Schedule) -> Vec<String> {
    let mut problems = BTreeSet::new();
    for zone in PROBE_ZONES {
        for date in PROBE_DATES {
            let anchors = schedule
                .anchors
                .iter()
                .map(|a| {
                    (
                        a.name.clone(),
                        AnchorValue::parse(date).expect("a probe date"),
                    )
                })
                .collect();
            let terms = Terms {
                from: Timestamp::UNIX_EPOCH,
                anchors,
                zone: zone.into(),
            };
            let calendar = match occurrences(schedule, &[terms], None) {
                Ok(calendar) => calendar,
                Err(error) => {
                    problems.insert(format!("no calendar in {zone} from {date}: {error}"));
                    continue;
                }
            };
            let anchor_of: BTreeMap<&str, &str> = schedule
                .timepoints
                .iter()
                .map(|t| (t.id.as_str(), t.anchor.as_str()))
                .collect();
            let mut by_instrument: BTreeMap<(&str, &str), Vec<_>> = BTreeMap::new();
            for occurrence in &calendar {
                let anchor = anchor_of[occurrence.timepoint.as_str()];
                by_instrument
                    .entry((occurrence.instrument.as_str(), anchor))
                    .or_default()
                    .push(occurrence);
            }
            for ((instrument, _), list) in by_instrument {
                for pair in list.windows(2) {
                    if pair[1].window.opens < pair[0].window.closes {
                        problems.insert(format!(
                            "the windows of {} and {} ({instrument}) overlap (in {zone}, anchored on {date})",
                            pair[0].id, pair[1].id
                        ));
                    }
                }
            }
        }
    }
    problems.into_iter().collect()
}
