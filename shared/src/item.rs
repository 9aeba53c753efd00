//! The DynamoDB layout (part of the contract; the README documents it).
//!
//! One table. A patient's records share a partition:
//! - `pk = TRIAL#<trialId>#PATIENT#<patientId>`, `sk = SUBMISSION#<submissionId>`: the submission, written once.
//! - `sk = CONFLICT#<submissionId>#<contentHash>`: a resend of that id with other content, kept for an operator.
//!
//! Submission items carry `trialId` and `receivedAt` at top level, which the `ByTrialReceivedAt` index lists;
//! conflict items nest the conflicting submission, so they stay out of that index.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::envelope::Envelope;
use crate::instrument::Scores;
use crate::submission::Submission;

/// The partition key of a patient's records.
pub fn partition_key(trial_id: &str, patient_id: &str) -> String {
    format!("TRIAL#{trial_id}#PATIENT#{patient_id}")
}

/// The sort key of a submission.
pub fn submission_sort_key(submission_id: &uuid::Uuid) -> String {
    format!("SUBMISSION#{submission_id}")
}

/// Hex SHA-256 of the submission's canonical JSON: equal content, equal hash, whatever the key order or spacing
/// the app used.
pub fn content_hash(submission: &Submission) -> String {
    let canonical = serde_json::to_vec(submission).expect("a submission always serialises");
    hex::encode(Sha256::digest(canonical))
}

/// RFC 3339 in UTC with millisecond precision: sorts as text, which the by-trial index relies on.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at
        .replace_nanosecond(at.millisecond() as u32 * 1_000_000)
        .expect("whole milliseconds are a valid nanosecond value");
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(&format).expect("a UTC date-time always formats")
}

/// What an item is (`recordType`), so a scan can tell the kinds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordType {
    /// A stored submission.
    Submission,
    /// A conflicting resend of a stored submission id.
    Conflict,
}

/// A stored submission: every submission field as an attribute of the same name, plus the intake metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionItem {
    /// `TRIAL#<trialId>#PATIENT#<patientId>`.
    pub pk: String,
    /// `SUBMISSION#<submissionId>`.
    pub sk: String,
    /// Always [`RecordType::Submission`].
    pub record_type: RecordType,
    /// Every submission field, at top level.
    #[serde(flatten)]
    pub submission: Submission,
    /// When the API accepted it.
    pub received_at: String,
    /// When the process function wrote it.
    pub stored_at: String,
    /// [`content_hash`] of the submission.
    pub content_hash: String,
    /// The envelope schema it came in.
    pub schema_version: u32,
    /// API Gateway's id of the accepting request.
    pub request_id: String,
    /// The form it arrived in: `json` or `fhir`.
    pub received_as: String,
    /// The scores its instrument version declares (`total`: value and band), computed when it was accepted.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scores: Scores,
}

impl SubmissionItem {
    /// The item for an envelope, written at `stored_at`.
    pub fn new(envelope: Envelope, stored_at: String) -> Self {
        let Envelope {
            schema_version,
            request_id,
            received_at,
            received_as,
            submission,
            scores,
        } = envelope;
        SubmissionItem {
            pk: partition_key(&submission.trial_id, &submission.patient_id),
            sk: submission_sort_key(&submission.submission_id),
            record_type: RecordType::Submission,
            content_hash: content_hash(&submission),
            submission,
            received_at,
            stored_at,
            schema_version,
            request_id,
            received_as,
            scores,
        }
    }
}

/// A resend of a stored submission id with different content. The original stays untouched; this record lets an
/// operator see both versions and decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictItem {
    /// The patient's partition, as for the submission.
    pub pk: String,
    /// `CONFLICT#<submissionId>#<contentHash of the resend>`.
    pub sk: String,
    /// Always [`RecordType::Conflict`].
    pub record_type: RecordType,
    /// The id both versions share.
    pub submission_id: uuid::Uuid,
    /// The stored original's content hash.
    pub original_content_hash: String,
    /// The resend's content hash.
    pub content_hash: String,
    /// When the process function found the conflict.
    pub detected_at: String,
    /// API Gateway's id of the request that sent the resend.
    pub request_id: String,
    /// When the API accepted the resend.
    pub conflicting_received_at: String,
    /// The resend, whole, for an operator to compare.
    pub conflicting_submission: Submission,
}

