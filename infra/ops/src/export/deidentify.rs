//! A de-identified copy of a trial's submissions, for analysts outside the trial's care team. Every patient and
//! submission id becomes a pseudonym (HMAC-SHA-256 under a per-trial key that never leaves Secrets Manager and the
//! export: the same patient gets the same pseudonym in every export, and nobody without the key can reverse or
//! recompute it); every date of a patient moves back by one secret offset of 1 to 364 days, the same for all of
//! that patient's dates (as REDCap does), so intervals survive; times keep only the precision the trial chooses;
//! free text is removed (text and string items, and every text answer of a submission whose instrument is
//! unknown). Answers, codes and scores are kept.

use hmac::{Hmac, KeyInit, Mac};
use intake::instrument::Catalogue;
use intake::item::SubmissionItem;
use intake::submission::Answer;
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;
use uuid::Uuid;

/// What replaces an app's own timepoint label (FHIR strings may not be empty).
pub const WITHHELD: &str = "withheld";

/// How much of a time is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Precision {
    /// The date only (UTC): `2026-03-14`.
    Day,
    /// To the hour: `2026-03-14T09:00:00Z`.
    Hour,
    /// To the minute.
    Minute,
}

/// The transforms, as the manifest lists them.
pub fn transforms(precision: Precision) -> Vec<String> {
    vec![
        "patientId: HMAC-SHA-256 pseudonym under the trial's key (Secrets Manager), stable across exports".into(),
        "submissionId, repeatOf: HMAC-SHA-256 pseudonyms under the same key, as UUIDs".into(),
        "every date of a patient shifted back by one secret offset of 1 to 364 days, the same for all that \
         patient's dates: intervals are kept"
            .into(),
        format!(
            "times reduced to the {} (UTC)",
            format!("{precision:?}").to_lowercase()
        ),
        "free text removed: answers to text and string items, and text answers of unversioned submissions".into(),
        "timepoint kept only when it is a survey due of the trial's schedule, else `withheld` (an app's own label may hold a date)"
            .into(),
        "not exported: request ids, content hashes, the schedule compliance files (they name patients)".into(),
    ]
}

/// Pseudonyms, date shifts and reduced times under one trial's key.
pub struct Deidentifier {
    key: Vec<u8>,
    precision: Precision,
}

impl Deidentifier {
    /// A de-identifier with the trial's `key`, keeping times to `precision`.
    pub fn new(key: &[u8], precision: Precision) -> Self {
        Deidentifier {
            key: key.to_vec(),
            precision,
        }
    }

    /// HMAC-SHA-256 of `value` in the domain `purpose`, so that a patient's pseudonym and shift are independent.
    fn mac(&self, purpose: &str, value: &str) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The patient's pseudonym: `P-` and 16 hex digits.
    pub fn patient(&self, patient_id: &str) -> String {
        format!("P-{}", hex::encode(&self.mac("patient", patient_id)[..8]))
    }

    /// A submission's pseudonym, a UUID (FHIR identifiers stay `urn:uuid:`).
    pub fn submission(&self, submission_id: Uuid) -> Uuid {
        let mac = self.mac("submission", &submission_id.to_string());
        let bytes: [u8; 16] = mac[..16].try_into().expect("16 of 32 bytes");
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// How many days the patient's dates move back: 1 to 364.
    pub fn shift_days(&self, patient_id: &str) -> i64 {
        let mac = self.mac("date-shift", patient_id);
        let n = u64::from_be_bytes(mac[..8].try_into().expect("8 of 32 bytes"));
        1 + (n % 364) as i64
    }

    /// `at` (RFC 3339) of `patient_id`, shifted and reduced; empty when it is not a time (never the original).
    pub fn time(&self, patient_id: &str, at: &str) -> String {
        let Ok(instant) = at.parse::<Timestamp>() else {
            return String::new();
        };
        let shifted = instant - SignedDuration::from_hours(24 * self.shift_days(patient_id));
        let utc = shifted.to_zoned(jiff::tz::TimeZone::UTC);
        match self.precision {
            Precision::Day => utc.strftime("%Y-%m-%d").to_string(),
            Precision::Hour => utc.strftime("%Y-%m-%dT%H:00:00Z").to_string(),
            Precision::Minute => utc.strftime("%Y-%m-%dT%H:%M:00Z").to_string(),
        }
    }

    /// The de-identified copy of a stored submission.
    pub fn item(&self, item: &SubmissionItem, catalogue: &Catalogue) -> SubmissionItem {
        let patient = item.submission.patient_id.as_str();
        let mut out = item.clone();
        let s = &mut out.submission;
        s.submission_id = self.submission(item.submission.submission_id);
        s.patient_id = self.patient(patient);
        s.completed_at = self.time(patient, &item.submission.completed_at);
        // The app chooses the timepoint's label, and a label can hold a date: kept only when it is the survey due
        // of the trial's own schedule.
        let scheduled = item
            .schedule
            .as_ref()
            .and_then(|p| p.occurrence_id.as_deref());
        if scheduled != Some(item.submission.timepoint.as_str()) {
            s.timepoint = WITHHELD.to_owned();
        }
        let free_text = free_text_items(item, catalogue);
        s.answers.retain(|link_id, answer| match &free_text {
            Some(items) => !items.contains(link_id),
            None => !matches!(answer, Answer::Text(_) | Answer::Choices(_)),
        });
        out.received_at = self.time(patient, &item.received_at);
        out.stored_at = self.time(patient, &item.stored_at);
        out.repeat_of = item.repeat_of.map(|id| self.submission(id));
        if let Some(placement) = out.schedule.as_mut() {
            placement.placed_at = self.time(patient, &placement.placed_at);
            placement.opens = placement.opens.as_deref().map(|t| self.time(patient, t));
            placement.closes = placement.closes.as_deref().map(|t| self.time(patient, t));
        }
        for key in [
            &mut out.pk,
            &mut out.sk,
            &mut out.trial_shard,
            &mut out.request_id,
            &mut out.content_hash,
        ] {
            key.clear();
        }
        out
    }
}

/// The `linkId`s of `item`'s free-text questions (text and string items), or `None` when its instrument version is
/// unknown (every text answer is then treated as free text).
fn free_text_items(item: &SubmissionItem, catalogue: &Catalogue) -> Option<Vec<String>> {
    let s = &item.submission;
    let version = s.survey_version.as_deref()?;
    let instrument = catalogue.get(&s.survey_id, Some(version)).ok()?;
    Some(
        instrument
            .questionnaire()
            .items()
            .into_iter()
            .filter(|i| matches!(i.item_type.as_str(), "text" | "string"))
            .map(|i| i.link_id.clone())
            .collect(),
    )
}
