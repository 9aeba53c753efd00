//! The process function's configuration, one field per row of the configuration table (docs/configuration.md).

use crate::config::{ConfigError, Env};

use super::DEFAULT_MAX_CONCURRENCY;

/// The largest `MAX_CONCURRENCY` accepted: the template's `RecordConcurrency` allows up to 256.
const MAX_RECORD_CONCURRENCY: usize = 256;

/// What the process function reads from its environment at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    /// `TABLE_NAME` (required): the submission table.
    pub table_name: String,
    /// `MAX_CONCURRENCY` (default 64): records written at once per invocation.
    pub max_concurrency: usize,
}

impl ProcessConfig {
    /// Reads the configuration; a missing or bad value is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(ProcessConfig {
            table_name: env.required("TABLE_NAME")?,
            max_concurrency: env.parsed(
                "MAX_CONCURRENCY",
                DEFAULT_MAX_CONCURRENCY,
                |n| (1..=MAX_RECORD_CONCURRENCY).contains(n),
                &format!("a whole number from 1 to {MAX_RECORD_CONCURRENCY}"),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_and_defaults_the_concurrency() {
        let config = ProcessConfig::from_env(&Env::from_pairs(&[("TABLE_NAME", "t")])).unwrap();
        assert_eq!(
            config,
            ProcessConfig {
                table_name: "t".into(),
                max_concurrency: 64
            }
        );
        let env = Env::from_pairs(&[("TABLE_NAME", "t"), ("MAX_CONCURRENCY", "8")]);
        assert_eq!(ProcessConfig::from_env(&env).unwrap().max_concurrency, 8);
    }

    #[test]
    fn refuses_a_missing_table_or_a_bad_concurrency_at_start() {
        assert_eq!(
            ProcessConfig::from_env(&Env::from_pairs(&[]))
                .unwrap_err()
                .to_string(),
            "environment variable TABLE_NAME must be set"
        );
        for bad in ["0", "-1", "lots", "257"] {
            let pairs = [("TABLE_NAME", "t"), ("MAX_CONCURRENCY", bad)];
            let env = Env::from_pairs(&pairs);
            assert_eq!(
                ProcessConfig::from_env(&env).unwrap_err().to_string(),
                format!("MAX_CONCURRENCY must be a whole number from 1 to 256, not {bad:?}")
            );
        }
    }
}
