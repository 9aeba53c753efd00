//! A schedule as published: a FHIR `PlanDefinition` in the shape of HL7's Clinical Study Schedule of Activities
//! guide (Vulcan), read into what the calendar needs. Anchor actions carry a code naming the event they stand for;
//! timepoint actions point at an anchor with `relatedAction.offsetDuration`, give their window with the
//! `AcceptableOffsetRangeSoa` extension, repeat with `timingTiming.repeat` (`count`, `period`, `periodUnit`) and
//! open at `timingTiming.repeat.timeOfDay` in the patient's zone. The instruments due are `definitionCanonical`s,
//! on the action or on its sub-actions.

use jiff::Span;
use jiff::civil::Time;

use super::resource::{Action, PlanDefinition, Quantity, RelatedAction};

/// The Vulcan extension giving a timepoint's acceptable window around its offset.
pub const ACCEPTABLE_OFFSET_RANGE: &str =
    "http://hl7.org/fhir/uv/vulcan-schedule/StructureDefinition/AcceptableOffsetRangeSoa";
/// Ours: how long after a window closes a survey is late rather than out of window (and before it opens, early).
pub const LATE_GRACE: &str = "/StructureDefinition/late-grace";
/// Ours: the code system naming the events a schedule is anchored on.
pub const ANCHOR_SYSTEM: &str = "/CodeSystem/schedule-anchor";
/// UCUM, the only unit system of a `Duration`.
pub const UCUM: &str = "http://unitsofmeasure.org";

/// A length of time in one unit, as the definition writes it. Days and weeks are calendar days in the patient's
/// zone (a day across a daylight-saving change is 23 or 25 hours); hours, minutes and seconds are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    /// How many (may be negative: a window's low bound).
    pub value: i64,
    /// Of what.
    pub unit: Unit,
}

/// A unit of an [`Offset`]: the UCUM codes FHIR's `Timing.periodUnit` shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    /// `s`.
    Second,
    /// `min`.
    Minute,
    /// `h`.
    Hour,
    /// `d`: a calendar day.
    Day,
    /// `wk`: seven calendar days.
    Week,
}

impl Unit {
    fn from_code(code: &str) -> Option<Unit> {
        Some(match code {
            "s" => Unit::Second,
            "min" => Unit::Minute,
            "h" => Unit::Hour,
            "d" => Unit::Day,
            "wk" => Unit::Week,
            _ => return None,
        })
    }

    /// Whether it counts calendar days rather than elapsed time.
    pub fn is_calendar(self) -> bool {
        matches!(self, Unit::Day | Unit::Week)
    }
}

impl Offset {
    /// `value` times `unit`.
    pub const fn new(value: i64, unit: Unit) -> Self {
        Offset { value, unit }
    }

    /// As a span `times` over (for the k-th repetition).
    pub fn span(self, times: i64) -> Span {
        let n = self.value * times;
        match self.unit {
            Unit::Second => Span::new().seconds(n),
            Unit::Minute => Span::new().minutes(n),
            Unit::Hour => Span::new().hours(n),
            Unit::Day => Span::new().days(n),
            Unit::Week => Span::new().weeks(n),
        }
    }

    /// Roughly, in seconds (a calendar day as 24 hours): for ordering checks, never for dates.
    pub fn approximate_seconds(self) -> i64 {
        self.value
            * match self.unit {
                Unit::Second => 1,
                Unit::Minute => 60,
                Unit::Hour => 3_600,
                Unit::Day => 86_400,
                Unit::Week => 604_800,
            }
    }
}

/// An event a schedule counts from (enrolment, surgery, baseline, or another the protocol names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The action's id, which timepoints point at.
    pub action: String,
    /// The event's name (the code): what an enrolment gives a date or instant for.
    pub name: String,
}

/// When surveys are due: once or repeating, each repetition with its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timepoint {
    /// The action's id: the timepoint an app sends (a repetition adds `-<n>`, from 1).
    pub id: String,
    /// What people call it.
    pub title: String,
    /// The instruments due (their ids).
    pub instruments: Vec<String>,
    /// The anchor's name.
    pub anchor: String,
    /// From the anchor to the (first) due time.
    pub offset: Offset,
    /// The acceptable window around each due time: from `window.0` (≤ 0) to `window.1` (> 0).
    pub window: (Offset, Offset),
    /// For a repeating timepoint: how many, how far apart.
    pub repeat: Option<Repeat>,
    /// The local time of day each repetition is due at, in the patient's zone.
    pub time_of_day: Option<Time>,
}

/// Repetitions of a timepoint: FHIR `Timing.repeat` with `count`, `period` and `periodUnit` (an RRULE's `COUNT`
/// and `INTERVAL`/`FREQ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    /// How many times in all.
    pub count: u32,
    /// From one due time to the next.
    pub every: Offset,
}

impl Timepoint {
    /// How many times it is due.
    pub fn count(&self) -> u32 {
        self.repeat.map_or(1, |repeat| repeat.count)
    }

    /// The id of its `n`-th repetition (from 1): the timepoint's own id when it does not repeat.
    pub fn occurrence_id(&self, n: u32) -> String {
        match self.repeat {
            None => self.id.clone(),
            Some(_) => format!("{}-{n}", self.id),
        }
    }
}

/// One published version of a schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Its id (`PlanDefinition.id`).
    pub id: String,
    /// Its version.
    pub version: String,
    /// Its canonical URL.
    pub url: String,
    /// `active` (enrolments may use it) or `retired`.
    pub status: String,
    /// What people call it.
    pub title: String,
    /// The events it counts from.
    pub anchors: Vec<Anchor>,
    /// When surveys are due.
    pub timepoints: Vec<Timepoint>,
    /// How long after a window closes a survey is late (and before it opens, early) rather than out of window.
    pub grace: Offset,
    /// The file's text, served as it was published.
    pub source: &'static str,
    /// Its path below `instruments/`.
    pub path: &'static str,
}

