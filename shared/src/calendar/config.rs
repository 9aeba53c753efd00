//! The calendar function's configuration, one field per row of the configuration table (docs/configuration.md).

use time::Duration;

use crate::config::{ConfigError, Env};
use crate::identity::{
    ENROLMENT_READ_SCOPE, ENROLMENT_WRITE_SCOPE, MAX_TOKEN_LIFETIME, PATIENT_CLAIM, PatientPolicy,
    STAFF_CLAIM, StaffPolicy, TRIAL_CLAIM,
};

/// Who may call which calendar route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPolicy {
    /// Staff tokens (the enrolment and compliance routes).
    pub staff: StaffPolicy,
    /// Patient tokens (their own schedule).
    pub patient: PatientPolicy,
    /// The scope that lets staff enrol, change and withdraw patients.
    pub write_scope: String,
    /// The scope that lets staff read enrolments and compliance.
    pub read_scope: String,
}

impl Default for CalendarPolicy {
    fn default() -> Self {
        CalendarPolicy {
            staff: StaffPolicy::default(),
            patient: PatientPolicy::default(),
            write_scope: ENROLMENT_WRITE_SCOPE.into(),
            read_scope: ENROLMENT_READ_SCOPE.into(),
        }
    }
}

/// What the calendar function reads from its environment at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarConfig {
    /// `TABLE_NAME` (required): the table holding enrolments and surveys due.
    pub table_name: String,
    /// `STAFF_CLAIM`, `TRIAL_CLAIM`, `PATIENT_CLAIM`, `MAX_TOKEN_LIFETIME_SECONDS`, `ENROLMENT_WRITE_SCOPE`,
    /// `ENROLMENT_READ_SCOPE`: who the caller is and what they may do.
    pub policy: CalendarPolicy,
}

impl CalendarConfig {
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
        let (trial_claim, patient_claim) = (
            text("TRIAL_CLAIM", TRIAL_CLAIM),
            text("PATIENT_CLAIM", PATIENT_CLAIM),
        );
        Ok(CalendarConfig {
            table_name: env.required("TABLE_NAME")?,
            policy: CalendarPolicy {
                staff: StaffPolicy {
                    staff_claim: text("STAFF_CLAIM", STAFF_CLAIM),
                    trial_claim: trial_claim.clone(),
                    patient_claim: patient_claim.clone(),
                    max_lifetime: Duration::seconds(seconds),
                    ..StaffPolicy::default()
                },
                patient: PatientPolicy {
                    patient_claim,
                    trial_claim,
                    max_lifetime: Duration::seconds(seconds),
                },
                write_scope: text("ENROLMENT_WRITE_SCOPE", ENROLMENT_WRITE_SCOPE),
                read_scope: text("ENROLMENT_READ_SCOPE", ENROLMENT_READ_SCOPE),
            },
        })
    }
}
