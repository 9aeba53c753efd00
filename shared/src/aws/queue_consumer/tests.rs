use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::Region;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use super::*;
use crate::aws::{CallBudget, config_loader};
use crate::metrics::recorded;

/// More calls at once than the SDK's default retry quota (500 tokens, at least 5 a retry) can pay a retry for.
const CALLS: usize = 200;

/// A DynamoDB in a brown-out: each distinct request is refused with a 500 twice, then answered. Also gives the
/// count of requests it received.
fn browned_out_dynamodb() -> (SharedHttpClient, Arc<AtomicUsize>) {
    let seen: Mutex<HashMap<Vec<u8>, u32>> = Mutex::default();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let http = infallible_client_fn(move |request| {
        counted.fetch_add(1, Ordering::SeqCst);
        let body = request.body().bytes().unwrap_or_default().to_vec();
        let attempt = {
            let mut seen = seen.lock().unwrap();
            let count = seen.entry(body).or_default();
            *count += 1;
            *count
        };
        let (status, body) = if attempt <= 2 {
            (
                500,
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"brown-out"}"#,
            )
        } else {
            (200, "{}")
        };
        http::Response::builder().status(status).body(body).unwrap()
    });
    (http, requests)
}

/// The queue consumer's budget and configuration, over `http`.
async fn consumer_config(http: SharedHttpClient) -> SdkConfig {
    config_loader(CallBudget::QUEUE_CONSUMER)
        .http_client(http)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

/// How many of [`CALLS`] reads, all at once, succeed.
async fn answered(client: &aws_sdk_dynamodb::Client) -> usize {
    let calls = (0..CALLS).map(|n| {
        client
            .get_item()
            .table_name("submissions")
            .key("pk", AttributeValue::S(format!("SUBMISSIONID#{n}")))
            .send()
    });
    futures::future::join_all(calls)
        .await
        .iter()
        .filter(|result| result.is_ok())
        .count()
}

#[test]
fn a_brown_out_that_empties_the_default_retry_quota_is_retried_and_counted_by_the_queue_consumer() {
    let ((), recorded) = recorded::run(async {
        // Paused time: the backoffs pass at once.
        tokio::time::pause();
        // The SDK's default client, in a retry partition of its own: default partitions share a process-wide
        // bucket.
        let (http, requests) = browned_out_dynamodb();
        let config = consumer_config(http).await;
        let default_client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&config)
                .retry_partition(RetryPartition::new("retry-tests-default"))
                .build(),
        );
        assert!(answered(&default_client).await < CALLS);
        assert!(
            requests.load(Ordering::SeqCst) < 3 * CALLS,
            "the quota stops retrying with attempts left"
        );

        let (http, requests) = browned_out_dynamodb();
        let consumer = queue_consumer_dynamodb(&consumer_config(http).await);
        assert_eq!(
            answered(&consumer).await,
            CALLS,
            "every call gets its retries"
        );
        assert_eq!(requests.load(Ordering::SeqCst), 3 * CALLS);
    });
    assert_eq!(
        recorded.counter("StoreRetries"),
        2 * CALLS as u64,
        "the consumer's two retries a call, each counted"
    );
}
