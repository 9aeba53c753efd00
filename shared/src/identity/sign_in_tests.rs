//! An enrolled patient's sign-in carries the claims from their enrolment; a withdrawn or never-enrolled patient,
//! and an account with no role, get no token; staff get the scopes their groups name.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::enrolment::{Change, EnrolRequest, Revision, WithdrawRequest, enrol, revise};
use crate::item::{AuditItem, EnrolmentItem, EnrolmentStanding, OccurrenceItem};
use crate::schedule::Schedules;
use crate::testing::memory::MemoryStore;

fn policy() -> SignInPolicy {
    SignInPolicy::from_env(&Env::from_pairs(&[]))
}

fn account(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn patient_account() -> HashMap<String, String> {
    account(&[
        (TRIAL_ATTRIBUTE, "trial-a"),
        (PATIENT_ATTRIBUTE, "p-001"),
        ("email", "someone@example.org"),
    ])
}

/// A store holding p-001's enrolment in trial-a, withdrawn at `withdrawn` if given.
fn enrolled(withdrawn: Option<&str>) -> MemoryStore {
    let schedules = Schedules::embedded().unwrap();
    let request = EnrolRequest {
        patient_id: "p-001".into(),
        schedule_id: "postop-followup".into(),
        schedule_version: None,
        anchors: BTreeMap::from([("surgery".to_owned(), "2026-12-01".to_owned())]),
        time_zone: "Europe/Berlin".into(),
        reason: None,
    };
    let enrolled_at: Timestamp = "2026-11-30T09:00:00Z".parse().unwrap();
    let mut revision = enrol("trial-a", request, "nurse-1", enrolled_at, schedules).unwrap();
    if let Some(at) = withdrawn {
        let withdrawal = Change::Withdraw(WithdrawRequest {
            reason: "withdrew consent".into(),
            at: Some(at.into()),
        });
        revision = revise(
            &revision.enrolment,
            &[],
            withdrawal,
            "nurse-1",
            at.parse().unwrap(),
            schedules,
        )
        .unwrap();
    }
    let store = MemoryStore::default();
    store.insert(&revision.enrolment);
    store
}

async fn sign_in(
    attributes: &HashMap<String, String>,
    groups: &[&str],
    store: &impl Enrolments,
) -> Result<Grant, Refusal> {
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    grant(attributes, &groups, store, &policy()).await
}

#[tokio::test]
async fn an_enrolled_patient_gets_their_patient_and_trial_claims_from_the_enrolment_and_no_scope() {
    let granted = sign_in(&patient_account(), &[], &enrolled(None))
        .await
        .unwrap();
    assert_eq!(
        granted.claims,
        vec![
            ("patient_id".to_owned(), json!("p-001")),
            ("trial_id".to_owned(), json!("trial-a")),
        ]
    );
    assert!(granted.scopes.is_empty());
    assert_eq!(
        granted.withheld,
        policy().scopes,
        "every API scope is kept out of a patient's token"
    );
}

#[tokio::test]
async fn a_patient_in_a_staff_group_still_gets_no_staff_scope() {
    let granted = sign_in(&patient_account(), &[READ_SCOPE], &enrolled(None))
        .await
        .unwrap();
    assert!(granted.scopes.is_empty(), "{granted:?}");
}

#[tokio::test]
async fn a_withdrawn_patient_gets_no_token_from_the_withdrawal_on() {
    let refusal = sign_in(
        &patient_account(),
        &[],
        &enrolled(Some("2026-12-04T08:00:00Z")),
    )
    .await
    .unwrap_err();
    assert_eq!(refusal.code(), "withdrawn");
    assert_eq!(
        refusal.to_string(),
        "patient p-001 was withdrawn from trial trial-a"
    );
}

#[tokio::test]
async fn a_withdrawal_whose_instant_does_not_read_still_refuses_the_token() {
    let store = enrolled(Some("2026-12-04T08:00:00Z"));
    let pk = "TRIAL#trial-a#PATIENT#p-001";
    let mut enrolment: EnrolmentItem = store.get(pk, crate::item::ENROLMENT_SK).unwrap().unwrap();
    enrolment.withdrawal.as_mut().unwrap().at = "sometime".into();
    store.insert(&enrolment);
    let refusal = sign_in(&patient_account(), &[], &store).await.unwrap_err();
    assert_eq!(refusal.code(), "withdrawn");
}

#[tokio::test]
async fn a_patient_never_enrolled_or_enrolled_in_another_trial_gets_no_token() {
    let store = enrolled(None);
    let other_trial = account(&[(TRIAL_ATTRIBUTE, "trial-b"), (PATIENT_ATTRIBUTE, "p-001")]);
    let other_patient = account(&[(TRIAL_ATTRIBUTE, "trial-a"), (PATIENT_ATTRIBUTE, "p-002")]);
    for attributes in [other_trial, other_patient] {
        let refusal = sign_in(&attributes, &[], &store).await.unwrap_err();
        assert_eq!(refusal.code(), "not_enrolled");
    }
}

#[tokio::test]
async fn staff_get_the_scopes_their_groups_name_and_their_trials_as_a_list() {
    let staff = account(&[(TRIAL_ATTRIBUTE, "trial-a, trial-b")]);
    let groups = [READ_SCOPE, ENROLMENT_WRITE_SCOPE, "site-3-coffee-club"];
    let granted = sign_in(&staff, &groups, &MemoryStore::default())
        .await
        .unwrap();
    assert_eq!(granted.scopes, vec![READ_SCOPE, ENROLMENT_WRITE_SCOPE]);
    assert_eq!(granted.withheld.len(), 5, "{:?}", granted.withheld);
    assert!(!granted.withheld.iter().any(|s| granted.scopes.contains(s)));
    assert_eq!(
        granted.claims,
        vec![("trial_id".to_owned(), json!(["trial-a", "trial-b"]))]
    );
}

#[tokio::test]
async fn an_account_with_no_trial_or_no_role_gets_no_token() {
    let store = MemoryStore::default();
    let no_trial = sign_in(&account(&[(PATIENT_ATTRIBUTE, "p-001")]), &[], &store).await;
    assert_eq!(no_trial.unwrap_err().code(), "no_trial");
    let blank_trial = sign_in(&account(&[(TRIAL_ATTRIBUTE, " ")]), &[READ_SCOPE], &store).await;
    assert_eq!(blank_trial.unwrap_err().code(), "no_trial");
    let no_role = sign_in(
        &account(&[(TRIAL_ATTRIBUTE, "trial-a")]),
        &["readers"],
        &store,
    )
    .await;
    assert_eq!(no_role.unwrap_err().code(), "no_role");
}

#[tokio::test]
async fn an_unreadable_enrolment_fails_the_sign_in_rather_than_granting_it() {
    let refusal = sign_in(&patient_account(), &[], &Unreadable)
        .await
        .unwrap_err();
    assert_eq!(refusal.code(), "store_unavailable");
}

/// A store in an outage.
struct Unreadable;

impl Enrolments for Unreadable {
    async fn enrolment(&self, _: &str, _: &str) -> Result<Option<EnrolmentItem>, StoreError> {
        unreachable!("a sign-in reads the enrolment's standing only")
    }
    async fn standing(&self, _: &str, _: &str) -> Result<Option<EnrolmentStanding>, StoreError> {
        Err(StoreError("ProvisionedThroughputExceededException".into()))
    }
    async fn occurrences(&self, _: &str, _: &str) -> Result<Vec<OccurrenceItem>, StoreError> {
        unreachable!("a sign-in reads the enrolment only")
    }
    async fn write(&self, _: &Revision, _: &AuditItem) -> Result<bool, StoreError> {
        unreachable!("a sign-in writes nothing")
    }
    async fn calendar(&self, _: &str) -> Result<Vec<OccurrenceItem>, StoreError> {
        unreachable!("a sign-in reads the enrolment only")
    }
}

#[test]
fn the_claim_names_and_scopes_follow_the_apis_configuration() {
    let env = Env::from_pairs(&[
        ("PATIENT_CLAIM", "custom:pid"),
        ("TRIAL_CLAIM", "custom:study"),
        ("SCOPES", "api/read, api/write,"),
    ]);
    assert_eq!(
        SignInPolicy::from_env(&env),
        SignInPolicy {
            patient_claim: "custom:pid".into(),
            trial_claim: "custom:study".into(),
            scopes: vec!["api/read".into(), "api/write".into()],
        }
    );
    assert_eq!(policy().scopes.len(), 7);
}

#[test]
fn every_refusal_code_is_listed_for_the_alarms() {
    let refusals = [
        Refusal::NoTrial,
        Refusal::NotEnrolled {
            trial_id: "t".into(),
            patient_id: "p".into(),
        },
        Refusal::Withdrawn {
            trial_id: "t".into(),
            patient_id: "p".into(),
        },
        Refusal::NoRole,
        Refusal::Store(StoreError("x".into())),
    ];
    let codes: Vec<&str> = refusals.iter().map(Refusal::code).collect();
    assert_eq!(codes, Refusal::CODES);
}
