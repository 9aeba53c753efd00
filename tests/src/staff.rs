//! The staff API calls the e2e tests make: a token, a site investigator's correction and exclusion, and a patient's
//! report accepted through the API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::deployed::Deployed;
use crate::{ApiReply, Survey, TokenRequest, json_to, mint_token, submit};

/// A staff token of `who` for `trial`, with `scope`.
pub async fn token(deployed: &Deployed, who: &str, trial: &str, scope: &str) -> String {
    mint_token(
        &deployed.http,
        &deployed.stack,
        &TokenRequest::staff(who, &[trial], scope),
    )
    .await
    .unwrap()
}

/// Sends `survey` through the API: it must be accepted.
pub async fn accepted(deployed: &Deployed, survey: &Survey) {
    let reply = submit(&deployed.http, &deployed.stack, &survey.body)
        .await
        .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
}

/// A site investigator's correction of `survey`: `body` posted to its versions.
pub async fn correction(
    deployed: &Deployed,
    token: &str,
    survey: &Survey,
    body: &Value,
) -> ApiReply {
    let path = format!(
        "/v1/trials/{}/submissions/{}/versions",
        survey.trial_id, survey.submission_id
    );
    json_to(
        &deployed.http,
        &deployed.stack,
        (Method::POST, &path),
        Some(token),
        None,
        body,
    )
    .await
    .unwrap()
}

/// A site investigator excluding `survey` from analysis of `trial` (or restoring it), with `reason`.
pub async fn exclusion(
    deployed: &Deployed,
    (token, trial): (&str, &str),
    survey: &Survey,
    (excluded, reason): (bool, &str),
    if_match: Option<&str>,
) -> ApiReply {
    let path = format!(
        "/v1/trials/{trial}/submissions/{}/exclusion",
        survey.submission_id
    );
    let body = json!({ "patientId": survey.patient_id, "excluded": excluded, "reason": reason });
    json_to(
        &deployed.http,
        &deployed.stack,
        (Method::PUT, &path),
        Some(token),
        if_match,
        &body,
    )
    .await
    .unwrap()
}
