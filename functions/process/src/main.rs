//! The process Lambda: adapts SQS batches to the intake's processor and reports partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use intake::aws::{CallBudget, DynamoStore, queue_consumer_dynamodb, sdk_config};
use intake::config::Env;
use intake::metrics::Metrics;
use intake::process::{ProcessConfig, Processor};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Time kept back from the invocation's deadline to send the partial batch response.
const RESPONSE_MARGIN: Duration = Duration::from_millis(500);

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let config = ProcessConfig::from_env(&Env::process())?;
    let dynamodb = queue_consumer_dynamodb(&sdk_config(CallBudget::QUEUE_CONSUMER).await);
    let processor = Processor::new(
        DynamoStore::new(dynamodb, config.table_name),
        config.max_concurrency,
    );

    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (processor, metrics) = (&processor, &metrics);
        async move {
            let (records, context) = (event.payload.records, event.context);
            let report = match answer_by(context.deadline) {
                Some(deadline) => processor.process_until(records, deadline).await,
                None => processor.process(records).await,
            };
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            Ok::<SqsBatchResponse, Error>(report.response)
        }
    }))
    .await
}

/// When records must be finished: the invocation's deadline (milliseconds since the epoch) less the margin.
///
/// A deadline already past when the invocation arrives is no deadline at all: some local emulators (cargo-lambda's
/// `watch`) send the timeout's length instead of a time. Records are then bounded by the SDK's call budget only.
fn answer_by(deadline_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    let remaining = Duration::from_millis(deadline_ms.checked_sub(now_ms)?);
    Some(Instant::now() + remaining.saturating_sub(RESPONSE_MARGIN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::testing::example;
    use intake::testing::memory::MemoryStore;
    use serde_json::json;

    /// The sample event `cargo lambda invoke` sends (`events/batch.json`): a valid record, the same submission
    /// again (a resend), and a record that is not an envelope.
    const SAMPLE: &str = include_str!("../events/batch.json");

    #[test]
    fn a_deadline_in_the_future_leaves_the_margin_and_one_in_the_past_is_none() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let by = answer_by(now_ms + 5_000).expect("a future deadline");
        let left = by - Instant::now();
        assert!(left <= Duration::from_millis(4_500) && left > Duration::from_millis(4_000));
        assert_eq!(answer_by(600_000), None, "a length, not a time");
        assert_eq!(answer_by(now_ms - 1), None);
    }

    #[tokio::test]
    async fn the_sample_batch_stores_once_absorbs_the_resend_and_hands_back_the_poison() {
        let event: SqsEvent = serde_json::from_str(SAMPLE).unwrap();
        let store = MemoryStore::default();
        let report = Processor::new(store.clone(), 4)
            .process(event.records)
            .await;
        assert_eq!((report.stored, report.duplicates, report.failed), (1, 1, 1));
        assert_eq!(
            serde_json::to_value(&report.response).unwrap(),
            json!({ "batchItemFailures": [{ "itemIdentifier": "poison-1" }] })
        );
        assert_eq!(
            store.submissions()[0].submission,
            example::example().judged().submission
        );
    }
}
