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
        local_endpoint_only(std::env::var("AWS_ENDPOINT_URL").ok().as_deref());
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
                .patient_items(&self.stack, &survey.trial_id, &survey.patient_id)
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

/// Panics unless `endpoint` (the SDK's `AWS_ENDPOINT_URL`) is on this machine.
pub fn local_endpoint_only(endpoint: Option<&str>) {
    let host = endpoint
        .and_then(|url| url.split("://").nth(1))
        .and_then(|rest| rest.split(['/', ':']).next());
    assert!(
        matches!(host, Some("127.0.0.1" | "localhost")),
        "integration tests talk to the local stack only: run them with `make e2e [TEST=<file>]`, which points the \
         SDK at it with the emulator's credentials (AWS_ENDPOINT_URL is {endpoint:?}; your AWS profile is never used)"
    );
}

#[cfg(test)]
mod tests {
    use super::local_endpoint_only;

    #[test]
    fn the_integration_tests_run_against_this_machine_only() {
        local_endpoint_only(Some("http://127.0.0.1:4566"));
        local_endpoint_only(Some("http://localhost:4566/"));
        for elsewhere in [
            None,
            Some("https://dynamodb.eu-west-1.amazonaws.com"),
            Some("http://127.0.0.1.example.com:4566"),
        ] {
            let refused = std::panic::catch_unwind(|| local_endpoint_only(elsewhere));
            assert!(refused.is_err(), "{elsewhere:?}");
        }
    }
}
