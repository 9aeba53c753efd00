//! Exclusions and the audit trail on the staff API, in memory: one audit record per action a person took, a double
//! tap writing nothing, a stale revision refused, and every refusal before anything is written.

use serde_json::json;

use super::tests::{ask, nurse, store};
use super::*;
use crate::identity::{AUDIT_READ_SCOPE, DATA_CORRECT_SCOPE};
use crate::item::AuditAction;

/// The example's first submission in T-1 (patient P-0).
const SUBMISSION: &str = "00000000-0000-4000-8000-000000000000";

fn exclusion<'a>(body: &'a [u8], if_match: Option<&'a str>) -> StaffRoute<'a> {
    StaffRoute::Exclusion(Exclusion {
        trial_id: "T-1",
        submission_id: SUBMISSION,
        body,
        if_match,
    })
}

fn body(excluded: bool, reason: &str) -> Vec<u8> {
    json!({ "patientId": "P-0", "excluded": excluded, "reason": reason })
        .to_string()
        .into_bytes()
}

fn investigator() -> Result<Staff, String> {
    nurse(&[DATA_CORRECT_SCOPE, AUDIT_READ_SCOPE])
}

#[tokio::test]
async fn a_site_investigator_excludes_a_submission_and_restores_it_each_change_audited_once() {
    let store = store(1).await;
    let before = store.submissions();
    let excluding = body(true, "entered for the wrong patient");
    let first = ask(&store, investigator(), exclusion(&excluding, None)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        (&first.body["excluded"], &first.body["revision"]),
        (&json!(true), &json!(1))
    );
    assert_eq!(first.etag.as_deref(), Some("\"1\""));
    let double_tap = ask(&store, investigator(), exclusion(&excluding, None)).await;
    assert_eq!(double_tap.status, StatusCode::OK);
    assert_eq!(
        double_tap.body, first.body,
        "the state that stands, unchanged"
    );
    let restoring = body(false, "the patient confirmed the entry");
    let restored = ask(&store, investigator(), exclusion(&restoring, Some("\"1\""))).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(
        (&restored.body["excluded"], &restored.body["revision"]),
        (&json!(false), &json!(2))
    );

    assert_eq!(store.submissions(), before, "the submission never changes");
    let trail = ask(&store, investigator(), audit(None, None)).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    let records = trail.body["records"].as_array().unwrap();
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submission-excluded", "submission-restored"]);
    assert_eq!(records[0]["by"], "nurse-1");
    assert_eq!(records[0]["role"], DATA_CORRECT_SCOPE);
    assert_eq!(records[0]["reason"], "entered for the wrong patient");
    assert_eq!(records[0]["subjectId"], SUBMISSION);
    assert_eq!(records[1]["before"], "excluded (exclusion revision 1)");
    assert_eq!(records[1]["after"], "included (exclusion revision 2)");
    assert_eq!(records[1]["at"], restored.body["at"]);
}

#[tokio::test]
async fn a_change_made_against_a_revision_that_no_longer_stands_is_refused() {
    let store = store(1).await;
    let excluding = body(true, "duplicate entry");
    ask(&store, investigator(), exclusion(&excluding, None)).await;
    let restoring = body(false, "not a duplicate");
    for stale in ["\"0\"", "\"2\"", "W/\"1\""] {
        let reply = ask(&store, investigator(), exclusion(&restoring, Some(stale))).await;
        assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED, "{stale}");
    }
    assert_eq!(store.audit_records().len(), 1, "only the exclusion");
}

