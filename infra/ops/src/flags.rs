//! What a trial's data managers should look at: repeats (a second submission of an instrument and timepoint
//! under a new id), fast device clocks, and conflicting resends, listed from the `FlagsByTrial` index.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::{Aws, Error, Stack};

/// One flag, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagRow {
    /// When it was raised.
    pub flagged_at: String,
    /// A flag kind (`repeat`, `clock-ahead`, `conflict`, `out-of-window`, `unscheduled`, `after-withdrawal`).
    pub kind: String,
    /// The flagged submission.
    pub submission_id: String,
    /// The patient's partition key (`TRIAL#…#PATIENT#…`): where its records are.
    pub pk: String,
    /// What to look at.
    pub detail: String,
}

/// Every flag of `trial_id`, oldest first.
pub async fn flags(aws: &Aws, stack: &Stack, trial_id: &str) -> Result<Vec<FlagRow>, Error> {
    let items = aws
        .dynamodb
        .query()
        .table_name(&stack.table_name)
        .index_name("FlagsByTrial")
        .key_condition_expression("flagTrialId = :t")
        .expression_attribute_values(":t", AttributeValue::S(trial_id.to_owned()))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await?;
    let text = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    Ok(items
        .iter()
        .map(|item| FlagRow {
            flagged_at: text(item, "flaggedAt"),
            kind: text(item, "kind"),
            submission_id: text(item, "submissionId"),
            pk: text(item, "pk"),
            detail: text(item, "detail"),
        })
        .collect())
}
