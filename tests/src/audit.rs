//! The auditor: after a burst, is every acknowledged submission stored exactly once, as sent?
//!
//! - lost: acknowledged (202) but not in the table (read with consistent reads);
//! - doubled: one submission id stored more than once in the trial (under two keys);
//! - corrupted: stored content differs from what was sent (compared with the sent body itself);
//! - unexpected: stored in the burst's trial but never sent;
//! - dead letters: every DLQ message is classified, so none goes unexplained.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use intake::envelope::Envelope;
use intake::item::{legacy_submission_key, submission_id_of_key, submission_key};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::load::{Kind, Outcome};
use crate::{Aws, Error, Stack};

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    /// Distinct submission ids acknowledged with 202.
    pub acknowledged: usize,
    /// Submission items the trial holds (from the by-trial index).
    pub stored: usize,
    pub lost: Vec<Uuid>,
    pub doubled: Vec<Uuid>,
    pub corrupted: Vec<Uuid>,
    pub unexpected: Vec<String>,
    /// Sent ids that never got a 202 (the client gave up) yet were stored: allowed, at-least-once.
    pub stored_without_ack: usize,
    /// Ids sent by two patients (an app bug the generator plays): stored once, the other sender's copy recorded
    /// as a conflict in its own partition.
    pub collisions: usize,
    /// Of those, the ones whose second copy has its conflict record.
    pub collisions_recorded: usize,
    /// Ids resent by their own patient with other answers (an answer edited and resent): stored once, as first
    /// stored, each other content recorded as a conflict in the same partition.
    pub edits: usize,
    /// Of those, the ones whose every other content has its conflict record.
    pub edits_recorded: usize,
    /// Surveys repeated under a new id (same patient, instrument and timepoint as an earlier one): both stored.
    pub repeats: usize,
    /// Of those, the ones where exactly one of the two is flagged as repeating the other.
    pub repeats_flagged: usize,
    /// DLQ messages by explanation.
    pub dead_letters: BTreeMap<String, usize>,
    /// The unstored submissions waiting in the DLQ, by id: what a redrive would store.
    pub unstored_dead_letters: Vec<Uuid>,
}

impl Audit {
    pub fn passed(&self) -> bool {
        self.lost.is_empty()
            && self.doubled.is_empty()
            && self.corrupted.is_empty()
            && self.collisions == self.collisions_recorded
            && self.edits == self.edits_recorded
            && self.repeats == self.repeats_flagged
    }

    pub fn verdict(&self) -> String {
        format!(
            "lost: {}, doubled: {}, corrupted: {}",
            self.lost.len(),
            self.doubled.len(),
            self.corrupted.len()
        )
    }
}

