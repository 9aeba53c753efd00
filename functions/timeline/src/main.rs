//! The timeline Lambda: adapts the table's stream (new reports of instruments whose rules compare reports, by the
//! event source's filter) to the intake's assessor, which places each on its patient's timeline and judges it in
//! completion order.

use aws_lambda_events::event::dynamodb::Event;
use intake::aws::{CallBudget, DynamoAlerts, DynamoStore, sdk_config};
use intake::config::Env;
use intake::metrics::Metrics;
use intake::timeline::Assessor;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let table = Env::process().required("TABLE_NAME")?;
    let config = sdk_config(CallBudget::BACKGROUND).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let assessor = Assessor::new(
        DynamoStore::new(client.clone(), table.clone()),
        DynamoAlerts::new(client, table),
    )?;

    run(service_fn(|event: LambdaEvent<Event>| {
        let (assessor, metrics) = (&assessor, &metrics);
        // A failure fails the whole batch: the event source retries it (placing and comparing again is harmless).
        async move {
            let arrived = assessor.arrive(&event.payload.records).await;
            let context = &event.context;
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            let report = arrived?;
            Ok::<_, Error>(serde_json::json!({
                "placed": report.placed,
                "raised": report.raised,
                "reassessed": report.reassessed,
            }))
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake::testing::memory::MemoryStore;

    /// The sample event `cargo lambda invoke` sends (`events/stream.json`): two pain reports of one patient, day 1
    /// pain 2 and day 2 pain 6, as the table's stream delivers them through the event source's filter.
    const SAMPLE: &str = include_str!("../events/stream.json");

    #[tokio::test]
    async fn the_sample_reports_are_placed_in_order_and_the_worse_one_raises_one_alert() {
        let event: Event = serde_json::from_str(SAMPLE).unwrap();
        let store = MemoryStore::default();
        // The records the stream points at are in the table.
        for record in &event.records {
            let item: intake::item::SubmissionItem =
                serde_dynamo::from_item(record.change.new_image.clone()).unwrap();
            store.insert(&item);
        }
        let assessor = Assessor::new(store.clone(), store.clone()).unwrap();
        let report = assessor.arrive(&event.records).await.unwrap();
        assert_eq!((report.placed, report.raised), (2, 1));
        assert_eq!(store.alerts()[0].rule_id, "pain-worsening");
    }
}
