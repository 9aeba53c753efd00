use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::Region;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use super::*;

/// More calls at once than the SDK's default retry quota (500 tokens, at least 5 a retry) can pay a retry for.
const CALLS: usize = 200;

/// A DynamoDB in a brown-out: each distinct request is refused with a 500 twice, then answered.
fn browned_out_dynamodb() -> SharedHttpClient {
    let seen: Mutex<HashMap<Vec<u8>, u32>> = Mutex::default();
    infallible_client_fn(move |request| {
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
    })
}

/// The background budget's configuration, over `http`.
async fn background_config(http: SharedHttpClient) -> SdkConfig {
    config_loader(CallBudget::BACKGROUND)
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

#[tokio::test]
async fn the_queue_consumer_retries_through_a_brown_out_that_empties_the_default_retry_quota() {
    let default_client =
        aws_sdk_dynamodb::Client::new(&background_config(browned_out_dynamodb()).await);
    let gave_up = CALLS - answered(&default_client).await;
    assert!(
        gave_up > 0,
        "the default quota gives up on some calls that a third attempt would have carried"
    );

    let consumer = queue_consumer_dynamodb(&background_config(browned_out_dynamodb()).await);
    assert_eq!(
        answered(&consumer).await,
        CALLS,
        "every call gets its retries"
    );
}
