//! Corrections on the staff API, in memory: a new version beside the untouched original, a stale version refused,
//! the answers judged as the submit route judges them, the alerts newly due raised once, and each correction one
//! audit record.

use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::{Value, json};

use super::tests::{ask, nurse};
use super::*;
use crate::alert::Origin;
use crate::identity::{AUDIT_READ_SCOPE, DATA_CORRECT_SCOPE, READ_SCOPE};
use crate::item::AuditAction;
use crate::ports::Records;
use crate::process::Processor;
use crate::testing::example::{example, phq9_answers};
use crate::testing::memory::MemoryStore;

const SUBMISSION: &str = "00000000-0000-4000-8000-0000000000c1";

/// A store holding P-1's PHQ-9 in T-1 with item 9 answered "not at all": no alert.
async fn store() -> MemoryStore {
    let store = MemoryStore::default();
    let body = example()
        .id(SUBMISSION)
        .trial("T-1")
        .patient("P-1")
        .survey("phq-9", phq9_answers("LA6568-5"))
        .envelope()
        .encode();
    let mut record = SqsMessage::default();
    record.message_id = Some("m1".into());
    record.body = Some(body);
    Processor::new(store.clone(), 1).process(vec![record]).await;
    assert!(store.alerts().is_empty());
    store
}

fn investigator() -> Result<Staff, String> {
    nurse(&[DATA_CORRECT_SCOPE, AUDIT_READ_SCOPE, READ_SCOPE])
}

fn correction(replaces: u32, answers: Value, reason: &str) -> Vec<u8> {
    json!({ "patientId": "P-1", "replaces": replaces, "answers": answers, "reason": reason })
        .to_string()
        .into_bytes()
}

fn route(body: &[u8]) -> StaffRoute<'_> {
    StaffRoute::Correction(Correction {
        trial_id: "T-1",
        submission_id: SUBMISSION,
        body,
    })
}

fn versions(all: Option<&str>) -> StaffRoute<'_> {
    StaffRoute::Versions {
        trial_id: "T-1",
        submission_id: SUBMISSION,
        patient_id: Some("P-1"),
        all,
    }
}

#[tokio::test]
async fn a_correction_is_a_new_version_beside_the_original_scored_again_and_audited() {
    let store = store().await;
    let before = store.submissions();
    let body = correction(
        1,
        phq9_answers("LA6569-3"),
        "the patient misread item 9 at the visit",
    );
    let reply = ask(&store, investigator(), route(&body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        (&reply.body["version"], &reply.body["replaces"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(
        reply.body["scores"]["total"]["value"],
        json!(9),
        "{}",
        reply.body
    );
    assert_eq!(store.submissions(), before, "version 1 is never changed");

    let current = ask(&store, investigator(), versions(None)).await;
    assert_eq!(current.body["currentVersion"], json!(2));
    let listed: Vec<&Value> = current.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(listed.len(), 1, "the current version by default");
    assert_eq!(listed[0]["answers"]["44260-8"], "LA6569-3");
    let every = ask(&store, investigator(), versions(Some("true"))).await;
    let answers: Vec<&Value> = every.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["answers"]["44260-8"])
        .collect();
    assert_eq!(answers, [&json!("LA6568-5"), &json!("LA6569-3")]);

    let audit = store.audit_records();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, AuditAction::SubmissionCorrected);
    assert_eq!(
        (audit[0].before.as_str(), audit[0].after.as_str()),
        ("version 1", "version 2")
    );
    assert_eq!(audit[0].reason, "the patient misread item 9 at the visit");
    assert_eq!(audit[0].role, DATA_CORRECT_SCOPE);
}

#[tokio::test]
async fn a_correction_naming_a_version_that_is_no_longer_current_is_refused() {
    let store = store().await;
    let first = correction(1, phq9_answers("LA6569-3"), "misread");
    assert_eq!(
        ask(&store, investigator(), route(&first)).await.status,
        StatusCode::OK
    );
    let stale = correction(1, phq9_answers("LA6570-1"), "misread, too");
    let reply = ask(&store, investigator(), route(&stale)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("version 2 is")
    );
    let next = correction(2, phq9_answers("LA6570-1"), "misread, too");
    let reply = ask(&store, investigator(), route(&next)).await;
    assert_eq!(reply.body["version"], json!(3), "{}", reply.body);
    assert_eq!(
        store.audit_records().len(),
        2,
        "the refused one is not in the trail"
    );
}

#[tokio::test]
async fn the_alerts_a_correction_newly_meets_are_raised_once_and_those_raised_before_are_left_as_they_are()
 {
    let store = store().await;
    let self_harm = correction(1, phq9_answers("LA6569-3"), "item 9 was entered wrongly");
    let reply = ask(&store, investigator(), route(&self_harm)).await;
    assert_eq!(
        reply.body["alertsRaised"].as_array().unwrap().len(),
        1,
        "{}",
        reply.body
    );
    let alerts = store.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].rule_id.as_str(), alerts[0].origin),
        ("phq9-item9-self-harm", Origin::Correction)
    );
    // Every item at its worst: the total is now severe; item 9 still meets its rule, whose alert exists.
    let mut worst = phq9_answers("LA6571-9");
    for (_, answer) in worst.as_object_mut().unwrap().iter_mut() {
        *answer = json!("LA6571-9");
    }
    let severe = correction(2, worst, "all items re-entered from the paper form");
    let reply = ask(&store, investigator(), route(&severe)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut rules: Vec<String> = store.alerts().into_iter().map(|a| a.rule_id).collect();
    rules.sort();
    assert_eq!(rules, ["phq9-item9-self-harm", "phq9-total-severe"]);
    // Back to "not at all": nothing is withdrawn.
    let back = correction(
        3,
        phq9_answers("LA6568-5"),
        "the paper form was another patient's",
    );
    assert_eq!(
        ask(&store, investigator(), route(&back)).await.status,
        StatusCode::OK
    );
    assert_eq!(store.alerts().len(), 2, "what was sent is never deleted");
}

