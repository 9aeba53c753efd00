//! The reminders Lambda: run every minute by a schedule, it reminds patients whose survey window opened and
//! records (and tells the site of) surveys whose window closed with nothing.

use intake::aws::{CallBudget, DynamoStore, SnsTopic, sdk_config};
use intake::config::Env;
use intake::metrics::Metrics;
use intake::reminders::{Reminders, RemindersConfig};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use time::OffsetDateTime;

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let config = RemindersConfig::from_env(&Env::process())?;
    let sdk = sdk_config(CallBudget::BACKGROUND).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let reminders = Reminders::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name),
        SnsTopic::new(sns.clone(), config.reminder_topic_arn),
        SnsTopic::new(sns, config.missed_topic_arn),
    );

    // The scheduled event says nothing the sweep needs: the time is now.
    run(service_fn(|event: LambdaEvent<Value>| {
        let (reminders, metrics) = (&reminders, &metrics);
        async move {
            let swept = reminders.sweep(OffsetDateTime::now_utc()).await;
            let context = &event.context;
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            let report = swept?;
            Ok::<_, Error>(serde_json::json!({
                "reminded": report.reminded,
                "missed": report.missed,
                "noticed": report.noticed,
                "settled": report.settled,
                "failed": report.failed,
            }))
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use intake::config::Env;
    use intake::reminders::RemindersConfig;

    /// The sample event `cargo lambda invoke` sends (`events/schedule.json`): the schedule's tick, which the sweep
    /// reads nothing from.
    const SAMPLE: &str = include_str!("../events/schedule.json");

    #[test]
    fn the_sample_tick_is_a_scheduled_event_and_the_configuration_names_both_topics() {
        let tick: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(tick["detail-type"], "Scheduled Event");
        let config = RemindersConfig::from_env(&Env::from_pairs(&[
            ("TABLE_NAME", "t"),
            (
                "REMINDER_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:reminders",
            ),
            (
                "MISSED_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:missed",
            ),
        ]))
        .unwrap();
        assert_eq!(config.table_name, "t");
        let missing = RemindersConfig::from_env(&Env::from_pairs(&[
            ("TABLE_NAME", "t"),
            ("REMINDER_TOPIC_ARN", "a"),
        ]));
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("MISSED_TOPIC_ARN")
        );
    }
}
