//! A trial's reports placed on their timelines again, after the timeline function could not place them (its batch
//! parked in the failure queue): every stored submission and conflicting resend of instruments whose rules compare
//! reports, in completion order, through the same use case the function runs. Placing and comparing again is
//! harmless: an alert already raised is found, never raised twice.

use intake::aws::{DynamoAlerts, DynamoStore};
use intake::item::instant_key;
use intake::timeline::{Arrival, Assessor, TimelineReport};

use crate::{Aws, Error, Stack};

/// Every report of `trial_id` that belongs on a timeline, in completion order.
pub async fn trial_arrivals(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
) -> Result<Vec<Arrival>, Error> {
    let mut keys = aws.trial_submission_keys(stack, trial_id).await?;
    keys.extend(aws.trial_conflict_keys(stack, trial_id).await?);
    let mut arrivals = Vec::new();
    for item in aws.get_items(stack, &keys).await?.into_values() {
        let conflict = item
            .get("recordType")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            == Some("conflict");
        let arrival = if conflict {
            Arrival::Conflicting(Box::new(serde_dynamo::from_item(item)?))
        } else {
            Arrival::Stored(Box::new(serde_dynamo::from_item(item)?))
        };
        if arrival.on_timeline() {
            arrivals.push(arrival);
        }
    }
    arrivals.sort_by_cached_key(|a| instant_key(a.completed_at()));
    Ok(arrivals)
}

/// Places `arrivals` on their timelines in the stack's table, calling `progress` after each.
pub async fn place(
    aws: &Aws,
    stack: &Stack,
    arrivals: &[Arrival],
    progress: impl Fn(),
) -> Result<TimelineReport, Error> {
    let assessor = Assessor::new(
        DynamoStore::new(aws.dynamodb.clone(), stack.table_name.clone()),
        DynamoAlerts::new(aws.dynamodb.clone(), stack.table_name.clone()),
    )?;
    let mut report = TimelineReport::default();
    for arrival in arrivals {
        assessor.place(arrival, &mut report).await?;
        progress();
    }
    Ok(report)
}
