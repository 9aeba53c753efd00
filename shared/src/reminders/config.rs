//! The reminders function's configuration, one field per row of the configuration table (docs/configuration.md).

use crate::config::{ConfigError, Env};

/// What the reminders function reads from its environment at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemindersConfig {
    /// `TABLE_NAME` (required): the table holding the surveys due.
    pub table_name: String,
    /// `REMINDER_TOPIC_ARN` (required): where reminders go (the push provider subscribes).
    pub reminder_topic_arn: String,
    /// `MISSED_TOPIC_ARN` (required): where missed-survey notices go (the site subscribes).
    pub missed_topic_arn: String,
}

impl RemindersConfig {
    /// Reads the configuration; a missing value is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(RemindersConfig {
            table_name: env.required("TABLE_NAME")?,
            reminder_topic_arn: env.required("REMINDER_TOPIC_ARN")?,
            missed_topic_arn: env.required("MISSED_TOPIC_ARN")?,
        })
    }
}
