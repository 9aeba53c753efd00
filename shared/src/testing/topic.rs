//! An in-memory topic: keeps what it was sent, or refuses every message the way it was made to.

use std::sync::{Arc, Mutex, PoisonError};

use crate::notify::AlertMessage;
use crate::ports::{Publishable, Topic, TopicError};

/// A topic that keeps every message it accepted.
#[derive(Debug, Clone)]
pub struct MemoryTopic<M = AlertMessage> {
    published: Arc<Mutex<Vec<M>>>,
    refusing: bool,
    delay: std::time::Duration,
}

impl<M> Default for MemoryTopic<M> {
    fn default() -> Self {
        MemoryTopic {
            published: Arc::default(),
            refusing: false,
            delay: std::time::Duration::ZERO,
        }
    }
}

impl<M: Clone> MemoryTopic<M> {
    /// A topic that accepts nothing, as SNS in an outage.
    pub fn unavailable() -> Self {
        MemoryTopic {
            refusing: true,
            ..Self::default()
        }
    }

    /// A topic that takes `delay` to accept each message, as a slow SNS: workers overlapping it interleave.
    pub fn slow(delay: std::time::Duration) -> Self {
        MemoryTopic {
            delay,
            ..Self::default()
        }
    }

    /// Every message accepted so far.
    pub fn published(&self) -> Vec<M> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl<M: Publishable + Clone + 'static> Topic<M> for MemoryTopic<M> {
    async fn publish(&self, message: &M) -> Result<(), TopicError> {
        if self.refusing {
            return Err(TopicError("memory topic set to refuse".into()));
        }
        tokio::time::sleep(self.delay).await;
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message.clone());
        Ok(())
    }
}
