//! Clinical alerts: rules kept as data beside the instruments (`instruments/alert-rules/<instrument>/<version>.json`),
//! evaluated on every content a patient's app had acknowledged.
//!
//! A rule on a report's own answers fires when the process function stores it, in the same transaction; a rule
//! comparing with the previous report fires from the patient's timeline, in completion order ([`crate::timeline`]).
//! Either way an alert's id is derived from its clinical event and rule ([`Report::alert_id`]), so it is raised once.
//!
//! - [`rules`]: the rule file format and the embedded rule book;
//! - [`check`]: what every rule set must satisfy against the catalogue (run by `make test`);
//! - [`evaluate`]: which rules a report meets, by itself or against the report before it;
//! - [`report`]: what the rules judge (a stored submission, a repeat, a conflicting resend) and its event;
//! - [`resent`]: the conflicting resends a correction's alerts are weighed against.

pub mod check;
pub mod evaluate;
pub mod report;
pub mod resent;
pub mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::instrument::{Catalogue, Instrument};

pub use evaluate::{Answered, met, worsened};
pub use report::{Origin, Report, alert_id};
pub use resent::Resent;
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

/// The rule book with the catalogue its conditions read (a choice's ordinal value, an item's bounds).
#[derive(Debug, Clone, Copy)]
pub struct Alerting {
    /// Every published rule set.
    pub book: &'static RuleBook,
    /// Every published instrument version.
    pub catalogue: &'static Catalogue,
}

impl Alerting {
    /// The rules and catalogue this build embeds (each questionnaire parsed when first used). An error stops a
    /// function at start; `make test` rules it out.
    pub fn embedded() -> Result<Alerting, String> {
        Ok(Alerting {
            book: RuleBook::embedded()?,
            catalogue: Catalogue::embedded(),
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

    /// The rules for `report`'s instrument version, with its answers as they read them; `None` when no rule set is
    /// written for that version (or the report names none: an envelope from before instruments).
    pub fn judging<'a>(&self, report: &'a Report) -> Option<(&'static RuleSet, Answered<'a>)> {
        let submission = &report.submission;
        let version = submission.survey_version.as_deref()?;
        let (set, instrument) = self.rules_for(&submission.survey_id, version)?;
        let answered = Answered {
            instrument,
            answers: &submission.answers,
            scores: &report.scores,
        };
        Some((set, answered))
    }
}
