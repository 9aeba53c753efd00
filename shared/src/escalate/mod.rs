//! The escalate use case, a sweep every minute that follows up on alerts:
//! - an alert whose message is still not on the alert topic `deliver_after` after it was raised (its stream batch
//!   failed and was parked, the notify function is broken) is delivered, once;
//! - an urgent alert still open `after` it was raised is escalated to the escalation topic, once.
//!
//! Both through the sparse indexes that hold only alerts with the duty waiting (`PendingDeliveries`,
//! `PendingEscalations`), and both claimed before their message is sent ([`crate::notify::once`]): sweeps that
//! overlap (a timed-out sweep retried beside the next tick, a schedule delivered twice) send each message once, and
//! count only what they recorded.
//!
//! - `config`: the function's environment.

mod config;
#[cfg(test)]
mod tests;

use crate::metrics::{self, Metric};
use time::{Duration, OffsetDateTime};
use tracing::{info, warn};

use crate::item::format_timestamp;
use crate::notify::once::{self, Performed};
use crate::notify::{MessageKind, NotifyError};
use crate::ports::{Alerts, Duty, Topic};

pub use config::EscalateConfig;

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EscalationReport {
    /// Alerts the stream had not delivered, delivered now.
    pub delivered: usize,
    /// Alerts escalated.
    pub escalated: usize,
    /// Alerts found due but settled before their turn: acknowledged, or done or held by another worker.
    pub settled: usize,
}

/// Follows up on alerts: delivers what the stream could not, escalates urgent ones left open.
pub struct Escalator<A, T> {
    alerts: A,
    escalation_topic: T,
    after: Duration,
    delivery: Option<(T, Duration)>,
}

impl<A: Alerts, T: Topic> Escalator<A, T> {
    /// An escalator reading `alerts`, escalating to `topic` alerts open longer than `after`.
    pub fn new(alerts: A, topic: T, after: Duration) -> Self {
        Escalator {
            alerts,
            escalation_topic: topic,
            after,
            delivery: None,
        }
    }

    /// Also delivers to `alert_topic` the alerts not delivered `deliver_after` after they were raised.
    pub fn delivering(mut self, alert_topic: T, deliver_after: Duration) -> Self {
        self.delivery = Some((alert_topic, deliver_after));
        self
    }

    /// Follows up on every alert due at `now`. The first failure stops the sweep; the next one resumes it.
    pub async fn sweep(&self, now: OffsetDateTime) -> Result<EscalationReport, NotifyError> {
        let mut report = EscalationReport::default();
        if let Some((topic, grace)) = &self.delivery {
            let duty = (Duty::Delivery, MessageKind::Alert);
            let (done, settled) = self.perform(duty, topic, now - *grace, now).await?;
            report.delivered = done;
            report.settled += settled;
            if done > 0 {
                // The stream path failed for these: an operator should know (AlertsDeliveredBySweep alarm).
                warn!(
                    delivered = done,
                    "alerts the stream did not deliver, delivered by the sweep"
                );
                metrics::add(Metric::AlertsDeliveredBySweep, done);
            }
        }
        let duty = (Duty::Escalation, MessageKind::Escalation);
        let (done, settled) = self
            .perform(duty, &self.escalation_topic, now - self.after, now)
            .await?;
        report.escalated = done;
        report.settled += settled;
        metrics::add(Metric::AlertsEscalated, done);
        metrics::add(Metric::SweepsCompleted, 1);
        Ok(report)
    }

    /// Performs `duty` (its message of its kind on `topic`) at `now` for every alert raised before `raised_before`
    /// that waits for it: how many were done here, and how many were settled otherwise.
    async fn perform(
        &self,
        (duty, kind): (Duty, MessageKind),
        topic: &T,
        raised_before: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(usize, usize), NotifyError> {
        let (mut done, mut settled) = (0, 0);
        for due in self
            .alerts
            .due(duty, &format_timestamp(raised_before))
            .await?
        {
            match once::perform(&self.alerts, topic, &due, (duty, kind), now).await? {
                Performed::Done => {
                    info!(alert_id = %due.alert_id, trial_id = due.trial_id, ?duty, "alert followed up");
                    done += 1;
                }
                Performed::NotOurs | Performed::TakenOver => settled += 1,
            }
        }
        Ok((done, settled))
    }
}
