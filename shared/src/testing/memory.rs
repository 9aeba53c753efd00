//! In-memory `Queue` and `Store`, with the same semantics as the AWS ones, for tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::envelope::Envelope;
use crate::item::{ConflictItem, SubmissionItem};
use crate::ports::{PutOutcome, Queue, QueueError, Store, StoreError};

/// A queue that keeps what it was sent, or fails every send the way it was made to.
#[derive(Debug, Clone, Default)]
pub struct MemoryQueue {
    sent: Arc<Mutex<Vec<Envelope>>>,
    failure: Option<QueueError>,
}

impl MemoryQueue {
    /// A queue that acknowledges nothing, as SQS in an outage.
    pub fn unavailable() -> Self {
        MemoryQueue {
            failure: Some(QueueError::Unavailable("memory queue set to refuse".into())),
            ..Self::default()
        }
    }

    /// A queue that refuses every message itself, as SQS refuses one too large.
    pub fn refusing() -> Self {
        MemoryQueue {
            failure: Some(QueueError::Refused("InvalidParameterValue".into())),
            ..Self::default()
        }
    }

    /// Every message acknowledged so far.
    pub fn sent(&self) -> Vec<Envelope> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Queue for MemoryQueue {
    async fn send(&self, envelope: &Envelope) -> Result<(), QueueError> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(envelope.clone());
        Ok(())
    }
}

/// A table keyed by (pk, sk), with conditional-put semantics.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    submissions: Arc<Mutex<BTreeMap<(String, String), SubmissionItem>>>,
    conflicts: Arc<Mutex<BTreeMap<(String, String), ConflictItem>>>,
}

impl MemoryStore {
    /// Every stored submission, by key.
    pub fn submissions(&self) -> Vec<SubmissionItem> {
        let items = self
            .submissions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        items.values().cloned().collect()
    }

    /// Every recorded conflict, by key.
    pub fn conflicts(&self) -> Vec<ConflictItem> {
        let items = self
            .conflicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        items.values().cloned().collect()
    }
}

impl Store for MemoryStore {
    async fn put_if_absent(&self, item: &SubmissionItem) -> Result<PutOutcome, StoreError> {
        let mut items = self
            .submissions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (item.pk.clone(), item.sk.clone());
        if let Some(existing) = items.get(&key) {
            return Ok(PutOutcome::AlreadyExists {
                content_hash: existing.content_hash.clone(),
            });
        }
        items.insert(key, item.clone());
        Ok(PutOutcome::Created)
    }

    async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
        let mut items = self
            .conflicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        items
            .entry((conflict.pk.clone(), conflict.sk.clone()))
            .or_insert_with(|| conflict.clone());
        Ok(())
    }
}