#[tokio::test]
async fn a_correction_raises_no_rule_a_conflicting_resend_of_the_submission_raised_already() {
    let store = store().await;
    // The patient edited item 9 and resent under the same id: a conflicting resend, alerted on when it came.
    let resend = example()
        .id(SUBMISSION)
        .trial("T-1")
        .patient("P-1")
        .survey("phq-9", phq9_answers("LA6569-3"))
        .envelope()
        .encode();
    let mut record = SqsMessage::default();
    record.message_id = Some("m2".into());
    record.body = Some(resend);
    Processor::new(store.clone(), 1).process(vec![record]).await;
    assert_eq!(store.conflicts().len(), 1);
    let resent = store.alerts();
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].origin, Origin::ConflictingResend);
    // The investigator, having called the patient, makes the resent answers the record's.
    let body = correction(
        1,
        phq9_answers("LA6569-3"),
        "the patient confirmed the resent answers",
    );
    let reply = ask(&store, investigator(), route(&body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["alertsRaised"], json!([]));
    assert_eq!(store.alerts(), resent, "the team is not alerted twice");
    // Item 9 worse still meets the same rule, whose alert reached the team; every item at its worst meets another.
    let body = correction(2, phq9_answers("LA6570-1"), "item 9 was worse still");
    let reply = ask(&store, investigator(), route(&body)).await;
    assert_eq!(reply.body["alertsRaised"], json!([]), "{}", reply.body);
    let mut worst = phq9_answers("LA6571-9");
    for (_, answer) in worst.as_object_mut().unwrap().iter_mut() {
        *answer = json!("LA6571-9");
    }
    let reply = ask(
        &store,
        investigator(),
        route(&correction(3, worst, "paper form")),
    )
    .await;
    assert_eq!(reply.body["alertsRaised"].as_array().unwrap().len(), 1);
    let newest = store
        .alerts()
        .into_iter()
        .find(|a| a.origin == Origin::Correction)
        .unwrap();
    assert_eq!(newest.rule_id, "phq9-total-severe");
}

