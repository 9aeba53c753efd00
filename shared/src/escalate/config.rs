//! The escalate function's configuration, one field per row of the configuration table (docs/configuration.md).

use time::Duration;

use crate::config::{ConfigError, Env};

/// The default time an urgent alert may stay open before it is escalated.
pub const DEFAULT_ESCALATE_AFTER: Duration = Duration::minutes(15);
/// The default time the stream has to deliver a new alert before the sweep delivers it: the stream takes about a
/// second; two minutes leaves it room for retries without leaving an alert unsent for long.
pub const DEFAULT_DELIVER_AFTER: Duration = Duration::minutes(2);

/// What the escalate function reads from its environment at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalateConfig {
    /// `TABLE_NAME` (required): the table holding the alerts.
    pub table_name: String,
    /// `ESCALATION_TOPIC_ARN` (required): where escalations go.
    pub topic_arn: String,
    /// `ESCALATE_AFTER_SECONDS` (default 900): how long an urgent alert may stay open.
    pub after: Duration,
    /// `ALERT_TOPIC_ARN` (required): where the sweep delivers alerts the stream did not.
    pub alert_topic_arn: String,
    /// `DELIVER_AFTER_SECONDS` (default 120): how long after it was raised an undelivered alert is the sweep's.
    pub deliver_after: Duration,
}

impl EscalateConfig {
    /// Reads the configuration; a missing or bad value is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let seconds = env.parsed(
            "ESCALATE_AFTER_SECONDS",
            DEFAULT_ESCALATE_AFTER.whole_seconds(),
            |s| (10..=86_400).contains(s),
            "a whole number of seconds from 10 to 86400",
        )?;
        let deliver_after = env.parsed(
            "DELIVER_AFTER_SECONDS",
            DEFAULT_DELIVER_AFTER.whole_seconds(),
            |s| (10..=3_600).contains(s),
            "a whole number of seconds from 10 to 3600",
        )?;
        Ok(EscalateConfig {
            table_name: env.required("TABLE_NAME")?,
            topic_arn: env.required("ESCALATION_TOPIC_ARN")?,
            after: Duration::seconds(seconds),
            alert_topic_arn: env.required("ALERT_TOPIC_ARN")?,
            deliver_after: Duration::seconds(deliver_after),
        })
    }
}
