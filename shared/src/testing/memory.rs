//! In-memory `Queue` and `Store`, with the same semantics as the AWS ones, for tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::alert::Prior;
use crate::envelope::Envelope;
use crate::item::{
    AlertItem, ConflictItem, Flag, IdClaim, SubmissionItem, SubmissionWrite, TimepointMarker,
};
use crate::item::{AlertStatus, alert_key, alert_sort};
use crate::ports::{
    AlertPage, Alerts, Cursor, Page, Queue, QueueError, Store, StoreError, WriteOutcome,
};

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

/// A table keyed by (pk, sk), every record as the JSON DynamoDB would hold, with transactional conditional writes.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    items: Arc<Mutex<BTreeMap<(String, String), Value>>>,
}

fn key_of(record: &Value) -> (String, String) {
    let text = |name: &str| record[name].as_str().unwrap_or_default().to_owned();
    (text("pk"), text("sk"))
}

fn json<T: Serialize>(record: &T) -> Value {
    serde_json::to_value(record).expect("records serialise")
}

impl MemoryStore {
    /// Every record of a type, read back from what is stored.
    fn records<T: DeserializeOwned>(&self, record_type: &str) -> Vec<T> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items
            .values()
            .filter(|record| record["recordType"] == record_type)
            .map(|record| {
                serde_json::from_value(record.clone()).expect("a stored record reads back")
            })
            .collect()
    }

    /// Every stored submission, by key.
    pub fn submissions(&self) -> Vec<SubmissionItem> {
        self.records("submission")
    }

    /// Every recorded conflict, by key.
    pub fn conflicts(&self) -> Vec<ConflictItem> {
        self.records("conflict")
    }

    /// Every flag, by key.
    pub fn flags(&self) -> Vec<Flag> {
        self.records("flag")
    }

    /// Every claim on a submission id.
    pub fn claims(&self) -> Vec<IdClaim> {
        self.records("claim")
    }

    /// Every timepoint marker.
    pub fn markers(&self) -> Vec<TimepointMarker> {
        self.records("timepoint")
    }

    /// Every alert.
    pub fn alerts(&self) -> Vec<AlertItem> {
        self.records("alert")
    }
}

impl Store for MemoryStore {
    async fn write_submission(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let claim = json(&write.claim);
        if let Some(existing) = items.get(&key_of(&claim)) {
            let content_hash = existing["contentHash"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            return Ok(WriteOutcome::Claimed { content_hash });
        }
        let marker = write.timepoint.as_ref().map(json);
        if let Some(existing) = marker
            .as_ref()
            .and_then(|marker| items.get(&key_of(marker)))
        {
            let first = serde_json::from_value(existing["submissionId"].clone())
                .map_err(|e| StoreError(format!("a marker without an id: {e}")))?;
            return Ok(WriteOutcome::TimepointTaken { first });
        }
        let records: Vec<Value> = [claim, json(&write.item)]
            .into_iter()
            .chain(marker)
            .chain(write.flags.iter().map(json))
            .chain(write.alerts.iter().map(json))
            .collect();
        if let Some(taken) = records
            .iter()
            .find(|record| items.contains_key(&key_of(record)))
        {
            // DynamoDB cancels the whole transaction when any condition fails: nothing is written.
            return Err(StoreError(format!(
                "TransactionCanceled: {:?} exists",
                key_of(taken)
            )));
        }
        for record in records {
            items.insert(key_of(&record), record);
        }
        Ok(WriteOutcome::Written)
    }

    async fn previous_submission(
        &self,
        item: &SubmissionItem,
    ) -> Result<Option<Prior>, StoreError> {
        let submission = &item.submission;
        let candidates = self
            .submissions()
            .into_iter()
            .filter(|stored| {
                stored.pk == item.pk && stored.submission.survey_id == submission.survey_id
            })
            .map(|stored| {
                let prior = Prior {
                    submission_id: stored.submission.submission_id,
                    answers: stored.submission.answers,
                    scores: stored.scores,
                };
                (stored.submission.completed_at, prior)
            });
        Ok(Prior::latest_before(
            &submission.completed_at,
            submission.submission_id,
            candidates,
        ))
    }

    async fn record_conflict(&self, conflict: &ConflictItem) -> Result<(), StoreError> {
        let record = json(conflict);
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.entry(key_of(&record)).or_insert(record);
        Ok(())
    }
}

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
        by: &str,
        at: &str,
    ) -> Result<AlertItem, StoreError> {
        self.update_alert(
            alert.alert_id,
            |a| a.status == AlertStatus::Open,
            |a| {
                a.status = AlertStatus::Acknowledged;
                a.alert_sort = alert_sort(AlertStatus::Acknowledged, &a.raised_at);
                a.acknowledged_by = Some(by.to_owned());
                a.acknowledged_at = Some(at.to_owned());
                a.escalation = None;
            },
        );
        self.alert(alert.alert_id)
            .await?
            .ok_or_else(|| StoreError("the alert is gone".into()))
    }

    async fn mark_notified(&self, alert_id: uuid::Uuid, at: &str) -> Result<(), StoreError> {
        self.update_alert(
            alert_id,
            |a| a.notified_at.is_none(),
            |a| a.notified_at = Some(at.to_owned()),
        );
        Ok(())
    }

    async fn due_escalations(&self, raised_before: &str) -> Result<Vec<AlertItem>, StoreError> {
        let mut due: Vec<AlertItem> = self
            .alerts()
            .into_iter()
            .filter(|a| a.escalation.is_some() && a.raised_at.as_str() <= raised_before)
            .collect();
        due.sort_by(|a, b| a.raised_at.cmp(&b.raised_at));
        Ok(due)
    }

    async fn mark_escalated(&self, alert_id: uuid::Uuid, at: &str) -> Result<bool, StoreError> {
        Ok(self.update_alert(
            alert_id,
            |a| a.status == AlertStatus::Open && a.escalation.is_some(),
            |a| {
                a.escalated_at = Some(at.to_owned());
                a.escalation = None;
            },
        ))
    }
}
