//! Tools to drive and inspect a deployed intake stack (local or AWS): its outputs, an API client, a submission
//! generator, and read-only views of the table and queues. Used by the integration tests and the burst driver.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use intake::item::partition_key;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub mod audit;
pub mod hostile;
pub mod load;
pub mod redrive;
pub mod stubs;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The stack outputs written by `make local-up` (or by hand, for a stack on AWS).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stack {
    pub api_url: String,
    pub queue_url: String,
    pub dead_letter_queue_url: String,
    pub table_name: String,
    /// Where tokens for simulated patients come from: the local OIDC issuer's `/token` (written by `make local-up`).
    /// A stack on AWS trusts the trial's identity provider instead, which has no such endpoint.
    pub token_endpoint: Option<String>,
    pub submit_log_group_name: String,
    pub process_log_group_name: String,
    /// The fault proxy's control URL, on a stack deployed by `make faults`.
    pub fault_proxy: Option<String>,
}

impl Stack {
    /// Reads `$STACK_OUTPUTS`, by default `.local/stack-outputs.json` at the repository root.
    pub fn load() -> Result<Self, Error> {
        let path = std::env::var_os("STACK_OUTPUTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../.local/stack-outputs.json"
                ))
            });
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {} ({e}); deploy first with `make local-up`",
                path.display()
            )
        })?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn submissions_url(&self) -> String {
        format!("{}/v1/submissions", self.api_url.trim_end_matches('/'))
    }
}

/// SDK clients for the stack, configured the standard way (region, credentials, `AWS_ENDPOINT_URL`).
#[derive(Debug, Clone)]
pub struct Aws {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl Aws {
    pub async fn load() -> Self {
        let config = aws_config::load_from_env().await;
        Aws {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
        }
    }

    /// Every item in a patient's partition, keyed by sort key.
    pub async fn patient_items(
        &self,
        stack: &Stack,
        trial_id: &str,
        patient_id: &str,
    ) -> Result<HashMap<String, HashMap<String, AttributeValue>>, Error> {
        let items = self
            .dynamodb
            .query()
            .table_name(&stack.table_name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(partition_key(trial_id, patient_id)),
            )
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        items
            .into_iter()
            .map(|item| {
                let sk = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .ok_or("item without a string sk")?;
                Ok((sk.clone(), item))
            })
            .collect()
    }

    /// Every log line of `log_group` since `since`, oldest first.
    pub async fn log_lines(
        &self,
        log_group: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<String>, Error> {
        let events = self
            .logs
            .filter_log_events()
            .log_group_name(log_group)
            .start_time((since.unix_timestamp_nanos() / 1_000_000) as i64)
            .into_paginator()
            .send()
            .try_collect()
            .await?;
        Ok(events
            .into_iter()
            .flat_map(|page| page.events.unwrap_or_default())
            .filter_map(|event| event.message)
            .collect())
    }

    /// Visible plus in-flight messages (approximate, as SQS reports them).
    pub async fn queue_depth(&self, queue_url: &str) -> Result<u64, Error> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?
            .attributes
            .unwrap_or_default();
        let count = |name: A| {
            attributes
                .get(&name)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible))
    }

    /// Waits until the queue reads empty (visible + in flight) three times in a row, calling `tick` with each depth.
    pub async fn wait_until_drained(
        &self,
        queue_url: &str,
        timeout: Duration,
        mut tick: impl FnMut(u64),
    ) -> Result<Duration, Error> {
        let started = Instant::now();
        let mut empty_reads = 0;
        while empty_reads < 3 {
            if started.elapsed() > timeout {
                return Err(format!("queue not drained within {timeout:?}").into());
            }
            let depth = self.queue_depth(queue_url).await?;
            tick(depth);
            empty_reads = if depth == 0 { empty_reads + 1 } else { 0 };
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(started.elapsed())
    }
}

/// A submission body as a patient app would send it.
#[derive(Debug, Clone)]
pub struct Survey {
    pub submission_id: Uuid,
    pub trial_id: String,
    pub patient_id: String,
    pub body: Value,
}

const SURVEYS: [&str; 4] = ["qol-daily", "pain-weekly", "eq-5d-5l", "promis-29"];
const SYMPTOMS: [&str; 8] = [
    "cough",
    "fever",
    "nausea",
    "headache",
    "dizziness",
    "rash",
    "swelling",
    "insomnia",
];
const WORDS: [&str; 12] = [
    "slept", "badly", "wound", "dressing", "changed", "walked", "a", "little", "pain", "after",
    "lunch", "better",
];

impl Survey {
    /// A survey for `patient_id` at day 7, reproducible from `seed`.
    pub fn new(trial_id: &str, patient_id: &str, seed: u64) -> Self {
        Self::generate(
            trial_id,
            patient_id,
            "day-7",
            &mut fastrand::Rng::with_seed(seed),
        )
    }

