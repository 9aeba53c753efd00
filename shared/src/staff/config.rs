//! The alerts (staff API) function's configuration, one field per row of the configuration table (docs/configuration.md).

use time::Duration;

use crate::config::{ConfigError, Env};
use crate::identity::{
    ACKNOWLEDGE_SCOPE, AUDIT_READ_SCOPE, DATA_CORRECT_SCOPE, FLAGS_SCOPE, MAX_TOKEN_LIFETIME,
    PATIENT_CLAIM, READ_SCOPE, STAFF_CLAIM, StaffPolicy, TRIAL_CLAIM,
};

/// What the alerts function reads from its environment at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffConfig {
    /// `TABLE_NAME` (required): the table holding the alerts.
    pub table_name: String,
    /// `STAFF_CLAIM`, `TRIAL_CLAIM`, `PATIENT_CLAIM`, `MAX_TOKEN_LIFETIME_SECONDS`, `READ_SCOPE`,
    /// `ACKNOWLEDGE_SCOPE`, `FLAGS_SCOPE`, `CORRECT_SCOPE`, `AUDIT_SCOPE`: who the caller is and what they may do.
    pub identity: StaffPolicy,
}

impl StaffConfig {
    /// Reads the configuration; a missing or bad value is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let text =
            |name: &str, default: &str| env.optional(name).unwrap_or_else(|| default.to_owned());
        let seconds = env.parsed(
            "MAX_TOKEN_LIFETIME_SECONDS",
            MAX_TOKEN_LIFETIME.whole_seconds(),
            |s| (60..=86_400).contains(s),
            "a whole number of seconds from 60 to 86400",
        )?;
        Ok(StaffConfig {
            table_name: env.required("TABLE_NAME")?,
            identity: StaffPolicy {
                staff_claim: text("STAFF_CLAIM", STAFF_CLAIM),
                trial_claim: text("TRIAL_CLAIM", TRIAL_CLAIM),
                patient_claim: text("PATIENT_CLAIM", PATIENT_CLAIM),
                max_lifetime: Duration::seconds(seconds),
                read_scope: text("READ_SCOPE", READ_SCOPE),
                acknowledge_scope: text("ACKNOWLEDGE_SCOPE", ACKNOWLEDGE_SCOPE),
                flags_scope: text("FLAGS_SCOPE", FLAGS_SCOPE),
                correct_scope: text("CORRECT_SCOPE", DATA_CORRECT_SCOPE),
                audit_scope: text("AUDIT_SCOPE", AUDIT_READ_SCOPE),
            },
        })
    }
}
