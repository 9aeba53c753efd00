//! Reading a function's configuration from its environment. A missing or bad value stops the function at start,
//! with a message naming the variable, rather than failing (or silently defaulting) on the first request.

use std::str::FromStr;

/// A bad or missing environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Looks a variable up by name.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Where variables are read from: the process environment, or a fixed list in tests.
pub struct Env<'a>(Lookup<'a>);

impl Env<'static> {
    /// The process environment.
    pub fn process() -> Self {
        Env(Box::new(|name| std::env::var(name).ok()))
    }
}

impl<'a> Env<'a> {
    /// A fixed set of variables.
    pub fn from_pairs(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Env(Box::new(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }))
    }

    /// The variable's value; unset and empty are the same.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.is_empty())
    }

    /// The variable's value, which must be set.
    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or_else(|| ConfigError(format!("environment variable {name} must be set")))
    }

    /// The variable parsed as a `T`, `default` when unset; `accepts` says what a good value looks like.
    pub fn parsed<T: FromStr>(
        &self,
        name: &str,
        default: T,
        accepts: impl Fn(&T) -> bool,
        expected: &str,
    ) -> Result<T, ConfigError> {
        let Some(text) = self.optional(name) else {
            return Ok(default);
        };
        text.parse()
            .ok()
            .filter(|value| accepts(value))
            .ok_or_else(|| ConfigError(format!("{name} must be {expected}, not {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_required_variable_must_be_set_and_not_empty() {
        let env = Env::from_pairs(&[("A", "x"), ("B", "")]);
        assert_eq!(env.required("A"), Ok("x".to_owned()));
        assert_eq!(
            env.required("B").unwrap_err().to_string(),
            "environment variable B must be set"
        );
        assert!(env.required("C").is_err());
    }

    #[test]
    fn a_parsed_variable_defaults_when_unset_and_names_a_bad_value() {
        let env = Env::from_pairs(&[("N", "12"), ("BAD", "twelve"), ("ZERO", "0")]);
        let positive = |n: &usize| *n > 0;
        assert_eq!(env.parsed("N", 5, positive, "positive"), Ok(12));
        assert_eq!(env.parsed("UNSET", 5, positive, "positive"), Ok(5));
        assert_eq!(
            env.parsed("BAD", 5, positive, "a positive number")
                .unwrap_err()
                .to_string(),
            "BAD must be a positive number, not \"twelve\""
        );
        assert!(env.parsed("ZERO", 5, positive, "positive").is_err());
    }
}
