//! The escalate Lambda: run every minute by a schedule, it delivers alerts the stream could not and escalates urgent
//! alerts left open too long.

use intake::aws::{CallBudget, DynamoAlerts, SnsTopic, sdk_config};
use intake::config::Env;
use intake::escalate::{EscalateConfig, Escalator};
use intake::metrics::Metrics;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use time::OffsetDateTime;

// One thread: at 256 MB or less a function's CPU quota is a seventh of a vCPU at most, which worker threads
// cannot add to, and starting them took a fifth of every cold start (docs/performance.md, "Start-up, second round").
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    intake::logging::init();
    let metrics = Metrics::for_this_function()?;
    let config = EscalateConfig::from_env(&Env::process())?;
    let sdk = sdk_config(CallBudget::BACKGROUND).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let escalator = Escalator::new(
        DynamoAlerts::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name),
        SnsTopic::new(sns.clone(), config.topic_arn),
        config.after,
    )
    .delivering(
        SnsTopic::new(sns, config.alert_topic_arn),
        config.deliver_after,
    );

    // The scheduled event says nothing the sweep needs: the time is now.
    run(service_fn(|event: LambdaEvent<Value>| {
        let (escalator, metrics) = (&escalator, &metrics);
        async move {
            let swept = escalator.sweep(OffsetDateTime::now_utc()).await;
            let context = &event.context;
            metrics.flush(&context.request_id, context.xray_trace_id.as_deref());
            let report = swept?;
            Ok::<_, Error>(serde_json::json!({
                "delivered": report.delivered,
                "escalated": report.escalated,
                "settled": report.settled,
            }))
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use intake::config::Env;
    use intake::escalate::EscalateConfig;

    /// The sample event `cargo lambda invoke` sends (`events/schedule.json`): the schedule's tick, which the sweep
    /// reads nothing from.
    const SAMPLE: &str = include_str!("../events/schedule.json");

    #[test]
    fn the_sample_tick_is_a_scheduled_event_and_the_configuration_reads_its_variables() {
        let tick: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(tick["detail-type"], "Scheduled Event");
        let config = EscalateConfig::from_env(&Env::from_pairs(&[
            ("TABLE_NAME", "t"),
            (
                "ESCALATION_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:escalations",
            ),
            ("ESCALATE_AFTER_SECONDS", "30"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:alerts",
            ),
        ]))
        .unwrap();
        assert_eq!(config.after.whole_seconds(), 30);
        assert_eq!(config.deliver_after.whole_seconds(), 120);
        let missing = EscalateConfig::from_env(&Env::from_pairs(&[("TABLE_NAME", "t")]));
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("ESCALATION_TOPIC_ARN")
        );
        let bad = EscalateConfig::from_env(&Env::from_pairs(&[
            ("TABLE_NAME", "t"),
            ("ESCALATION_TOPIC_ARN", "a"),
            ("ESCALATE_AFTER_SECONDS", "5"),
        ]));
        assert!(
            bad.is_err(),
            "below 10 s the sweep could escalate before anyone could react"
        );
    }
}