#[tokio::test]
async fn every_refusal_comes_before_anything_is_written() {
    let store = store(1).await;
    let excluding = body(true, "duplicate entry");
    type Case<'a> = (Result<Staff, String>, Vec<u8>, &'a str, StatusCode);
    let cases: Vec<Case> = vec![
        (
            Err("no token".into()),
            excluding.clone(),
            SUBMISSION,
            StatusCode::UNAUTHORIZED,
        ),
        (
            nurse(&[AUDIT_READ_SCOPE]),
            excluding.clone(),
            SUBMISSION,
            StatusCode::FORBIDDEN,
        ),
        (
            Ok(Staff {
                trials: vec!["T-2".into()],
                ..investigator().unwrap()
            }),
            excluding.clone(),
            SUBMISSION,
            StatusCode::FORBIDDEN,
        ),
        (
            investigator(),
            body(true, " "),
            SUBMISSION,
            StatusCode::BAD_REQUEST,
        ),
        (
            investigator(),
            b"{\"patientId\":\"P-0\",\"excluded\":true}".to_vec(),
            SUBMISSION,
            StatusCode::BAD_REQUEST,
        ),
        (
            investigator(),
            json!({"patientId": "P-0", "excluded": true, "reason": "x", "answers": []})
                .to_string()
                .into_bytes(),
            SUBMISSION,
            StatusCode::BAD_REQUEST,
        ),
        // Another patient's submission, or none: not revealed.
        (
            investigator(),
            json!({"patientId": "P-9", "excluded": true, "reason": "x"})
                .to_string()
                .into_bytes(),
            SUBMISSION,
            StatusCode::NOT_FOUND,
        ),
        (
            investigator(),
            excluding.clone(),
            "00000000-0000-4000-8000-000000000042",
            StatusCode::NOT_FOUND,
        ),
        (
            investigator(),
            excluding.clone(),
            "not-an-id",
            StatusCode::NOT_FOUND,
        ),
        (
            investigator(),
            body(false, "never excluded"),
            SUBMISSION,
            StatusCode::CONFLICT,
        ),
    ];
    for (caller, body, submission_id, status) in cases {
        let route = StaffRoute::Exclusion(Exclusion {
            trial_id: "T-1",
            submission_id,
            body: &body,
            if_match: None,
        });
        let reply = ask(&store, caller, route).await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    assert!(store.audit_records().is_empty(), "nothing audited");
    let excluded = ask(&store, investigator(), audit(None, None)).await;
    assert_eq!(excluded.body["records"], json!([]));
}

fn audit<'a>(limit: Option<&'a str>, cursor: Option<&'a str>) -> StaffRoute<'a> {
    StaffRoute::Audit {
        trial_id: "T-1",
        limit,
        cursor,
    }
}

#[tokio::test]
async fn the_audit_trail_pages_oldest_first_for_its_readers_only() {
    let store = store(1).await;
    for (n, excluded) in [true, false, true].into_iter().enumerate() {
        let reason = format!("change {n}");
        let reply = ask(
            &store,
            investigator(),
            exclusion(&body(excluded, &reason), None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let first = ask(&store, investigator(), audit(Some("2"), None)).await;
    let next = first.body["next"].as_str().unwrap().to_owned();
    let second = ask(&store, investigator(), audit(Some("2"), Some(&next))).await;
    let reasons: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|page| page.body["records"].as_array().unwrap())
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["change 0", "change 1", "change 2"]);
    assert_eq!(second.body["next"], json!(null));

    let forged = hex::encode("audit|ALERT#x");
    for (caller, cursor, status) in [
        (
            investigator(),
            Some(forged.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (nurse(&[DATA_CORRECT_SCOPE]), None, StatusCode::FORBIDDEN),
    ] {
        let reply = ask(&store, caller, audit(None, cursor)).await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    let actions: Vec<AuditAction> = store.audit_records().iter().map(|r| r.action).collect();
    assert_eq!(actions.len(), 3);
}

#[tokio::test]
async fn the_exclusion_reads_with_the_etag_to_change_it_against_and_a_retry_of_a_change_that_stands_is_answered()
 {
    let store = store(1).await;
    let state = || StaffRoute::ExclusionState {
        trial_id: "T-1",
        submission_id: SUBMISSION,
    };
    let never = ask(&store, nurse(&[AUDIT_READ_SCOPE]), state()).await;
    assert_eq!(never.status, StatusCode::OK, "{}", never.body);
    assert_eq!(
        (&never.body["excluded"], never.etag.as_deref()),
        (&json!(false), Some("\"0\""))
    );
    let excluding = body(true, "duplicate entry");
    let any = ask(&store, investigator(), exclusion(&excluding, Some("*"))).await;
    assert_eq!(
        any.status,
        StatusCode::PRECONDITION_FAILED,
        "If-Match: * needs an exclusion"
    );
    let first = ask(&store, investigator(), exclusion(&excluding, Some("\"0\""))).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    // The client timed out and sends the same change again, against the revision it had read.
    let retry = ask(&store, investigator(), exclusion(&excluding, Some("\"0\""))).await;
    assert_eq!((retry.status, &retry.body), (StatusCode::OK, &first.body));
    let read = ask(&store, investigator(), state()).await;
    assert_eq!(
        (&read.body["excluded"], read.etag.as_deref()),
        (&json!(true), Some("\"1\""))
    );
    assert_eq!(store.audit_records().len(), 1, "one change, one record");
    let outsider = Ok(Staff {
        trials: vec!["T-2".into()],
        ..investigator().unwrap()
    });
    for route in [state(), audit(None, None)] {
        let reply = ask(&store, outsider.clone(), route).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "another trial's staff");
    }
}
