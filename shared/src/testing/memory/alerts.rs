//! The in-memory `Alerts` port: conditional changes as DynamoDB makes them.

use std::sync::PoisonError;

use super::{MemoryStore, json};
use crate::item::{AlertItem, AlertStatus, AuditItem, CLAIMED, PENDING, alert_key, alert_sort};
use crate::ports::{AlertPage, Alerts, Claim, Cursor, Duty, Page, StoreError};

impl MemoryStore {
    /// Applies `change` to the alert `alert_id` when `when` holds for it; whether it did.
    fn update_alert(
        &self,
        alert_id: uuid::Uuid,
        when: impl Fn(&AlertItem) -> bool,
        change: impl Fn(&mut AlertItem),
    ) -> bool {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (alert_key(&alert_id), "ALERT".to_owned());
        let Some(record) = items.get_mut(&key) else {
            return false;
        };
        let mut alert: AlertItem =
            serde_json::from_value(record.clone()).expect("a stored alert reads back");
        if !when(&alert) {
            return false;
        }
        change(&mut alert);
        *record = json(&alert);
        true
    }
}

impl Alerts for MemoryStore {
    async fn alert(&self, alert_id: uuid::Uuid) -> Result<Option<AlertItem>, StoreError> {
        Ok(self.alerts().into_iter().find(|a| a.alert_id == alert_id))
    }

    async fn list(
        &self,
        trial_id: &str,
        status: Option<AlertStatus>,
        page: Page,
    ) -> Result<AlertPage, StoreError> {
        // As the `AlertsByTrial` index reads backwards: by `alertSort`, then (for this store) by id.
        let mut alerts: Vec<AlertItem> = self
            .alerts()
            .into_iter()
            .filter(|a| a.trial_id == trial_id && status.is_none_or(|s| a.status == s))
            .collect();
        alerts.sort_by(|a, b| (&b.alert_sort, b.alert_id).cmp(&(&a.alert_sort, a.alert_id)));
        if let Some(after) = &page.after {
            alerts.retain(|a| (&a.alert_sort, a.alert_id) < (&after.alert_sort, after.alert_id));
        }
        let more = alerts.len() > page.limit;
        alerts.truncate(page.limit);
        let next = alerts.last().filter(|_| more).map(|last| Cursor {
            alert_sort: last.alert_sort.clone(),
            alert_id: last.alert_id,
        });
        Ok(AlertPage { alerts, next })
    }

    async fn acknowledge(
        &self,
        alert: &AlertItem,
        audit: &AuditItem,
    ) -> Result<AlertItem, StoreError> {
        if self.acknowledgement_cancelled() {
            return self
                .alert(alert.alert_id)
                .await?
                .ok_or_else(|| StoreError("the alert is gone".into()));
        }
        let acknowledged = self.update_alert(
            alert.alert_id,
            |a| a.status == AlertStatus::Open,
            |a| {
                a.status = AlertStatus::Acknowledged;
                a.alert_sort = alert_sort(AlertStatus::Acknowledged, &a.raised_at);
                a.acknowledged_by = Some(audit.by.clone());
                a.acknowledged_at = Some(audit.at.clone());
                a.escalation = None;
                a.escalation_claim = None;
                a.escalation_claimed_at = None;
            },
        );
        if acknowledged {
            self.write_all(vec![json(audit)])
                .expect("an audit record's key is new");
        }
        self.alert(alert.alert_id)
            .await?
            .ok_or_else(|| StoreError("the alert is gone".into()))
    }

    async fn raise(&self, alert: &AlertItem) -> Result<bool, StoreError> {
        Ok(self.write_all(vec![json(alert)]).is_ok())
    }

    async fn reassess(
        &self,
        alert_id: uuid::Uuid,
        against: uuid::Uuid,
        still_due: bool,
        at: &str,
    ) -> Result<(), StoreError> {
        self.update_alert(
            alert_id,
            |_| true,
            |a| {
                a.still_due = Some(still_due);
                a.reassessed_against = Some(against);
                a.reassessed_at = Some(at.to_owned());
            },
        );
        Ok(())
    }

