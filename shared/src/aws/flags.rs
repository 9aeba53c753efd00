//! The [`Flags`] port on DynamoDB: the `FlagsByTrial` index, which holds flag and conflict records only (ids,
//! kind, detail: never the conflicting content).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoAlerts;
use super::error_class;
use crate::item::FlagKind;
use crate::ports::{FlagCursor, FlagPage, Flags, ListedFlag, StoreError};

/// The index of a trial's flags.
pub const FLAGS_BY_TRIAL: &str = "FlagsByTrial";

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn listed(item: &HashMap<String, AttributeValue>) -> Result<ListedFlag, StoreError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError(format!("a flag without {name}")))
    };
    Ok(ListedFlag {
        kind: FlagKind::named(&text("kind")?)
            .ok_or_else(|| StoreError("a flag of an unknown kind".into()))?,
        submission_id: text("submissionId")?
            .parse()
            .map_err(|_| StoreError("a flag with a malformed id".into()))?,
        pk: text("pk")?,
        sk: text("sk")?,
        flagged_at: text("flaggedAt")?,
        detail: text("detail")?,
    })
}

impl Flags for DynamoAlerts {
    async fn flags(
        &self,
        trial_id: &str,
        kind: Option<FlagKind>,
        limit: usize,
        after: Option<FlagCursor>,
    ) -> Result<FlagPage, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(FLAGS_BY_TRIAL)
            .key_condition_expression("flagTrialId = :trial")
            .expression_attribute_values(":trial", s(trial_id))
            .scan_index_forward(false)
            .limit(limit as i32);
        if let Some(kind) = kind {
            query = query
                .filter_expression("#kind = :kind")
                .expression_attribute_names("#kind", "kind")
                .expression_attribute_values(":kind", s(kind.as_str()));
        }
        if let Some(after) = after {
            // Rebuilt from the cursor and the trial asked for: a cursor cannot reach another trial.
            let start = HashMap::from([
                ("flagTrialId".to_owned(), s(trial_id)),
                ("flaggedAt".to_owned(), s(&after.flagged_at)),
                ("pk".to_owned(), s(&after.pk)),
                ("sk".to_owned(), s(&after.sk)),
            ]);
            query = query.set_exclusive_start_key(Some(start));
        }
        let output = query
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        let next = output.last_evaluated_key.as_ref().and_then(|key| {
            let text = |name: &str| key.get(name)?.as_s().ok().cloned();
            Some(FlagCursor {
                flagged_at: text("flaggedAt")?,
                pk: text("pk")?,
                sk: text("sk")?,
            })
        });
        let flags = output
            .items
            .unwrap_or_default()
            .iter()
            .map(listed)
            .collect::<Result<_, _>>()?;
        Ok(FlagPage { flags, next })
    }
}
