//! Compliance: of the surveys a trial expected, how many were completed on time, early, late, and how many missed;
//! what is open now and what is to come. Read from the surveys due as stored, at one instant.
//!
//! A survey is expected once its window has closed, or once it was completed (a survey done on time in a window
//! still open counts at once). A survey withdrawal ended before it was completed, or that a change of terms
//! dropped, is not expected. A window closed without a submission is missed; a late submission in the grace after
//! it turns it into late.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::item::OccurrenceItem;
use crate::schedule::Timing;

/// Where one survey due stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Completed (on time, early or late).
    Completed(Timing),
    /// Its window closed with nothing.
    Missed,
    /// Its window is open, nothing yet.
    Open,
    /// Its window has not opened.
    Upcoming,
    /// Withdrawal ended it before it was completed.
    Withdrawn,
    /// A change of terms put it before the change: never expected.
    Dropped,
}

impl Standing {
    /// Where `item` stands at `now` (UTC, as the table writes instants).
    pub fn of(item: &OccurrenceItem, now: &str) -> Standing {
        match item.done_timing {
            Some(timing) if timing.completes() => Standing::Completed(timing),
            _ if item.dropped_at.is_some() => Standing::Dropped,
            _ if item.withdrawn_at.is_some() => Standing::Withdrawn,
            _ if item.closes.as_str() <= now => Standing::Missed,
            _ if item.opens.as_str() <= now => Standing::Open,
            _ => Standing::Upcoming,
        }
    }

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Completed(timing) => timing.as_str(),
            Standing::Missed => "missed",
            Standing::Open => "open",
            Standing::Upcoming => "upcoming",
            Standing::Withdrawn => "withdrawn",
            Standing::Dropped => "dropped",
        }
    }
}

/// Counts of surveys due, by where they stand.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// Windows closed, or completed: what the trial expected so far.
    pub expected: usize,
    /// Completed in the window.
    pub on_time: usize,
    /// Completed in the grace before the window.
    pub early: usize,
    /// Completed in the grace after the window.
    pub late: usize,
    /// Windows closed with nothing.
    pub missed: usize,
    /// Windows open now, nothing yet.
    pub pending: usize,
    /// Windows not yet open.
    pub upcoming: usize,
    /// Ended by withdrawal before they were completed (not expected).
    pub withdrawn: usize,
    /// Completed (on time, early, late) out of expected; `null` while nothing is expected.
    pub rate: Option<f64>,
}

impl Figures {
    fn count(&mut self, standing: Standing) {
        match standing {
            Standing::Completed(Timing::Early) => self.early += 1,
            Standing::Completed(Timing::Late) => self.late += 1,
            Standing::Completed(_) => self.on_time += 1,
            Standing::Missed => self.missed += 1,
            Standing::Open => self.pending += 1,
            Standing::Upcoming => self.upcoming += 1,
            Standing::Withdrawn => self.withdrawn += 1,
            Standing::Dropped => {}
        }
        self.expected = self.on_time + self.early + self.late + self.missed;
        let completed = self.on_time + self.early + self.late;
        self.rate = (self.expected > 0).then(|| completed as f64 / self.expected as f64);
    }
}

/// A trial's compliance at one instant: overall, by timepoint, by instrument, per patient.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compliance {
    /// Every survey due.
    pub overall: Figures,
    /// By the timepoint the app sends (`day-7`, `pain-diary-3`), in order of first opening.
    pub by_timepoint: Vec<Row>,
    /// By instrument.
    pub by_instrument: Vec<Row>,
    /// Per patient, with the surveys they missed.
    pub by_patient: Vec<PatientRow>,
}

/// One row of figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The timepoint or the instrument.
    pub key: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One patient's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientRow {
    /// The patient.
    pub patient_id: String,
    /// Their figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// The surveys they missed, as `<timepoint>/<instrument>`.
    pub missed_surveys: Vec<String>,
}

/// Compliance of `calendar` (a trial's surveys due) at `now`.
pub fn compliance(calendar: &[OccurrenceItem], now: &str) -> Compliance {
    let mut overall = Figures::default();
    let mut timepoints: BTreeMap<&str, (&str, Figures)> = BTreeMap::new();
    let mut instruments: BTreeMap<&str, Figures> = BTreeMap::new();
    let mut patients: BTreeMap<&str, (Figures, Vec<String>)> = BTreeMap::new();
    for item in calendar {
        let standing = Standing::of(item, now);
        overall.count(standing);
        let timepoint = timepoints
            .entry(&item.occurrence_id)
            .or_insert((&item.opens, Figures::default()));
        timepoint.0 = timepoint.0.min(&item.opens);
        timepoint.1.count(standing);
        instruments
            .entry(&item.instrument)
            .or_default()
            .count(standing);
        let patient = patients.entry(&item.patient_id).or_default();
        patient.0.count(standing);
        if standing == Standing::Missed {
            patient
                .1
                .push(format!("{}/{}", item.occurrence_id, item.instrument));
        }
    }
    let mut by_timepoint: Vec<(&str, Row)> = timepoints
        .into_iter()
        .map(|(key, (opens, figures))| {
            (
                opens,
                Row {
                    key: key.to_owned(),
                    figures,
                },
            )
        })
        .collect();
    by_timepoint.sort_by(|a, b| (a.0, &a.1.key).cmp(&(b.0, &b.1.key)));
    Compliance {
        overall,
        by_timepoint: by_timepoint.into_iter().map(|(_, row)| row).collect(),
        by_instrument: instruments
            .into_iter()
            .map(|(key, figures)| Row {
                key: key.to_owned(),
                figures,
            })
            .collect(),
        by_patient: patients
            .into_iter()
            .map(|(patient_id, (figures, missed_surveys))| PatientRow {
                patient_id: patient_id.to_owned(),
                figures,
                missed_surveys,
            })
            .collect(),
    }
}
