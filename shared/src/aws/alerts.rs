//! The [`Alerts`] port on DynamoDB: alert items (`pk = ALERT#<alertId>`), the `AlertsByTrial` index (a trial's
//! alerts by status, newest first) and the sparse `PendingDeliveries` and `PendingEscalations` indexes (alerts whose
//! message or escalation is waiting or claimed). Alerts on a report's own answers are created in its transaction
//! ([`super::DynamoStore`]), those comparing reports here; after that they only change state, each change
//! conditional on the state it leaves.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use uuid::Uuid;

use crate::item::{AlertItem, AlertStatus, AuditItem, CLAIMED, PENDING, alert_key, alert_sort};
use crate::ports::{AlertPage, Alerts, Claim, Cursor, Duty, Page, StoreError};

use super::dynamodb::{WRITE_ONCE, from_attributes};
use super::error_class;
use super::transaction::{put_if, request, transact};

/// The index of a trial's alerts.
pub const ALERTS_BY_TRIAL: &str = "AlertsByTrial";
/// The index of urgent alerts waiting for escalation.
pub const PENDING_ESCALATIONS: &str = "PendingEscalations";
/// The index of alerts whose message is not on the alert topic yet.
pub const PENDING_DELIVERIES: &str = "PendingDeliveries";

/// The attributes of a duty: its state (the index key), its claim and when it was taken, when it was done and by
/// which claim.
struct DutyAttributes {
    state: &'static str,
    claim: &'static str,
    claimed_at: &'static str,
    done_at: &'static str,
    done_by: &'static str,
    index: &'static str,
}

fn attributes(duty: Duty) -> DutyAttributes {
    match duty {
        Duty::Delivery => DutyAttributes {
            state: "delivery",
            claim: "deliveryClaim",
            claimed_at: "deliveryClaimedAt",
            done_at: "notifiedAt",
            done_by: "notifiedBy",
            index: PENDING_DELIVERIES,
        },
        Duty::Escalation => DutyAttributes {
            state: "escalation",
            claim: "escalationClaim",
            claimed_at: "escalationClaimedAt",
            done_at: "escalatedAt",
            done_by: "escalatedBy",
            index: PENDING_ESCALATIONS,
        },
    }
}

type Attributes = HashMap<String, AttributeValue>;

