//! The conflicting resends of a submission, as far as a correction's alerts are concerned: a rule's alert that one
//! of them raised, and that still stands, reached the team already (a correction often makes the record what the
//! patient resent), so the correction does not raise it again.

use uuid::Uuid;

use super::report::resend_alert_id;
use crate::ports::{Alerts, StoreError};

/// The conflicting resends a correction's alerts are weighed against: each as its submission id and content hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resent(pub Vec<(Uuid, String)>);

impl Resent {
    /// Whether one of them raised the alert of `rule`, and it is not marked no longer due.
    pub async fn alerted(&self, alerts: &impl Alerts, rule: &str) -> Result<bool, StoreError> {
        for (submission_id, content_hash) in &self.0 {
            let raised = alerts
                .alert(resend_alert_id(submission_id, content_hash, rule))
                .await?;
            if raised.is_some_and(|alert| alert.still_due != Some(false)) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
