//! An in-memory alert topic: keeps what it was sent, or refuses every message the way it was made to.

use std::sync::{Arc, Mutex, PoisonError};

use crate::notify::AlertMessage;
use crate::ports::{Topic, TopicError};

/// A topic that keeps every message it accepted.
#[derive(Debug, Clone, Default)]
pub struct MemoryTopic {
    published: Arc<Mutex<Vec<AlertMessage>>>,
    refusing: bool,
    delay: std::time::Duration,
}

impl MemoryTopic {
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
    pub fn published(&self) -> Vec<AlertMessage> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Topic for MemoryTopic {
    async fn publish(&self, message: &AlertMessage) -> Result<(), TopicError> {
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
