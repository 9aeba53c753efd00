//! What every integration test against a deployed stack starts from: the stack, clients, a fresh trial, and
//! waiting for what happens asynchronously (the queue draining, an item appearing).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use intake_ops::{Aws, Error, Stack};
use uuid::Uuid;

use crate::{Survey, http_client};

/// The deployed stack and clients for it.
pub struct Deployed {
    /// The stack's outputs.
    pub stack: Stack,
    /// AWS clients (or the local emulator's).
    pub aws: Aws,
    /// An HTTP client for the API.
    pub http: reqwest::Client,
}

impl Deployed {
    /// The stack `make local-up` deployed (or the one `$STACK_OUTPUTS` names). Refuses to start unless the SDK
    /// points at a local endpoint: a plain `cargo test -- --ignored` would otherwise send the developer's own AWS
    /// credentials to real AWS with the local stack's names.
    pub async fn load() -> Self {
        local_endpoint_only(std::env::vars());
        Deployed {
            stack: Stack::load().expect("stack outputs: deploy with `make local-up`"),
            aws: Aws::load().await,
            http: http_client(),
        }
    }

    /// Waits until the submission queue is empty (visible and in flight).
    pub async fn drained(&self) {
        self.aws
            .wait_until_drained(&self.stack.queue_url, Duration::from_secs(90), |_| {})
            .await
            .expect("the queue drains");
    }

    /// The stored item of `survey`, once it is there (at most a minute).
    pub async fn stored_item(&self, survey: &Survey) -> HashMap<String, AttributeValue> {
        let sk = format!("SUBMISSION#{}", survey.submission_id);
        eventually(Duration::from_secs(60), || async {
            let mut items = self
                .aws
                .patient_answer_records(&self.stack, &survey.trial_id, &survey.patient_id)
                .await?;
            Ok(items.remove(&sk))
        })
        .await
    }
}

/// A trial id no other run shares, so partitions start empty: `<prefix>-<12 hex digits>`.
pub fn fresh_trial(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// Polls `probe` until it yields a value, for up to `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await.expect("probe failed") {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Panics unless the SDK's endpoint settings among `environment` point at this machine only: `AWS_ENDPOINT_URL`
/// set to a loopback host, every service-specific `AWS_ENDPOINT_URL_<SERVICE>` too, and nothing telling the SDK to
/// ignore them.
pub fn local_endpoint_only(environment: impl IntoIterator<Item = (String, String)>) {
    let environment: Vec<(String, String)> = environment.into_iter().collect();
    let local = |url: &str| {
        reqwest::Url::parse(url).is_ok_and(|url| {
            url.username().is_empty()
                && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
        })
    };
    let general = environment.iter().find(|(k, _)| k == "AWS_ENDPOINT_URL");
    let ignored = environment
        .iter()
        .any(|(k, v)| k == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" && v.eq_ignore_ascii_case("true"));
    let elsewhere: Vec<&(String, String)> = environment
        .iter()
        .filter(|(k, v)| k.starts_with("AWS_ENDPOINT_URL") && !local(v))
        .collect();
    assert!(
        general.is_some() && elsewhere.is_empty() && !ignored,
        "integration tests talk to the local stack only: run them with `make e2e [TEST=<file>]`, which points the \
         SDK at it with the emulator's credentials (AWS_ENDPOINT_URL is {:?}; not local: {elsewhere:?}; your AWS \
         profile is never used)",
        general.map(|(_, v)| v)
    );
}

#[cfg(test)]
mod tests {
    use super::local_endpoint_only;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_integration_tests_run_against_this_machine_only() {
        local_endpoint_only(env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")]));
        local_endpoint_only(env(&[("AWS_ENDPOINT_URL", "http://localhost:4566/")]));
        for elsewhere in [
            env(&[]),
            env(&[(
                "AWS_ENDPOINT_URL",
                "https://dynamodb.eu-west-1.amazonaws.com",
            )]),
            env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1.example.com:4566")]),
            env(&[("AWS_ENDPOINT_URL", "http://localhost:1@evil.example")]),
            env(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
                (
                    "AWS_ENDPOINT_URL_DYNAMODB",
                    "https://dynamodb.us-east-1.amazonaws.com",
                ),
            ]),
            env(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ]),
        ] {
            let refused = std::panic::catch_unwind(|| local_endpoint_only(elsewhere.clone()));
            assert!(refused.is_err(), "{elsewhere:?}");
        }
    }
}
