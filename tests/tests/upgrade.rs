//! A stack upgraded from the layout before 2026-12-06, where a submission sat in its patient's partition behind a bare
//! claim on its id: nothing is moved, and every path still finds each such submission, once. The app resends it (a
//! duplicate, not stored again), edits it (a conflict, its marker kept), a site investigator corrects and excludes
//! it, and the export lists it once; a pain report whose delivery stopped after its claim and marker is completed
//! where that layout stores it when the app sends it again, and still reaches its patient's timeline.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use intake::envelope::Envelope;
use intake::instrument::Catalogue;
use intake::item::{
    IdClaim, SubmissionItem, SubmissionWrite, legacy_submission_key, submission_key,
};
use intake::submit::{Form, accept};
use intake::testing::example::phq9_answers;
use intake_e2e::Survey;
use intake_e2e::deployed::eventually;
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::staff::{accepted, correction, exclusion, token};
use intake_ops::export::load;
use serde_json::json;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// A PHQ-9 of P-1 at `timepoint`, no dangerous answer.
fn phq9(trial: &str, timepoint: &str) -> Survey {
    let mut survey = Survey::of("phq-9", trial, "P-1", timepoint, &mut fastrand::Rng::new());
    survey.body["answers"] = phq9_answers("LA6568-5");
    survey
}

