//! The submit function's configuration, one field per row of the README's configuration table.

use crate::config::{ConfigError, Env};

use super::PatientClaim;

/// What the submit function reads from its environment at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitConfig {
    /// `QUEUE_URL` (required): the submission queue.
    pub queue_url: String,
    /// `PATIENT_CLAIM` (default `patient_id`): the JWT claim holding the patient id.
    pub patient_claim: PatientClaim,
}

impl SubmitConfig {
    /// Reads the configuration; a missing or bad value is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(SubmitConfig {
            queue_url: env.required("QUEUE_URL")?,
            patient_claim: PatientClaim::new(&env.optional("PATIENT_CLAIM").unwrap_or_default()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_queue_and_the_patient_claim() {
        let env = Env::from_pairs(&[("QUEUE_URL", "https://q"), ("PATIENT_CLAIM", "sub")]);
        let config = SubmitConfig::from_env(&env).unwrap();
        assert_eq!(config.queue_url, "https://q");
        assert_eq!(config.patient_claim, PatientClaim::new("sub"));
        let defaults = SubmitConfig::from_env(&Env::from_pairs(&[("QUEUE_URL", "q")])).unwrap();
        assert_eq!(defaults.patient_claim.name(), "patient_id");
    }

    #[test]
    fn refuses_to_start_without_a_queue() {
        let error = SubmitConfig::from_env(&Env::from_pairs(&[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable QUEUE_URL must be set"
        );
    }
}
