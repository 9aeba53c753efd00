//! A patient's calendar: every survey due under a schedule, each window computed in the patient's local time and
//! kept as UTC instants.
//!
//! The terms (anchor dates, time zone) can change after enrolment: surgery moves, the patient travels. A change
//! applies to the windows that had not opened when it was made; a window already open or past stays as it was, so
//! what a patient was shown and did is never rewritten. A window that a change would put entirely before the change
//! (or that closed before enrolment) is not expected at all: nobody could have filled it in. Withdrawal ends every
//! window not closed by then.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::definition::{Schedule, Timepoint};

/// When an anchor event happened (or will): a local date in the patient's zone, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorValue {
    /// A calendar day (`2026-12-10`): the day starts at local midnight.
    Date(Date),
    /// An instant (`2026-12-10T09:30:00Z`).
    Instant(Timestamp),
}

impl AnchorValue {
    /// Reads `2026-12-10` or an RFC 3339 instant.
    pub fn parse(text: &str) -> Option<AnchorValue> {
        if text.len() == 10 {
            return text.parse().ok().map(AnchorValue::Date);
        }
        text.parse().ok().map(AnchorValue::Instant)
    }
}

impl std::fmt::Display for AnchorValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnchorValue::Date(date) => write!(f, "{date}"),
            AnchorValue::Instant(at) => write!(f, "{at}"),
        }
    }
}

/// The terms of an enrolment from one instant on: the anchors' values and the patient's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// From when (the enrolment, or the change).
    pub from: Timestamp,
    /// Each anchor's value, by the anchor's name.
    pub anchors: BTreeMap<String, AnchorValue>,
    /// The patient's IANA time zone.
    pub zone: String,
}

/// One survey due: a repetition of a timepoint, for one instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The timepoint an app sends for it (`day-7`, `pain-diary-3`).
    pub id: String,
    /// The schedule's timepoint it repeats.
    pub timepoint: String,
    /// The instrument due.
    pub instrument: String,
    /// Every instrument due at this timepoint, in the schedule's order (one reminder names them all).
    pub instruments: Vec<String>,
    /// When it is due (the window's reference point).
    pub due: Timestamp,
    /// Its window.
    pub window: Window,
    /// The zone the window was computed in.
    pub zone: String,
    /// Which terms (1 for the enrolment's, 2 for the first change's…) the window comes from.
    pub terms: usize,
    /// Whether withdrawal ended it before it closed.
    pub withdrawn: bool,
}

/// A window and the grace either side of it, as instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Before this, a survey is out of window; from here to `opens`, early.
    pub early_from: Timestamp,
    /// The window opens (a reminder goes out).
    pub opens: Timestamp,
    /// The window closes (not done by now: missed).
    pub closes: Timestamp,
    /// From `closes` to here, a survey is late; after, out of window.
    pub grace_ends: Timestamp,
}

/// A calendar that cannot be computed from these terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The schedule counts from an anchor the terms give no value for.
    #[error("no date for the anchor {0}")]
    MissingAnchor(String),
    /// Not an IANA time zone this build knows.
    #[error("unknown time zone {0}")]
    Zone(String),
    /// A date too far out to compute.
    #[error("a due time out of range")]
    OutOfRange,
    /// No terms at all.
    #[error("no terms")]
    NoTerms,
}

/// Every survey due under `schedule` for an enrolment whose terms changed as `terms` says (oldest first, the first
/// being the enrolment's), withdrawn at `withdrawn_at` if so. Sorted by opening, then id and instrument.
pub fn occurrences(
    schedule: &Schedule,
    terms: &[Terms],
    withdrawn_at: Option<Timestamp>,
) -> Result<Vec<Occurrence>, CalendarError> {
    let (first, changes) = terms.split_first().ok_or(CalendarError::NoTerms)?;
    let mut effective: BTreeMap<(String, String), Occurrence> = BTreeMap::new();
    for occurrence in under(schedule, first, 1)? {
        if occurrence.window.closes > first.from {
            effective.insert(key(&occurrence), occurrence);
        }
    }
    for (n, change) in changes.iter().enumerate() {
        for moved in under(schedule, change, n + 2)? {
            let key = key(&moved);
            let opened = effective
                .get(&key)
                .is_some_and(|current| current.window.opens <= change.from);
            if opened {
                continue;
            }
            if moved.window.closes > change.from {
                effective.insert(key, moved);
            } else {
                effective.remove(&key);
            }
        }
    }
    let mut all: Vec<Occurrence> = effective.into_values().collect();
    if let Some(withdrawn_at) = withdrawn_at {
        for occurrence in &mut all {
            occurrence.withdrawn = occurrence.window.closes > withdrawn_at;
        }
    }
    all.sort_by(|a, b| {
        (a.window.opens, &a.id, &a.instrument).cmp(&(b.window.opens, &b.id, &b.instrument))
    });
    Ok(all)
}

