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
    /// The stack `make local-up` deployed (or the one `$STACK_OUTPUTS` names).
    pub async fn load() -> Self {
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
