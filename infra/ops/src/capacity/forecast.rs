//! The waves a trial's schedule will cause: every window opening is a reminder, and reminders that go out in the
//! same minute bring their surveys in together. From enrolments (a file of cohorts, each many patients enrolled
//! alike) or from a deployed trial's stored calendar, each wave with its time, size and time zones, and for the
//! large ones when to pre-warm and what to set (the capacity plan of [`super::report`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use intake::item::OccurrenceItem;
use intake::schedule::{AnchorValue, Schedules, Terms, occurrences};

/// Patients enrolled alike: the same schedule version, anchors and zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cohort {
    /// The schedule.
    pub schedule_id: String,
    /// Its version; its newest active one when absent.
    #[serde(default)]
    pub schedule_version: Option<String>,
    /// Each anchor's value (a date or an instant).
    pub anchors: BTreeMap<String, String>,
    /// The IANA time zone.
    pub time_zone: String,
    /// How many patients.
    #[serde(default = "one")]
    pub patients: u64,
}

fn one() -> u64 {
    1
}

/// The surveys whose windows open in one minute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wave {
    /// The minute (UTC).
    pub opens: Timestamp,
    /// Surveys due (each instrument of each patient).
    pub surveys: u64,
    /// Surveys by the patients' time zone.
    pub by_zone: BTreeMap<String, u64>,
    /// The timepoints opening.
    pub timepoints: BTreeMap<String, u64>,
}

/// Adds one survey due opening at `opens` (UTC text or instant) in `zone`, for `patients`, to `waves`.
fn add(
    waves: &mut BTreeMap<i64, Wave>,
    opens: Timestamp,
    zone: &str,
    timepoint: &str,
    patients: u64,
) {
    let minute = opens.as_second().div_euclid(60) * 60;
    let wave = waves.entry(minute).or_insert_with(|| Wave {
        opens: Timestamp::from_second(minute).unwrap_or(opens),
        ..Wave::default()
    });
    wave.surveys += patients;
    *wave.by_zone.entry(zone.to_owned()).or_default() += patients;
    *wave.timepoints.entry(timepoint.to_owned()).or_default() += patients;
}

/// The waves `cohorts` cause from `from` on, in order.
pub fn from_cohorts(
    cohorts: &[Cohort],
    schedules: &Schedules,
    from: Timestamp,
) -> Result<Vec<Wave>, String> {
    let mut waves = BTreeMap::new();
    for (n, cohort) in cohorts.iter().enumerate() {
        let schedule = schedules
            .get(&cohort.schedule_id, cohort.schedule_version.as_deref())
            .ok_or_else(|| format!("cohort {}: no schedule {}", n + 1, cohort.schedule_id))?;
        let anchors = cohort
            .anchors
            .iter()
            .map(|(name, value)| {
                AnchorValue::parse(value)
                    .map(|v| (name.clone(), v))
                    .ok_or_else(|| format!("cohort {}: {name} is not a date or an instant", n + 1))
            })
            .collect::<Result<_, _>>()?;
        let terms = Terms {
            from,
            anchors,
            zone: cohort.time_zone.clone(),
        };
        let calendar =
            occurrences(schedule, &[terms], None).map_err(|e| format!("cohort {}: {e}", n + 1))?;
        for occurrence in calendar.iter().filter(|o| o.window.opens >= from) {
            add(
                &mut waves,
                occurrence.window.opens,
                &occurrence.zone,
                &occurrence.id,
                cohort.patients,
            );
        }
    }
    Ok(waves.into_values().collect())
}

/// The waves a deployed trial's stored calendar will cause from `from` on: surveys not completed, withdrawn or
/// dropped whose window has not opened.
pub fn from_calendar(calendar: &[OccurrenceItem], from: Timestamp) -> Vec<Wave> {
    let mut waves = BTreeMap::new();
    for item in calendar {
        let pending =
            item.done_by.is_none() && item.withdrawn_at.is_none() && item.dropped_at.is_none();
        if let Ok(opens) = item.opens.parse::<Timestamp>()
            && pending
            && opens >= from
        {
            add(&mut waves, opens, &item.time_zone, &item.occurrence_id, 1);
        }
    }
    waves.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedules() -> &'static Schedules {
        Schedules::embedded().unwrap()
    }

    fn cohort(zone: &str, patients: u64) -> Cohort {
        Cohort {
            schedule_id: "postop-followup".into(),
            schedule_version: None,
            anchors: [("surgery".to_owned(), "2027-03-01".to_owned())].into(),
            time_zone: zone.into(),
            patients,
        }
    }

    #[test]
    fn the_same_surgery_day_in_three_zones_is_three_waves_at_eight_local_time() {
        let cohorts = [
            cohort("Europe/Berlin", 40_000),
            cohort("America/New_York", 25_000),
            cohort("Asia/Tokyo", 5_000),
        ];
        let from: Timestamp = "2027-02-01T00:00:00Z".parse().unwrap();
        let waves = from_cohorts(&cohorts, schedules(), from).unwrap();
        // Day 7 (8 March, 08:00 local) opens a day early, 7 March 08:00 local: Tokyo 23:00Z on the 6th, Berlin
        // 07:00Z, New York 13:00Z (still standard time on 7 March).
        let day7: Vec<(String, u64)> = waves
            .iter()
            .filter(|w| w.timepoints.contains_key("day-7"))
            .map(|w| (w.opens.to_string(), w.surveys))
            .collect();
        assert_eq!(
            day7,
            [
                ("2027-03-06T23:00:00Z".to_owned(), 5_000),
                ("2027-03-07T07:00:00Z".to_owned(), 40_000),
                ("2027-03-07T13:00:00Z".to_owned(), 25_000)
            ]
        );
        let total: u64 = waves.iter().map(|w| w.surveys).sum();
        assert_eq!(
            total,
            70_000 * 27,
            "every survey due of every patient, once"
        );
    }

    #[test]
    fn a_stored_calendar_forecasts_only_windows_still_to_open_and_not_done() {
        let request = serde_json::from_value(serde_json::json!({
            "patientId": "P-1", "scheduleId": "burst-drill", "timeZone": "UTC"
        }))
        .unwrap();
        let enrolled: Timestamp = "2027-01-01T10:00:00Z".parse().unwrap();
        let revision = intake::enrolment::enrol("T", request, "n", enrolled, schedules()).unwrap();
        let mut items: Vec<OccurrenceItem> = revision
            .occurrences
            .iter()
            .map(|w| w.item().clone())
            .collect();
        items[1].done_by = Some(uuid::Uuid::nil());
        let waves = from_calendar(&items, "2027-01-01T10:00:30Z".parse().unwrap());
        let opening: Vec<String> = waves.iter().map(|w| w.opens.to_string()).collect();
        assert_eq!(opening, ["2027-01-01T10:01:00Z", "2027-01-01T10:05:00Z"]);
    }
}
