//! The notify Lambda: adapts the table's stream (new alert items only, by the event source's filter) to the
//! intake's notifier, which sends each new alert once to the alert topic.

use aws_lambda_events::event::dynamodb::Event;
use intake::aws::{CallBudget, DynamoAlerts, SnsTopic, sdk_config};
use intake::config::Env;
use intake::metrics::Metrics;
use intake::notify::Notifier;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let env = Env::process();
    let (table, topic_arn) = (
        env.required("TABLE_NAME")?,
        env.required("ALERT_TOPIC_ARN")?,
    );
    let config = sdk_config(CallBudget::BACKGROUND).await;
    let notifier = Notifier::new(
        DynamoAlerts::new(aws_sdk_dynamodb::Client::new(&config), table),
        SnsTopic::new(aws_sdk_sns::Client::new(&config), topic_arn),
    );

    run(service_fn(|event: LambdaEvent<Event>| {
        let (notifier, metrics) = (&notifier, &metrics);
        // A failure fails the whole batch: the event source retries it (already-sent alerts are skipped), then
        // parks it in the delivery-failure queue.
        async move {
            let notified = notifier.notify(&event.payload.records).await;
            let context = &event.context;
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            notified?;
            Ok::<(), Error>(())
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::notify::MessageKind;
    use intake::testing::memory::MemoryStore;
    use intake::testing::topic::MemoryTopic;

    /// The sample event `cargo lambda invoke` sends (`events/stream.json`): a new urgent alert, as the table's
    /// stream delivers it through the event source's filter.
    const SAMPLE: &str = include_str!("../events/stream.json");

    #[tokio::test]
    async fn the_sample_stream_record_becomes_one_alert_message() {
        let event: Event = serde_json::from_str(SAMPLE).unwrap();
        // The alert the stream record points at is in the table.
        let store = MemoryStore::default();
        let alert: intake::item::AlertItem =
            serde_dynamo::from_item(event.records[0].change.new_image.clone()).unwrap();
        store.insert(&alert);
        let topic = MemoryTopic::default();
        let report = Notifier::new(store, topic.clone())
            .notify(&event.records)
            .await
            .unwrap();
        assert_eq!(report.sent, 1);
        let message = &topic.published()[0];
        assert_eq!(message.kind, MessageKind::Alert);
        assert_eq!(message.rule_id, "phq9-item9-self-harm");
        assert_eq!(message.subject(), "[URGENT] ePRO alert, trial ONC-2026-01");
    }
}