    /// A realistic questionnaire: 8–30 scored items, a few yes/no items, a symptom checklist and, often, free text
    /// (now and then a long one). Bodies range from about 0.3 to 3 KB, like real ePRO instruments.
    pub fn generate(
        trial_id: &str,
        patient_id: &str,
        timepoint: &str,
        rng: &mut fastrand::Rng,
    ) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        let submission_id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let completed_at = OffsetDateTime::now_utc() - time::Duration::seconds(rng.i64(0..600));
        let mut answers = serde_json::Map::new();
        for item in 1..=rng.usize(8..=30) {
            answers.insert(format!("q{item:02}"), json!(rng.u8(0..=10)));
        }
        for item in 1..=rng.usize(0..=4) {
            answers.insert(format!("yn{item}"), json!(rng.bool()));
        }
        answers.insert("sleepHours".into(), json!(f64::from(rng.u8(6..=20)) / 2.0));
        let symptoms: Vec<&str> = SYMPTOMS
            .iter()
            .copied()
            .filter(|_| rng.u8(0..4) == 0)
            .collect();
        answers.insert("symptoms".into(), json!(symptoms));
        if rng.u8(0..3) > 0 {
            let words = if rng.u8(0..10) == 0 {
                rng.usize(150..=300)
            } else {
                rng.usize(3..=40)
            };
            let text: Vec<&str> = (0..words)
                .map(|_| WORDS[rng.usize(..WORDS.len())])
                .collect();
            let mut comment = text.join(" ");
            comment.truncate(intake::submission::MAX_TEXT_CHARS);
            answers.insert("comment".into(), json!(comment));
        }
        let body = json!({
            "submissionId": submission_id,
            "trialId": trial_id,
            "patientId": patient_id,
            "surveyId": SURVEYS[rng.usize(..SURVEYS.len())],
            "timepoint": timepoint,
            "completedAt": completed_at.format(&Rfc3339).expect("a UTC time formats"),
            "answers": answers,
        });
        Survey {
            submission_id,
            trial_id: trial_id.to_owned(),
            patient_id: patient_id.to_owned(),
            body,
        }
    }
}

/// The API's answer to one request.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
    pub latency: Duration,
}

/// What to ask the local issuer for. The defaults make a valid token; tests change one thing to make it invalid.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRequest {
    pub patient_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Seconds until expiry; negative for a token that has already expired.
    pub expires_in: i64,
}

impl TokenRequest {
    pub fn valid_for(patient_id: &str) -> Self {
        TokenRequest {
            patient_id: patient_id.to_owned(),
            audience: None,
            expires_in: 3600,
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

/// Posts a body to the submissions endpoint with the given content type and, when given, bearer token.
pub async fn post(
    http: &reqwest::Client,
    stack: &Stack,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Result<ApiReply, Error> {
    let started = Instant::now();
    let mut request = http
        .post(stack.submissions_url())
        .header(reqwest::header::CONTENT_TYPE, content_type);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.body(body).send().await?;
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
    let token = mint_token(http, stack, &TokenRequest::valid_for(patient_id)).await?;
    post(
        http,
        stack,
        Some(&token),
        "application/json",
        body.to_string(),
    )
    .await
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .expect("an HTTP client with default TLS always builds")
}
