//! The messages the sweep sends: a reminder on the reminder topic (the push provider subscribes) when a survey's
//! window opens, a notice on the missed-survey topic (the site subscribes) when one closed with nothing. Ids and the
//! window only: what the survey asks is the app's to show, never the message's.

use serde::Serialize;
use uuid::Uuid;

use crate::item::OccurrenceItem;
use crate::ports::{Notice, Publishable};
use crate::schedule::calendar::local;

/// The namespace of notice ids: a notice's id is drawn from the survey due, its window and its kind, so a message
/// sent twice (a sweep that died after sending, before recording) carries the same id and a subscriber drops it.
const NOTICE_IDS: Uuid = Uuid::from_u128(0x6f1d_3c2a_8b4e_4d59_9a7c_2e5f_0b18_c4d3);

/// One message about a survey due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleMessage {
    /// `due` (a reminder) or `missed`.
    pub kind: &'static str,
    /// The same for every copy of this notice.
    pub notice_id: Uuid,
    /// The trial.
    pub trial_id: String,
    /// The patient (a trial subject id).
    pub patient_id: String,
    /// The timepoint the app sends with the survey (`day-7`, `pain-diary-3`).
    pub timepoint: String,
    /// The instruments: for a reminder, every one due at the timepoint; for a miss, the one missed.
    pub instruments: Vec<String>,
    /// The window, UTC.
    pub opens: String,
    /// The window, UTC.
    pub closes: String,
    /// The window in the patient's local time (RFC 9557: offset and zone).
    pub opens_local: String,
    /// The window in the patient's local time.
    pub closes_local: String,
}

impl ScheduleMessage {
    /// The `notice` for `item`.
    pub fn of(notice: Notice, item: &OccurrenceItem) -> Self {
        let kind = match notice {
            Notice::Reminder => "due",
            Notice::Missed => "missed",
        };
        let at = |text: &str| {
            text.parse()
                .map(|t| local(t, &item.time_zone))
                .unwrap_or_default()
        };
        let name = format!(
            "{kind}#{}#{}#{}#{}",
            item.pk, item.sk, item.opens, item.closes
        );
        ScheduleMessage {
            kind,
            notice_id: Uuid::new_v5(&NOTICE_IDS, name.as_bytes()),
            trial_id: item.trial_id.clone(),
            patient_id: item.patient_id.clone(),
            timepoint: item.occurrence_id.clone(),
            instruments: match notice {
                Notice::Reminder if !item.instruments.is_empty() => item.instruments.clone(),
                _ => vec![item.instrument.clone()],
            },
            opens_local: at(&item.opens),
            closes_local: at(&item.closes),
            opens: item.opens.clone(),
            closes: item.closes.clone(),
        }
    }
}

impl Publishable for ScheduleMessage {
    fn subject(&self) -> String {
        let what = if self.kind == "due" {
            "Survey due"
        } else {
            "Survey missed"
        };
        let subject = format!("[ePRO] {what}: {} ({})", self.timepoint, self.trial_id);
        // SNS refuses a subject of 100 characters or more; a timepoint and a trial id may be 64 each.
        subject.chars().take(99).collect()
    }

    fn body(&self) -> String {
        serde_json::to_string_pretty(self).expect("a message always serialises")
    }

    fn attributes(&self) -> Vec<(&'static str, String)> {
        // A trial's push provider or site subscribes to its own trial's messages.
        vec![
            ("trialId", self.trial_id.clone()),
            ("kind", self.kind.to_owned()),
        ]
    }
}
