//! The process Lambda: adapts SQS batches to the intake's processor and reports partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use intake::aws::{CallBudget, DynamoStore, sdk_config};
use intake::processor::{DEFAULT_MAX_CONCURRENCY, Processor};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

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
            Ok::<SqsBatchResponse, Error>(processor.process(event.payload.records).await.response)
        }
    }))
    .await
}
