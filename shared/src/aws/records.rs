//! The [`Records`] port on DynamoDB: a trial's exclusions (`pk = EXCLUSION#<trialId>`) and audit trail
//! (`pk = AUDIT#<trialId>`), each change of an exclusion one transaction with its audit record and a check that the
//! submission is stored; and corrected versions (`pk = VERSION#<trialId>#<patientId>`), each one transaction with
//! the alerts it newly raises and its audit record, checking the version it replaces is stored.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use uuid::Uuid;

use super::DynamoStore;
use super::alerts::s;
use super::dynamodb::{Attributes, WRITE_ONCE, from_attributes, text};
use super::error_class;
use super::transaction::{key, put_if, request, transact};
use crate::item::{
    AlertItem, AuditItem, ExclusionItem, Key, SubmissionItem, VersionItem, audit_key,
    conflict_prefix, exclusion_key, partition_key, submission_key, submission_sort_key,
    version_key, version_prefix,
};
use crate::ports::{AuditPage, Records, StoreError};

fn read<T: serde::de::DeserializeOwned>(
    item: std::collections::HashMap<String, AttributeValue>,
) -> Result<T, StoreError> {
    from_attributes(item, "a record")
}

impl DynamoStore {
    /// The record at `pk`/`sk`, read consistently.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
        sk: &str,
    ) -> Result<Option<T>, StoreError> {
        let key = (pk.to_owned(), sk.to_owned());
        self.read_item(&key, None).await?.map(read).transpose()
    }

    /// The submission `submission_id` of the patient whose partition is `patient_pk`, with its key, read
    /// consistently: under its id's key, else (stored before 2026-12-06) in that partition. One under its id's key
    /// from another trial or patient is not theirs: their staff never read it. `projection` (which must name
    /// `recordType`, `trialId` and `patientId`) reads those attributes alone.
    pub(super) async fn stored_submission(
        &self,
        patient_pk: &str,
        submission_id: Uuid,
        projection: Option<&str>,
    ) -> Result<Option<(Key, Attributes)>, StoreError> {
        let by_id = submission_key(&submission_id);
        if let Some(item) = self.read_item(&by_id, projection).await?
            && text(&item, "recordType").as_deref() == Some("submission")
        {
            let owner = partition_key(
                &text(&item, "trialId").unwrap_or_default(),
                &text(&item, "patientId").unwrap_or_default(),
            );
            return Ok((owner == patient_pk).then_some((by_id, item)));
        }
        let legacy = (patient_pk.to_owned(), submission_sort_key(&submission_id));
        Ok(self
            .read_item(&legacy, projection)
            .await?
            .map(|item| (legacy, item)))
    }

    /// The item under `key` (its `projection` only, when given), read consistently.
    pub(super) async fn read_item(
        &self,
        (pk, sk): &(String, String),
        projection: Option<&str>,
    ) -> Result<Option<Attributes>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .set_projection_expression(projection.map(str::to_owned))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        Ok(output.item)
    }

    /// The content hashes of the conflicting resends of `submission_id` in partition `pk`: the query projects the
    /// hash alone (the template's grant allows no other attribute there), so no answer is read.
    pub(super) async fn content_hashes_resent(
        &self,
        pk: &str,
        submission_id: Uuid,
    ) -> Result<Vec<String>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :resends)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":resends", s(&conflict_prefix(&submission_id)))
            .projection_expression("contentHash")
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut hashes = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| StoreError(error_class(&e)))?;
            let hash = text(&item, "contentHash")
                .ok_or_else(|| StoreError("a conflicting resend without its hash".into()))?;
            hashes.push(hash);
        }
        Ok(hashes)
    }

    /// Every record of partition `pk` (whose sort key starts with `prefix`, when given), in key order, read
    /// consistently, page by page.
    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<T>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true);
        let query = match prefix {
            None => query.key_condition_expression("pk = :pk"),
            Some(prefix) => query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
        };
        let mut pages = query.into_paginator().items().send();
        let mut records = Vec::new();
        while let Some(item) = pages.next().await {
            records.push(read(item.map_err(|e| StoreError(error_class(&e)))?)?);
        }
        Ok(records)
    }
}