/// Checks the table and the DLQ against what the burst sent. Call it after the queue has drained.
pub async fn audit(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    outcomes: &[Outcome],
) -> Result<Audit, Error> {
    // What was sent, by id: every distinct (patient, body) under it (resends repeat one; a collision adds one), and
    // which ids were acknowledged.
    let mut sent: HashMap<Uuid, Vec<(&str, &Value)>> = HashMap::new();
    let mut acknowledged: HashSet<Uuid> = HashSet::new();
    for outcome in outcomes {
        let survey = &outcome.scheduled.survey;
        let senders = sent.entry(survey.submission_id).or_default();
        if !senders.iter().any(|(_, body)| *body == &survey.body) {
            senders.push((survey.patient_id.as_str(), &survey.body));
        }
        if outcome.accepted() {
            acknowledged.insert(survey.submission_id);
        }
    }
    let mut audit = Audit {
        acknowledged: acknowledged.len(),
        ..Audit::default()
    };

    // Everything the trial holds, through the by-trial index: catches doubles and strays anywhere in the trial.
    let listed = aws.trial_submission_keys(stack, trial_id).await?;
    audit.stored = listed.len();
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    for (pk, sk) in &listed {
        match submission_id_of_key(pk, sk) {
            Some(id) if sent.contains_key(&id) => *seen.entry(id).or_default() += 1,
            _ => audit.unexpected.push(format!("{pk} {sk}")),
        }
    }
    audit.doubled = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    audit.stored_without_ack = seen.keys().filter(|id| !acknowledged.contains(id)).count();

    // Every acknowledged submission, read consistently from the base table under its id's key and, as the layout
    // before 2026-12-06 stored it, under each sender's: exactly one holds it, as one of its sender's copies was sent;
    // every other content sent under its id is a conflict record.
    let keys: Vec<(String, String)> = acknowledged
        .iter()
        .flat_map(|id| {
            let patients: BTreeSet<&str> = sent[id].iter().map(|(patient, _)| *patient).collect();
            std::iter::once(submission_key(id)).chain(
                patients
                    .into_iter()
                    .map(move |patient| legacy_submission_key(trial_id, patient, id)),
            )
        })
        .collect();
    let items = aws.get_items(stack, &keys).await?;
    let stored = |id: &Uuid| -> Vec<(&str, &HashMap<String, AttributeValue>)> {
        let text = |item: &'_ HashMap<String, AttributeValue>, name: &str| {
            item.get(name).and_then(|v| v.as_s().ok()).cloned()
        };
        let by_id = items
            .get(&submission_key(id))
            .filter(|item| text(item, "recordType").as_deref() == Some("submission"));
        let sender = |item: &HashMap<String, AttributeValue>| {
            let patient = text(item, "patientId")?;
            let trial = text(item, "trialId")?;
            let senders = &sent[id];
            (trial == trial_id)
                .then(|| senders.iter().map(|(p, _)| *p).find(|p| *p == patient))
                .flatten()
        };
        let mut found: Vec<(&str, &HashMap<String, AttributeValue>)> = by_id
            .and_then(|item| Some((sender(item)?, item)))
            .into_iter()
            .collect();
        let patients: BTreeSet<&str> = sent[id].iter().map(|(patient, _)| *patient).collect();
        found.extend(patients.into_iter().filter_map(|patient| {
            items
                .get(&legacy_submission_key(trial_id, patient, id))
                .map(|item| (patient, item))
        }));
        found
    };
    for id in &acknowledged {
        let found = stored(id);
        let [(stored_by, item)] = found.as_slice() else {
            if found.is_empty() {
                audit.lost.push(*id);
            } else {
                audit.doubled.push(*id);
            }
            continue;
        };
        let Some((_, stored)) = sent[id]
            .iter()
            .find(|(patient, body)| patient == stored_by && stored_as_sent(item, body))
        else {
            audit.corrupted.push(*id);
            continue;
        };
        // Other contents: another patient's (an id reused), or the same patient's other answers (an edit). The same
        // instant written another way is the same content.
        let mut others: Vec<(&str, &Value)> = Vec::new();
        for (patient, body) in &sent[id] {
            let same = |(p, b): &(&str, &Value)| p == patient && same_content(b, body);
            if !same(&(stored_by, stored)) && !others.iter().any(same) {
                others.push((patient, body));
            }
        }
        if others.is_empty() {
            continue;
        }
        let recorded = conflicts_recorded(aws, stack, trial_id, id, &others).await?;
        if others.iter().all(|(patient, _)| patient == stored_by) {
            audit.edits += 1;
            audit.edits_recorded += usize::from(recorded);
        } else {
            audit.collisions += 1;
            audit.collisions_recorded += usize::from(recorded);
        }
    }
    audit.doubled.sort_unstable();
    audit.doubled.dedup();

    // Each acknowledged repeat and the survey it repeats: both stored, exactly one pointing at the other.
    for repeat in outcomes
        .iter()
        .filter(|o| o.accepted() && o.scheduled.kind == Kind::Repeat)
    {
        let survey = &repeat.scheduled.survey;
        let first = outcomes.iter().find(|o| {
            o.scheduled.kind == Kind::New
                && o.scheduled.survey.patient_id == survey.patient_id
                && o.scheduled.survey.body["surveyId"] == survey.body["surveyId"]
                && o.scheduled.survey.body["timepoint"] == survey.body["timepoint"]
        });
        let Some(first) = first.filter(|first| first.accepted()) else {
            continue;
        };
        audit.repeats += 1;
        let pointer = |id: &Uuid| {
            stored(id)
                .into_iter()
                .find(|(patient, _)| *patient == survey.patient_id)
                .map(|(_, item)| item.get("repeatOf").and_then(|v| v.as_s().ok()).cloned())
        };
        let (a, b) = (first.scheduled.survey.submission_id, survey.submission_id);
        let flagged = match (pointer(&a), pointer(&b)) {
            (Some(None), Some(Some(to))) => to == a.to_string(),
            (Some(Some(to)), Some(None)) => to == b.to_string(),
            _ => false,
        };
        audit.repeats_flagged += usize::from(flagged);
    }

    for body in aws.peek_all(&stack.dead_letter_queue_url).await? {
        let explanation = match Envelope::decode(&body) {
            Err(error) => format!("poison, never storable: {error}"),
            Ok(envelope) if seen.contains_key(&envelope.submission.submission_id) => {
                "a stored submission's redelivery (harmless)".to_owned()
            }
            Ok(envelope) => {
                audit
                    .unstored_dead_letters
                    .push(envelope.submission.submission_id);
                "an unstored submission: replay with redrive".to_owned()
            }
        };
        *audit.dead_letters.entry(explanation).or_default() += 1;
    }
    audit.unstored_dead_letters.sort_unstable();
    audit.lost.sort_unstable();
    Ok(audit)
}

