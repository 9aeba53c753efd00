//! The [`Enrolments`] and [`Sweep`] ports on DynamoDB: enrolments (`sk = ENROLMENT`) and surveys due
//! (`sk = OCCURRENCE#…`) in the patient's partition, the `CalendarByTrial` index (a trial's calendar, for
//! compliance and the wave forecast) and the sparse `ScheduleDue` index (surveys due whose next step the sweep owes,
//! by shard and time). An enrolment revision and its surveys due are one transaction; after that each step of the
//! sweep is one conditional update.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::alerts::{applied, s};
use super::dynamodb::{WRITE_ONCE, from_attributes, to_attributes};
use super::error_class;
use super::transaction::{put_if, request, transact};
use crate::enrolment::{OccurrenceWrite, Revision};
use crate::item::{
    AuditItem, ENROLMENT_SK, EnrolmentItem, EnrolmentStanding, NextEvent, OccurrenceItem,
    partition_key,
};
use crate::ports::{Claim, Enrolments, Notice, StoreError, Sweep};

use super::DynamoStore;

/// The index of a trial's surveys due, every patient.
pub const CALENDAR_BY_TRIAL: &str = "CalendarByTrial";
/// The sparse index of surveys due whose next step the sweep owes.
pub const SCHEDULE_DUE: &str = "ScheduleDue";
/// The most steps one sweep takes from one shard: a backlog larger than a sweep can work through in its time (a
/// sweep that stopped for hours) is taken oldest first over the next minutes' sweeps.
const MAX_DUE_PER_SHARD: usize = 2_000;

type Attributes = HashMap<String, AttributeValue>;

/// Whether a notice's record applied or, refused, was recorded already by this claim (`done_by` names it in the
/// occurrence the refusal returns): the same request sent again after its answer was lost, its condition now failing
/// on what the first one wrote. Its history is not appended twice.
fn applied_or_recorded_by<R>(
    result: Result<UpdateItemOutput, SdkError<UpdateItemError, R>>,
    done_by: &str,
    claim_id: &str,
) -> Result<bool, StoreError> {
    if let Err(SdkError::ServiceError(service)) = &result
        && let UpdateItemError::ConditionalCheckFailedException(refused) = service.err()
    {
        let by = refused.item().and_then(|item| item.get(done_by));
        return Ok(by
            .and_then(|by| by.as_s().ok())
            .is_some_and(|by| by == claim_id));
    }
    applied(result)
}

fn next(event: NextEvent) -> AttributeValue {
    s(match event {
        NextEvent::Open => "open",
        NextEvent::Close => "close",
        NextEvent::MissedNotice => "missed-notice",
    })
}

fn occurrences(items: Vec<Attributes>) -> Result<Vec<OccurrenceItem>, StoreError> {
    items
        .into_iter()
        .map(|item| from_attributes(item, "a survey due"))
        .collect()
}

impl DynamoStore {
    fn key(item: &OccurrenceItem) -> Attributes {
        [
            ("pk".to_owned(), s(&item.pk)),
            ("sk".to_owned(), s(&item.sk)),
        ]
        .into()
    }

    /// Withdrawn or dropped: the time set, the change's event appended, the sweep's entry removed; unless a
    /// submission completed it since it was read, or a sweep is sending its reminder this very moment (the change is
    /// refused and made again a moment later, so no reminder follows a withdrawal).
    fn end(
        &self,
        item: &OccurrenceItem,
        field: &str,
        at: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let event = item
            .history
            .last()
            .map(to_attributes)
            .transpose()?
            .unwrap_or_default();
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(item)))
            .update_expression(
                "SET #field = if_not_exists(#field, :at), history = list_append(history, :event) \
                 REMOVE dueAt, dueShard, nextEvent",
            )
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(doneBy) AND attribute_not_exists(reminderClaim)",
            )
            .expression_attribute_names("#field", field)
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(
                ":event",
                AttributeValue::L(vec![AttributeValue::M(event)]),
            )
            .build()
            .map_err(request)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Every item `query` finds, up to `most`.
    async fn query_all(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        most: usize,
    ) -> Result<Vec<OccurrenceItem>, StoreError> {
        let mut stream = query.into_paginator().items().send();
        let mut items = Vec::new();
        while items.len() < most
            && let Some(item) = stream.next().await
        {
            items.push(item.map_err(|e| StoreError(error_class(&e)))?);
        }
        occurrences(items)
    }
}

