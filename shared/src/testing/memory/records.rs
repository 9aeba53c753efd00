//! The [`Records`] port in memory: exclusions, corrected versions and the audit trail.

use std::sync::PoisonError;

use uuid::Uuid;

use super::{MemoryStore, json, key_of, never_in_place};
use crate::item::{
    AlertItem, AuditItem, ExclusionItem, Key, SubmissionItem, VersionItem, audit_key,
    exclusion_key, partition_key, submission_sort_key, version_key, version_prefix,
};

impl MemoryStore {
    /// The submission of the patient whose partition is `patient_pk`, with its key: under its id's key, else (stored
    /// before 2026-12-06) in that partition. One under its id's key from another patient is not theirs.
    pub(super) fn stored_submission(
        &self,
        patient_pk: &str,
        submission_id: Uuid,
    ) -> Result<Option<(Key, SubmissionItem)>, StoreError> {
        let (pk, sk) = crate::item::submission_key(&submission_id);
        if let Some(item) = self.get::<serde_json::Value>(&pk, &sk)?
            && item["recordType"] == "submission"
        {
            let item: SubmissionItem = serde_json::from_value(item)
                .map_err(|e| StoreError(format!("record mapping: {e}")))?;
            return Ok((item.patient_partition() == patient_pk).then_some(((pk, sk), item)));
        }
        let legacy = (patient_pk.to_owned(), submission_sort_key(&submission_id));
        Ok(self
            .get::<SubmissionItem>(&legacy.0, &legacy.1)?
            .map(|item| (legacy, item)))
    }
}
use crate::ports::{AuditPage, Records, StoreError};

impl Records for MemoryStore {
    async fn stored_key(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> Result<Option<(String, String)>, StoreError> {
        let pk = partition_key(trial_id, patient_id);
        Ok(self
            .stored_submission(&pk, submission_id)?
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
    }

    async fn change_exclusion(
        &self,
        next: &ExclusionItem,
        stored: &(String, String),
        audit: &AuditItem,
    ) -> Result<bool, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let standing = items
            .get(&(next.pk.clone(), next.sk.clone()))
            .map(|record| record["revision"].as_u64().unwrap_or_default());
        let replaces = u64::from(next.revision - 1);
        if !items.contains_key(stored) || standing.unwrap_or_default() != replaces {
            return Ok(false);
        }
        let audit = json(audit);
        never_in_place(items.get(&key_of(&audit)));
        items.insert(key_of(&audit), audit);
        let next = json(next);
        items.insert(key_of(&next), next);
        Ok(true)
    }

    async fn submission(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> Result<Option<SubmissionItem>, StoreError> {
        let pk = partition_key(trial_id, patient_id);
        Ok(self
            .stored_submission(&pk, submission_id)?
            .map(|(_, item)| item))
    }

    async fn versions(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Option<Uuid>,
    ) -> Result<Vec<VersionItem>, StoreError> {
        let pk = version_key(trial_id, patient_id);
        let prefix = submission_id
            .map(|id| version_prefix(&id))
            .unwrap_or_default();
        Ok(self
            .records::<VersionItem>("version")
            .into_iter()
            .filter(|version| version.pk == pk && version.sk.starts_with(&prefix))
            .collect())
    }

    async fn resend_hashes(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self.content_hashes_resent(&partition_key(trial_id, patient_id), submission_id))
    }

    async fn correct(
        &self,
        version: &VersionItem,
        replaced: &(String, String),
        alerts: &[AlertItem],
        audit: &AuditItem,
    ) -> Result<bool, StoreError> {
        let mut records = vec![json(version), json(audit)];
        records.extend(alerts.iter().map(json));
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        if !items.contains_key(replaced) || records.iter().any(|r| items.contains_key(&key_of(r))) {
            return Ok(false);
        }
        for record in records {
            items.insert(key_of(&record), record);
        }
        Ok(true)
    }

    async fn audit_trail(
        &self,
        trial_id: &str,
        limit: usize,
        after: Option<String>,
    ) -> Result<AuditPage, StoreError> {
        let pk = audit_key(trial_id);
        let trail: Vec<AuditItem> = self
            .audit_records()
            .into_iter()
            .filter(|record| record.pk == pk)
            .filter(|record| after.as_ref().is_none_or(|after| record.sk > *after))
            .collect();
        let more = trail.len() > limit;
        let records: Vec<AuditItem> = trail.into_iter().take(limit).collect();
        let next = more
            .then(|| records.last().map(|record| record.sk.clone()))
            .flatten();
        Ok(AuditPage { records, next })
    }

    async fn exclusions(&self, trial_id: &str) -> Result<Vec<ExclusionItem>, StoreError> {
        Ok(self
            .records::<ExclusionItem>("exclusion")
            .into_iter()
            .filter(|exclusion| exclusion.trial_id == trial_id)
            .collect())
    }
}
