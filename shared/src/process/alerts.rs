//! The alerts a new submission raises: the rules of its instrument version, evaluated once, before the write, so
//! that they are written in the same transaction as the submission and a redelivery can never raise them again.

use crate::alert::{Alerting, Test, evaluate};
use crate::item::{AlertItem, SubmissionItem};
use crate::ports::Store;

use super::RecordError;

/// The alerts `item` raises, at `at`. Reads the patient's previous submission only when a rule compares with it.
pub(super) async fn raised<S: Store>(
    store: &S,
    item: &SubmissionItem,
    at: &str,
) -> Result<Vec<AlertItem>, RecordError> {
    let alerting = Alerting::embedded().map_err(RecordError::Rules)?;
    let submission = &item.submission;
    let Some(version) = submission.survey_version.as_deref() else {
        // An envelope from before instruments: no version, so no rules were written for it.
        return Ok(Vec::new());
    };
    let Some((set, instrument)) = alerting.rules_for(&submission.survey_id, version) else {
        return Ok(Vec::new());
    };
    let prior = if set.needs_prior() {
        store.previous_submission(item).await?
    } else {
        None
    };
    let met = evaluate(
        set,
        instrument,
        &submission.answers,
        &item.scores,
        prior.as_ref(),
    );
    Ok(met
        .into_iter()
        .map(|rule| {
            let compared_with = prior
                .as_ref()
                .filter(|_| matches!(rule.when.test, Test::WorsenedBy(_)))
                .map(|prior| prior.submission_id);
            AlertItem::raise(item, set, rule, compared_with, at)
        })
        .collect())
}
