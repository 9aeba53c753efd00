//! Signing in through the template's own identity provider, on the stack deployed as by default (no JwtIssuer):
//! its Cognito user pool, the staff groups and app clients, and the token function deciding at each sign-in. A
//! patient account the site created gets no token until the patient is enrolled, then one carrying the patient and
//! trial from the enrolment that the API accepts, and none once withdrawn, not even by refreshing. Staff get their
//! trials and the scopes their groups name, and the API holds them to those. Tokens live 15 minutes.

use std::collections::HashMap;
use std::path::PathBuf;

use aws_sdk_cognitoidentityprovider::Client as Cognito;
use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use intake::aws::{CallBudget, sdk_config};
use intake_e2e::deployed::fresh_trial;
use intake_e2e::{ApiReply, Stack, Survey, get_from, http_client, json_to, post_to};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "Correct-Horse-9-battery";

/// The stack `make local-up` deployed beside the intake, as the template deploys by default.
struct Pool {
    stack: Stack,
    cognito: Cognito,
    http: reqwest::Client,
    pool_id: String,
    patient_app: String,
    staff_portal: String,
}

/// The tokens of one sign-in.
struct Tokens {
    access: String,
    id: String,
    refresh: String,
}

impl Pool {
    async fn load() -> Self {
        let intake = std::env::var_os("STACK_OUTPUTS")
            .map(PathBuf::from)
            .expect("make e2e sets STACK_OUTPUTS");
        let path = intake.with_file_name("cognito-stack-outputs.json");
        let stack = Stack::from_file(&path)
            .expect("the Cognito stack's outputs: deploy with `make local-up`");
        let outputs: HashMap<String, Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let output = |name: &str| {
            outputs[name]
                .as_str()
                .unwrap_or_else(|| panic!("output {name}"))
                .to_owned()
        };
        Pool {
            cognito: Cognito::new(&sdk_config(CallBudget::INTERACTIVE).await),
            http: http_client(),
            pool_id: output("UserPoolId"),
            patient_app: output("PatientAppClientId"),
            staff_portal: output("StaffAppClientId"),
            stack,
        }
    }

