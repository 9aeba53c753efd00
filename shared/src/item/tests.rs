use super::*;
use crate::envelope::Envelope;
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
        version_resolved: false,
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
    assert_eq!(item.pk, "SUBMISSIONID#0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f");
    assert_eq!(item.sk, "CLAIM");
    assert_eq!(
        item.patient_partition(),
        "TRIAL#ONC-2026-01#PATIENT#P-000123"
    );
}

#[test]
fn a_stored_submissions_key_names_its_id_in_either_layout_and_no_other_key_does() {
    let id = item().submission.submission_id;
    let (pk, sk) = submission_key(&id);
    assert_eq!(submission_id_of_key(&pk, &sk), Some(id));
    let (pk, sk) = legacy_submission_key("ONC-2026-01", "P-000123", &id);
    assert_eq!(submission_id_of_key(&pk, &sk), Some(id));
    for (pk, sk) in [
        (
            "TRIAL#ONC-2026-01#PATIENT#P-000123",
            "TIMEPOINT#qol-daily#day-7",
        ),
        ("ALERT#0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f", "ALERT"),
        ("TRIAL#ONC-2026-01#PATIENT#P-000123", "CLAIM"),
    ] {
        assert_eq!(submission_id_of_key(pk, sk), None, "{pk} {sk}");
    }
}

#[test]
fn a_submission_is_indexed_under_one_of_its_trials_shards_chosen_by_its_id() {
    let first = item();
    assert!(trial_shards("ONC-2026-01").any(|shard| shard == first.trial_shard));
    assert_eq!(
        first.trial_shard,
        item().trial_shard,
        "the same submission, the same shard"
    );
    // 64,000 random ids: every shard gets its share within 15 % (a burst spreads instead of heating one partition).
    let mut counts = vec![0u32; BY_TRIAL_SHARDS as usize];
    for _ in 0..64_000 {
        let shard = trial_shard("T", &uuid::Uuid::new_v4());
        let n: usize = shard.rsplit('#').next().unwrap().parse().unwrap();
        counts[n] += 1;
    }
    assert!(
        counts.iter().all(|c| (850..=1150).contains(c)),
        "{counts:?}"
    );
}

