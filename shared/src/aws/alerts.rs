//! The [`Alerts`] port on DynamoDB: alert items (`pk = ALERT#<alertId>`), the `AlertsByTrial` index (a trial's
//! alerts by status, newest first) and the sparse `PendingEscalations` index (open urgent alerts not escalated).
//! Alerts are created in the submission's transaction ([`super::DynamoStore`]); here they only change state, each
//! change conditional on the state it leaves.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use crate::item::{AlertItem, AlertStatus, ESCALATION_PENDING, alert_key, alert_sort};
use crate::ports::{AlertPage, Alerts, Cursor, Page, StoreError};

use super::error_class;

/// The index of a trial's alerts.
pub const ALERTS_BY_TRIAL: &str = "AlertsByTrial";
/// The index of urgent alerts waiting for escalation.
pub const PENDING_ESCALATIONS: &str = "PendingEscalations";

type Attributes = HashMap<String, AttributeValue>;

/// The alert records in the submission table.
#[derive(Debug, Clone)]
pub struct DynamoAlerts {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAlerts {
    /// The alerts of table `table`, reached with `client` (built once per container).
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoAlerts { client, table }
    }

    fn key(alert_id: &Uuid) -> [(String, AttributeValue); 2] {
        [
            ("pk".into(), AttributeValue::S(alert_key(alert_id))),
            ("sk".into(), AttributeValue::S("ALERT".into())),
        ]
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn read(item: Attributes) -> Result<AlertItem, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError(format!("an alert reads back: {e}")))
}

/// `Ok(false)` when the update's condition failed, so the caller can tell "already done" from an error.
fn applied<E, R>(
    result: Result<E, SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>>,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(service))
            if service.err().is_conditional_check_failed_exception() =>
        {
            Ok(false)
        }
        Err(other) => Err(StoreError(error_class(&other))),
    }
}

impl Alerts for DynamoAlerts {
    async fn alert(&self, alert_id: Uuid) -> Result<Option<AlertItem>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert_id).into_iter().collect()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        output.item.map(read).transpose()
    }

    async fn list(
        &self,
        trial_id: &str,
        status: Option<AlertStatus>,
        page: Page,
    ) -> Result<AlertPage, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(ALERTS_BY_TRIAL)
            .expression_attribute_values(":trial", s(trial_id))
            .scan_index_forward(false)
            .limit(page.limit as i32);
        query = match status {
            Some(status) => query
                .key_condition_expression("trialId = :trial AND begins_with(alertSort, :status)")
                .expression_attribute_values(":status", s(&format!("{}#", status.as_str()))),
            None => query.key_condition_expression("trialId = :trial"),
        };
        if let Some(after) = &page.after {
            // Rebuilt from the cursor's position and the trial asked for: a cursor cannot reach another trial.
            let mut start: Attributes = Self::key(&after.alert_id).into_iter().collect();
            start.insert("trialId".into(), s(trial_id));
            start.insert("alertSort".into(), s(&after.alert_sort));
            query = query.set_exclusive_start_key(Some(start));
        }
        let output = query
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        let alerts = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(read)
            .collect::<Result<Vec<_>, _>>()?;
        let next = output
            .last_evaluated_key
            .and_then(|_| alerts.last())
            .map(|last| Cursor {
                alert_sort: last.alert_sort.clone(),
                alert_id: last.alert_id,
            });
        Ok(AlertPage { alerts, next })
    }

    async fn acknowledge(
        &self,
        alert: &AlertItem,
        by: &str,
        at: &str,
    ) -> Result<AlertItem, StoreError> {
        let done = AlertStatus::Acknowledged;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert.alert_id).into_iter().collect()))
            .update_expression(
                "SET #status = :done, alertSort = :sort, acknowledgedBy = :by, acknowledgedAt = :at \
                 REMOVE escalation",
            )
            .condition_expression("attribute_exists(pk) AND #status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s(done.as_str()))
            .expression_attribute_values(":open", s(AlertStatus::Open.as_str()))
            .expression_attribute_values(":sort", s(&alert_sort(done, &alert.raised_at)))
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        // Acknowledged already (by anyone): the first acknowledgement stands; return the record as it is.
        applied(result)?;
        self.alert(alert.alert_id)
            .await?
            .ok_or_else(|| StoreError("the alert is gone".into()))
    }

    async fn mark_notified(&self, alert_id: Uuid, at: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert_id).into_iter().collect()))
            .update_expression("SET notifiedAt = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(notifiedAt)")
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        applied(result).map(|_| ())
    }

    async fn due_escalations(&self, raised_before: &str) -> Result<Vec<AlertItem>, StoreError> {
        let items: Vec<Attributes> = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PENDING_ESCALATIONS)
            .key_condition_expression("escalation = :pending AND raisedAt <= :before")
            .expression_attribute_values(":pending", s(ESCALATION_PENDING))
            .expression_attribute_values(":before", s(raised_before))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        items.into_iter().map(read).collect()
    }

    async fn mark_escalated(&self, alert_id: Uuid, at: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert_id).into_iter().collect()))
            .update_expression("SET escalatedAt = :at REMOVE escalation")
            .condition_expression("attribute_exists(escalation) AND #status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s(AlertStatus::Open.as_str()))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        applied(result)
    }
}
