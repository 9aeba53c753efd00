//! The escalate use case: an urgent alert still open after the configured time is escalated, once, to the
//! escalation topic. A scheduled sweep (every minute) finds them through the `PendingEscalations` index, which
//! holds only urgent alerts that are open and not escalated yet.
//!
//! Each is read again just before its message, so one acknowledged meanwhile is not escalated; the message is sent
//! before the escalation is recorded, so a failure in between sends it twice rather than never.
//!
//! - `config`: the function's environment.

mod config;
#[cfg(test)]
mod tests;

use crate::metrics::{self, Metric};
use time::{Duration, OffsetDateTime};
use tracing::info;

use crate::item::{AlertStatus, format_timestamp};
use crate::notify::{AlertMessage, MessageKind, NotifyError};
use crate::ports::{Alerts, Topic};

pub use config::EscalateConfig;

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EscalationReport {
    /// Alerts escalated.
    pub escalated: usize,
    /// Alerts found due but acknowledged (or escalated) before their turn.
    pub settled: usize,
}

/// Escalates urgent alerts left open for longer than `after`.
pub struct Escalator<A, T> {
    alerts: A,
    topic: T,
    after: Duration,
}

impl<A: Alerts, T: Topic> Escalator<A, T> {
    /// An escalator reading `alerts`, publishing to `topic`, for alerts open longer than `after`.
    pub fn new(alerts: A, topic: T, after: Duration) -> Self {
        Escalator {
            alerts,
            topic,
            after,
        }
    }

    /// Escalates every alert due at `now`. The first failure stops the sweep; the next one resumes it.
    pub async fn sweep(&self, now: OffsetDateTime) -> Result<EscalationReport, NotifyError> {
        let mut report = EscalationReport::default();
        let raised_before = format_timestamp(now - self.after);
        for due in self.alerts.due_escalations(&raised_before).await? {
            let current = self.alerts.alert(due.alert_id).await?;
            let Some(alert) =
                current.filter(|a| a.status == AlertStatus::Open && a.escalation.is_some())
            else {
                report.settled += 1;
                continue;
            };
            self.topic
                .publish(&AlertMessage::of(MessageKind::Escalation, &alert))
                .await?;
            let at = format_timestamp(OffsetDateTime::now_utc());
            self.alerts.mark_escalated(alert.alert_id, &at).await?;
            info!(
                alert_id = %alert.alert_id,
                trial_id = alert.trial_id,
                "alert escalated"
            );
            report.escalated += 1;
            metrics::add(Metric::AlertsEscalated, 1);
        }
        Ok(report)
    }
}
