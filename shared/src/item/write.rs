//! Everything written with a new submission: the marker of its timepoint (when it is the first there), written once
//! ahead of it; the item under its id's key, with the survey due it completes, the flags of its placement and its
//! alerts, all or nothing; then its other flags, each written once. And with a conflicting resend, the record and
//! its alerts.

use uuid::Uuid;

use super::{
    AlertItem, ConflictItem, Flag, FlagKind, OccurrenceDone, SubmissionItem, TimepointMarker,
};

/// The records of a new submission, in the order they are written (see the module's note).
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionWrite {
    /// The submission.
    pub item: SubmissionItem,
    /// The marker of its timepoint; `None` once it is known to repeat an earlier submission.
    pub timepoint: Option<TimepointMarker>,
    /// Its flags.
    pub flags: Vec<Flag>,
    /// The survey due it completes on the patient's calendar.
    pub occurrence: Option<OccurrenceDone>,
    /// The enrolment it was placed against (its partition and revision): the write checks it is still current.
    pub placed_against: Option<(String, u32)>,
    /// The alerts its answers raise.
    pub alerts: Vec<AlertItem>,
}

impl SubmissionWrite {
    /// The records of `item`, written at `at`, flagged when its device clock ran ahead.
    pub fn new(item: SubmissionItem, at: &str) -> Self {
        let mut flags = Vec::new();
        if let Some(seconds) = item.clock_ahead_seconds {
            let detail = format!(
                "completedAt is {seconds} s after the server received it: the device clock runs ahead"
            );
            flags.push(Flag::on(&item, FlagKind::ClockAhead, detail, at));
        }
        SubmissionWrite {
            timepoint: Some(TimepointMarker::of(&item, at)),
            flags,
            occurrence: None,
            placed_against: None,
            alerts: Vec::new(),
            item,
        }
    }

    /// Makes these the records of a submission that repeats `first` (same patient, instrument and timepoint): no
    /// marker, the item points at `first`, and a flag says so.
    pub fn mark_repeat_of(&mut self, first: Uuid, at: &str) {
        self.item.repeat_of = Some(first);
        self.timepoint = None;
        let detail = format!(
            "repeats {first} (same patient, instrument {} and timepoint {}) under a new id",
            self.item.submission.survey_id, self.item.submission.timepoint
        );
        self.flags
            .push(Flag::on(&self.item, FlagKind::Repeat, detail, at));
    }

    /// These records with the submission where the layout before 2026-12-06 kept it, in its patient's partition: a
    /// delivery that layout began (its claim on the id written) is completed as it would have been.
    pub fn in_patient_partition(&self) -> Self {
        let submission = &self.item.submission;
        let (pk, sk) = super::legacy_submission_key(
            &submission.trial_id,
            &submission.patient_id,
            &submission.submission_id,
        );
        SubmissionWrite {
            item: SubmissionItem {
                pk,
                sk,
                ..self.item.clone()
            },
            ..self.clone()
        }
    }

    /// The flags written after the submission, each once: they follow from its id, content and repeat alone.
    pub fn trailing_flags(&self) -> impl Iterator<Item = &Flag> {
        self.flags.iter().filter(|f| !f.kind.comes_from_placement())
    }

    /// The flags of its placement on the calendar, written with it (a placement made again replaces them).
    pub fn placement_flags(&self) -> impl Iterator<Item = &Flag> {
        self.flags.iter().filter(|f| f.kind.comes_from_placement())
    }

    /// Whether anything must be written atomically with the submission: alerts, or a place on the calendar.
    pub fn is_transactional(&self) -> bool {
        !self.alerts.is_empty() || self.placed_against.is_some() || self.occurrence.is_some()
    }

    /// Notes on the repeat's flag that the first submission already raised `alerts` (the rules this repeat meets
    /// again): one clinical event, one alert.
    pub fn note_alerts_of_first(&mut self, alerts: &[Uuid]) {
        if let Some(flag) = self.flags.iter_mut().find(|f| f.kind == FlagKind::Repeat) {
            for alert in alerts {
                flag.detail
                    .push_str(&format!("; alert {alert} already raised"));
            }
        }
    }
}

/// One transaction's worth of records for a conflicting resend: the record an operator compares, and the alerts its
/// content raises.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictWrite {
    /// The conflicting resend.
    pub conflict: ConflictItem,
    /// The alerts its answers raise.
    pub alerts: Vec<AlertItem>,
}
