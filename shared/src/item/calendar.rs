//! A patient's enrolment and the surveys due under it, as stored in the patient's partition.
//!
//! - `sk = ENROLMENT` ([`EnrolmentItem`]): the schedule version, the terms (anchors, time zone) as they changed, the
//!   withdrawal, and who changed what, when and why. Every change rewrites it conditionally on the revision read.
//! - `sk = OCCURRENCE#<occurrenceId>#<instrument>` ([`OccurrenceItem`]): one survey due, its window in UTC, and what
//!   happened to it (reminded, missed, completed by which submission, withdrawn), each once, with its history.
//!   `calendarTrialId`/`calendarSort` list a trial's calendar (`CalendarByTrial`, for compliance); `dueShard`/`dueAt`
//!   are set while the sweep has something to do for it (`ScheduleDue`: remind when it opens, record a miss when
//!   it closes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::RecordType;
use crate::schedule::{Occurrence, Timing, calendar::utc};

/// Partitions the `ScheduleDue` index spreads the sweep's work over: a wave of 40,000 reminders opening in one
/// minute writes 5,000 index entries per partition instead of 40,000 in one.
pub const DUE_SHARDS: u32 = 8;

/// The sort key of an enrolment.
pub const ENROLMENT_SK: &str = "ENROLMENT";

/// A patient's enrolment in a trial on a schedule version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolmentItem {
    /// The patient's partition.
    pub pk: String,
    /// [`ENROLMENT_SK`].
    pub sk: String,
    /// Always [`RecordType::Enrolment`].
    pub record_type: RecordType,
    /// The trial.
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// The schedule.
    pub schedule_id: String,
    /// Its version.
    pub schedule_version: String,
    /// The terms, oldest first: the enrolment's, then each change's.
    pub terms: Vec<TermsRecord>,
    /// The withdrawal, once withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<Withdrawal>,
    /// 1 at enrolment, one more per change.
    pub revision: u32,
    /// Who changed what, when and why, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// The terms from one instant on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsRecord {
    /// From when (UTC).
    pub from: String,
    /// Each anchor's value (`2026-12-10` or an instant), by the anchor's name.
    pub anchors: BTreeMap<String, String>,
    /// The patient's IANA time zone.
    pub time_zone: String,
}

/// How and when a patient left the trial's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Withdrawal {
    /// From when no survey is expected (UTC).
    pub at: String,
    /// Why, as the study team wrote it.
    pub reason: String,
    /// Who recorded it.
    pub by: String,
}

/// What a sign-in reads of an enrolment: who, and since when withdrawn. The token function may read nothing else
/// of the patient's partition, which holds their answers too (its grant names these attributes only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolmentStanding {
    /// The trial.
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// The withdrawal's instant, once withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<WithdrawnAt>,
}

/// When a patient was withdrawn: of a [`Withdrawal`], the instant only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawnAt {
    /// From when (UTC).
    pub at: String,
}

impl EnrolmentStanding {
    /// The top-level attributes it is read from.
    pub const ATTRIBUTES: [&str; 3] = ["trialId", "patientId", "withdrawal"];
}

/// One change to an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The revision it made.
    pub revision: u32,
    /// When (UTC).
    pub at: String,
    /// Who (the staff member's id).
    pub by: String,
    /// What: `enrolled`, `terms-changed` (anchors or time zone), `withdrawn`.
    pub change: String,
    /// The values before and after, in words.
    pub detail: String,
    /// Why, as the study team wrote it.
    pub reason: String,
}

/// What the sweep does next for an occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextEvent {
    /// Send the reminder (its window opened).
    Open,
    /// Record the miss unless it was completed (its window closed).
    Close,
    /// Tell the site it was missed.
    MissedNotice,
}

