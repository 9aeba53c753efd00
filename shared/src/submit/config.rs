//! The submit function's configuration, one field per row of the configuration table (docs/configuration.md).

use time::Duration;

use crate::config::{ConfigError, Env};
use crate::identity::{MAX_TOKEN_LIFETIME, PATIENT_CLAIM, PatientPolicy, TRIAL_CLAIM};

/// What the submit function reads from its environment at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitConfig {
    /// `QUEUE_URL` (required): the submission queue.
    pub queue_url: String,
    /// `PATIENT_CLAIM` (default `patient_id`), `TRIAL_CLAIM` (default `trial_id`) and
    /// `MAX_TOKEN_LIFETIME_SECONDS` (default 900, 60 to 86400): who the caller is and how long a token may live.
    pub identity: PatientPolicy,
}

impl SubmitConfig {
    /// Reads the configuration; a missing or bad value is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let seconds = env.parsed(
            "MAX_TOKEN_LIFETIME_SECONDS",
            MAX_TOKEN_LIFETIME.whole_seconds(),
            |s| (60..=86_400).contains(s),
            "a whole number of seconds from 60 to 86400",
        )?;
        Ok(SubmitConfig {
            queue_url: env.required("QUEUE_URL")?,
            identity: PatientPolicy {
                patient_claim: env
                    .optional("PATIENT_CLAIM")
                    .unwrap_or(PATIENT_CLAIM.into()),
                trial_claim: env.optional("TRIAL_CLAIM").unwrap_or(TRIAL_CLAIM.into()),
                max_lifetime: Duration::seconds(seconds),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_queue_and_the_identity_claims() {
        let env = Env::from_pairs(&[
            ("QUEUE_URL", "https://q"),
            ("PATIENT_CLAIM", "sub"),
            ("TRIAL_CLAIM", "trials"),
            ("MAX_TOKEN_LIFETIME_SECONDS", "300"),
        ]);
        let config = SubmitConfig::from_env(&env).unwrap();
        assert_eq!(config.queue_url, "https://q");
        assert_eq!(
            config.identity,
            PatientPolicy {
                patient_claim: "sub".into(),
                trial_claim: "trials".into(),
                max_lifetime: Duration::seconds(300)
            }
        );
        let defaults = SubmitConfig::from_env(&Env::from_pairs(&[("QUEUE_URL", "q")])).unwrap();
        assert_eq!(defaults.identity, PatientPolicy::default());
    }

    #[test]
    fn refuses_to_start_without_a_queue_or_with_a_bad_lifetime() {
        let error = SubmitConfig::from_env(&Env::from_pairs(&[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable QUEUE_URL must be set"
        );
        let pairs = [
            ("QUEUE_URL", "q"),
            ("MAX_TOKEN_LIFETIME_SECONDS", "forever"),
        ];
        let error = SubmitConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("MAX_TOKEN_LIFETIME_SECONDS must be"),
            "{error}"
        );
    }
}
