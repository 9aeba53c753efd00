//! The token Lambda: the Cognito user pool's pre-token-generation trigger (event version 2), run at every sign-in
//! and refresh. It adds an enrolled patient's claims, or a staff member's trials and scopes, to the tokens; for
//! anyone else it fails, and Cognito then issues no token ([`intake::identity::grant`] decides).

use aws_lambda_events::event::cognito::{
    ClaimsAndScopeOverrideDetailsV2, CognitoAccessTokenGenerationV2,
    CognitoEventUserPoolsPreTokenGenV2, CognitoIdTokenGenerationV2, GroupConfiguration,
};
use intake::aws::{CallBudget, DynamoStore, sdk_config};
use intake::config::Env;
use intake::identity::{Grant, Refusal, SignInPolicy, grant};
use intake::metrics::Metrics;
use intake::ports::Enrolments;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, run, service_fn};

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let env = Env::process();
    let policy = SignInPolicy::from_env(&env);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(CallBudget::SIGN_IN).await);
    let store = DynamoStore::new(dynamodb, env.required("TABLE_NAME")?);

    run(service_fn(
        |event: LambdaEvent<CognitoEventUserPoolsPreTokenGenV2>| {
            let (store, policy, metrics) = (&store, &policy, &metrics);
            async move {
                let answer = handle(store, policy, event.payload).await;
                let context = &event.context;
                metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
                answer.map_err(Refused)
            }
        },
    ))
    .await
}

/// A refusal as Lambda reports it, and Cognito after it to the person signing in: its code only. The ids and the
/// reason go to the log.
#[derive(Debug)]
struct Refused(Refusal);

impl From<Refused> for Diagnostic {
    fn from(Refused(refusal): Refused) -> Self {
        Diagnostic {
            error_type: refusal.code().to_owned(),
            error_message: format!("sign-in refused: {}", refusal.code()),
        }
    }
}

/// The event with the claims and scopes of the grant, or the refusal (Cognito shows its text to whoever signed
/// in: ids only).
async fn handle(
    store: &impl Enrolments,
    policy: &SignInPolicy,
    mut event: CognitoEventUserPoolsPreTokenGenV2,
) -> Result<CognitoEventUserPoolsPreTokenGenV2, Refusal> {
    let request = &event.request;
    let granted = grant(
        &request.user_attributes,
        &request.group_configuration.groups_to_override,
        store,
        policy,
    )
    .await
    .inspect_err(|refusal| {
        intake::metrics::refused(refusal.code());
        tracing::warn!(refusal = refusal.code(), reason = %refusal, "no token issued");
    })?;
    let groups = event.request.group_configuration.clone();
    event.response.claims_and_scope_override_details = Some(overrides(granted, groups));
    Ok(event)
}

/// The claims and scopes in the access token, the one the API takes; every API scope not granted taken out of
/// it; the id token and the groups left as they were (an override always replaces the groups).
fn overrides(granted: Grant, groups: GroupConfiguration) -> ClaimsAndScopeOverrideDetailsV2 {
    let mut access_token = CognitoAccessTokenGenerationV2::default();
    access_token.claims_to_add_or_override = granted.claims.into_iter().collect();
    access_token.scopes_to_add = granted.scopes;
    access_token.scopes_to_suppress = granted.withheld;
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    details.group_override_details = groups;
    details.access_token_generation = Some(access_token);
    details.id_token_generation = Some(CognitoIdTokenGenerationV2::default());
    details
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::testing::memory::MemoryStore;

    /// What Cognito sends at a staff member's sign-in (`events/staff-sign-in.json`, the shape of the Cognito
    /// developer guide's example, version 2).
    const STAFF_SIGN_IN: &str = include_str!("../events/staff-sign-in.json");

    #[tokio::test]
    async fn the_sample_staff_sign_in_gets_its_trials_and_the_scopes_its_groups_name() {
        let event: CognitoEventUserPoolsPreTokenGenV2 =
            serde_json::from_str(STAFF_SIGN_IN).unwrap();
        let policy = SignInPolicy::from_env(&Env::from_pairs(&[]));
        let answered = handle(&MemoryStore::default(), &policy, event)
            .await
            .unwrap();
        let reply = serde_json::to_value(&answered).unwrap();
        let access = &reply["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"];
        assert_eq!(
            access["claimsToAddOrOverride"]["trial_id"],
            serde_json::json!(["ONC-2026-01"])
        );
        assert_eq!(
            access["scopesToAdd"],
            serde_json::json!(["epro/alerts.read", "epro/alerts.acknowledge"])
        );
        let withheld = access["scopesToSuppress"].as_array().unwrap();
        assert_eq!(withheld.len(), 5, "the API's other scopes: {withheld:?}");
        assert!(!withheld.contains(&"epro/alerts.read".into()));
        // The id token gets nothing: the API takes access tokens only.
        let id = &reply["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"];
        assert_eq!(id["claimsToAddOrOverride"], serde_json::json!({}));
        // The reply is the event Cognito sent, answered: the request is echoed unchanged.
        assert_eq!(reply["userName"], "nurse-ward-3");
        let groups = &reply["response"]["claimsAndScopeOverrideDetails"]["groupOverrideDetails"];
        assert_eq!(
            groups["groupsToOverride"][2], "ward-3",
            "the groups stay as they were"
        );
    }

    #[tokio::test]
    async fn an_unenrolled_patient_sign_in_fails_so_cognito_issues_no_token() {
        let mut event: CognitoEventUserPoolsPreTokenGenV2 =
            serde_json::from_str(STAFF_SIGN_IN).unwrap();
        event
            .request
            .user_attributes
            .insert("custom:patient_id".into(), "P-000123".into());
        let policy = SignInPolicy::from_env(&Env::from_pairs(&[]));
        let refusal = handle(&MemoryStore::default(), &policy, event)
            .await
            .unwrap_err();
        let reported = Diagnostic::from(Refused(refusal));
        assert_eq!(reported.error_type, "not_enrolled");
        // The person signing in sees the code; the ids go to the log only.
        assert_eq!(reported.error_message, "sign-in refused: not_enrolled");
    }
}
