//! The `Enrolments` and `Sweep` ports in memory, each write under the same conditions as DynamoDB's.

use std::collections::BTreeMap;
use std::sync::PoisonError;

use serde_json::Value;

use super::{MemoryStore, json, key_of};
use crate::enrolment::{OccurrenceWrite, Revision};
use crate::item::{
    AuditItem, EnrolmentItem, EnrolmentStanding, NextEvent, OccurrenceEvent, OccurrenceItem,
    partition_key,
};
use crate::ports::{Claim, Enrolments, Notice, StoreError, Sweep};

type Items = BTreeMap<(String, String), Value>;

fn read<T: serde::de::DeserializeOwned>(record: &Value) -> T {
    serde_json::from_value(record.clone()).expect("a stored record reads back")
}

fn occurrence(items: &Items, item: &OccurrenceItem) -> Option<OccurrenceItem> {
    items.get(&(item.pk.clone(), item.sk.clone())).map(read)
}

fn put(items: &mut Items, record: Value) {
    let key = key_of(&record);
    super::never_in_place(items.get(&key));
    items.insert(key, record);
}

impl MemoryStore {
    /// Every survey due stored, by key.
    pub fn occurrence_items(&self) -> Vec<OccurrenceItem> {
        self.records("occurrence")
    }

    fn update_occurrence(
        &self,
        item: &OccurrenceItem,
        change: impl FnOnce(&mut OccurrenceItem) -> bool,
    ) -> bool {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut current) = occurrence(&items, item) else {
            return false;
        };
        if !change(&mut current) {
            return false;
        }
        put(&mut items, json(&current));
        true
    }
}

