//! The alerts a report raises by its own answers, evaluated before the write, so they are written in the same
//! transaction as the submission (or the conflicting resend) and a redelivery can never raise them again. Rules that
//! compare with the previous report are the timeline's ([`crate::timeline`]): nothing is read here.

use crate::alert::{Alerting, Report, met};
use crate::item::AlertItem;

use super::RecordError;

/// The alerts `report` raises by itself, at `at`, and whether its instrument's rules compare it with the patient's
/// previous report (it then goes on the timeline).
pub(super) fn raised(report: &Report, at: &str) -> Result<(Vec<AlertItem>, bool), RecordError> {
    let alerting = Alerting::embedded().map_err(RecordError::Rules)?;
    let Some((set, answered)) = alerting.judging(report) else {
        // An envelope from before instruments (no version), or a version no rule set is written for.
        return Ok((Vec::new(), false));
    };
    let alerts = met(set, answered)
        .into_iter()
        .map(|rule| AlertItem::raise(report, set, rule, None, at))
        .collect();
    Ok((alerts, set.has_worsening_rules()))
}
