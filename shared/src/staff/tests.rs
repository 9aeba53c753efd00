//! The staff API in memory: a nurse's worklist, acknowledgement, and every refusal.

use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::{Value, json};

use super::*;
use crate::identity::{ACKNOWLEDGE_SCOPE, READ_SCOPE};
use crate::item::AuditAction;
use crate::process::Processor;
use crate::testing::example::{example, phq9_answers};
use crate::testing::memory::MemoryStore;

/// A store with, in trial T-1, an urgent PHQ-9 alert for each of `patients` (minutes apart), and one in T-2.
pub(super) async fn store(patients: u32) -> MemoryStore {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 1);
    for (n, trial) in (0..patients).map(|n| (n, "T-1")).chain([(99, "T-2")]) {
        let body = example()
            .id(format!("00000000-0000-4000-8000-{n:012}"))
            .trial(trial)
            .patient(&format!("P-{n}"))
            .survey("phq-9", phq9_answers("LA6570-1"))
            .envelope()
            .encode();
        let mut record = SqsMessage::default();
        record.message_id = Some(format!("m{n}"));
        record.body = Some(body);
        processor.process(vec![record]).await;
        // Distinct raise times, so "newest first" means something.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    store
}

pub(super) fn nurse(scopes: &[&str]) -> Result<Staff, String> {
    Ok(Staff {
        id: "nurse-1".into(),
        trials: vec!["T-1".into()],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    })
}

pub(super) async fn ask(
    store: &MemoryStore,
    caller: Result<Staff, String>,
    route: StaffRoute<'_>,
) -> StaffReply {
    StaffService::new(
        store.clone(),
        store.clone(),
        StaffPolicy::default(),
        crate::instrument::Catalogue::embedded(),
    )
    .answer(StaffRequest {
        caller,
        route,
        request_id: "r-1".into(),
    })
    .await
}

fn list<'a>(
    status: Option<&'a str>,
    limit: Option<&'a str>,
    cursor: Option<&'a str>,
) -> StaffRoute<'a> {
    StaffRoute::List {
        trial_id: "T-1",
        status,
        limit,
        cursor,
    }
}

