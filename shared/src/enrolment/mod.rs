//! Enrolment: a patient's place on a schedule version, with anchor dates and a time zone that may change, and a
//! withdrawal. Each change is a new revision with who, when and why; the patient's calendar is recomputed from
//! all of them ([`crate::schedule::calendar`]) and the stored occurrences brought in line in the same transaction.
//!
//! - `request`: what staff send (enrol, change, withdraw), validated; `revise`: the records a change writes.

mod request;
mod revise;
#[cfg(test)]
mod tests;

use jiff::Timestamp;

use crate::item::{EnrolmentItem, TermsRecord};
use crate::schedule::{
    AnchorValue, CalendarError, Occurrence, Placement, Schedule, Schedules, Terms, Timing,
    occurrences, place,
};

pub use request::{ChangeRequest, EnrolRequest, EnrolmentError, MAX_REASON_CHARS, WithdrawRequest};
pub use revise::{Change, MAX_OCCURRENCES, OccurrenceWrite, Revision, enrol, revise};

/// The name of the anchor that defaults to the enrolment instant.
pub const ENROLMENT_ANCHOR: &str = "enrolment";

impl EnrolmentItem {
    /// The schedule version it follows, from `schedules`.
    pub fn schedule<'a>(&self, schedules: &'a Schedules) -> Option<&'a Schedule> {
        schedules.get(&self.schedule_id, Some(&self.schedule_version))
    }

    /// When it was withdrawn.
    pub fn withdrawn_at(&self) -> Option<Timestamp> {
        self.withdrawal.as_ref().and_then(|w| w.at.parse().ok())
    }

    /// The terms as the calendar reads them.
    pub fn calendar_terms(&self) -> Result<Vec<Terms>, CalendarError> {
        self.terms.iter().map(terms_of).collect()
    }

    /// Every survey due under it.
    pub fn calendar(&self, schedules: &Schedules) -> Result<Vec<Occurrence>, CalendarError> {
        let schedule = self
            .schedule(schedules)
            .ok_or_else(|| CalendarError::MissingAnchor("the schedule version".into()))?;
        occurrences(schedule, &self.calendar_terms()?, self.withdrawn_at())
    }

    /// Where a submission of `instrument` for `timepoint`, completed at `completed_at`, sits on this patient's
    /// calendar. A calendar that cannot be computed (a schedule this build lacks) places nothing: unscheduled.
    pub fn place(
        &self,
        schedules: &Schedules,
        instrument: &str,
        timepoint: &str,
        completed_at: Timestamp,
    ) -> Placement {
        match self.calendar(schedules) {
            Ok(calendar) => place(
                &calendar,
                self.withdrawn_at(),
                instrument,
                timepoint,
                completed_at,
            ),
            Err(_) => Placement {
                timing: Timing::Unscheduled,
                occurrence: None,
            },
        }
    }
}

fn terms_of(record: &TermsRecord) -> Result<Terms, CalendarError> {
    let anchors = record
        .anchors
        .iter()
        .map(|(name, value)| {
            AnchorValue::parse(value)
                .map(|value| (name.clone(), value))
                .ok_or_else(|| CalendarError::MissingAnchor(name.clone()))
        })
        .collect::<Result<_, _>>()?;
    Ok(Terms {
        from: record.from.parse().map_err(|_| CalendarError::OutOfRange)?,
        anchors,
        zone: record.time_zone.clone(),
    })
}