fn key(occurrence: &Occurrence) -> (String, String) {
    (occurrence.id.clone(), occurrence.instrument.clone())
}

/// Every occurrence under one set of terms, as if they had always held.
fn under(
    schedule: &Schedule,
    terms: &Terms,
    number: usize,
) -> Result<Vec<Occurrence>, CalendarError> {
    let zone = TimeZone::get(&terms.zone).map_err(|_| CalendarError::Zone(terms.zone.clone()))?;
    let mut all = Vec::new();
    for timepoint in &schedule.timepoints {
        let anchor = terms
            .anchors
            .get(&timepoint.anchor)
            .ok_or_else(|| CalendarError::MissingAnchor(timepoint.anchor.clone()))?;
        for n in 1..=timepoint.count() {
            let due = due(timepoint, n, *anchor, &zone)?;
            let opens = add(&due, timepoint.window.0.span(1))?;
            let closes = add(&due, timepoint.window.1.span(1))?;
            let window = Window {
                early_from: add(&opens, schedule.grace.span(-1))?.timestamp(),
                opens: opens.timestamp(),
                closes: closes.timestamp(),
                grace_ends: add(&closes, schedule.grace.span(1))?.timestamp(),
            };
            for instrument in &timepoint.instruments {
                all.push(Occurrence {
                    id: timepoint.occurrence_id(n),
                    timepoint: timepoint.id.clone(),
                    instrument: instrument.clone(),
                    instruments: timepoint.instruments.clone(),
                    due: due.timestamp(),
                    window,
                    zone: terms.zone.clone(),
                    terms: number,
                    withdrawn: false,
                });
            }
        }
    }
    Ok(all)
}

/// The `n`-th due time (from 1): the anchor, plus the offset and `n - 1` periods (days and weeks as calendar days
/// in the zone), then the timepoint's local time of day if it has one. A local time a daylight-saving change skips
/// is taken after the gap, one it repeats the first time; either way for that day only: the next day is at the
/// time of day again.
fn due(
    timepoint: &Timepoint,
    n: u32,
    anchor: AnchorValue,
    zone: &TimeZone,
) -> Result<Zoned, CalendarError> {
    let start = match anchor {
        AnchorValue::Date(date) => date
            .to_zoned(zone.clone())
            .map_err(|_| CalendarError::OutOfRange)?,
        AnchorValue::Instant(at) => at.to_zoned(zone.clone()),
    };
    let mut due = add(&start, timepoint.offset.span(1))?;
    if let Some(repeat) = timepoint.repeat {
        due = add(&due, repeat.every.span(i64::from(n) - 1))?;
    }
    match timepoint.time_of_day {
        None => Ok(due),
        Some(time) => due
            .date()
            .to_datetime(time)
            .to_zoned(zone.clone())
            .map_err(|_| CalendarError::OutOfRange),
    }
}

fn add(at: &Zoned, span: jiff::Span) -> Result<Zoned, CalendarError> {
    at.checked_add(span).map_err(|_| CalendarError::OutOfRange)
}

/// An instant as the table keeps it: UTC, milliseconds, fixed width (sorts as text).
pub fn utc(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An instant as the patient reads it: local date-time with its offset, then the zone (RFC 9557).
pub fn local(at: Timestamp, zone: &str) -> String {
    match TimeZone::get(zone) {
        Ok(tz) => at
            .to_zoned(tz)
            .strftime("%Y-%m-%dT%H:%M:%S%:z[%Q]")
            .to_string(),
        Err(_) => utc(at),
    }
}