    /// An account as a site creates it: attributes set by the site, a password the person then owns.
    async fn account(&self, attributes: &[(&str, &str)], groups: &[&str]) -> String {
        let username = format!("user-{}", Uuid::new_v4().simple());
        let attributes = attributes.iter().map(|(name, value)| {
            AttributeType::builder()
                .name(*name)
                .value(*value)
                .build()
                .unwrap()
        });
        self.cognito
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(&username)
            .set_user_attributes(Some(attributes.collect()))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("the account is created");
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(&username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("the password is set");
        for group in groups {
            self.cognito
                .admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(&username)
                .group_name(*group)
                .send()
                .await
                .expect("the account joins the group");
        }
        username
    }

    /// A group of the site's own, named after no scope.
    async fn site_group(&self) -> String {
        let name = format!("site-{}", Uuid::new_v4().simple());
        self.cognito
            .create_group()
            .user_pool_id(&self.pool_id)
            .group_name(&name)
            .send()
            .await
            .expect("the group is created");
        name
    }

    /// Signs `username` in through `client`: its tokens, or Cognito's refusal.
    async fn sign_in(&self, client: &str, username: &str) -> Result<Tokens, String> {
        let parameters = [("USERNAME", username), ("PASSWORD", PASSWORD)];
        let reply = self
            .cognito
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .set_auth_parameters(Some(
                parameters
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        let result = reply.authentication_result().expect("tokens, no challenge");
        Ok(Tokens {
            access: result.access_token().unwrap().to_owned(),
            id: result.id_token().unwrap().to_owned(),
            refresh: result.refresh_token().unwrap_or_default().to_owned(),
        })
    }

    /// Renews a sign-in with its refresh token: a new access token, or Cognito's refusal.
    async fn refresh(&self, client: &str, refresh: &str) -> Result<String, String> {
        let reply = self
            .cognito
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(client)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        Ok(reply
            .authentication_result()
            .unwrap()
            .access_token()
            .unwrap()
            .to_owned())
    }

    async fn enrol(&self, staff: &str, trial: &str, patient: &str) -> u16 {
        let body = json!({
            "patientId": patient, "scheduleId": "postop-followup", "timeZone": "Europe/Berlin",
            "anchors": { "surgery": "2026-12-01" }, "reason": "consented at site 3"
        });
        self.post_as(staff, &format!("/v1/trials/{trial}/enrolments"), &body)
            .await
    }

    async fn withdraw(&self, staff: &str, trial: &str, patient: &str) -> u16 {
        let path = format!("/v1/trials/{trial}/enrolments/{patient}/withdrawal");
        self.post_as(staff, &path, &json!({ "reason": "withdrew consent" }))
            .await
    }

    /// Posts `body` to `path` with `token`: the status.
    async fn post_as(&self, token: &str, path: &str, body: &Value) -> u16 {
        let request = (Method::POST, path);
        let reply = json_to(&self.http, &self.stack, request, Some(token), None, body).await;
        reply.unwrap().status
    }

    async fn submit(&self, token: &str, survey: &Survey) -> u16 {
        self.submission(token, survey).await.status
    }

    async fn submission(&self, token: &str, survey: &Survey) -> ApiReply {
        let (path, content_type, body) = survey.request();
        post_to(
            &self.http,
            &self.stack,
            path,
            Some(token),
            content_type,
            body,
        )
        .await
        .unwrap()
    }
}

/// A token's claims, as the API's authorizer reads them once it has checked the signature.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn lifetime(claims: &Value) -> i64 {
    claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
}

#[tokio::test]
#[ignore = "needs the local stack: make local-up"]
async fn a_patient_gets_a_token_from_their_enrolment_submits_with_it_and_gets_none_once_withdrawn()
{
    let pool = Pool::load().await;
    let trial = fresh_trial("SIGNIN");
    let nurse = pool
        .account(
            &[("custom:trial_id", &trial)],
            &["epro/enrolment.write", "epro/enrolment.read"],
        )
        .await;
    let nurse = pool
        .sign_in(&pool.staff_portal, &nurse)
        .await
        .unwrap()
        .access;
    let patient = pool
        .account(
            &[("custom:trial_id", &trial), ("custom:patient_id", "P-1")],
            &[],
        )
        .await;

    let before = pool.sign_in(&pool.patient_app, &patient).await;
    assert!(
        before.as_ref().is_err_and(|e| e.contains("not_enrolled")),
        "before enrolment: {:?}",
        before.err()
    );

    assert_eq!(pool.enrol(&nurse, &trial, "P-1").await, 201);
    let tokens = pool
        .sign_in(&pool.patient_app, &patient)
        .await
        .expect("an enrolled patient signs in");
    let granted = claims(&tokens.access);
    assert_eq!(granted["patient_id"], "P-1");
    assert_eq!(granted["trial_id"], trial.as_str());
    assert_eq!(lifetime(&granted), 900, "15 minutes");
    assert!(
        !granted["scope"]
            .as_str()
            .unwrap_or_default()
            .contains("epro/"),
        "{granted}"
    );
    assert_eq!(
        pool.submit(&tokens.access, &Survey::new(&trial, "P-1", 1))
            .await,
        202
    );
    // The token names P-1: it cannot submit for anyone else.
    assert_eq!(
        pool.submit(&tokens.access, &Survey::new(&trial, "P-2", 2))
            .await,
        403
    );
    // The identity token is the app's, not the API's, and the refusal says so.
    let identity = pool
        .submission(&tokens.id, &Survey::new(&trial, "P-1", 3))
        .await;
    assert_eq!(identity.status, 401);
    assert!(
        identity.body.to_string().contains("identity token"),
        "{}",
        identity.body
    );
    // Signed in through the staff portal, the patient reaches neither the patient routes nor the staff ones.
    let portal = pool.sign_in(&pool.staff_portal, &patient).await.unwrap();
    assert_eq!(
        pool.submit(&portal.access, &Survey::new(&trial, "P-1", 4))
            .await,
        401
    );
    // The staff portal's audience passes; the route's scope check (the gateway's, then the function's) refuses a
    // token that carries no staff scope.
    assert_eq!(pool.enrol(&portal.access, &trial, "P-9").await, 403);
    let renewed = pool
        .refresh(&pool.patient_app, &tokens.refresh)
        .await
        .expect("a refresh while enrolled");
    assert_eq!(claims(&renewed)["patient_id"], "P-1");

    assert_eq!(pool.withdraw(&nurse, &trial, "P-1").await, 200);
    let after = pool.sign_in(&pool.patient_app, &patient).await;
    assert!(
        after.as_ref().is_err_and(|e| e.contains("withdrawn")),
        "after withdrawal: {:?}",
        after.err()
    );
    let refreshed = pool.refresh(&pool.patient_app, &tokens.refresh).await;
    assert!(
        refreshed.as_ref().is_err_and(|e| e.contains("withdrawn")),
        "refresh: {:?}",
        refreshed.err()
    );
}

#[tokio::test]
#[ignore = "needs the local stack: make local-up"]
async fn staff_get_their_trials_and_the_scopes_their_groups_name_and_the_api_holds_them_to_those() {
    let pool = Pool::load().await;
    let (trial, other) = (fresh_trial("SIGNIN"), fresh_trial("SIGNIN"));
    let site = pool.site_group().await;
    let reader = pool
        .account(&[("custom:trial_id", &trial)], &["epro/alerts.read", &site])
        .await;
    let token = pool
        .sign_in(&pool.staff_portal, &reader)
        .await
        .expect("staff sign in")
        .access;
    let granted = claims(&token);
    assert_eq!(granted["trial_id"], json!([trial]));
    assert_eq!(lifetime(&granted), 900, "15 minutes");
    let scopes: Vec<&str> = granted["scope"].as_str().unwrap().split(' ').collect();
    assert!(scopes.contains(&"epro/alerts.read"), "{scopes:?}");
    assert!(
        !scopes
            .iter()
            .any(|s| *s == site || *s == "epro/enrolment.write"),
        "{scopes:?}"
    );

    let alerts = |trial: String| {
        let (pool, token) = (&pool, &token);
        async move {
            let path = format!("/v1/trials/{trial}/alerts");
            get_from(&pool.http, &pool.stack, &path, Some(token))
                .await
                .unwrap()
                .status
        }
    };
    assert_eq!(alerts(trial.clone()).await, 200);
    assert_eq!(alerts(other).await, 403, "another trial's alerts");
    assert_eq!(
        pool.enrol(&token, &trial, "P-1").await,
        403,
        "no enrolment scope"
    );

    // Signed in through the patient app (its client id ships inside it, with a 30-day refresh), staff reach no
    // staff route.
    let app = pool.sign_in(&pool.patient_app, &reader).await.unwrap();
    let path = format!("/v1/trials/{trial}/alerts");
    let reply = get_from(&pool.http, &pool.stack, &path, Some(&app.access)).await;
    assert_eq!(reply.unwrap().status, 401);

    // An account that names no patient and is in no scope group gets no token.
    let no_role = pool.account(&[("custom:trial_id", &trial)], &[&site]).await;
    let refused = pool.sign_in(&pool.staff_portal, &no_role).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("no_role")),
        "no role: {:?}",
        refused.err()
    );
}
