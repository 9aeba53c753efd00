//! The topics messages go to: ids and times only.

use std::future::Future;

use crate::notify::AlertMessage;

/// A message for a topic: ids and times only, never answers.
pub trait Publishable: Send + Sync {
    /// The subject an e-mail subscriber sees.
    fn subject(&self) -> String;
    /// The body, as JSON.
    fn body(&self) -> String;
    /// Attributes subscription filter policies can select on (a trial's team, urgent alerts only…).
    fn attributes(&self) -> Vec<(&'static str, String)>;
}

/// Where messages go: a topic the study team (alerts, missed surveys) or the push provider (reminders) subscribes
/// e-mail, SMS, a queue or a webhook to.
pub trait Topic<M: Publishable = AlertMessage>: Send + Sync + 'static {
    /// Returns once the topic has accepted the message.
    fn publish(&self, message: &M) -> impl Future<Output = Result<(), TopicError>> + Send;
}

/// The topic did not accept a message. The text names the error class, never content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("topic unavailable: {0}")]
pub struct TopicError(pub String);