impl Records for DynamoStore {
    // Apart from `submission`: an exclusion needs to know where the submission is, never its answers, so the read
    // projects ids alone and no answer enters the staff API's memory on that route.
    async fn stored_key(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> Result<Option<(String, String)>, StoreError> {
        let pk = partition_key(trial_id, patient_id);
        Ok(self
            .stored_submission(&pk, submission_id, Some("recordType, trialId, patientId"))
            .await?
            .map(|(key, _)| key))
    }

    async fn exclusion(
        &self,
        trial_id: &str,
        submission_id: Uuid,
    ) -> Result<Option<ExclusionItem>, StoreError> {
        self.get(
            &exclusion_key(trial_id),
            &submission_sort_key(&submission_id),
        )
        .await
    }

    async fn change_exclusion(
        &self,
        next: &ExclusionItem,
        (stored_pk, stored_sk): &(String, String),
        audit: &AuditItem,
    ) -> Result<bool, StoreError> {
        let stored = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(stored_pk, stored_sk)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(request)?;
        let state = match next.revision {
            1 => put_if(&self.table, next, WRITE_ONCE, &[])?,
            revision => put_if(
                &self.table,
                next,
                "revision = :replaces",
                &[(":replaces", AttributeValue::N((revision - 1).to_string()))],
            )?,
        };
        let items = vec![
            TransactWriteItem::builder().condition_check(stored).build(),
            state,
            put_if(&self.table, audit, WRITE_ONCE, &[])?,
        ];
        transact(&self.client, items).await
    }

    async fn submission(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> Result<Option<SubmissionItem>, StoreError> {
        let pk = partition_key(trial_id, patient_id);
        self.stored_submission(&pk, submission_id, None)
            .await?
            .map(|(_, item)| read(item))
            .transpose()
    }

    async fn versions(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Option<Uuid>,
    ) -> Result<Vec<VersionItem>, StoreError> {
        let prefix = submission_id.map(|id| version_prefix(&id));
        self.all(&version_key(trial_id, patient_id), prefix.as_deref())
            .await
    }

    async fn resend_hashes(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> Result<Vec<String>, StoreError> {
        self.content_hashes_resent(&partition_key(trial_id, patient_id), submission_id)
            .await
    }

    async fn correct(
        &self,
        version: &VersionItem,
        (pk, sk): &(String, String),
        alerts: &[AlertItem],
        audit: &AuditItem,
    ) -> Result<bool, StoreError> {
        let standing = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(request)?;
        let mut items = vec![
            TransactWriteItem::builder()
                .condition_check(standing)
                .build(),
            // Written once: a second correction of the same version finds its key taken.
            put_if(&self.table, version, WRITE_ONCE, &[])?,
            put_if(&self.table, audit, WRITE_ONCE, &[])?,
        ];
        for alert in alerts {
            items.push(put_if(&self.table, alert, WRITE_ONCE, &[])?);
        }
        transact(&self.client, items).await
    }

    async fn audit_trail(
        &self,
        trial_id: &str,
        limit: usize,
        after: Option<String>,
    ) -> Result<AuditPage, StoreError> {
        let pk = audit_key(trial_id);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&pk))
            .set_exclusive_start_key(after.map(|sk| key(&pk, &sk)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError(error_class(&e)))?;
        let records: Vec<AuditItem> = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(read)
            .collect::<Result<_, _>>()?;
        let next = output
            .last_evaluated_key
            .and_then(|key| key.get("sk").and_then(|sk| sk.as_s().ok()).cloned());
        Ok(AuditPage { records, next })
    }

    async fn exclusions(&self, trial_id: &str) -> Result<Vec<ExclusionItem>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&exclusion_key(trial_id)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut exclusions = Vec::new();
        while let Some(item) = pages.next().await {
            exclusions.push(read(item.map_err(|e| StoreError(error_class(&e)))?)?);
        }
        Ok(exclusions)
    }
}
