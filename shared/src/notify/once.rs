//! A duty performed once for an alert, whoever else tries: claimed (a conditional state change), its message sent,
//! and recorded only by the claim's holder. A worker that finds the duty claimed or done leaves it; one that cannot
//! send hands it back for the next attempt; one that dies holding it leaves a claim the sweep takes over once it is
//! stale ([`Claim::LEASE`]).

use time::OffsetDateTime;
use tracing::warn;

use super::{AlertMessage, MessageKind, NotifyError};
use crate::item::{AlertItem, format_timestamp};
use crate::ports::{Alerts, Claim, Duty, Topic};

/// What became of one attempt at a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Performed {
    /// Claimed, sent and recorded here.
    Done,
    /// Done already, or held by another worker: nothing sent here.
    NotOurs,
    /// Sent here, but the claim was taken over before it was recorded (a worker slower than the lease).
    TakenOver,
}

/// Performs `duty` for `alert` once, claiming it at `now`: its message of `kind` on `topic`.
pub async fn perform<A: Alerts, T: Topic>(
    alerts: &A,
    topic: &T,
    alert: &AlertItem,
    (duty, kind): (Duty, MessageKind),
    now: OffsetDateTime,
) -> Result<Performed, NotifyError> {
    let claim = Claim::taken(now);
    if !alerts.claim(alert.alert_id, duty, &claim).await? {
        return Ok(Performed::NotOurs);
    }
    if let Err(error) = topic.publish(&AlertMessage::of(kind, alert)).await {
        alerts.release(alert.alert_id, duty, &claim.id).await?;
        return Err(error.into());
    }
    let at = format_timestamp(OffsetDateTime::now_utc());
    if alerts
        .complete(alert.alert_id, duty, &claim.id, &at)
        .await?
    {
        Ok(Performed::Done)
    } else {
        warn!(alert_id = %alert.alert_id, ?duty, "sent, but the claim had been taken over");
        Ok(Performed::TakenOver)
    }
}
