//! Through the deployed API to the table: the pipeline as a patient app and an operator see it.
//! Needs a deployed stack (`make local-up`); `make e2e` runs these with `--ignored`.

use std::time::Duration;

use intake::item::{SubmissionItem, content_hash, submission_key};
use intake::submission::{MAX_BODY_BYTES, Submission};
use intake_e2e::deployed::{Deployed, eventually, fresh_trial};
use intake_e2e::{Survey, TokenRequest, mint_token, post, submit};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A daily survey with every kind of answer: a score, a decimal, a choice list and free text.
fn daily(trial: &str, patient: &str, seed: u64) -> Survey {
    let mut survey = Survey::new(trial, patient, seed);
    survey.body["answers"] = json!({
        "pain": 2, "fatigue": 4.5, "sleepHours": 7.5, "symptoms": ["cough", "headache"],
        "comment": "walked a little after lunch"
    });
    survey
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_valid_submission_is_accepted_and_stored_with_every_field() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let survey = daily(&fresh_trial("IT"), "P-000123", 42);

    let reply = submit(http, stack, &survey.body).await.unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["submissionId"], survey.submission_id.to_string());
    assert_eq!(reply.body["status"], "accepted");
    let received_at = reply.body["receivedAt"]
        .as_str()
        .expect("receivedAt")
        .to_owned();

    let attributes = deployed.stored_item(&survey).await;
    let item: SubmissionItem =
        serde_dynamo::from_item(attributes.clone()).expect("the documented layout");
    let sent = Submission::from_value(&survey.body).unwrap();
    assert_eq!(
        item.submission, sent,
        "every submission field is stored as sent"
    );
    assert_eq!(
        (item.pk.clone(), item.sk.clone()),
        submission_key(&survey.submission_id),
        "keyed by its id alone"
    );
    assert_eq!(
        item.patient_partition(),
        format!("TRIAL#{}#PATIENT#P-000123", survey.trial_id)
    );
    assert_eq!(item.received_at, received_at);
    assert!(item.stored_at >= item.received_at);
    assert_eq!(item.content_hash, content_hash(&sent));
    assert_eq!(item.schema_version, 2);
    assert_eq!(item.submission.survey_version.as_deref(), Some("2"));
    assert_eq!(item.received_as, "json");
    // Analysts see answers as a native map.
    let answers = attributes["answers"].as_m().expect("answers is a map");
    assert_eq!(
        answers["pain"].as_n().unwrap(),
        &survey.body["answers"]["pain"].to_string()
    );
    assert_eq!(
        answers["sleepHours"].as_n().unwrap(),
        &survey.body["answers"]["sleepHours"].to_string()
    );
    assert!(
        answers["symptoms"].as_l().is_ok(),
        "multiple choice is a list"
    );

    // Monitoring lists the trial's submissions by arrival.
    let listed = aws
        .trial_submission_keys(stack, &survey.trial_id)
        .await
        .unwrap();
    assert_eq!(listed, [(item.pk.clone(), item.sk.clone())]);
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn each_class_of_invalid_input_gets_its_4xx_and_nothing_is_stored() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let trial = fresh_trial("IT");
    let patient = "P-000777";
    let valid = || Survey::new(&trial, patient, 7).body;
    let with = |field: &str, value: Value| {
        let mut body = valid();
        body[field] = value;
        body.to_string()
    };
    let oversized = {
        let mut body = valid().to_string();
        body.push_str(&" ".repeat(MAX_BODY_BYTES));
        body
    };
    let token = mint_token(http, stack, &TokenRequest::patient(patient, &trial))
        .await
        .unwrap();
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "not JSON",
            "application/json",
            "{\"submissionId\": ".into(),
            400,
            "malformed_json",
        ),
        (
            "empty body",
            "application/json",
            String::new(),
            400,
            "malformed_json",
        ),
        (
            "bad UUID",
            "application/json",
            with("submissionId", json!("nope")),
            400,
            "invalid_submission",
        ),
        (
            "a completedAt that does not exist",
            "application/json",
            with("completedAt", json!("2026-02-30T08:00:00Z")),
            400,
            "invalid_submission",
        ),
        (
            "null answer",
            "application/json",
            with("answers", json!({"pain": null})),
            400,
            "invalid_submission",
        ),
        (
            "unknown field",
            "application/json",
            with("deviceId", json!("x")),
            400,
            "invalid_submission",
        ),
        (
            "bad id charset",
            "application/json",
            with("surveyId", json!("qol daily")),
            400,
            "invalid_submission",
        ),
        (
            "text/plain",
            "text/plain",
            valid().to_string(),
            415,
            "unsupported_media_type",
        ),
        (
            "form",
            "application/x-www-form-urlencoded",
            valid().to_string(),
            415,
            "unsupported_media_type",
        ),
        (
            "over 256 KiB",
            "application/json",
            oversized,
            413,
            "payload_too_large",
        ),
    ];
    for (name, content_type, body, status, error) in cases {
        let reply = post(http, stack, Some(&token), content_type, body)
            .await
            .unwrap();
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert_eq!(reply.body["error"], error, "{name}");
        if error == "invalid_submission" {
            let fields = reply.body["fields"]
                .as_array()
                .expect("fields lists the problems");
            assert!(
                !fields.is_empty()
                    && fields
                        .iter()
                        .all(|f| f["field"].is_string() && f["problem"].is_string())
            );
        }
    }
    let reply = submit(http, stack, &json!({"submissionId": "x", "answers": {}}))
        .await
        .unwrap();
    assert_eq!(
        reply.body["fields"].as_array().unwrap().len(),
        7,
        "every problem is listed: {}",
        reply.body
    );

    deployed.drained().await;
    let items = aws.patient_items(stack, &trial, patient).await.unwrap();
    assert!(
        items.is_empty(),
        "rejected input reached the table: {:?}",
        items.keys()
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn the_same_submission_sent_five_times_at_once_is_stored_once() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let survey = Survey::new(&fresh_trial("IT"), "P-000555", 5);
    let send = || submit(http, stack, &survey.body);
    let replies = tokio::join!(send(), send(), send(), send(), send());
    for reply in [replies.0, replies.1, replies.2, replies.3, replies.4] {
        assert_eq!(reply.unwrap().status, 202);
    }
    deployed.stored_item(&survey).await;
    deployed.drained().await;
    let items = aws
        .patient_answer_records(stack, &survey.trial_id, &survey.patient_id)
        .await
        .unwrap();
    assert_eq!(
        items.len(),
        1,
        "exactly one item, no conflict records: {:?}",
        items.keys()
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_conflicting_resend_leaves_the_original_and_the_conflict_can_be_found() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let original = daily(&fresh_trial("IT"), "P-000999", 3);
    assert_eq!(
        submit(http, stack, &original.body).await.unwrap().status,
        202
    );
    let before = deployed.stored_item(&original).await;

    let mut changed = original.clone();
    changed.body["answers"]["pain"] = json!(9);
    assert_eq!(
        submit(http, stack, &changed.body).await.unwrap().status,
        202
    );

    let conflict = eventually(Duration::from_secs(60), || async {
        let items = aws
            .patient_items(stack, &original.trial_id, &original.patient_id)
            .await?;
        Ok(items
            .into_iter()
            .find(|(sk, _)| sk.starts_with("CONFLICT#"))
            .map(|(_, item)| item))
    })
    .await;
    let changed_submission = Submission::from_value(&changed.body).unwrap();
    assert_eq!(conflict["recordType"].as_s().unwrap(), "conflict");
    assert_eq!(
        conflict["submissionId"].as_s().unwrap(),
        &original.submission_id.to_string()
    );
    assert_eq!(conflict["originalContentHash"], before["contentHash"]);
    assert_eq!(
        conflict["contentHash"].as_s().unwrap(),
        &content_hash(&changed_submission)
    );
    assert_eq!(
        conflict["conflictingSubmission"].as_m().unwrap()["answers"]
            .as_m()
            .unwrap()["pain"]
            .as_n()
            .unwrap(),
        "9"
    );

    deployed.drained().await;
    let after = aws
        .patient_answer_records(stack, &original.trial_id, &original.patient_id)
        .await
        .unwrap();
    assert_eq!(
        after[&format!("SUBMISSION#{}", original.submission_id)],
        before,
        "the original is untouched"
    );
    assert_eq!(after.len(), 2, "the original and one conflict record");
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_phone_clock_an_hour_fast_loses_no_survey_and_is_flagged_for_the_data_manager() {
    let deployed = Deployed::load().await;
    let mut survey = daily(&fresh_trial("IT"), "P-000444", 44);
    let an_hour_ahead = OffsetDateTime::now_utc() + time::Duration::hours(1);
    survey.body["completedAt"] = json!(an_hour_ahead.format(&Rfc3339).unwrap());
    let reply = submit(&deployed.http, &deployed.stack, &survey.body)
        .await
        .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
    let item: SubmissionItem =
        serde_dynamo::from_item(deployed.stored_item(&survey).await).unwrap();
    let skew = item.clock_ahead_seconds.expect("the skew is stored");
    assert!((3_500..=3_600).contains(&skew), "{skew}");
    let flags = intake_ops::flags::flags(&deployed.aws, &deployed.stack, &survey.trial_id)
        .await
        .unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].kind, "clock-ahead");
    assert_eq!(flags[0].submission_id, survey.submission_id.to_string());
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn one_id_under_another_trial_is_one_record_and_a_repeat_under_a_new_id_is_flagged() {
    let deployed = Deployed::load().await;
    let (http, stack, aws) = (&deployed.http, &deployed.stack, &deployed.aws);
    let original = daily(&fresh_trial("IT"), "P-000555", 55);
    assert_eq!(
        submit(http, stack, &original.body).await.unwrap().status,
        202
    );
    deployed.stored_item(&original).await;

    // The same id from another trial (its own patient there): one record, and a conflict in the sender's partition.
    let mut elsewhere = daily(&fresh_trial("IT"), "P-000555", 56);
    elsewhere.submission_id = original.submission_id;
    elsewhere.body["submissionId"] = json!(original.submission_id);
    assert_eq!(
        submit(http, stack, &elsewhere.body).await.unwrap().status,
        202
    );
    // A second daily survey of the same day by the same patient, under a new id (a double tap): stored, flagged.
    let repeat = daily(&original.trial_id, "P-000555", 57);
    assert_eq!(submit(http, stack, &repeat.body).await.unwrap().status, 202);
    deployed.drained().await;

    let there = aws
        .patient_answer_records(stack, &elsewhere.trial_id, &elsewhere.patient_id)
        .await
        .unwrap();
    assert!(
        !there.contains_key(&format!("SUBMISSION#{}", original.submission_id)),
        "no second original"
    );
    let by_id: SubmissionItem = serde_dynamo::from_item(
        aws.get_items(stack, &[submission_key(&original.submission_id)])
            .await
            .unwrap()
            .into_values()
            .next()
            .expect("stored under its id"),
    )
    .unwrap();
    assert_eq!(
        (by_id.submission.trial_id, by_id.submission.patient_id),
        (original.trial_id.clone(), original.patient_id.clone()),
        "the id's one record is the original's"
    );
    // The resend marked its timepoint in its own partition before it found the id stored, and gave it back: that
    // patient's own first survey there is no repeat of another trial's submission.
    let marker = aws
        .patient_items(stack, &elsewhere.trial_id, &elsewhere.patient_id)
        .await
        .unwrap()
        .into_iter()
        .find(|(sk, _)| sk.starts_with("TIMEPOINT#"))
        .map(|(_, item)| item)
        .expect("the resend's marker");
    assert!(marker.contains_key("releasedAt"), "{marker:?}");
    let mut own_first = elsewhere.clone();
    own_first.submission_id = uuid::Uuid::new_v4();
    own_first.body["submissionId"] = json!(own_first.submission_id);
    assert_eq!(
        submit(http, stack, &own_first.body).await.unwrap().status,
        202
    );
    let own: SubmissionItem =
        serde_dynamo::from_item(deployed.stored_item(&own_first).await).unwrap();
    assert_eq!(own.repeat_of, None, "the released marker is taken again");
    assert!(
        there
            .keys()
            .any(|sk| sk.starts_with(&format!("CONFLICT#{}#", original.submission_id)))
    );
    let stored: SubmissionItem =
        serde_dynamo::from_item(deployed.stored_item(&repeat).await).unwrap();
    assert_eq!(stored.repeat_of, Some(original.submission_id));
    let flags = intake_ops::flags::flags(aws, stack, &original.trial_id)
        .await
        .unwrap();
    assert_eq!(
        flags.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>(),
        ["repeat"]
    );
    let conflicts = intake_ops::flags::flags(aws, stack, &elsewhere.trial_id)
        .await
        .unwrap();
    assert_eq!(
        conflicts
            .iter()
            .map(|f| f.kind.as_str())
            .collect::<Vec<_>>(),
        ["conflict"]
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_delivery_the_earlier_layout_stopped_after_claiming_its_id_and_timepoint_is_completed_by_the_next()
 {
    let deployed = Deployed::load().await;
    let (http, stack, aws) = (&deployed.http, &deployed.stack, &deployed.aws);
    let survey = daily(&fresh_trial("IT"), "P-000666", 66);
    // What a delivery of the layout before 2026-12-06 wrote ahead of the submission, left behind by one that stopped
    // there (timed out, its container gone, then the deploy): the claim on the id and the timepoint's marker, both
    // naming this submission.
    let sent = Submission::from_value(&survey.body).unwrap();
    let text = |value: &str| aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned());
    let id = survey.submission_id.to_string();
    let patient = format!("TRIAL#{}#PATIENT#{}", survey.trial_id, survey.patient_id);
    let marker = format!("TIMEPOINT#{}#{}", sent.survey_id, sent.timepoint);
    let begun = [
        vec![
            ("pk", text(&format!("SUBMISSIONID#{id}"))),
            ("sk", text("CLAIM")),
            ("recordType", text("claim")),
            ("contentHash", text(&content_hash(&sent))),
            ("claimedAt", text("2026-12-01T08:00:00.000Z")),
        ],
        vec![
            ("pk", text(&patient)),
            ("sk", text(&marker)),
            ("recordType", text("timepoint")),
            ("markedAt", text("2026-12-01T08:00:00.000Z")),
        ],
    ];
    for record in begun {
        aws.dynamodb
            .put_item()
            .table_name(&stack.table_name)
            .set_item(Some(
                record
                    .into_iter()
                    .chain([("submissionId", text(&id))])
                    .map(|(name, value)| (name.to_owned(), value))
                    .collect(),
            ))
            .send()
            .await
            .unwrap();
    }

    // The app, never told its survey was stored, sends it again.
    assert_eq!(submit(http, stack, &survey.body).await.unwrap().status, 202);
    let item: SubmissionItem =
        serde_dynamo::from_item(deployed.stored_item(&survey).await).unwrap();
    assert_eq!(item.submission, sent);
    assert_eq!(item.repeat_of, None, "not a repeat of itself");
    assert_eq!(
        (item.pk.as_str(), item.sk),
        (patient.as_str(), format!("SUBMISSION#{id}")),
        "completed where that layout stores it: a new item, which the table's stream brings on"
    );
    deployed.drained().await;
    let records = aws
        .patient_answer_records(stack, &survey.trial_id, &survey.patient_id)
        .await
        .unwrap();
    assert_eq!(records.len(), 1, "no conflict: {:?}", records.keys());
    let flags = intake_ops::flags::flags(aws, stack, &survey.trial_id)
        .await
        .unwrap();
    assert!(flags.is_empty(), "{flags:?}");
}