/// One survey due for a patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceItem {
    /// The patient's partition.
    pub pk: String,
    /// `OCCURRENCE#<occurrenceId>#<instrument>`.
    pub sk: String,
    /// Always [`RecordType::Occurrence`].
    pub record_type: RecordType,
    /// The trial.
    pub trial_id: String,
    /// The patient.
    pub patient_id: String,
    /// The trial again, for the `CalendarByTrial` index.
    pub calendar_trial_id: String,
    /// `<patientId>#<occurrenceId>#<instrument>`, the `CalendarByTrial` sort key.
    pub calendar_sort: String,
    /// The timepoint an app sends for it.
    pub occurrence_id: String,
    /// The schedule's timepoint it repeats.
    pub timepoint: String,
    /// The instrument due.
    pub instrument: String,
    /// Every instrument due at this timepoint: the first one's record carries the timepoint's one reminder.
    #[serde(default)]
    pub instruments: Vec<String>,
    /// When it is due, UTC.
    pub due: String,
    /// From here, early.
    pub early_from: String,
    /// The window opens.
    pub opens: String,
    /// The window closes.
    pub closes: String,
    /// Until here, late.
    pub grace_ends: String,
    /// The zone its window was computed in.
    pub time_zone: String,
    /// The enrolment revision its window comes from.
    pub revision: u32,
    /// The `ScheduleDue` partition, while the sweep has something to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_shard: Option<String>,
    /// When the sweep should act next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// What it should do then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_event: Option<NextEvent>,
    /// The reminder's claim, while a sweep holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_claim: Option<String>,
    /// When that claim was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_claimed_at: Option<String>,
    /// When the reminder was accepted by the reminder topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<String>,
    /// The claim that recorded it: that sweep's record sent again after its answer was lost is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_by: Option<String>,
    /// When the miss was recorded (its window closed with nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_at: Option<String>,
    /// The site notice's claim, while a sweep holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_claim: Option<String>,
    /// When that claim was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_claimed_at: Option<String>,
    /// When the site was told of the miss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noticed_at: Option<String>,
    /// The claim that recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noticed_by: Option<String>,
    /// The submission that completed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_by: Option<Uuid>,
    /// How: on time, early or late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_timing: Option<Timing>,
    /// When the patient completed it (as placed: the device's time, or the server's if the device ran ahead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<String>,
    /// When withdrawal ended it, if it did before it was completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<String>,
    /// When a change of terms dropped it (its new window would have closed before the change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_at: Option<String>,
    /// What happened to it, oldest first.
    #[serde(default)]
    pub history: Vec<OccurrenceEvent>,
}

/// One thing that happened to an occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceEvent {
    /// When (UTC).
    pub at: String,
    /// What: `scheduled`, `moved`, `reminded`, `missed`, `noticed`, `completed`, `withdrawn`, `dropped`.
    pub event: String,
    /// Ids and times, in words.
    pub detail: String,
}

impl OccurrenceEvent {
    /// An event `event` at `at`.
    pub fn new(at: &str, event: &str, detail: String) -> Self {
        OccurrenceEvent {
            at: at.to_owned(),
            event: event.to_owned(),
            detail,
        }
    }
}

/// Where a submission sits on its patient's calendar, stored with it: how (on time, early, late, out of window,
/// unscheduled, after withdrawal, no enrolment) and, when it answers a survey due, which and that survey's window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePlacement {
    /// How.
    pub timing: Timing,
    /// The survey due it answers (`day-7`, `pain-diary-3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrence_id: Option<String>,
    /// That survey's window opened (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens: Option<String>,
    /// That survey's window closed (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
    /// The completion time it was placed by (UTC): `completedAt`, or the receive time when the device ran ahead.
    pub placed_at: String,
    /// The schedule, its version and the enrolment revision it was placed against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// The enrolment revision it was placed against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_revision: Option<u32>,
}

/// A survey due marked completed by a submission, in the submission's transaction. The first submission placed on
/// it keeps it (a repeat or a second label of the same survey does not take it over); a miss recorded before stays
/// in its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceDone {
    /// The patient's partition.
    pub pk: String,
    /// The occurrence's sort key.
    pub sk: String,
    /// The submission.
    pub submission_id: Uuid,
    /// On time, early or late.
    pub timing: Timing,
    /// When it was completed, as placed.
    pub done_at: String,
    /// The event for its history.
    pub event: OccurrenceEvent,
}

