//! Clinical alerts: rules kept as data beside the instruments (`instruments/alert-rules/<instrument>/<version>.json`),
//! evaluated once, when a submission is first stored, and written in the same transaction as the submission.
//!
//! - [`rules`]: the rule file format and the embedded rule book;
//! - [`check`]: what every rule set must satisfy against the catalogue (run by `make test`);
//! - [`evaluate`]: which rules a submission meets, given the patient's previous submission.

pub mod check;
pub mod evaluate;
pub mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::instrument::{Catalogue, Instrument};

pub use evaluate::{Prior, evaluate};
pub use rules::{Condition, Rule, RuleBook, RuleSet, Subject, Test};

/// How fast someone must look: `urgent` alerts are escalated when nobody acknowledges them in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// Within minutes, and escalated if still open.
    Urgent,
    /// The same day.
    High,
}

impl Severity {
    /// The name used in records, messages and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Urgent => "urgent",
            Severity::High => "high",
        }
    }
}

/// The namespace of alert ids (a fixed, random UUID).
const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x5d1f_3c7a_8b2e_4f60_9a41_c0de_a1e7_0001);

/// The id of the alert `rule_id` raises on `submission_id`: the same every time it is computed, so a retried
/// transaction writes the same alert, never a second one.
pub fn alert_id(submission_id: &Uuid, rule_id: &str) -> Uuid {
    Uuid::new_v5(
        &ALERT_NAMESPACE,
        format!("{submission_id}/{rule_id}").as_bytes(),
    )
}

/// The rule book with the catalogue its conditions read (a choice's ordinal value, an item's bounds).
#[derive(Debug, Clone, Copy)]
pub struct Alerting {
    /// Every published rule set.
    pub book: &'static RuleBook,
    /// Every published instrument version.
    pub catalogue: &'static Catalogue,
}

impl Alerting {
    /// The rules and catalogue this build embeds. An error stops a function at start; `make test` rules it out.
    pub fn embedded() -> Result<Alerting, String> {
        Ok(Alerting {
            book: RuleBook::embedded()?,
            catalogue: Catalogue::embedded()?,
        })
    }

    /// The rules for a submission of `instrument` version `version`, with that version's definition.
    pub fn rules_for(
        &self,
        instrument: &str,
        version: &str,
    ) -> Option<(&'static RuleSet, &'static Instrument)> {
        let set = self.book.for_version(instrument, version)?;
        let definition = self.catalogue.get(instrument, Some(version)).ok()?;
        Some((set, definition))
    }
}