#[test]
fn maps_every_field_to_a_readable_dynamodb_attribute() {
    let attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(item()).unwrap();
    let s = |name: &str| attributes[name].as_s().unwrap().clone();
    assert_eq!(s("pk"), "SUBMISSIONID#0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f");
    assert_eq!(s("sk"), "CLAIM");
    assert_eq!(s("recordType"), "submission");
    assert_eq!(s("submissionId"), "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f");
    assert_eq!(s("trialId"), "ONC-2026-01");
    assert!(s("trialShard").starts_with("ONC-2026-01#"));
    assert_eq!(s("patientId"), "P-000123");
    assert_eq!(s("surveyId"), "qol-daily");
    assert_eq!(s("timepoint"), "day-7");
    assert_eq!(s("completedAt"), "2026-11-22T08:00:03Z");
    assert_eq!(s("receivedAt"), "2026-11-22T08:00:00.500Z");
    assert_eq!(s("storedAt"), "2026-11-22T08:00:02.000Z");
    assert_eq!(s("requestId"), "req-1");
    assert_eq!(attributes["schemaVersion"].as_n().unwrap(), "2");
    assert_eq!(s("surveyVersion"), "2");
    assert_eq!(
        attributes["surveyVersionResolved"].as_bool().unwrap(),
        &true,
        "the example names no version: the API resolved it"
    );
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
        19,
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
fn a_submission_stored_before_sharding_reads_without_a_shard_and_is_never_written_with_an_empty_one()
 {
    let mut attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(item()).unwrap();
    attributes.remove("trialShard");
    let read: SubmissionItem = serde_dynamo::from_item(attributes.clone()).unwrap();
    assert_eq!(read.trial_shard, "");
    let written: HashMap<String, AttributeValue> = serde_dynamo::to_item(&read).unwrap();
    assert_eq!(written, attributes);
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
fn the_same_instant_written_any_way_is_the_same_content() {
    let at = |completed: &str| example().set("completedAt", json!(completed)).submission();
    let z = content_hash(&at("2026-11-22T08:00:03.25Z"));
    for same in [
        "2026-11-22T08:00:03.250Z",
        "2026-11-22T08:00:03.25+00:00",
        "2026-11-22T09:00:03.250000+01:00",
        "2026-11-22T03:00:03.25-05:00",
    ] {
        assert_eq!(content_hash(&at(same)), z, "{same}");
    }
    assert_ne!(content_hash(&at("2026-11-22T08:00:03.26Z")), z);
    assert_eq!(
        canonical_instant("2026-11-22T09:00:03.250+01:00"),
        "2026-11-22T08:00:03.25Z"
    );
    assert_eq!(
        canonical_instant("2026-11-22T08:00:03.000Z"),
        "2026-11-22T08:00:03Z"
    );
    // What the app sent is stored as it was sent: only the hash reads the instant.
    let item = SubmissionItem::new(
        example()
            .set("completedAt", json!("2026-11-22T09:00:03+01:00"))
            .envelope(),
        "2026-11-22T08:00:05.000Z".into(),
    );
    assert_eq!(item.submission.completed_at, "2026-11-22T09:00:03+01:00");
}

#[test]
fn a_claim_written_before_instants_were_canonical_still_reads_as_the_same_content() {
    let item = SubmissionItem::new(
        example().version("2").envelope(),
        "2026-11-22T08:00:05.000Z".into(),
    );
    let old = legacy_content_hash(&item.submission);
    assert_eq!(
        old, item.content_hash,
        "named version, canonical time: unchanged"
    );
    let offset = SubmissionItem::new(
        example()
            .version("2")
            .set("completedAt", json!("2026-11-22T08:00:03+00:00"))
            .envelope(),
        "2026-11-22T08:00:05.000Z".into(),
    );
    let old = legacy_content_hash(&offset.submission);
    assert_ne!(old, offset.content_hash);
    assert!(offset.has_content(&old) && offset.has_content(&offset.content_hash));
    assert!(!offset.has_content(&content_hash(
        &example().answer("pain", json!(4)).submission()
    )));
}

#[test]
fn a_version_the_api_resolved_is_not_part_of_the_content() {
    let resolved = SubmissionItem::new(example().envelope(), String::new());
    let named = SubmissionItem::new(example().version("2").envelope(), String::new());
    assert!(resolved.survey_version_resolved && !named.survey_version_resolved);
    assert_eq!(resolved.submission.survey_version.as_deref(), Some("2"));
    assert_ne!(
        resolved.content_hash, named.content_hash,
        "naming a version is content"
    );
    let mut sent = resolved.submission.clone();
    sent.survey_version = None;
    assert_eq!(resolved.content_hash, content_hash(&sent));
}

#[test]
fn instant_keys_are_fixed_width_utc_and_sort_as_the_instants() {
    let keys: Vec<String> = [
        "2026-11-22T09:00:00.5+01:00",
        "2026-11-22T08:00:00.25Z",
        "2026-11-22T08:00:00Z",
        "2026-11-21T23:30:00-09:00",
    ]
    .iter()
    .map(|t| instant_key(t).unwrap())
    .collect();
    assert_eq!(keys[0], "2026-11-22T08:00:00.500000000Z");
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [&keys[2], &keys[1], &keys[0], &keys[3]].map(String::clone)
    );
    assert_eq!(instant_key("yesterday"), None);
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
    assert_eq!(conflict.pk, "TRIAL#ONC-2026-01#PATIENT#P-000123");
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

#[test]
fn a_write_marks_the_timepoint_in_the_patients_partition_and_flags_a_fast_clock() {
    let at = "2026-11-22T08:00:02.000Z";
    let write = SubmissionWrite::new(item(), at);
    let marker = write.timepoint.clone().unwrap();
    assert_eq!(
        (marker.pk.as_str(), marker.sk.as_str()),
        (
            "TRIAL#ONC-2026-01#PATIENT#P-000123",
            "TIMEPOINT#qol-daily#day-7"
        )
    );
    assert!(write.flags.is_empty(), "the example's clock is right");

    let mut fast = item();
    fast.clock_ahead_seconds = Some(3_600);
    let write = SubmissionWrite::new(fast, at);
    assert_eq!(write.flags.len(), 1);
    assert_eq!(write.flags[0].kind, FlagKind::ClockAhead);
    assert_eq!(write.flags[0].pk, "TRIAL#ONC-2026-01#PATIENT#P-000123");
    assert_eq!(
        write.flags[0].sk,
        "FLAG#clock-ahead#0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f"
    );
    assert!(write.flags[0].detail.contains("3600 s"));
}

#[test]
fn a_repeat_points_at_the_first_sets_no_marker_and_is_flagged_where_the_trial_lists_flags() {
    let first = uuid::Uuid::from_u128(7);
    let mut write = SubmissionWrite::new(item(), "t");
    write.mark_repeat_of(first, "t");
    assert_eq!(write.item.repeat_of, Some(first));
    assert_eq!(write.timepoint, None);
    let flag = &write.flags[0];
    assert_eq!(
        (flag.kind, flag.flag_trial_id.as_str()),
        (FlagKind::Repeat, "ONC-2026-01")
    );
    let attributes: HashMap<String, AttributeValue> = serde_dynamo::to_item(flag).unwrap();
    assert_eq!(attributes["recordType"].as_s().unwrap(), "flag");
    assert_eq!(attributes["kind"].as_s().unwrap(), "repeat");
    assert!(attributes.contains_key("flagTrialId") && attributes.contains_key("flaggedAt"));
    assert!(
        !attributes.contains_key("trialId"),
        "flags stay out of the by-trial submission index"
    );
}
