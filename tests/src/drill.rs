//! The schedule drill's independent half: the burst drill's windows computed straight from its `PlanDefinition`
//! file (minutes from the enrolment instant, without the intake's calendar code), what each simulated patient
//! sent, and the verdict: compliance figures equal to what was sent, every reminder sent once, every miss told once.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::Error;

/// The drill schedule as published.
pub const DRILL: &str = include_str!("../../shared/instruments/schedules/burst-drill/1.json");

/// One survey due, as the auditor computes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due {
    /// The timepoint the app sends (`check-in`, `follow-up-2`).
    pub timepoint: String,
    /// The instrument.
    pub instrument: String,
    /// The window opens.
    pub opens: OffsetDateTime,
    /// The window closes.
    pub closes: OffsetDateTime,
    /// Late until.
    pub grace_ends: OffsetDateTime,
}

fn minutes(quantity: &Value) -> Result<i64, Error> {
    let code = quantity["code"].as_str().unwrap_or_default();
    if code != "min" {
        return Err(format!("the drill auditor reads minutes only, not {code:?}").into());
    }
    quantity["value"]
        .as_i64()
        .ok_or_else(|| "a quantity without a whole value".into())
}

/// Every survey due for a patient enrolled on the drill with its anchor at `anchor`.
pub fn drill_calendar(anchor: OffsetDateTime) -> Result<Vec<Due>, Error> {
    let plan: Value = serde_json::from_str(DRILL)?;
    let grace = plan["extension"]
        .as_array()
        .and_then(|e| {
            e.iter().find(|x| {
                x["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/late-grace"))
            })
        })
        .map(|x| minutes(&x["valueDuration"]))
        .transpose()?
        .unwrap_or(0);
    let mut all = Vec::new();
    for action in plan["action"].as_array().ok_or("a plan without actions")? {
        let Some(related) = action["relatedAction"].get(0) else {
            continue; // the anchor itself
        };
        let offset = minutes(&related["offsetDuration"])?;
        let range = &related["extension"][0]["valueRange"];
        let (low, high) = (minutes(&range["low"])?, minutes(&range["high"])?);
        let repeat = &action["timingTiming"]["repeat"];
        let (count, period) = match repeat["count"].as_i64() {
            Some(count) => {
                let unit = repeat["periodUnit"].as_str().unwrap_or_default();
                if unit != "min" {
                    return Err(
                        format!("the drill auditor reads minutes only, not {unit:?}").into(),
                    );
                }
                (
                    count,
                    repeat["period"]
                        .as_i64()
                        .ok_or("a repeat without a period")?,
                )
            }
            None => (1, 0),
        };
        let id = action["id"].as_str().ok_or("an action without an id")?;
        let instrument = action["definitionCanonical"]
            .as_str()
            .and_then(|url| url.rsplit('/').next())
            .ok_or("an action without an instrument")?;
        for n in 1..=count {
            let due = anchor + Duration::minutes(offset + (n - 1) * period);
            let closes = due + Duration::minutes(high);
            all.push(Due {
                timepoint: if count == 1 {
                    id.to_owned()
                } else {
                    format!("{id}-{n}")
                },
                instrument: instrument.to_owned(),
                opens: due + Duration::minutes(low),
                closes,
                grace_ends: closes + Duration::minutes(grace),
            });
        }
    }
    all.sort();
    Ok(all)
}

/// What the auditor expects of one survey due, from what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expected {
    /// Completed in its window.
    OnTime,
    /// Completed in the grace after it.
    Late,
    /// Completed outside both (not planned by the drill).
    OutOfWindow,
    /// Never sent.
    Missed,
}

/// Where `completed` (none: never sent) puts a survey due.
pub fn expected(due: &Due, completed: Option<OffsetDateTime>) -> Expected {
    match completed {
        None => Expected::Missed,
        Some(at) if due.opens <= at && at < due.closes => Expected::OnTime,
        Some(at) if due.closes <= at && at < due.grace_ends => Expected::Late,
        Some(_) => Expected::OutOfWindow,
    }
}

/// The compliance figures the auditor computed, by timepoint and overall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counted {
    /// Surveys due.
    pub expected: u64,
    /// On time.
    pub on_time: u64,
    /// Late.
    pub late: u64,
    /// Missed (out of window counts here too: the intake does not complete a survey with it).
    pub missed: u64,
}

impl Counted {
    /// Adds one survey.
    pub fn add(&mut self, expected: Expected) {
        self.expected += 1;
        match expected {
            Expected::OnTime => self.on_time += 1,
            Expected::Late => self.late += 1,
            Expected::Missed | Expected::OutOfWindow => self.missed += 1,
        }
    }

    /// The same figures as the compliance API reports them (`overall` or a row).
    pub fn of_api(figures: &Value) -> Counted {
        let n = |name: &str| figures[name].as_u64().unwrap_or(u64::MAX);
        Counted {
            expected: n("expected"),
            on_time: n("onTime") + n("early"),
            late: n("late"),
            missed: n("missed"),
        }
    }
}

/// The auditor's figures: overall and by timepoint.
pub fn count(
    calendars: &BTreeMap<String, Vec<Due>>,
    sent: &BTreeMap<(String, String), OffsetDateTime>,
) -> (Counted, BTreeMap<String, Counted>) {
    let mut overall = Counted::default();
    let mut by_timepoint: BTreeMap<String, Counted> = BTreeMap::new();
    for (patient, calendar) in calendars {
        for due in calendar {
            let completed = sent.get(&(patient.clone(), due.timepoint.clone())).copied();
            let expected = expected(due, completed);
            overall.add(expected);
            by_timepoint
                .entry(due.timepoint.clone())
                .or_default()
                .add(expected);
        }
    }
    (overall, by_timepoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drill_has_a_check_in_and_two_follow_ups_whose_windows_touch() {
        let anchor = OffsetDateTime::UNIX_EPOCH;
        let calendar = drill_calendar(anchor).unwrap();
        let ids: Vec<&str> = calendar.iter().map(|d| d.timepoint.as_str()).collect();
        assert_eq!(ids, ["check-in", "follow-up-1", "follow-up-2"]);
        assert_eq!(calendar[0].opens - anchor, Duration::minutes(1));
        assert_eq!(calendar[1].closes, calendar[2].opens);
        assert_eq!(
            calendar[2].grace_ends - calendar[2].closes,
            Duration::minutes(1)
        );
        assert_eq!(expected(&calendar[0], None), Expected::Missed);
        assert_eq!(
            expected(&calendar[0], Some(calendar[0].closes)),
            Expected::Late
        );
        assert_eq!(
            expected(&calendar[0], Some(calendar[0].opens)),
            Expected::OnTime
        );
    }
}