/// The alert records in the submission table.
#[derive(Debug, Clone)]
pub struct DynamoAlerts {
    pub(super) client: aws_sdk_dynamodb::Client,
    pub(super) table: String,
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

pub(super) fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn read(item: Attributes) -> Result<AlertItem, StoreError> {
    from_attributes(item, "an alert")
}

/// `Ok(false)` when the update's condition failed, so the caller can tell "already done" from an error.
pub(super) fn applied<E, R>(
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
        audit: &AuditItem,
    ) -> Result<AlertItem, StoreError> {
        let done = AlertStatus::Acknowledged;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert.alert_id).into_iter().collect()))
            .update_expression(
                "SET #status = :done, alertSort = :sort, acknowledgedBy = :by, acknowledgedAt = :at \
                 REMOVE escalation, escalationClaim, escalationClaimedAt",
            )
            .condition_expression("attribute_exists(pk) AND #status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s(done.as_str()))
            .expression_attribute_values(":open", s(AlertStatus::Open.as_str()))
            .expression_attribute_values(":sort", s(&alert_sort(done, &alert.raised_at)))
            .expression_attribute_values(":by", s(&audit.by))
            .expression_attribute_values(":at", s(&audit.at))
            .build()
            .map_err(request)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            put_if(&self.table, audit, WRITE_ONCE, &[])?,
        ];
        // Acknowledged already (by anyone): the first acknowledgement and its audit record stand; nothing is
        // written, and the record is returned as it is.
        transact(&self.client, items).await?;
        self.alert(alert.alert_id)
            .await?
            .ok_or_else(|| StoreError("the alert is gone".into()))
    }

    async fn raise(&self, alert: &AlertItem) -> Result<bool, StoreError> {
        let item =
            serde_dynamo::to_item(alert).map_err(|e| StoreError(format!("item mapping: {e}")))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
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

    async fn reassess(
        &self,
        alert_id: Uuid,
        against: Uuid,
        still_due: bool,
        at: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert_id).into_iter().collect()))
            .update_expression(
                "SET stillDue = :due, reassessedAgainst = :against, reassessedAt = :at",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":due", AttributeValue::Bool(still_due))
            .expression_attribute_values(":against", s(&against.to_string()))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        applied(result).map(|_| ())
    }

    async fn due(&self, duty: Duty, raised_before: &str) -> Result<Vec<AlertItem>, StoreError> {
        let names = attributes(duty);
        let mut due = Vec::new();
        // Waiting, and claimed (the claim decides whether it went stale).
        for state in [PENDING, CLAIMED] {
            let items: Vec<Attributes> = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(names.index)
                .key_condition_expression("#state = :state AND raisedAt <= :before")
                .expression_attribute_names("#state", names.state)
                .expression_attribute_values(":state", s(state))
                .expression_attribute_values(":before", s(raised_before))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| StoreError(error_class(&e)))?;
            for item in items {
                due.push(read(item)?);
            }
        }
        due.sort_by(|a, b| a.raised_at.cmp(&b.raised_at));
        Ok(due)
    }

    async fn claim(&self, alert_id: Uuid, duty: Duty, claim: &Claim) -> Result<bool, StoreError> {
        let names = attributes(duty);
        // DynamoDB refuses redundant parentheses: each condition is written out whole. A claim already held by this
        // very claim is taken: the SDK sends the same request again when an answer is lost, and the first one landed.
        let condition = match duty {
            // An alert raised before deliveries were claimed has no state: it is waiting unless it was sent.
            Duty::Delivery => {
                "#state = :pending OR (#state = :claimed AND (#claimedAt < :stale OR #claim = :claim)) \
                 OR (attribute_exists(pk) AND attribute_not_exists(#state) AND attribute_not_exists(#doneAt))"
            }
            Duty::Escalation => {
                "(#state = :pending OR (#state = :claimed AND (#claimedAt < :stale OR #claim = :claim))) \
                 AND #status = :open"
            }
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert_id).into_iter().collect()))
            .update_expression("SET #state = :claimed, #claim = :claim, #claimedAt = :at")
            .condition_expression(condition)
            .expression_attribute_names("#state", names.state)
            .expression_attribute_names("#claim", names.claim)
            .expression_attribute_names("#claimedAt", names.claimed_at)
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":claimed", s(CLAIMED))
            .expression_attribute_values(":stale", s(&claim.stale_before))
            .expression_attribute_values(":claim", s(&claim.id))
            .expression_attribute_values(":at", s(&claim.at));
        update = match duty {
            Duty::Delivery => update.expression_attribute_names("#doneAt", names.done_at),
            Duty::Escalation => update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":open", s(AlertStatus::Open.as_str())),
        };
        applied(update.send().await)
    }

    async fn complete(
        &self,
        alert_id: Uuid,
        duty: Duty,
        claim_id: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        let names = attributes(duty);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert_id).into_iter().collect()))
            .update_expression(
                "SET #doneAt = :at, #doneBy = :claim REMOVE #state, #claim, #claimedAt",
            )
            // Or already recorded by this claim: the same request sent again after its answer was lost.
            .condition_expression("#claim = :claim OR #doneBy = :claim")
            .expression_attribute_names("#state", names.state)
            .expression_attribute_names("#claim", names.claim)
            .expression_attribute_names("#claimedAt", names.claimed_at)
            .expression_attribute_names("#doneAt", names.done_at)
            .expression_attribute_names("#doneBy", names.done_by)
            .expression_attribute_values(":claim", s(claim_id))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        applied(result)
    }

    async fn release(&self, alert_id: Uuid, duty: Duty, claim_id: &str) -> Result<(), StoreError> {
        let names = attributes(duty);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&alert_id).into_iter().collect()))
            .update_expression("SET #state = :pending REMOVE #claim, #claimedAt")
            .condition_expression("#claim = :claim")
            .expression_attribute_names("#state", names.state)
            .expression_attribute_names("#claim", names.claim)
            .expression_attribute_names("#claimedAt", names.claimed_at)
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":claim", s(claim_id))
            .send()
            .await;
        applied(result).map(|_| ())
    }
}