impl Schedule {
    /// The anchor named `name`.
    pub fn anchor(&self, name: &str) -> Option<&Anchor> {
        self.anchors.iter().find(|anchor| anchor.name == name)
    }

    /// Its canonical reference with the version: `<url>|<version>`.
    pub fn canonical(&self) -> String {
        format!("{}|{}", self.url, self.version)
    }

    /// Reads a published definition; the first thing in it this reader does not take, as an error.
    pub fn parse(source: &'static str, path: &'static str) -> Result<Schedule, String> {
        let plan: PlanDefinition = serde_json::from_str(source).map_err(|e| e.to_string())?;
        if plan.resource_type != "PlanDefinition" {
            return Err("resourceType must be PlanDefinition".into());
        }
        let base = plan
            .url
            .split("/PlanDefinition/")
            .next()
            .unwrap_or_default()
            .to_owned();
        let grace = plan
            .extension
            .iter()
            .find(|e| e.url == format!("{base}{LATE_GRACE}"))
            .and_then(|e| e.value_duration.as_ref())
            .map(duration)
            .transpose()?
            .ok_or("the late-grace extension (a Duration) is required")?;
        let mut anchors = Vec::new();
        let mut timepoints = Vec::new();
        for action in &plan.action {
            let at = format!("action {}", action.id);
            match (&action.code, action.related_action.as_slice()) {
                (Some(codes), []) => {
                    let coding = codes
                        .iter()
                        .flat_map(|c| &c.coding)
                        .find(|c| c.system == format!("{base}{ANCHOR_SYSTEM}"))
                        .ok_or(format!(
                            "{at}: an anchor needs a code of {base}{ANCHOR_SYSTEM}"
                        ))?;
                    anchors.push(Anchor {
                        action: action.id.clone(),
                        name: coding.code.clone(),
                    });
                }
                (None, [related]) => timepoints
                    .push(timepoint(action, related, &base).map_err(|e| format!("{at}: {e}"))?),
                _ => {
                    return Err(format!(
                        "{at}: an action is an anchor (a code, no relatedAction) or a timepoint (one relatedAction)"
                    ));
                }
            }
        }
        // Timepoints name their anchor by action id; calendars and enrolments by the event's name.
        for timepoint in &mut timepoints {
            let anchor = anchors
                .iter()
                .find(|a| a.action == timepoint.anchor)
                .ok_or(format!(
                    "action {}: relatedAction names no anchor",
                    timepoint.id
                ))?;
            timepoint.anchor = anchor.name.clone();
        }
        Ok(Schedule {
            id: plan.id,
            version: plan.version,
            url: plan.url,
            status: plan.status,
            title: plan.title,
            anchors,
            timepoints,
            grace,
            source,
            path,
        })
    }
}

fn timepoint(action: &Action, related: &RelatedAction, base: &str) -> Result<Timepoint, String> {
    if related.relationship != "after-start" {
        return Err("relatedAction.relationship must be after-start".into());
    }
    let offset = related
        .offset_duration
        .as_ref()
        .ok_or("relatedAction.offsetDuration is required")
        .and_then(|d| {
            duration(d)
                .map_err(|_| "relatedAction.offsetDuration: a Duration in s, min, h, d or wk")
        })?;
    let range = related
        .extension
        .iter()
        .find(|e| e.url == ACCEPTABLE_OFFSET_RANGE)
        .and_then(|e| e.value_range.as_ref())
        .ok_or("the AcceptableOffsetRangeSoa extension (a Range) is required")?;
    let window = (duration(&range.low)?, duration(&range.high)?);
    let instruments = std::iter::once(action)
        .chain(&action.action)
        .filter_map(|a| a.definition_canonical.as_deref())
        .map(|canonical| {
            canonical
                .strip_prefix(&format!("{base}/Questionnaire/"))
                .filter(|id| !id.contains('|'))
                .map(str::to_owned)
                .ok_or(format!(
                    "{canonical}: a Questionnaire of this catalogue, without a version"
                ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let repeat = action.timing_timing.as_ref().map(|t| &t.repeat);
    let time_of_day = match repeat.map(|r| r.time_of_day.as_slice()) {
        None | Some([]) => None,
        Some([one]) => Some(
            one.parse::<Time>()
                .map_err(|_| format!("timeOfDay {one}: a time, hh:mm:ss"))?,
        ),
        Some(_) => return Err("one timeOfDay per timepoint".into()),
    };
    let repeat = match repeat {
        Some(r) if r.count.is_some() || r.period.is_some() => Some(Repeat {
            count: r.count.ok_or("a repeating timepoint needs a count")?,
            every: Offset::new(
                r.period.ok_or("a repeating timepoint needs a period")?,
                r.period_unit
                    .as_deref()
                    .and_then(Unit::from_code)
                    .ok_or("periodUnit must be s, min, h, d or wk")?,
            ),
        }),
        _ => None,
    };
    Ok(Timepoint {
        id: action.id.clone(),
        title: action.title.clone(),
        instruments,
        anchor: related.action_id.clone(),
        offset,
        window,
        repeat,
        time_of_day,
    })
}

fn duration(quantity: &Quantity) -> Result<Offset, String> {
    let unit = (quantity.system == UCUM)
        .then(|| Unit::from_code(&quantity.code))
        .flatten()
        .ok_or(format!(
            "a Duration in UCUM s, min, h, d or wk, not {}",
            quantity.code
        ))?;
    let value = quantity
        .value
        .as_i64()
        .ok_or("a Duration of a whole number of its unit")?;
    Ok(Offset::new(value, unit))
}