impl ConflictItem {
    /// The conflict record for `rejected`, which collided with a stored item whose hash is `original_content_hash`.
    /// Its key includes the rejected content's hash, so a redelivery of the same conflicting message records it once.
    pub fn new(
        rejected: SubmissionItem,
        original_content_hash: String,
        detected_at: String,
    ) -> Self {
        let submission_id = rejected.submission.submission_id;
        ConflictItem {
            pk: rejected.pk,
            sk: format!("CONFLICT#{submission_id}#{}", rejected.content_hash),
            record_type: RecordType::Conflict,
            submission_id,
            original_content_hash,
            content_hash: rejected.content_hash,
            detected_at,
            request_id: rejected.request_id,
            conflicting_received_at: rejected.received_at,
            conflicting_submission: rejected.submission,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submission::Answer;
    use crate::testing::example::{self, example};
    use aws_sdk_dynamodb::types::AttributeValue;
    use serde_json::json;
    use std::collections::HashMap;
    use time::macros::datetime;

    /// An envelope of any answers, judged by no instrument: the layout tests are about DynamoDB, not rules.
    fn envelope(answers: serde_json::Value) -> Envelope {
        let judged = crate::instrument::Judged {
            submission: example().answers(answers).submission(),
            scores: Default::default(),
        };
        Envelope::new(judged, "json", "req-1".into(), example::RECEIVED_AT)
    }

    fn item() -> SubmissionItem {
        SubmissionItem::new(example().envelope(), "2026-11-22T08:00:02.000Z".into())
    }

    #[test]
    fn timestamps_are_utc_milliseconds_that_sort_as_text() {
        assert_eq!(
            format_timestamp(datetime!(2026-11-22 09:00:00 +01:00)),
            "2026-11-22T08:00:00.000Z"
        );
        let earlier = format_timestamp(datetime!(2026-11-22 08:00:00.999 UTC));
        let later = format_timestamp(datetime!(2026-11-22 08:00:01.001 UTC));
        assert!(earlier < later);
    }

    #[test]
    fn keys_follow_the_documented_layout() {
        let item = item();
        assert_eq!(item.pk, "TRIAL#ONC-2026-01#PATIENT#P-000123");
        assert_eq!(item.sk, "SUBMISSION#0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f");
    }

    #[test]
    fn maps_every_field_to_a_readable_dynamodb_attribute() {
        let attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(item()).unwrap();
        let s = |name: &str| attributes[name].as_s().unwrap().clone();
        assert_eq!(s("pk"), "TRIAL#ONC-2026-01#PATIENT#P-000123");
        assert_eq!(s("recordType"), "submission");
        assert_eq!(s("submissionId"), "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f");
        assert_eq!(s("trialId"), "ONC-2026-01");
        assert_eq!(s("patientId"), "P-000123");
        assert_eq!(s("surveyId"), "qol-daily");
        assert_eq!(s("timepoint"), "day-7");
        assert_eq!(s("completedAt"), "2026-11-22T08:00:03Z");
        assert_eq!(s("receivedAt"), "2026-11-22T08:00:00.500Z");
        assert_eq!(s("storedAt"), "2026-11-22T08:00:02.000Z");
        assert_eq!(s("requestId"), "req-1");
        assert_eq!(attributes["schemaVersion"].as_n().unwrap(), "2");
        assert_eq!(s("surveyVersion"), "2");
        assert_eq!(s("receivedAs"), "json");
        assert_eq!(s("contentHash").len(), 64);

        // Analysts read answers as a native map of native types, not as a JSON string.
        let answers = attributes["answers"].as_m().unwrap();
        assert_eq!(answers["pain"].as_n().unwrap(), "3");
        assert_eq!(answers["fatigue"].as_n().unwrap(), "5.5");
        assert_eq!(answers["comment"].as_s().unwrap(), "slept badly");
        assert_eq!(answers["nausea"].as_bool().unwrap(), &false);
        let symptoms: Vec<&str> = answers["symptoms"]
            .as_l()
            .unwrap()
            .iter()
            .map(|v| v.as_s().unwrap().as_str())
            .collect();
        assert_eq!(symptoms, ["cough", "fever"]);
        assert_eq!(
            attributes.len(),
            17,
            "scores are left out when the instrument declares none"
        );
    }

    #[test]
    fn scores_are_stored_as_a_map_of_value_and_band() {
        let phq9 = example().survey("phq-9", example::phq9_answers("LA6570-1"));
        let item = SubmissionItem::new(phq9.envelope(), "2026-11-22T08:00:02.000Z".into());
        let attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(&item).unwrap();
        let total = attributes["scores"].as_m().unwrap()["total"]
            .as_m()
            .unwrap();
        assert_eq!(total["value"].as_n().unwrap(), "10");
        assert_eq!(total["band"].as_s().unwrap(), "moderate");
        let read: SubmissionItem = serde_dynamo::from_item(attributes).unwrap();
        assert_eq!(read, item);
    }

    #[test]
    fn reads_back_what_it_wrote() {
        let original = item();
        let attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(&original).unwrap();
        let read: SubmissionItem = serde_dynamo::from_item(attributes).unwrap();
        assert_eq!(read, original);
        assert_eq!(
            read.submission.answers["fatigue"],
            Answer::Number(serde_json::Number::from_f64(5.5).unwrap())
        );
    }

    #[test]
    fn every_number_reads_back_exactly_as_it_was_validated() {
        let answers = json!({ "a": 4.0, "b": -0.0, "c": 1e19, "d": 1e20, "e": 0.1, "f": -7, "g": u64::MAX, "h": 1e-130, "i": 1e125 });
        let original = SubmissionItem::new(envelope(answers), "2026-11-22T08:00:02.000Z".into());
        let attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(&original).unwrap();
        let read: SubmissionItem = serde_dynamo::from_item(attributes).unwrap();
        assert_eq!(read.submission, original.submission);
        assert_eq!(content_hash(&read.submission), original.content_hash);
    }

    #[test]
    fn content_hash_ignores_key_order_but_not_content() {
        let a = envelope(json!({ "pain": 3, "fatigue": 5 })).submission;
        let b = envelope(json!({ "fatigue": 5, "pain": 3 })).submission;
        let c = envelope(json!({ "pain": 4, "fatigue": 5 })).submission;
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
    }

    #[test]
    fn a_conflict_is_keyed_by_the_rejected_content_and_stays_out_of_the_trial_index() {
        let rejected = item();
        let conflict = ConflictItem::new(
            rejected.clone(),
            "abc".into(),
            "2026-11-22T09:00:00.000Z".into(),
        );
        assert_eq!(conflict.pk, rejected.pk);
        assert_eq!(
            conflict.sk,
            format!(
                "CONFLICT#0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f#{}",
                rejected.content_hash
            )
        );
        let attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(&conflict).unwrap();
        assert_eq!(attributes["recordType"].as_s().unwrap(), "conflict");
        assert_eq!(attributes["originalContentHash"].as_s().unwrap(), "abc");
        assert!(!attributes.contains_key("trialId") && !attributes.contains_key("receivedAt"));
    }
}