#[tokio::test]
async fn a_correction_is_judged_as_a_submission_and_every_refusal_writes_nothing() {
    let store = store().await;
    let mut not_an_option = phq9_answers("LA6568-5");
    not_an_option["44260-8"] = json!("LA9999-9");
    let mut unknown_item = phq9_answers("LA6568-5");
    unknown_item["made-up"] = json!("x");
    let cases: Vec<(Result<Staff, String>, Vec<u8>, StatusCode)> = vec![
        (investigator(), correction(1, not_an_option, "x"), StatusCode::UNPROCESSABLE_ENTITY),
        (investigator(), correction(1, unknown_item, "x"), StatusCode::UNPROCESSABLE_ENTITY),
        (investigator(), correction(1, phq9_answers("LA6568-5"), "nothing changes"), StatusCode::BAD_REQUEST),
        (investigator(), correction(1, phq9_answers("LA6569-3"), " "), StatusCode::BAD_REQUEST),
        (investigator(), b"{\"patientId\":\"P-1\",\"replaces\":1,\"reason\":\"x\",\"answers\":{},\"answers\":{}}".to_vec(), StatusCode::BAD_REQUEST),
        (investigator(), json!({"patientId": "P-2", "replaces": 1, "answers": phq9_answers("LA6569-3"), "reason": "x"}).to_string().into_bytes(), StatusCode::NOT_FOUND),
        (nurse(&[READ_SCOPE, AUDIT_READ_SCOPE]), correction(1, phq9_answers("LA6569-3"), "x"), StatusCode::FORBIDDEN),
        (
            Ok(Staff { trials: vec!["T-2".into()], ..investigator().unwrap() }),
            correction(1, phq9_answers("LA6569-3"), "x"),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (caller, body, status) in cases {
        let reply = ask(&store, caller, route(&body)).await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    let invalid = ask(
        &store,
        investigator(),
        route(&correction(1, json!({"44260-8": "LA9999-9"}), "x")),
    )
    .await;
    assert!(
        invalid.body["problems"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{}",
        invalid.body
    );
    assert!(store.audit_records().is_empty() && store.alerts().is_empty());
    let every = ask(&store, investigator(), versions(Some("true"))).await;
    assert_eq!(every.body["currentVersion"], json!(1));
}

#[tokio::test]
async fn versions_are_read_by_their_readers_only_and_a_version_is_written_once() {
    let store = store().await;
    let refusals = [
        (
            nurse(&[READ_SCOPE]),
            Some("P-1"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (investigator(), None, None, StatusCode::BAD_REQUEST),
        (
            investigator(),
            Some("P-1"),
            Some("yes"),
            StatusCode::BAD_REQUEST,
        ),
        (investigator(), Some("P-2"), None, StatusCode::NOT_FOUND),
    ];
    for (caller, patient_id, all, status) in refusals {
        let route = StaffRoute::Versions {
            trial_id: "T-1",
            submission_id: SUBMISSION,
            patient_id,
            all,
        };
        let reply = ask(&store, caller, route).await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    // Two corrections of version 1 at once: both read version 1 as current; the store takes one.
    let original = store.submissions().pop().unwrap();
    let version = |reason: &str| {
        let mut submission = original.submission.clone();
        submission.answers = serde_json::from_value(phq9_answers("LA6569-3")).unwrap();
        crate::item::VersionItem::new(
            &original,
            1,
            (submission, Default::default()),
            ("investigator-1", "2026-11-23T09:00:00.000Z", reason),
        )
    };
    let audit = |v: &crate::item::VersionItem| {
        let actor = crate::item::Actor {
            id: "investigator-1".into(),
            role: DATA_CORRECT_SCOPE.into(),
        };
        crate::item::AuditItem::of_correction(v, &actor)
    };
    let (first, second) = (version("first"), version("second"));
    let replaced = first.replaced_key(&original);
    assert!(
        store
            .correct(&first, &replaced, &[], &audit(&first))
            .await
            .unwrap()
    );
    assert!(
        !store
            .correct(&second, &replaced, &[], &audit(&second))
            .await
            .unwrap()
    );
    assert_eq!(store.audit_records().len(), 1, "the second wrote nothing");
}
