//! The process Lambda: adapts SQS batches to the intake's processor and reports partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use intake::aws::{CallBudget, DynamoStore, sdk_config};
use intake::processor::{DEFAULT_MAX_CONCURRENCY, Processor};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Time kept back from the invocation's deadline to send the partial batch response.
const RESPONSE_MARGIN: Duration = Duration::from_millis(500);

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = intake::required_env("TABLE_NAME")?;
    let max_concurrency = match std::env::var("MAX_CONCURRENCY") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("MAX_CONCURRENCY must be a whole number, not {value:?}"))?,
        Err(_) => DEFAULT_MAX_CONCURRENCY,
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(CallBudget::BACKGROUND).await);
    let processor = Processor::new(DynamoStore::new(dynamodb, table), max_concurrency);

    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let processor = &processor;
        async move {
            let deadline = answer_by(event.context.deadline);
            let report = processor
                .process_until(event.payload.records, deadline)
                .await;
            Ok::<SqsBatchResponse, Error>(report.response)
        }
    }))
    .await
}

/// When records must be finished: the invocation's deadline (milliseconds since the epoch) less the margin.
fn answer_by(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + remaining.saturating_sub(RESPONSE_MARGIN)
}
