//! A client of the deployed API: tokens from the local issuer, and requests as apps send them.

use std::time::{Duration, Instant};

use intake_ops::Stack;
use serde::Serialize;
use serde_json::Value;

use crate::{Error, Survey};

/// The API's answer to one request.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
    pub latency: Duration,
}

/// What to ask the local issuer for (`infra/oidc_issuer.py`). The constructors make a valid token; tests change one
/// thing to make one the API must refuse.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TokenRequest {
    /// The patient claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    /// The staff claim (study staff instead of a patient).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The trial claim: one trial, or a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_id: Option<Value>,
    /// OAuth scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Another audience than the API's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Another issuer than the local one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Seconds until expiry (900 by default); negative for a token that has already expired.
    pub expires_in: i64,
    /// Seconds from now until the token becomes valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// Claims to leave out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub omit: Vec<String>,
    /// How to sign: `rs256` (default), `none`, `hs256-public-key`, `other-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign: Option<String>,
}

impl TokenRequest {
    /// A valid token for a member of the study team of `trials`, granting `scope` (space-separated).
    pub fn staff(staff_id: &str, trials: &[&str], scope: &str) -> Self {
        TokenRequest {
            staff_id: Some(staff_id.to_owned()),
            trial_id: Some(Value::from(trials.to_vec())),
            scope: Some(scope.to_owned()),
            expires_in: 900,
            ..TokenRequest::default()
        }
    }

    /// A valid token for a patient of a trial.
    pub fn patient(patient_id: &str, trial_id: &str) -> Self {
        TokenRequest {
            patient_id: Some(patient_id.to_owned()),
            trial_id: Some(Value::from(trial_id)),
            expires_in: 900,
            ..TokenRequest::default()
        }
    }
}

/// A bearer token from the stack's token endpoint.
pub async fn mint_token(
    http: &reqwest::Client,
    stack: &Stack,
    request: &TokenRequest,
) -> Result<String, Error> {
    let endpoint = stack.token_endpoint.as_deref().ok_or(
        "the stack outputs name no TokenEndpoint: deploy with `make local-up`, or give tokens from your provider",
    )?;
    let reply: Value = http
        .post(endpoint)
        .json(request)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(reply["access_token"]
        .as_str()
        .ok_or("the token endpoint answered without access_token")?
        .to_owned())
}

/// Posts a body to the v1 submissions route with the given content type and, when given, bearer token.
pub async fn post(
    http: &reqwest::Client,
    stack: &Stack,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Result<ApiReply, Error> {
    post_to(http, stack, "/v1/submissions", token, content_type, body).await
}

/// Posts a body to `path` below the API URL.
pub async fn post_to(
    http: &reqwest::Client,
    stack: &Stack,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Result<ApiReply, Error> {
    let request = http
        .post(format!("{}{path}", stack.api_url.trim_end_matches('/')))
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body);
    exchange(request, token).await
}

/// Gets `path` below the API URL (with its query string), with a bearer token when given.
pub async fn get_from(
    http: &reqwest::Client,
    stack: &Stack,
    path: &str,
    token: Option<&str>,
) -> Result<ApiReply, Error> {
    let request = http.get(format!("{}{path}", stack.api_url.trim_end_matches('/')));
    exchange(request, token).await
}

/// Sends `method` to `path` below the API URL with a JSON body (when not null) and, when given, `If-Match`.
pub async fn json_to(
    http: &reqwest::Client,
    stack: &Stack,
    (method, path): (reqwest::Method, &str),
    token: Option<&str>,
    if_match: Option<&str>,
    body: &Value,
) -> Result<ApiReply, Error> {
    let mut request = http.request(
        method,
        format!("{}{path}", stack.api_url.trim_end_matches('/')),
    );
    if !body.is_null() {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    if let Some(etag) = if_match {
        request = request.header(reqwest::header::IF_MATCH, etag);
    }
    exchange(request, token).await
}

/// Sends `request` (with the token, if any) and reads the reply, timed.
async fn exchange(
    mut request: reqwest::RequestBuilder,
    token: Option<&str>,
) -> Result<ApiReply, Error> {
    let started = Instant::now();
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.bytes().await?;
    let latency = started.elapsed();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Ok(ApiReply {
        status,
        body,
        retry_after,
        latency,
    })
}

/// Posts a JSON submission as the patient it names, with a fresh valid token for them.
pub async fn submit(
    http: &reqwest::Client,
    stack: &Stack,
    body: &Value,
) -> Result<ApiReply, Error> {
    let patient_id = body["patientId"].as_str().unwrap_or("P-000000");
    let trial_id = body["trialId"].as_str().unwrap_or("T-000000");
    let token = mint_token(http, stack, &TokenRequest::patient(patient_id, trial_id)).await?;
    post(
        http,
        stack,
        Some(&token),
        "application/json",
        body.to_string(),
    )
    .await
}

/// Sends a survey in its form, as the patient it names, with a fresh valid token for them.
pub async fn send(
    http: &reqwest::Client,
    stack: &Stack,
    survey: &Survey,
) -> Result<ApiReply, Error> {
    let request = TokenRequest::patient(&survey.patient_id, &survey.trial_id);
    let token = mint_token(http, stack, &request).await?;
    let (path, content_type, body) = survey.request();
    post_to(http, stack, path, Some(&token), content_type, body).await
}

/// An HTTP client for the API, with a generous overall timeout.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .expect("an HTTP client with default TLS always builds")
}
