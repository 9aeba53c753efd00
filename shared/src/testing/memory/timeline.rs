//! The in-memory `Timeline` port: entries in key order, read as the DynamoDB queries read them.

use std::sync::PoisonError;

use super::{MemoryStore, json};
use crate::alert::Report;
use crate::ports::{Records, StoreError, Timeline};
use crate::timeline::TimelineEntry;

impl MemoryStore {
    /// The entries of `entry`'s timeline, in key order.
    fn entries(&self, entry: &TimelineEntry) -> Vec<TimelineEntry> {
        self.timeline_entries()
            .into_iter()
            .filter(|e| e.pk == entry.pk && e.sk.starts_with(entry.prefix()))
            .collect()
    }
}

impl Timeline for MemoryStore {
    async fn place(&self, entry: &TimelineEntry) -> Result<(), StoreError> {
        // Placed already is as good as placed now (a retried batch).
        let _ = self.write_all(vec![json(entry)]);
        Ok(())
    }

    async fn before(&self, entry: &TimelineEntry) -> Result<Option<TimelineEntry>, StoreError> {
        Ok(self
            .entries(entry)
            .into_iter()
            .rev()
            .filter(|e| e.sk.as_str() <= entry.position())
            .find(|e| !e.conflicting && e.submission_id != entry.submission_id))
    }

    async fn after(&self, entry: &TimelineEntry) -> Result<Vec<TimelineEntry>, StoreError> {
        let mut after = Vec::new();
        let mut stored = 0;
        for later in self.entries(entry).into_iter().filter(|e| e.sk > entry.sk) {
            if !later.conflicting && later.submission_id != entry.submission_id {
                stored += 1;
                if stored == 2 {
                    break;
                }
            }
            after.push(later);
        }
        Ok(after)
    }

    async fn resend_hashes(
        &self,
        entry: &TimelineEntry,
        submission_id: uuid::Uuid,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self.content_hashes_resent(&entry.pk, submission_id))
    }

    async fn report(&self, entry: &TimelineEntry) -> Result<Option<Report>, StoreError> {
        if entry.conflicting {
            let record = {
                let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
                items
                    .get(&(entry.pk.clone(), entry.report_sk.clone()))
                    .cloned()
            };
            let read = |e: serde_json::Error| StoreError(format!("a report reads back: {e}"));
            return record
                .map(|record| {
                    serde_json::from_value(record)
                        .map(|conflict| Report::conflicting(&conflict))
                        .map_err(read)
                })
                .transpose();
        }
        let Some((_, original)) = self.stored_submission(&entry.pk, entry.submission_id)? else {
            return Ok(None);
        };
        let submission = &original.submission;
        let latest = self
            .versions(
                &submission.trial_id,
                &submission.patient_id,
                Some(submission.submission_id),
            )
            .await?
            .into_iter()
            .max_by_key(|version| version.version);
        Ok(Some(match latest {
            Some(version) => Report::corrected(&original, &version),
            None => Report::stored(&original),
        }))
    }
}