    async fn due(&self, duty: Duty, raised_before: &str) -> Result<Vec<AlertItem>, StoreError> {
        let mut due: Vec<AlertItem> = self
            .alerts()
            .into_iter()
            .filter(|a| duty_of(a, duty).state.is_some() && a.raised_at.as_str() <= raised_before)
            .collect();
        due.sort_by(|a, b| a.raised_at.cmp(&b.raised_at));
        Ok(due)
    }

    async fn claim(
        &self,
        alert_id: uuid::Uuid,
        duty: Duty,
        claim: &Claim,
    ) -> Result<bool, StoreError> {
        Ok(self.update_alert(
            alert_id,
            |a| {
                let held = duty_of(a, duty);
                let waiting = held.state == Some(PENDING)
                    || (held.state == Some(CLAIMED)
                        && (held.claimed_at < Some(claim.stale_before.as_str())
                            || held.claim == Some(claim.id.as_str())));
                match duty {
                    // An alert raised before deliveries were claimed: waiting unless it was sent.
                    Duty::Delivery => waiting || (held.state.is_none() && held.done_at.is_none()),
                    Duty::Escalation => waiting && a.status == AlertStatus::Open,
                }
            },
            |a| {
                set(
                    a,
                    duty,
                    [
                        Some(CLAIMED.to_owned()),
                        Some(claim.id.clone()),
                        Some(claim.at.clone()),
                    ],
                )
            },
        ))
    }

    async fn complete(
        &self,
        alert_id: uuid::Uuid,
        duty: Duty,
        claim_id: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.update_alert(
            alert_id,
            |a| {
                let held = duty_of(a, duty);
                held.claim == Some(claim_id) || held.done_by == Some(claim_id)
            },
            |a| {
                set(a, duty, [None, None, None]);
                let (done_at, done_by) = (Some(at.to_owned()), Some(claim_id.to_owned()));
                match duty {
                    Duty::Delivery => (a.notified_at, a.notified_by) = (done_at, done_by),
                    Duty::Escalation => (a.escalated_at, a.escalated_by) = (done_at, done_by),
                }
            },
        ))
    }

    async fn release(
        &self,
        alert_id: uuid::Uuid,
        duty: Duty,
        claim_id: &str,
    ) -> Result<(), StoreError> {
        self.update_alert(
            alert_id,
            |a| duty_of(a, duty).claim == Some(claim_id),
            |a| set(a, duty, [Some(PENDING.to_owned()), None, None]),
        );
        Ok(())
    }
}

/// A duty's state, claim, claim time and done time on an alert.
struct Held<'a> {
    state: Option<&'a str>,
    claim: Option<&'a str>,
    claimed_at: Option<&'a str>,
    done_at: Option<&'a str>,
    done_by: Option<&'a str>,
}

fn duty_of(alert: &AlertItem, duty: Duty) -> Held<'_> {
    let (state, claim, claimed_at, done_at, done_by) = match duty {
        Duty::Delivery => (
            &alert.delivery,
            &alert.delivery_claim,
            &alert.delivery_claimed_at,
            &alert.notified_at,
            &alert.notified_by,
        ),
        Duty::Escalation => (
            &alert.escalation,
            &alert.escalation_claim,
            &alert.escalation_claimed_at,
            &alert.escalated_at,
            &alert.escalated_by,
        ),
    };
    Held {
        state: state.as_deref(),
        claim: claim.as_deref(),
        claimed_at: claimed_at.as_deref(),
        done_at: done_at.as_deref(),
        done_by: done_by.as_deref(),
    }
}

/// Sets a duty's state, claim and claim time.
fn set(alert: &mut AlertItem, duty: Duty, [state, claim, claimed_at]: [Option<String>; 3]) {
    match duty {
        Duty::Delivery => {
            (
                alert.delivery,
                alert.delivery_claim,
                alert.delivery_claimed_at,
            ) = (state, claim, claimed_at);
        }
        Duty::Escalation => {
            (
                alert.escalation,
                alert.escalation_claim,
                alert.escalation_claimed_at,
            ) = (state, claim, claimed_at);
        }
    }
}
