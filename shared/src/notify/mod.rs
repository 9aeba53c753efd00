//! The notify use case: each new alert in the table becomes one message on the alert topic.
//!
//! Alerts flow out of the table's stream, not out of the process function's memory: an alert exists because its
//! write committed, so a message is never sent for an alert that was not stored. Each delivery is claimed before
//! it is sent ([`once`]): a retried batch skips what was sent, and the sweep ([`crate::escalate`]) delivers what the
//! stream could not (a batch parked after its retries) without ever sending an alert twice.
//!
//! - `message`: what a message carries (ids, label, severity, time, origin) and what it never does (answers);
//! - [`once`]: a duty (delivery, escalation) performed once, whoever else tries.

mod message;
pub mod once;
#[cfg(test)]
mod tests;

use crate::metrics::{self, Metric};
use aws_lambda_events::event::dynamodb::EventRecord;
use tracing::{info, warn};

use time::OffsetDateTime;

use crate::item::{AlertItem, RecordType};
use crate::ports::{Alerts, Duty, StoreError, Topic, TopicError};
use once::Performed;

pub use message::{AlertMessage, MessageKind};

/// Why a batch must be retried. Ids and error classes only.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The alert table could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The topic did not accept a message.
    #[error(transparent)]
    Topic(#[from] TopicError),
    /// A stream record that claims to be an alert does not read as one.
    #[error("stream record {0} is not a readable alert")]
    Unreadable(String),
}

/// What one batch did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NotifyReport {
    /// Messages the topic accepted.
    pub sent: usize,
    /// Alerts whose message had been sent already, or was being sent by another worker (a retried batch, the
    /// sweep).
    pub already_sent: usize,
    /// Records that are not new alerts (the stream's filter should keep them away).
    pub ignored: usize,
}

/// Sends one message per new alert.
pub struct Notifier<A, T> {
    alerts: A,
    topic: T,
}

impl<A: Alerts, T: Topic> Notifier<A, T> {
    /// A notifier reading `alerts` and publishing to `topic`.
    pub fn new(alerts: A, topic: T) -> Self {
        Notifier { alerts, topic }
    }

    /// Sends the messages of a stream batch, in order. The first failure fails the batch, which is retried whole.
    pub async fn notify(&self, records: &[EventRecord]) -> Result<NotifyReport, NotifyError> {
        let mut report = NotifyReport::default();
        for record in records {
            let Some(alert) = new_alert(record)? else {
                report.ignored += 1;
                continue;
            };
            let duty = (Duty::Delivery, MessageKind::Alert);
            match once::perform(
                &self.alerts,
                &self.topic,
                &alert,
                duty,
                OffsetDateTime::now_utc(),
            )
            .await?
            {
                Performed::Done => {
                    info!(
                        alert_id = %alert.alert_id,
                        trial_id = alert.trial_id,
                        severity = alert.severity.as_str(),
                        "alert sent"
                    );
                    report.sent += 1;
                    metrics::add(Metric::AlertsDelivered, 1);
                }
                Performed::NotOurs | Performed::TakenOver => report.already_sent += 1,
            }
        }
        if report.ignored > 0 {
            warn!(
                ignored = report.ignored,
                "stream records that are not new alerts"
            );
        }
        Ok(report)
    }
}

/// The alert a stream record inserted, if it inserted one. Only the record type is read of anything else, so a
/// submission's answers are never decoded here.
fn new_alert(record: &EventRecord) -> Result<Option<AlertItem>, NotifyError> {
    let image = &record.change.new_image;
    let is_alert = image
        .get("recordType")
        .is_some_and(|t| *t == serde_dynamo::AttributeValue::S(type_name(RecordType::Alert)));
    if record.event_name != "INSERT" || !is_alert {
        return Ok(None);
    }
    serde_dynamo::from_item(image.clone())
        .map(Some)
        .map_err(|_| NotifyError::Unreadable(record.event_id.clone()))
}

fn type_name(record_type: RecordType) -> String {
    serde_json::to_value(record_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