async fn read(deployed: &Deployed, (pk, sk): &(String, String)) -> Option<Item> {
    deployed
        .aws
        .dynamodb
        .get_item()
        .table_name(&deployed.stack.table_name)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S(sk.clone()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

async fn put(deployed: &Deployed, item: Item) {
    deployed
        .aws
        .dynamodb
        .put_item()
        .table_name(&deployed.stack.table_name)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

/// Rewrites `survey`, stored by this release, as the release before 2026-12-06 left it: the submission in its
/// patient's partition and a bare claim on its id. Its marker is where both layouts put it. The submission as it now
/// stands there.
async fn as_the_earlier_layout_stored_it(deployed: &Deployed, survey: &Survey) -> SubmissionItem {
    let by_id = submission_key(&survey.submission_id);
    let stored: SubmissionItem =
        serde_dynamo::from_item(read(deployed, &by_id).await.expect("stored")).unwrap();
    let claim = IdClaim::of(&stored, &stored.stored_at);
    put(deployed, serde_dynamo::to_item(&claim).unwrap()).await;
    let (pk, sk) =
        legacy_submission_key(&survey.trial_id, &survey.patient_id, &survey.submission_id);
    let legacy = SubmissionItem { pk, sk, ..stored };
    put(deployed, serde_dynamo::to_item(&legacy).unwrap()).await;
    legacy
}

/// Leaves what a delivery of `survey` by the release before 2026-12-06 wrote before it stopped: the claim on its id
/// and its timepoint's marker, nothing else.
async fn as_the_earlier_layout_stopped(deployed: &Deployed, survey: &Survey) {
    let judged = accept(
        Form::Json,
        survey.body.to_string().as_bytes(),
        Catalogue::embedded(),
    )
    .unwrap();
    let at = "2026-12-05T08:00:00.000Z";
    let envelope = Envelope::new(
        judged,
        "json",
        "earlier".into(),
        time::OffsetDateTime::now_utc(),
    );
    let begun = SubmissionWrite::new(SubmissionItem::new(envelope, at.into()), at);
    put(
        deployed,
        serde_dynamo::to_item(IdClaim::of(&begun.item, at)).unwrap(),
    )
    .await;
    put(
        deployed,
        serde_dynamo::to_item(begun.timepoint.unwrap()).unwrap(),
    )
    .await;
}

/// A pain report of P-1 (its instrument's rules compare reports: it goes on the timeline).
fn pain(trial: &str) -> Survey {
    let mut survey = Survey::of(
        "pain-nrs",
        trial,
        "P-1",
        "day-30",
        &mut fastrand::Rng::new(),
    );
    survey.body["answers"] = json!({ "pain": 3 });
    survey
}

#[tokio::test]
#[ignore = "needs the deployed stack: make local-up"]
async fn submissions_the_earlier_layout_stored_are_found_once_by_every_reader_and_never_stored_twice()
 {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("UPGRADE");
    let (kept, stopped) = (phq9(&trial, "day-7"), pain(&trial));
    accepted(&deployed, &kept).await;
    deployed.drained().await;
    let legacy = as_the_earlier_layout_stored_it(&deployed, &kept).await;
    as_the_earlier_layout_stopped(&deployed, &stopped).await;

    // The app sends both again, and an edit of the first.
    let mut edited = kept.clone();
    edited.body["answers"] = phq9_answers("LA6569-3");
    for survey in [&kept, &stopped, &edited] {
        accepted(&deployed, survey).await;
    }
    deployed.drained().await;

    let legacy_key = (legacy.pk.clone(), legacy.sk.clone());
    let still: SubmissionItem =
        serde_dynamo::from_item(read(&deployed, &legacy_key).await.unwrap()).unwrap();
    assert_eq!(
        still, legacy,
        "the earlier layout's submission stays as it was"
    );
    let claim = read(&deployed, &submission_key(&kept.submission_id))
        .await
        .unwrap();
    assert_eq!(
        claim["recordType"].as_s().unwrap(),
        "claim",
        "its resend was a duplicate, not stored a second time under its id"
    );
    let stopped_claim = read(&deployed, &submission_key(&stopped.submission_id))
        .await
        .unwrap();
    assert_eq!(stopped_claim["recordType"].as_s().unwrap(), "claim");
    let completed = read(
        &deployed,
        &legacy_submission_key(&trial, "P-1", &stopped.submission_id),
    )
    .await
    .expect("the delivery stopped after its claim is completed in the patient's partition");
    assert_eq!(completed["recordType"].as_s().unwrap(), "submission");
    // A new item, so the table's stream brings it to the timeline function.
    eventually(Duration::from_secs(60), || async {
        let items = deployed
            .aws
            .patient_items(&deployed.stack, &trial, "P-1")
            .await?;
        Ok(items
            .keys()
            .find(|sk| {
                sk.starts_with("TIMELINE#pain-nrs#")
                    && sk.ends_with(&stopped.submission_id.to_string())
            })
            .cloned())
    })
    .await;
    let records = deployed
        .aws
        .patient_answer_records(&deployed.stack, &trial, "P-1")
        .await
        .unwrap();
    let mut names: Vec<&str> = records.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(&format!("CONFLICT#{}#", kept.submission_id))),
        "the edit is a conflict: {names:?}"
    );
    let patient_items = deployed
        .aws
        .patient_items(&deployed.stack, &trial, "P-1")
        .await
        .unwrap();
    let marker = &patient_items["TIMEPOINT#phq-9#day-7"];
    assert_eq!(
        (
            marker["submissionId"].as_s().unwrap(),
            marker.contains_key("releasedAt")
        ),
        (&kept.submission_id.to_string(), false),
        "the edit keeps the stored one's marker"
    );

    // Every reader finds each once: the by-trial index, the export, the staff API's correction and exclusion.
    let listed = deployed
        .aws
        .trial_submission_keys(&deployed.stack, &trial)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let exported = load(&deployed.aws, &deployed.stack, &trial, |_| {}, |_, _| {})
        .await
        .unwrap();
    let mut ids: Vec<uuid::Uuid> = exported
        .iter()
        .map(|item| item.submission.submission_id)
        .collect();
    ids.sort_unstable();
    let mut expected = vec![kept.submission_id, stopped.submission_id];
    expected.sort_unstable();
    assert_eq!(ids, expected, "each once");

    let investigator = token(&deployed, "investigator-1", &trial, "epro/data.correct").await;
    let answers = phq9_answers("LA6569-3");
    let body = json!({ "patientId": "P-1", "replaces": 1, "answers": answers, "reason": "transcribed wrongly" });
    let corrected = correction(&deployed, &investigator, &kept, &body).await;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    assert_eq!(corrected.body["version"], json!(2));
    for survey in [&kept, &stopped] {
        let excluded = exclusion(
            &deployed,
            (&investigator, &trial),
            survey,
            (true, "wrong visit"),
            None,
        )
        .await;
        assert_eq!(excluded.status, 200, "{}", excluded.body);
    }
}
