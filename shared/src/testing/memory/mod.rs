//! In-memory `Queue`, `Store`, `Alerts` and `Timeline`, with the same semantics as the AWS ones, for tests.
//!
//! - `alerts`: the alert records' port; `flags`: a trial's flags; `timeline`: the timelines' port; `calendar`: the
//!   enrolments' and the schedule sweep's ports.

mod alerts;
mod calendar;
mod flags;
mod records;
mod timeline;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::envelope::Envelope;
use crate::item::{
    AlertItem, ConflictItem, ConflictWrite, ENROLMENT_SK, EnrolmentItem, Flag, IdClaim,
    OccurrenceDone, SubmissionItem, SubmissionWrite, TimepointMarker,
};
use crate::ports::{Queue, QueueError, Store, StoreError, WriteOutcome};
use crate::timeline::TimelineEntry;

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
    /// How many acknowledgements still to cancel, as DynamoDB cancels a transaction that meets a concurrent update.
    conflicting_acknowledgements: Arc<std::sync::atomic::AtomicUsize>,
}

fn key_of(record: &Value) -> (String, String) {
    let text = |name: &str| record[name].as_str().unwrap_or_default().to_owned();
    (text("pk"), text("sk"))
}

fn json<T: Serialize>(record: &T) -> Value {
    serde_json::to_value(record).expect("records serialise")
}

/// Panics if `stored` is a submission or an audit record: those are written once and never changed in place, as
/// the AWS adapters' conditions and the template's deny guarantee; a use case that tried would fail its tests here.
fn never_in_place(stored: Option<&Value>) {
    if let Some(stored) = stored {
        let kind = &stored["recordType"];
        assert!(
            kind != "submission" && kind != "audit",
            "a stored {kind} record would be changed in place"
        );
    }
}

impl MemoryStore {
    /// The next `n` acknowledgements meet a concurrent update of their alert (its delivery or escalation being
    /// recorded) and are cancelled, writing nothing.
    pub fn cancel_acknowledgements(&self, n: usize) {
        self.conflicting_acknowledgements
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether this acknowledgement is one to cancel.
    fn acknowledgement_cancelled(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.conflicting_acknowledgements
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The content hashes of the conflicting resends of `submission_id` in partition `pk`.
    fn content_hashes_resent(&self, pk: &str, submission_id: uuid::Uuid) -> Vec<String> {
        let prefix = crate::item::conflict_prefix(&submission_id);
        self.conflicts()
            .into_iter()
            .filter(|conflict| conflict.pk == pk && conflict.sk.starts_with(&prefix))
            .map(|conflict| conflict.content_hash)
            .collect()
    }

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

    /// Every bare claim on a submission id (written by the layout before 2026-12-06).
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

    /// The audit trail, every trial, in key order (per trial: by time).
    pub fn audit_records(&self) -> Vec<crate::item::AuditItem> {
        self.records("audit")
    }

    /// Every timeline entry.
    pub fn timeline_entries(&self) -> Vec<TimelineEntry> {
        self.records("timeline")
    }

    /// The record under `pk`/`sk`, if any.
    pub fn get<T: DeserializeOwned>(&self, pk: &str, sk: &str) -> Result<Option<T>, StoreError> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items
            .get(&(pk.to_owned(), sk.to_owned()))
            .map(|record| serde_json::from_value(record.clone()))
            .transpose()
            .map_err(|e| StoreError(format!("record mapping: {e}")))
    }

    /// Puts `record` in the table as it is (a record another function wrote).
    pub fn insert<T: Serialize>(&self, record: &T) {
        let record = json(record);
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.insert(key_of(&record), record);
    }

    /// Puts `record` unless its key is taken: then the record there.
    fn put_unless_taken<T: Serialize>(&self, record: &T) -> Option<Value> {
        let record = json(record);
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        match items.get(&key_of(&record)) {
            Some(existing) => Some(existing.clone()),
            None => {
                items.insert(key_of(&record), record);
                None
            }
        }
    }

    /// Writes `records` all or nothing, unless one exists: then its key (DynamoDB cancels the whole transaction when
    /// any condition fails).
    fn write_all(&self, records: Vec<Value>) -> Result<(), (String, String)> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(taken) = records.iter().find(|r| items.contains_key(&key_of(r))) {
            return Err(key_of(taken));
        }
        for record in records {
            items.insert(key_of(&record), record);
        }
        Ok(())
    }
}

impl MemoryStore {
    /// Writes `write` under its item's key, all or nothing, as the DynamoDB adapter's transaction (or its put).
    fn write_at(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        // What follows is all or nothing, as the DynamoDB adapter's transaction (or its single put).
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let submission = json(&write.item);
        if let Some(existing) = items.get(&key_of(&submission)) {
            return Ok(already_stored(existing));
        }
        if let Some((pk, revision)) = &write.placed_against {
            let stored = items.get(&(pk.clone(), ENROLMENT_SK.to_owned()));
            if stored.and_then(|e| e["revision"].as_u64()) != Some(u64::from(*revision)) {
                return Ok(WriteOutcome::CalendarChanged);
            }
        }
        let existing: Vec<uuid::Uuid> = write
            .alerts
            .iter()
            .filter(|alert| items.contains_key(&key_of(&json(*alert))))
            .map(|alert| alert.alert_id)
            .collect();
        if !existing.is_empty() {
            return Ok(WriteOutcome::AlertsRaised { existing });
        }
        let records: Vec<Value> = std::iter::once(submission)
            .chain(write.placement_flags().map(json))
            .chain(write.alerts.iter().map(json))
            .collect();
        if let Some(taken) = records.iter().find(|r| items.contains_key(&key_of(r))) {
            return Err(StoreError(format!(
                "TransactionCanceled: {:?} exists",
                key_of(taken)
            )));
        }
        for record in records {
            items.insert(key_of(&record), record);
        }
        if let Some(done) = &write.occurrence {
            mark_done(&mut items, done);
        }
        Ok(WriteOutcome::Written)
    }
}