impl DynamoStore {
    /// A consistent read of the patient's enrolment item.
    fn enrolment_item(&self, trial_id: &str, patient_id: &str) -> GetItemFluentBuilder {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&partition_key(trial_id, patient_id)))
            .key("sk", s(ENROLMENT_SK))
            .consistent_read(true)
    }
}

impl Enrolments for DynamoStore {
    async fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentItem>, StoreError> {
        let output = self
            .enrolment_item(trial_id, patient_id)
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        output
            .item
            .map(|item| from_attributes(item, "an enrolment"))
            .transpose()
    }

    async fn standing(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentStanding>, StoreError> {
        let [trial, patient, withdrawal] = EnrolmentStanding::ATTRIBUTES;
        let output = self
            .enrolment_item(trial_id, patient_id)
            .projection_expression("#trial, #patient, #withdrawal.#at")
            .expression_attribute_names("#trial", trial)
            .expression_attribute_names("#patient", patient)
            .expression_attribute_names("#withdrawal", withdrawal)
            .expression_attribute_names("#at", "at")
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        output
            .item
            .map(|item| from_attributes(item, "an enrolment's standing"))
            .transpose()
    }

    async fn occurrences(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Vec<OccurrenceItem>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :occurrence)")
            .expression_attribute_values(":pk", s(&partition_key(trial_id, patient_id)))
            .expression_attribute_values(":occurrence", s("OCCURRENCE#"))
            .consistent_read(true);
        self.query_all(query, usize::MAX).await
    }

    async fn write(&self, revision: &Revision, audit: &AuditItem) -> Result<bool, StoreError> {
        let mut items = vec![match revision.replaces {
            None => put_if(&self.table, &revision.enrolment, WRITE_ONCE, &[])?,
            Some(replaces) => put_if(
                &self.table,
                &revision.enrolment,
                "revision = :replaces",
                &[(":replaces", AttributeValue::N(replaces.to_string()))],
            )?,
        }];
        for write in &revision.occurrences {
            items.push(match write {
                OccurrenceWrite::New(item) => put_if(&self.table, item, WRITE_ONCE, &[])?,
                // Not open when the change was made, so never reminded of; unless the sweep or a submission got
                // there between the read and this write.
                OccurrenceWrite::Moved(item) => put_if(
                    &self.table,
                    item,
                    "attribute_exists(pk) AND attribute_not_exists(doneBy) AND attribute_not_exists(remindedAt) \
                     AND attribute_not_exists(reminderClaim)",
                    &[],
                )?,
                OccurrenceWrite::Withdrawn(item) => {
                    self.end(item, "withdrawnAt", item.withdrawn_at.as_deref().unwrap_or_default())?
                }
                OccurrenceWrite::Dropped(item) => {
                    self.end(item, "droppedAt", item.dropped_at.as_deref().unwrap_or_default())?
                }
            });
        }
        items.push(put_if(&self.table, audit, WRITE_ONCE, &[])?);
        transact(&self.client, items).await
    }

    async fn calendar(&self, trial_id: &str) -> Result<Vec<OccurrenceItem>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(CALENDAR_BY_TRIAL)
            .key_condition_expression("calendarTrialId = :trial")
            .expression_attribute_values(":trial", s(trial_id));
        self.query_all(query, usize::MAX).await
    }
}