/// Whether each of `others` (a patient and a content sent under `id` other than the stored one) has a conflict
/// record in that patient's partition: as many `CONFLICT#<id>#…` records as other contents.
async fn conflicts_recorded(
    aws: &Aws,
    stack: &Stack,
    trial_id: &str,
    id: &Uuid,
    others: &[(&str, &Value)],
) -> Result<bool, Error> {
    let patients: BTreeSet<&str> = others.iter().map(|(patient, _)| *patient).collect();
    for patient in patients {
        let expected = others.iter().filter(|(p, _)| *p == patient).count();
        let items = aws.patient_items(stack, trial_id, patient).await?;
        let recorded = items
            .keys()
            .filter(|sk| sk.starts_with(&format!("CONFLICT#{id}#")))
            .count();
        if recorded < expected {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether two bodies sent under one id are the same content: every field and answer equal, the completion time
/// compared as an instant (`…Z` and `…+00:00` of the same moment are one time).
pub fn same_content(a: &Value, b: &Value) -> bool {
    let instant = |body: &Value| {
        body["completedAt"]
            .as_str()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
    };
    let without_time = |body: &Value| {
        let mut body = body.clone();
        body["completedAt"] = Value::Null;
        body
    };
    instant(a).is_some()
        && instant(a) == instant(b)
        && same_value(&without_time(a), &without_time(b))
}

/// Whether a stored item holds what the app sent, compared field by field with the sent body itself (not through
/// the intake's own parsing or hashing, which a bug could share): every sent field and answer, numbers by value.
pub fn stored_as_sent(item: &HashMap<String, AttributeValue>, sent: &Value) -> bool {
    let Ok(stored) = serde_dynamo::from_item::<_, Value>(item.clone()) else {
        return false;
    };
    let fields = [
        "submissionId",
        "trialId",
        "patientId",
        "surveyId",
        "surveyVersion",
        "timepoint",
        "completedAt",
    ];
    let same_fields = fields
        .iter()
        .all(|field| match (&sent[field], &stored[field]) {
            (Value::String(sent), Value::String(stored)) if *field == "submissionId" => {
                sent.eq_ignore_ascii_case(stored)
            }
            (Value::Null, _) => *field == "surveyVersion", // the app may leave it to the server
            (sent, stored) => sent == stored,
        });
    same_fields && same_value(&sent["answers"], &stored["answers"])
}

/// JSON equality, numbers compared by value (`4.0` was sent, `4` is stored: DynamoDB keeps no such difference).
fn same_value(sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| same_value(value, other)))
        }
        (a, b) => a == b,
    }
}