impl Store for MemoryStore {
    async fn mark_timepoint(
        &self,
        marker: &TimepointMarker,
    ) -> Result<Option<uuid::Uuid>, StoreError> {
        let record = json(marker);
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        match items.get(&key_of(&record)) {
            Some(existing) if existing.get("releasedAt").is_none() => {
                serde_json::from_value(existing["submissionId"].clone())
                    .map(Some)
                    .map_err(|e| StoreError(format!("a marker without an id: {e}")))
            }
            _ => {
                items.insert(key_of(&record), record);
                Ok(None)
            }
        }
    }

    async fn stored_marker_key(
        &self,
        submission_id: uuid::Uuid,
    ) -> Result<Option<crate::item::Key>, StoreError> {
        let (pk, sk) = crate::item::submission_key(&submission_id);
        Ok(self
            .get::<Value>(&pk, &sk)?
            .filter(|held| held["recordType"] == "submission")
            .and_then(|held| serde_json::from_value::<SubmissionItem>(held).ok())
            .map(|stored| stored.marker_key()))
    }

    async fn release_timepoint(
        &self,
        marker: &TimepointMarker,
        at: &str,
    ) -> Result<(), StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = items.get_mut(&(marker.pk.clone(), marker.sk.clone()))
            && held["submissionId"] == marker.submission_id.to_string()
        {
            held["releasedAt"] = at.into();
        }
        Ok(())
    }

    async fn write_flags<'a>(
        &self,
        flags: impl Iterator<Item = &'a Flag> + Send,
    ) -> Result<(), StoreError> {
        for flag in flags {
            self.put_unless_taken(flag);
        }
        Ok(())
    }

    async fn write_submission(&self, write: &SubmissionWrite) -> Result<WriteOutcome, StoreError> {
        let holder = {
            let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
            items
                .get(&(write.item.pk.clone(), write.item.sk.clone()))
                .cloned()
        };
        match holder {
            None => self.write_at(write),
            // The earlier layout claimed this content: completed in the patient's partition, as the DynamoDB
            // adapter does.
            Some(claim)
                if claim["recordType"] == "claim"
                    && write
                        .item
                        .has_content(claim["contentHash"].as_str().unwrap_or_default()) =>
            {
                self.write_at(&write.in_patient_partition())
            }
            Some(holder) => Ok(already_stored(&holder)),
        }
    }

    async fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentItem>, StoreError> {
        crate::ports::Enrolments::enrolment(self, trial_id, patient_id).await
    }

    async fn record_conflict(&self, write: &ConflictWrite) -> Result<bool, StoreError> {
        let records: Vec<Value> = std::iter::once(json(&write.conflict))
            .chain(write.alerts.iter().map(json))
            .collect();
        let conflict = key_of(&records[0]);
        match self.write_all(records) {
            // Recorded already, with its alerts.
            Err(taken) if taken == conflict => Ok(false),
            Err(taken) => Err(StoreError(format!("TransactionCanceled: {taken:?} exists"))),
            Ok(()) => Ok(true),
        }
    }
}

/// What a write finds under a taken key: the submission there (its content and its marker), or the earlier layout's
/// claim on other content.
fn already_stored(holder: &Value) -> WriteOutcome {
    let content_hash = holder["contentHash"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let marker_key = (holder["recordType"] == "submission")
        .then(|| serde_json::from_value::<SubmissionItem>(holder.clone()).ok())
        .flatten()
        .map(|stored| stored.marker_key());
    WriteOutcome::AlreadyStored {
        content_hash,
        marker_key,
    }
}

/// The survey due `done` completes, as DynamoDB's unconditional update does it: the first submission keeps it, the
/// history grows, the sweep's entry goes (an item that did not exist is created with these attributes only).
fn mark_done(items: &mut BTreeMap<(String, String), Value>, done: &OccurrenceDone) {
    let record = items
        .entry((done.pk.clone(), done.sk.clone()))
        .or_insert_with(|| serde_json::json!({ "pk": done.pk, "sk": done.sk }));
    let fields = record.as_object_mut().expect("records are objects");
    fields
        .entry("doneBy")
        .or_insert_with(|| done.submission_id.to_string().into());
    fields
        .entry("doneTiming")
        .or_insert_with(|| done.timing.as_str().into());
    fields
        .entry("doneAt")
        .or_insert_with(|| done.done_at.clone().into());
    let history = fields
        .entry("history")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(events) = history {
        events.push(json(&done.event));
    }
    fields.remove("dueAt");
    fields.remove("dueShard");
}