impl Sweep for DynamoStore {
    async fn due(&self, shard: u32, until: &str) -> Result<Vec<OccurrenceItem>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(SCHEDULE_DUE)
            .key_condition_expression("dueShard = :shard AND dueAt <= :until")
            .expression_attribute_values(":shard", s(&shard.to_string()))
            .expression_attribute_values(":until", s(until));
        self.query_all(query, MAX_DUE_PER_SHARD).await
    }

    async fn claim(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim: &Claim,
    ) -> Result<bool, StoreError> {
        let (owed, claim_name, claimed_at) = match notice {
            Notice::Reminder => (
                "nextEvent = :next AND opens = :opens AND attribute_not_exists(remindedAt) \
                 AND attribute_not_exists(doneBy) AND attribute_not_exists(withdrawnAt)",
                "reminderClaim",
                "reminderClaimedAt",
            ),
            Notice::Missed => (
                "nextEvent = :next AND opens = :opens AND attribute_not_exists(noticedAt)",
                "noticeClaim",
                "noticeClaimedAt",
            ),
        };
        let event = match notice {
            Notice::Reminder => NextEvent::Open,
            Notice::Missed => NextEvent::MissedNotice,
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(item)))
            .update_expression("SET #claim = :claim, #claimedAt = :at")
            // Held by this very claim: the SDK sent the request again after its answer was lost.
            .condition_expression(format!(
                "{owed} AND (attribute_not_exists(#claim) OR #claimedAt < :stale OR #claim = :claim)"
            ))
            .expression_attribute_names("#claim", claim_name)
            .expression_attribute_names("#claimedAt", claimed_at)
            .expression_attribute_values(":next", next(event))
            .expression_attribute_values(":opens", s(&item.opens))
            .expression_attribute_values(":claim", s(&claim.id))
            .expression_attribute_values(":at", s(&claim.at))
            .expression_attribute_values(":stale", s(&claim.stale_before));
        applied(update.send().await)
    }

    async fn complete(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        let (expression, claim_name, done_by, event) = match notice {
            // From now on the sweep waits for the window to close.
            Notice::Reminder => (
                "SET remindedAt = :at, remindedBy = :claim, nextEvent = :close, dueAt = :closes, \
                 history = list_append(history, :event) REMOVE reminderClaim, reminderClaimedAt",
                "reminderClaim",
                "remindedBy",
                ("reminded", "reminder topic"),
            ),
            Notice::Missed => (
                "SET noticedAt = :at, noticedBy = :claim, history = list_append(history, :event) \
                 REMOVE noticeClaim, noticeClaimedAt, dueAt, dueShard, nextEvent",
                "noticeClaim",
                "noticedBy",
                ("noticed", "missed-survey topic"),
            ),
        };
        let event = AttributeValue::L(vec![AttributeValue::M(to_attributes(
            &crate::item::OccurrenceEvent::new(at, event.0, event.1.into()),
        )?)]);
        let update = |expression: &str, condition: &str| {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(item)))
                .update_expression(expression)
                .condition_expression(condition)
                .expression_attribute_names("#claim", claim_name)
                .expression_attribute_values(":claim", s(claim_id))
                .expression_attribute_values(":at", s(at))
                .expression_attribute_values(":event", event.clone())
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
        };
        if notice == Notice::Missed {
            return applied_or_recorded_by(
                update(expression, "#claim = :claim").send().await,
                done_by,
                claim_id,
            );
        }
        // The sweep waits for the window to close next, unless another sweep recorded the miss meanwhile (a slow
        // publish across the close): then the reminder is recorded sent, and the miss's notice is left to come.
        let moved_on = update(expression, "#claim = :claim AND nextEvent = :open")
            .expression_attribute_values(":open", next(NextEvent::Open))
            .expression_attribute_values(":close", next(NextEvent::Close))
            .expression_attribute_values(":closes", s(&item.closes))
            .send()
            .await;
        if applied_or_recorded_by(moved_on, done_by, claim_id)? {
            return Ok(true);
        }
        let recorded = update(
            "SET remindedAt = :at, remindedBy = :claim, history = list_append(history, :event) \
             REMOVE reminderClaim, reminderClaimedAt",
            "#claim = :claim",
        );
        applied_or_recorded_by(recorded.send().await, done_by, claim_id)
    }

    async fn release(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
    ) -> Result<(), StoreError> {
        let (claim_name, claimed_at) = match notice {
            Notice::Reminder => ("reminderClaim", "reminderClaimedAt"),
            Notice::Missed => ("noticeClaim", "noticeClaimedAt"),
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(item)))
            .update_expression("REMOVE #claim, #claimedAt")
            .condition_expression("#claim = :claim")
            .expression_attribute_names("#claim", claim_name)
            .expression_attribute_names("#claimedAt", claimed_at)
            .expression_attribute_values(":claim", s(claim_id));
        applied(update.send().await).map(|_| ())
    }

    async fn record_missed(&self, item: &OccurrenceItem, at: &str) -> Result<bool, StoreError> {
        let event = crate::item::OccurrenceEvent::new(
            at,
            "missed",
            format!("window closed {}", item.closes),
        );
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(item)))
            .update_expression(
                "SET missedAt = :at, nextEvent = :notice, dueAt = :at, history = list_append(history, :event)",
            )
            .condition_expression(
                "nextEvent IN (:open, :close) AND closes = :closes AND closes <= :at \
                 AND attribute_not_exists(doneBy) AND attribute_not_exists(missedAt) \
                 AND attribute_not_exists(withdrawnAt) AND attribute_not_exists(droppedAt)",
            )
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":notice", next(NextEvent::MissedNotice))
            .expression_attribute_values(":open", next(NextEvent::Open))
            .expression_attribute_values(":close", next(NextEvent::Close))
            .expression_attribute_values(":closes", s(&item.closes))
            .expression_attribute_values(":event", AttributeValue::L(vec![AttributeValue::M(to_attributes(&event)?)]));
        applied(update.send().await)
    }
}
