//! The [`Records`] port in memory: exclusions and the audit trail.

use std::sync::PoisonError;

use uuid::Uuid;

use super::{MemoryStore, json, key_of, never_in_place};
use crate::item::{
    AuditItem, ExclusionItem, audit_key, exclusion_key, partition_key, submission_sort_key,
};
use crate::ports::{AuditPage, Records, StoreError};

impl Records for MemoryStore {
    async fn submission_exists(
        &self,
        trial_id: &str,
        patient_id: &str,
        submission_id: Uuid,
    ) -> Result<bool, StoreError> {
        let pk = partition_key(trial_id, patient_id);
        let sk = submission_sort_key(&submission_id);
        Ok(self.get::<serde_json::Value>(&pk, &sk)?.is_some())
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
        audit: &AuditItem,
    ) -> Result<bool, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let submission = (
            partition_key(&next.trial_id, &next.patient_id),
            submission_sort_key(&next.submission_id),
        );
        let standing = items
            .get(&(next.pk.clone(), next.sk.clone()))
            .map(|record| record["revision"].as_u64().unwrap_or_default());
        let replaces = u64::from(next.revision - 1);
        if !items.contains_key(&submission) || standing.unwrap_or_default() != replaces {
            return Ok(false);
        }
        let audit = json(audit);
        never_in_place(items.get(&key_of(&audit)));
        items.insert(key_of(&audit), audit);
        let next = json(next);
        items.insert(key_of(&next), next);
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