fn ids(body: &Value) -> Vec<String> {
    body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["patientId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_nurse_pages_through_her_trials_open_alerts_newest_first() {
    let store = store(5).await;
    let both = nurse(&[READ_SCOPE, ACKNOWLEDGE_SCOPE]);
    let first = ask(&store, both.clone(), list(Some("open"), Some("2"), None)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(ids(&first.body), ["P-4", "P-3"]);
    let next = first.body["next"].as_str().unwrap().to_owned();
    let second = ask(
        &store,
        both.clone(),
        list(Some("open"), Some("2"), Some(&next)),
    )
    .await;
    assert_eq!(ids(&second.body), ["P-2", "P-1"]);
    let next = second.body["next"].as_str().unwrap().to_owned();
    let last = ask(&store, both, list(Some("open"), Some("2"), Some(&next))).await;
    assert_eq!(ids(&last.body), ["P-0"]);
    assert_eq!(last.body["next"], Value::Null);
    let alert = &first.body["alerts"][0];
    assert_eq!(alert["severity"], "urgent");
    assert_eq!(alert["ruleId"], "phq9-item9-self-harm");
    assert!(alert.get("answers").is_none());
}

/// The id of the newest open alert `staff` lists.
async fn first_open_alert(store: &MemoryStore, staff: &Result<Staff, String>) -> String {
    let open = ask(store, staff.clone(), list(Some("open"), None, None)).await;
    open.body["alerts"][0]["alertId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_acknowledgement_meeting_a_concurrent_update_is_made_again_and_never_falsely_confirmed()
{
    let first = store(1).await;
    let both = nurse(&[READ_SCOPE, ACKNOWLEDGE_SCOPE]);
    let alert_id = first_open_alert(&first, &both).await;
    let acknowledge = || StaffRoute::Acknowledge {
        alert_id: &alert_id,
    };
    // Two cancelled by the notify and escalate functions' updates, the third written.
    first.cancel_acknowledgements(2);
    let reply = ask(&first, both.clone(), acknowledge()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"], "acknowledged");
    assert_eq!(first.audit_records().len(), 1);
    // Every attempt cancelled: 503, nothing written, and the alert still open for the next try.
    let other = store(1).await;
    other.cancel_acknowledgements(usize::MAX);
    let other_id = first_open_alert(&other, &both).await;
    let reply = ask(
        &other,
        both,
        StaffRoute::Acknowledge {
            alert_id: &other_id,
        },
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(other.audit_records().is_empty());
    assert_eq!(other.alerts()[0].status, AlertStatus::Open);
}

#[tokio::test]
async fn acknowledging_records_who_and_when_once_and_takes_it_off_the_open_list() {
    let store = store(2).await;
    let both = nurse(&[READ_SCOPE, ACKNOWLEDGE_SCOPE]);
    let alert_id = first_open_alert(&store, &both).await;
    let acknowledge = || StaffRoute::Acknowledge {
        alert_id: &alert_id,
    };
    let first = ask(&store, both.clone(), acknowledge()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["status"], "acknowledged");
    assert_eq!(first.body["acknowledgedBy"], "nurse-1");
    let mut colleague = both.clone().unwrap();
    colleague.id = "nurse-2".into();
    let again = ask(&store, Ok(colleague), acknowledge()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.body["acknowledgedBy"], "nurse-1",
        "the first acknowledgement stands"
    );
    assert_eq!(again.body["acknowledgedAt"], first.body["acknowledgedAt"]);
    let audit = store.audit_records();
    assert_eq!(audit.len(), 1, "one acknowledgement, one audit record");
    assert_eq!(
        (
            audit[0].action,
            audit[0].by.as_str(),
            audit[0].role.as_str()
        ),
        (AuditAction::AlertAcknowledged, "nurse-1", ACKNOWLEDGE_SCOPE)
    );
    assert_eq!(
        (audit[0].subject_id.as_str(), audit[0].at.as_str()),
        (
            alert_id.as_str(),
            first.body["acknowledgedAt"].as_str().unwrap()
        )
    );
    assert_eq!(
        (audit[0].before.as_str(), audit[0].after.as_str()),
        ("open", "acknowledged")
    );
    let open = ask(&store, both.clone(), list(Some("open"), None, None)).await;
    assert_eq!(open.body["alerts"].as_array().unwrap().len(), 1);
    let done = ask(&store, both, list(Some("acknowledged"), None, None)).await;
    assert_eq!(done.body["alerts"][0]["alertId"], json!(alert_id));
    assert!(
        store
            .alerts()
            .iter()
            .all(|a| a.acknowledged_at.is_none() || a.escalation.is_none())
    );
}

#[tokio::test]
async fn every_refusal_has_its_status_and_reveals_nothing_of_other_trials() {
    let store = store(1).await;
    let other_trial = store
        .alerts()
        .into_iter()
        .find(|a| a.trial_id == "T-2")
        .unwrap();
    let other = other_trial.alert_id.to_string();
    let both = nurse(&[READ_SCOPE, ACKNOWLEDGE_SCOPE]);
    let cases: Vec<(Result<Staff, String>, StaffRoute, u16)> = vec![
        (Err("no verified token".into()), list(None, None, None), 401),
        (nurse(&[ACKNOWLEDGE_SCOPE]), list(None, None, None), 403),
        (
            both.clone(),
            StaffRoute::List {
                trial_id: "T-2",
                status: None,
                limit: None,
                cursor: None,
            },
            403,
        ),
        (
            nurse(&[READ_SCOPE]),
            StaffRoute::Acknowledge { alert_id: &other },
            403,
        ),
        (
            both.clone(),
            StaffRoute::Acknowledge { alert_id: &other },
            404,
        ),
        (
            both.clone(),
            StaffRoute::Acknowledge {
                alert_id: "not-an-id",
            },
            404,
        ),
        (
            both.clone(),
            StaffRoute::Acknowledge {
                alert_id: "00000000-0000-4000-8000-000000000000",
            },
            404,
        ),
        (both.clone(), list(Some("closed"), None, None), 400),
        (both.clone(), list(None, Some("0"), None), 400),
        (both.clone(), list(None, Some("201"), None), 400),
        (both.clone(), list(None, None, Some("zz")), 400),
    ];
    for (caller, route, status) in cases {
        let label = format!("{route:?}");
        let reply = ask(&store, caller, route).await;
        assert_eq!(reply.status.as_u16(), status, "{label}: {}", reply.body);
        assert!(reply.body["error"].is_string());
    }
    assert!(
        store.alerts().iter().all(|a| a.acknowledged_at.is_none()),
        "nothing acknowledged"
    );
}

#[tokio::test]
async fn a_data_manager_sees_conflicting_resends_and_repeats_among_the_trials_flags() {
    let store = MemoryStore::default();
    let processor = Processor::new(store.clone(), 1);
    let send = |n: u32, patient: &str, answers: Value| {
        let body = example()
            .id(format!("00000000-0000-4000-8000-{n:012}"))
            .trial("T-1")
            .patient(patient)
            .survey("phq-9", answers)
            .envelope()
            .encode();
        let mut record = SqsMessage::default();
        record.message_id = Some(format!("m{n}"));
        record.body = Some(body);
        record
    };
    processor
        .process(vec![send(1, "P-1", phq9_answers("LA6568-5"))])
        .await;
    // The answer edited and resent under its id; then the same day's survey again under a new id.
    processor
        .process(vec![send(1, "P-1", phq9_answers("LA6571-9"))])
        .await;
    processor
        .process(vec![send(2, "P-1", phq9_answers("LA6568-5"))])
        .await;
    let manager = Ok(Staff {
        id: "dm-1".into(),
        trials: vec!["T-1".into()],
        scopes: vec![crate::identity::FLAGS_SCOPE.into()],
    });
    let route = |kind: Option<&'static str>| StaffRoute::Flags {
        trial_id: "T-1",
        kind,
        limit: None,
        cursor: None,
    };
    let all = ask(&store, manager.clone(), route(None)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let kinds: Vec<&str> = all.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"conflict") && kinds.contains(&"repeat"));
    let conflicts = ask(&store, manager.clone(), route(Some("conflict"))).await;
    let conflict = &conflicts.body["flags"][0];
    assert_eq!(conflict["patientId"], "P-1");
    assert!(
        conflict["detail"].as_str().unwrap().contains("alert"),
        "the conflict says its content raised an alert: {conflict}"
    );
    // Refused: a nurse without the flags scope, another trial, an unknown kind.
    let nurse = nurse(&[READ_SCOPE, ACKNOWLEDGE_SCOPE]);
    assert_eq!(ask(&store, nurse, route(None)).await.status, 403);
    let elsewhere = StaffRoute::Flags {
        trial_id: "T-2",
        kind: None,
        limit: None,
        cursor: None,
    };
    assert_eq!(ask(&store, manager.clone(), elsewhere).await.status, 403);
    assert_eq!(ask(&store, manager, route(Some("other"))).await.status, 400);
}

#[tokio::test]
async fn a_cursor_belongs_to_the_list_it_was_issued_for_and_another_list_refuses_it_with_a_400() {
    let store = store(3).await;
    let both = nurse(&[READ_SCOPE, ACKNOWLEDGE_SCOPE]);
    let first = ask(&store, both.clone(), list(Some("open"), Some("1"), None)).await;
    let next = first.body["next"].as_str().unwrap().to_owned();
    for (status, name) in [
        (Some("acknowledged"), "another status"),
        (None, "every status"),
    ] {
        let reply = ask(&store, both.clone(), list(status, Some("1"), Some(&next))).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            reply.body
        );
        assert_eq!(reply.body["error"], "bad_request");
    }
    // The list it was issued for follows it, and a cursor of the whole list follows the whole list.
    let same = ask(
        &store,
        both.clone(),
        list(Some("open"), Some("1"), Some(&next)),
    )
    .await;
    assert_eq!(same.status, StatusCode::OK);
    let all = ask(&store, both.clone(), list(None, Some("1"), None)).await;
    let all_next = all.body["next"].as_str().unwrap().to_owned();
    let following = ask(&store, both, list(None, Some("1"), Some(&all_next))).await;
    assert_eq!(following.status, StatusCode::OK, "{}", following.body);
}

#[test]
fn a_request_the_store_refuses_as_invalid_is_the_clients_4xx_never_a_retry_forever_5xx() {
    let refused = StaffError::from(crate::ports::StoreError(
        crate::ports::StoreError::VALIDATION.into(),
    ));
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let outage = StaffError::from(crate::ports::StoreError(
        "ProvisionedThroughputExceededException".into(),
    ));
    assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
}