/// The sort key of an occurrence.
pub fn occurrence_sort_key(occurrence_id: &str, instrument: &str) -> String {
    format!("OCCURRENCE#{occurrence_id}#{instrument}")
}

/// The `ScheduleDue` partition of a patient's occurrences: drawn from the patient, so one patient's work stays
/// in one partition.
pub fn due_shard(trial_id: &str, patient_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{trial_id}#{patient_id}"));
    (u32::from(digest[0]) % DUE_SHARDS).to_string()
}

impl OccurrenceItem {
    /// The record of `occurrence` for a patient, written at `at` from enrolment revision `revision`: waiting for
    /// its window to open, or (opening in the past) to close.
    pub fn scheduled(
        occurrence: &Occurrence,
        (trial_id, patient_id): (&str, &str),
        revision: u32,
        at: &str,
    ) -> Self {
        let mut item = OccurrenceItem {
            pk: super::partition_key(trial_id, patient_id),
            sk: occurrence_sort_key(&occurrence.id, &occurrence.instrument),
            record_type: RecordType::Occurrence,
            trial_id: trial_id.to_owned(),
            patient_id: patient_id.to_owned(),
            calendar_trial_id: trial_id.to_owned(),
            calendar_sort: format!("{patient_id}#{}#{}", occurrence.id, occurrence.instrument),
            occurrence_id: occurrence.id.clone(),
            timepoint: occurrence.timepoint.clone(),
            instrument: occurrence.instrument.clone(),
            instruments: occurrence.instruments.clone(),
            due: utc(occurrence.due),
            early_from: String::new(),
            opens: String::new(),
            closes: String::new(),
            grace_ends: String::new(),
            time_zone: occurrence.zone.clone(),
            revision,
            due_shard: Some(due_shard(trial_id, patient_id)),
            due_at: None,
            next_event: None,
            reminder_claim: None,
            reminder_claimed_at: None,
            reminded_at: None,
            reminded_by: None,
            missed_at: None,
            notice_claim: None,
            notice_claimed_at: None,
            noticed_at: None,
            noticed_by: None,
            done_by: None,
            done_timing: None,
            done_at: None,
            withdrawn_at: None,
            dropped_at: None,
            history: vec![OccurrenceEvent::new(
                at,
                "scheduled",
                format!("revision {revision}"),
            )],
        };
        item.set_window(occurrence, at);
        item
    }

    /// Takes `occurrence`'s window, and the sweep's next step for it as of `at`.
    pub fn set_window(&mut self, occurrence: &Occurrence, at: &str) {
        self.due = utc(occurrence.due);
        self.early_from = utc(occurrence.window.early_from);
        self.opens = utc(occurrence.window.opens);
        self.closes = utc(occurrence.window.closes);
        self.grace_ends = utc(occurrence.window.grace_ends);
        self.time_zone = occurrence.zone.clone();
        // One reminder a timepoint, however many instruments are due at it: the first instrument's record sends it
        // (naming them all); the others wait for their window to close. A window that opened before it was
        // scheduled (an enrolment after it opened) is reminded of at once.
        if self.reminds() {
            self.next_event = Some(NextEvent::Open);
            self.due_at = Some(self.opens.as_str().max(at).to_owned());
        } else {
            self.next_event = Some(NextEvent::Close);
            self.due_at = Some(self.closes.clone());
        }
        self.due_shard = Some(due_shard(&self.trial_id, &self.patient_id));
    }

    /// Whether its record carries its timepoint's reminder: the first instrument due there.
    pub fn reminds(&self) -> bool {
        self.instruments
            .first()
            .is_none_or(|first| *first == self.instrument)
    }

    /// Leaves the sweep nothing to do for it.
    pub fn clear_sweep(&mut self) {
        self.due_shard = None;
        self.due_at = None;
        self.next_event = None;
    }

    /// Whether a submission completed it.
    pub fn is_done(&self) -> bool {
        self.done_timing.is_some_and(Timing::completes)
    }
}
