//! A submission placed on its patient's calendar before it is written: how it sits (stored with it), the flag a
//! data manager should see, and the survey due it completes (updated in the same transaction). Never a reason to
//! refuse a submission: a late survey is still data.

use jiff::Timestamp;

use crate::item::{
    EnrolmentItem, Flag, FlagKind, OccurrenceDone, OccurrenceEvent, SchedulePlacement,
    SubmissionWrite, occurrence_sort_key,
};
use crate::schedule::calendar::utc;
use crate::schedule::{Schedules, Timing};

/// Places `write` on the calendar of `enrolment` (none: the patient is not enrolled in the trial), at `at`.
pub(super) fn place(
    write: &mut SubmissionWrite,
    enrolment: Option<&EnrolmentItem>,
    schedules: &Schedules,
    at: &str,
) {
    // Placed afresh each time: the enrolment may have changed since the last attempt.
    write.flags.retain(|flag| !flag.kind.comes_from_placement());
    write.occurrence = None;
    write.placed_against = enrolment.map(|e| (e.pk.clone(), e.revision));
    let item = &write.item;
    // A device clock that ran ahead is not believed: the server's receive time places it.
    let completed = match item.clock_ahead_seconds {
        Some(_) => item.received_at.parse::<Timestamp>(),
        None => item.submission.completed_at.parse::<Timestamp>(),
    };
    let Ok(completed) = completed else {
        return;
    };
    let Some(enrolment) = enrolment else {
        write.item.schedule = Some(SchedulePlacement {
            timing: Timing::NoEnrolment,
            occurrence_id: None,
            opens: None,
            closes: None,
            placed_at: utc(completed),
            schedule: None,
            enrolment_revision: None,
        });
        return;
    };
    let submission = &item.submission;
    let placement = enrolment.place(
        schedules,
        &submission.survey_id,
        &submission.timepoint,
        completed,
    );
    let occurrence = placement.occurrence.as_ref();
    let placed = SchedulePlacement {
        timing: placement.timing,
        occurrence_id: occurrence.map(|o| o.id.clone()),
        opens: occurrence.map(|o| utc(o.window.opens)),
        closes: occurrence.map(|o| utc(o.window.closes)),
        placed_at: utc(completed),
        schedule: Some(format!(
            "{} version {}",
            enrolment.schedule_id, enrolment.schedule_version
        )),
        enrolment_revision: Some(enrolment.revision),
    };
    let timing = placement.timing;
    if timing.is_flagged() {
        let detail = match &placed.occurrence_id {
            Some(id) => format!(
                "{} completed {} for {id}, whose window was {} to {} ({})",
                submission.survey_id,
                placed.placed_at,
                placed.opens.as_deref().unwrap_or_default(),
                placed.closes.as_deref().unwrap_or_default(),
                timing.as_str()
            ),
            None => format!(
                "{} completed {} with no survey of it due then ({})",
                submission.survey_id,
                placed.placed_at,
                timing.as_str()
            ),
        };
        let kind = match timing {
            Timing::OutOfWindow => FlagKind::OutOfWindow,
            Timing::AfterWithdrawal => FlagKind::AfterWithdrawal,
            _ => FlagKind::Unscheduled,
        };
        write.flags.push(Flag::on(&write.item, kind, detail, at));
    }
    if let Some(occurrence) = occurrence.filter(|_| timing.completes()) {
        write.occurrence = Some(OccurrenceDone {
            pk: write.item.patient_partition(),
            sk: occurrence_sort_key(&occurrence.id, &occurrence.instrument),
            submission_id: submission.submission_id,
            timing,
            done_at: placed.placed_at.clone(),
            event: OccurrenceEvent::new(
                at,
                "completed",
                format!(
                    "{} by submission {} at {}",
                    timing.as_str(),
                    submission.submission_id,
                    placed.placed_at
                ),
            ),
        });
    }
    write.item.schedule = Some(placed);
}
