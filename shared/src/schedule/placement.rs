//! A submission placed on its patient's calendar: which survey due it answers, and how its completion time sits in
//! that survey's window. Never a reason to refuse: a late survey is still data.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::calendar::{Occurrence, Window};

/// How a submission sits on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timing {
    /// In its window.
    OnTime,
    /// In the grace before its window opened.
    Early,
    /// In the grace after its window closed.
    Late,
    /// A survey due, answered outside its window and graces.
    OutOfWindow,
    /// No survey of this instrument was due near then.
    Unscheduled,
    /// Completed after the patient was withdrawn (or for a window withdrawal ended).
    AfterWithdrawal,
    /// The patient has no enrolment in this trial.
    NoEnrolment,
}

impl Timing {
    /// The name used in records and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::OnTime => "on-time",
            Timing::Early => "early",
            Timing::Late => "late",
            Timing::OutOfWindow => "out-of-window",
            Timing::Unscheduled => "unscheduled",
            Timing::AfterWithdrawal => "after-withdrawal",
            Timing::NoEnrolment => "no-enrolment",
        }
    }

    /// Whether it completes the survey due (compliance counts it): on time, early or late.
    pub fn completes(self) -> bool {
        matches!(self, Timing::OnTime | Timing::Early | Timing::Late)
    }

    /// Whether a data manager should look at it.
    pub fn is_flagged(self) -> bool {
        matches!(
            self,
            Timing::OutOfWindow | Timing::Unscheduled | Timing::AfterWithdrawal
        )
    }
}

/// Where a submission sits: the survey due it answers, if any, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// How.
    pub timing: Timing,
    /// The survey due it answers.
    pub occurrence: Option<Occurrence>,
}

/// Places a submission of `instrument` that the app sent for `timepoint`, completed at `completed_at`, on
/// `calendar` (the patient's occurrences; the patient withdrawn at `withdrawn_at`, if so). A survey due whose id the
/// app sent is the one answered, however far off the time; otherwise the one of this instrument whose window holds
/// the time, or whose grace does (late before early: a patient catching up more often than one ahead).
pub fn place(
    calendar: &[Occurrence],
    withdrawn_at: Option<Timestamp>,
    instrument: &str,
    timepoint: &str,
    completed_at: Timestamp,
) -> Placement {
    let of_instrument: Vec<&Occurrence> = calendar
        .iter()
        .filter(|occurrence| occurrence.instrument == instrument)
        .collect();
    let inside = |test: fn(&Window, Timestamp) -> bool| {
        of_instrument.iter().find(|o| test(&o.window, completed_at))
    };
    let answered = of_instrument
        .iter()
        .find(|o| o.id == timepoint)
        .or_else(|| inside(|w, t| w.opens <= t && t < w.closes))
        .or_else(|| inside(|w, t| w.closes <= t && t < w.grace_ends))
        .or_else(|| inside(|w, t| w.early_from <= t && t < w.opens));
    let after_withdrawal = withdrawn_at.is_some_and(|at| completed_at >= at);
    let Some(&occurrence) = answered else {
        let timing = if after_withdrawal {
            Timing::AfterWithdrawal
        } else {
            Timing::Unscheduled
        };
        return Placement {
            timing,
            occurrence: None,
        };
    };
    let w = &occurrence.window;
    let timing = if after_withdrawal && occurrence.withdrawn {
        Timing::AfterWithdrawal
    } else if w.opens <= completed_at && completed_at < w.closes {
        Timing::OnTime
    } else if w.closes <= completed_at && completed_at < w.grace_ends {
        Timing::Late
    } else if w.early_from <= completed_at && completed_at < w.opens {
        Timing::Early
    } else {
        Timing::OutOfWindow
    };
    Placement {
        timing,
        occurrence: Some(occurrence.clone()),
    }
}