impl Enrolments for MemoryStore {
    async fn enrolment(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentItem>, StoreError> {
        self.get(
            &partition_key(trial_id, patient_id),
            crate::item::ENROLMENT_SK,
        )
    }

    async fn standing(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Option<EnrolmentStanding>, StoreError> {
        self.get(
            &partition_key(trial_id, patient_id),
            crate::item::ENROLMENT_SK,
        )
    }

    async fn occurrences(
        &self,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<Vec<OccurrenceItem>, StoreError> {
        let pk = partition_key(trial_id, patient_id);
        Ok(self
            .occurrence_items()
            .into_iter()
            .filter(|o| o.pk == pk)
            .collect())
    }

    async fn write(&self, revision: &Revision, audit: &AuditItem) -> Result<bool, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let enrolment = &revision.enrolment;
        let stored: Option<EnrolmentItem> = items
            .get(&(enrolment.pk.clone(), enrolment.sk.clone()))
            .map(read);
        if stored.map(|e| e.revision) != revision.replaces {
            return Ok(false);
        }
        for write in &revision.occurrences {
            let current = occurrence(&items, write.item());
            let possible = match (write, &current) {
                (OccurrenceWrite::New(_), current) => current.is_none(),
                (OccurrenceWrite::Moved(_), Some(c)) => {
                    c.done_by.is_none() && c.reminded_at.is_none() && c.reminder_claim.is_none()
                }
                (OccurrenceWrite::Withdrawn(_) | OccurrenceWrite::Dropped(_), Some(c)) => {
                    c.done_by.is_none() && c.reminder_claim.is_none()
                }
                (_, None) => false,
            };
            if !possible {
                return Ok(false);
            }
        }
        put(&mut items, json(enrolment));
        put(&mut items, json(audit));
        for write in &revision.occurrences {
            match (write, occurrence(&items, write.item())) {
                (OccurrenceWrite::New(item) | OccurrenceWrite::Moved(item), _) => {
                    put(&mut items, json(item))
                }
                (
                    OccurrenceWrite::Withdrawn(item) | OccurrenceWrite::Dropped(item),
                    Some(mut current),
                ) => {
                    current.withdrawn_at = current.withdrawn_at.or(item.withdrawn_at.clone());
                    // As DynamoDB's `if_not_exists`: a time once set stays.
                    current.dropped_at = current.dropped_at.or(item.dropped_at.clone());
                    current.history.extend(item.history.last().cloned());
                    current.clear_sweep();
                    put(&mut items, json(&current));
                }
                (_, None) => unreachable!("checked above"),
            }
        }
        Ok(true)
    }

    async fn calendar(&self, trial_id: &str) -> Result<Vec<OccurrenceItem>, StoreError> {
        Ok(self
            .occurrence_items()
            .into_iter()
            .filter(|o| o.calendar_trial_id == trial_id)
            .collect())
    }
}

fn free(claim: Option<&String>, claimed_at: Option<&String>, claim_wanted: &Claim) -> bool {
    claim.is_none_or(|held| *held == claim_wanted.id)
        || claimed_at.is_some_and(|at| *at < claim_wanted.stale_before)
}

impl Sweep for MemoryStore {
    async fn due(&self, shard: u32, until: &str) -> Result<Vec<OccurrenceItem>, StoreError> {
        let shard = shard.to_string();
        let mut due: Vec<OccurrenceItem> = self
            .occurrence_items()
            .into_iter()
            .filter(|o| o.due_shard.as_deref() == Some(shard.as_str()))
            .filter(|o| o.due_at.as_deref().is_some_and(|at| at <= until))
            .collect();
        due.sort_by(|a, b| a.due_at.cmp(&b.due_at));
        Ok(due)
    }

    async fn claim(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim: &Claim,
    ) -> Result<bool, StoreError> {
        Ok(self.update_occurrence(item, |o| match notice {
            Notice::Reminder => {
                let owed = o.next_event == Some(NextEvent::Open)
                    && o.reminded_at.is_none()
                    && o.done_by.is_none()
                    && o.withdrawn_at.is_none()
                    && o.opens == item.opens;
                let taken = owed
                    && free(
                        o.reminder_claim.as_ref(),
                        o.reminder_claimed_at.as_ref(),
                        claim,
                    );
                if taken {
                    o.reminder_claim = Some(claim.id.clone());
                    o.reminder_claimed_at = Some(claim.at.clone());
                }
                taken
            }
            Notice::Missed => {
                let owed = o.next_event == Some(NextEvent::MissedNotice)
                    && o.noticed_at.is_none()
                    && o.opens == item.opens;
                let taken =
                    owed && free(o.notice_claim.as_ref(), o.notice_claimed_at.as_ref(), claim);
                if taken {
                    o.notice_claim = Some(claim.id.clone());
                    o.notice_claimed_at = Some(claim.at.clone());
                }
                taken
            }
        }))
    }

    async fn complete(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
        at: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.update_occurrence(item, |o| match notice {
            Notice::Reminder if o.reminder_claim.as_deref() == Some(claim_id) => {
                o.reminded_at = Some(at.to_owned());
                o.reminded_by = Some(claim_id.to_owned());
                // Unless another sweep recorded the miss meanwhile: its notice stays to come.
                if o.next_event == Some(NextEvent::Open) {
                    o.next_event = Some(NextEvent::Close);
                    o.due_at = Some(item.closes.clone());
                }
                o.reminder_claim = None;
                o.reminder_claimed_at = None;
                o.history.push(OccurrenceEvent::new(
                    at,
                    "reminded",
                    "reminder topic".into(),
                ));
                true
            }
            Notice::Missed if o.notice_claim.as_deref() == Some(claim_id) => {
                o.noticed_at = Some(at.to_owned());
                o.noticed_by = Some(claim_id.to_owned());
                o.clear_sweep();
                o.notice_claim = None;
                o.notice_claimed_at = None;
                o.history.push(OccurrenceEvent::new(
                    at,
                    "noticed",
                    "missed-survey topic".into(),
                ));
                true
            }
            // Recorded already, by this claim: the same record sent again after its answer was lost.
            Notice::Reminder => o.reminded_by.as_deref() == Some(claim_id),
            Notice::Missed => o.noticed_by.as_deref() == Some(claim_id),
        }))
    }

    async fn release(
        &self,
        item: &OccurrenceItem,
        notice: Notice,
        claim_id: &str,
    ) -> Result<(), StoreError> {
        self.update_occurrence(item, |o| match notice {
            Notice::Reminder if o.reminder_claim.as_deref() == Some(claim_id) => {
                o.reminder_claim = None;
                o.reminder_claimed_at = None;
                true
            }
            Notice::Missed if o.notice_claim.as_deref() == Some(claim_id) => {
                o.notice_claim = None;
                o.notice_claimed_at = None;
                true
            }
            _ => false,
        });
        Ok(())
    }

    async fn record_missed(&self, item: &OccurrenceItem, at: &str) -> Result<bool, StoreError> {
        Ok(self.update_occurrence(item, |o| {
            let owed = matches!(o.next_event, Some(NextEvent::Open | NextEvent::Close))
                && o.done_by.is_none()
                && o.missed_at.is_none()
                && o.withdrawn_at.is_none()
                && o.dropped_at.is_none()
                && o.closes == item.closes
                && o.closes.as_str() <= at;
            if owed {
                o.missed_at = Some(at.to_owned());
                o.next_event = Some(NextEvent::MissedNotice);
                o.due_at = Some(at.to_owned());
                o.history.push(OccurrenceEvent::new(
                    at,
                    "missed",
                    format!("window closed {}", o.closes),
                ));
            }
            owed
        }))
    }
}
