//! An enrolment and its surveys due as the API shows them: each window in UTC and in the patient's local time.

use serde::Serialize;
use uuid::Uuid;

use super::compliance::Standing;
use crate::item::{EnrolmentItem, HistoryEntry, OccurrenceItem, TermsRecord, Withdrawal};
use crate::schedule::calendar::local;

/// One survey due.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceView {
    /// The timepoint the app sends with it.
    pub timepoint: String,
    /// The instrument due.
    pub instrument: String,
    /// `upcoming`, `open`, `on-time`, `early`, `late`, `missed`, `withdrawn` or `dropped`.
    pub status: &'static str,
    /// The window, UTC.
    pub opens: String,
    /// The window, UTC.
    pub closes: String,
    /// The window in the patient's local time (RFC 9557).
    pub opens_local: String,
    /// The window in the patient's local time.
    pub closes_local: String,
    /// A submission completes it late until then (UTC).
    pub late_until: String,
    /// The zone the window was computed in.
    pub time_zone: String,
    /// When the reminder went out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<String>,
    /// When the miss was recorded (kept after a late completion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_at: Option<String>,
    /// The submission that completed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_by: Option<Uuid>,
    /// When it was completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

impl OccurrenceView {
    /// `item` as it stands at `now`.
    pub fn of(item: &OccurrenceItem, now: &str) -> Self {
        let at = |text: &str| {
            text.parse()
                .map(|t| local(t, &item.time_zone))
                .unwrap_or_default()
        };
        OccurrenceView {
            timepoint: item.occurrence_id.clone(),
            instrument: item.instrument.clone(),
            status: Standing::of(item, now).as_str(),
            opens_local: at(&item.opens),
            closes_local: at(&item.closes),
            opens: item.opens.clone(),
            closes: item.closes.clone(),
            late_until: item.grace_ends.clone(),
            time_zone: item.time_zone.clone(),
            reminded_at: item.reminded_at.clone(),
            missed_at: item.missed_at.clone(),
            completed_by: item.done_by,
            completed_at: item.done_at.clone(),
        }
    }
}

/// An enrolment with its calendar and its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolmentView {
    /// The trial.
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// The schedule.
    pub schedule_id: String,
    /// Its version.
    pub schedule_version: String,
    /// The revision (the `ETag`; send it back as `If-Match` with a change).
    pub revision: u32,
    /// The terms, oldest first.
    pub terms: Vec<TermsRecord>,
    /// The withdrawal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<Withdrawal>,
    /// Who changed what, when and why, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Every survey due, in order of opening.
    pub calendar: Vec<OccurrenceView>,
}

impl EnrolmentView {
    /// `enrolment` and `occurrences` as they stand at `now`.
    pub fn of(enrolment: &EnrolmentItem, occurrences: &[OccurrenceItem], now: &str) -> Self {
        let mut calendar: Vec<OccurrenceView> = occurrences
            .iter()
            .map(|o| OccurrenceView::of(o, now))
            .collect();
        calendar.sort_by(|a, b| {
            (&a.opens, &a.timepoint, &a.instrument).cmp(&(&b.opens, &b.timepoint, &b.instrument))
        });
        EnrolmentView {
            trial_id: enrolment.trial_id.clone(),
            patient_id: enrolment.patient_id.clone(),
            schedule_id: enrolment.schedule_id.clone(),
            schedule_version: enrolment.schedule_version.clone(),
            revision: enrolment.revision,
            terms: enrolment.terms.clone(),
            withdrawal: enrolment.withdrawal.clone(),
            history: enrolment.history.clone(),
            calendar,
        }
    }
}

/// A patient's own schedule: what is due now, what comes next, what was missed and what is done.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientSchedule {
    /// The trial.
    pub trial_id: String,
    /// The patient's time zone now.
    pub time_zone: String,
    /// Whether the patient was withdrawn (nothing more is due).
    pub withdrawn: bool,
    /// Windows open now, nothing sent yet: soonest closing first.
    pub due_now: Vec<OccurrenceView>,
    /// Windows to come, soonest first.
    pub next: Vec<OccurrenceView>,
    /// Windows closed with nothing.
    pub missed: Vec<OccurrenceView>,
    /// Completed.
    pub done: Vec<OccurrenceView>,
}

impl PatientSchedule {
    /// The patient's schedule under `enrolment` at `now`.
    pub fn of(enrolment: &EnrolmentItem, occurrences: &[OccurrenceItem], now: &str) -> Self {
        let view = EnrolmentView::of(enrolment, occurrences, now);
        let pick = |statuses: &[&str]| -> Vec<OccurrenceView> {
            view.calendar
                .iter()
                .filter(|o| statuses.contains(&o.status))
                .cloned()
                .collect()
        };
        let mut due_now = pick(&["open"]);
        due_now.sort_by(|a, b| a.closes.cmp(&b.closes));
        PatientSchedule {
            trial_id: enrolment.trial_id.clone(),
            time_zone: enrolment
                .terms
                .last()
                .map(|t| t.time_zone.clone())
                .unwrap_or_default(),
            withdrawn: enrolment.withdrawal.is_some(),
            due_now,
            next: pick(&["upcoming"]),
            missed: pick(&["missed"]),
            done: pick(&["on-time", "early", "late"]),
        }
    }
}
