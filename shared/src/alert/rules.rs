//! The rule file format, and the rule book: every published rule set, embedded at build time.
//!
//! ```json
//! { "instrument": "pain-nrs", "version": "1", "appliesTo": ["1"],
//!   "rules": [ { "id": "pain-worsening", "severity": "high",
//!                "label": "Pain worse by 2 points or more since the last report",
//!                "when": { "item": "pain", "worsenedBy": 2 } } ] }
//! ```
//!
//! A condition names one subject (`item` or `score`) and one test: `atLeast` / `atMost` a number (a choice item
//! counts its option's ordinal value), `anyOf` option codes, or `worsenedBy` N since the patient's previous
//! submission of the instrument in the trial. Like questionnaires, a published rule set never changes: a new
//! version replaces it, and the lock file keeps the old ones as they were.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::Severity;

/// Where the rule sets sit below `instruments/`.
pub const RULES_DIR: &str = "alert-rules/";

/// One version of an instrument's alert rules.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSet {
    /// The instrument the rules read.
    pub instrument: String,
    /// The rule set's version, a whole number as text.
    pub version: String,
    /// The instrument versions these rules are written for.
    pub applies_to: Vec<String>,
    /// The rules.
    pub rules: Vec<Rule>,
    /// The file's path below `instruments/`.
    #[serde(skip)]
    pub path: &'static str,
    /// The file as published.
    #[serde(skip)]
    pub source: &'static str,
}

/// One rule: when its condition holds, an alert of its severity is raised with its label.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// Unique within the rule set; stable across its versions when the meaning is the same.
    pub id: String,
    /// How fast someone must look.
    pub severity: Severity,
    /// What the study team reads: clinical words, never a patient's answer.
    pub label: String,
    /// When it fires.
    pub when: Condition,
}

/// A subject and a test, e.g. item `pain` at least 8.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ConditionFile")]
pub struct Condition {
    /// What is tested.
    pub subject: Subject,
    /// How.
    pub test: Test,
}

/// What a condition reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// An item's answer, by `linkId`.
    Item(String),
    /// A declared score, by name.
    Score(String),
}

/// How a condition judges its subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Its value is at least this.
    AtLeast(f64),
    /// Its value is at most this.
    AtMost(f64),
    /// An answer is one of these option codes.
    AnyOf(Vec<String>),
    /// Its value exceeds the previous submission's by at least this.
    WorsenedBy(f64),
}

/// A condition as written in the file: exactly one subject and exactly one test.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConditionFile {
    item: Option<String>,
    score: Option<String>,
    at_least: Option<f64>,
    at_most: Option<f64>,
    any_of: Option<Vec<String>>,
    worsened_by: Option<f64>,
}

impl TryFrom<ConditionFile> for Condition {
    type Error = String;

    fn try_from(file: ConditionFile) -> Result<Self, String> {
        let subject = match (file.item, file.score) {
            (Some(item), None) => Subject::Item(item),
            (None, Some(score)) => Subject::Score(score),
            _ => return Err("a condition names exactly one of item or score".into()),
        };
        let tests: Vec<Test> = [
            file.at_least.map(Test::AtLeast),
            file.at_most.map(Test::AtMost),
            file.any_of.map(Test::AnyOf),
            file.worsened_by.map(Test::WorsenedBy),
        ]
        .into_iter()
        .flatten()
        .collect();
        match <[Test; 1]>::try_from(tests) {
            Ok([test]) => Ok(Condition { subject, test }),
            Err(_) => {
                Err("a condition has exactly one of atLeast, atMost, anyOf or worsenedBy".into())
            }
        }
    }
}

impl RuleSet {
    /// Parses a rule file.
    pub fn parse(source: &'static str, path: &'static str) -> Result<RuleSet, String> {
        let mut set: RuleSet =
            serde_json::from_str(source).map_err(|error| format!("{path}: {error}"))?;
        set.path = path;
        set.source = source;
        Ok(set)
    }

    /// Whether a rule compares a report with the previous one: its reports then go on the patient's timeline.
    pub fn has_worsening_rules(&self) -> bool {
        self.rules
            .iter()
            .any(|rule| matches!(rule.when.test, Test::WorsenedBy(_)))
    }

    fn number(&self) -> u64 {
        self.version.parse().unwrap_or(0)
    }
}

/// Every published rule set, by instrument, oldest version first.
#[derive(Debug, Clone, Default)]
pub struct RuleBook {
    sets: BTreeMap<String, Vec<RuleSet>>,
}

static EMBEDDED: LazyLock<Result<RuleBook, String>> =
    LazyLock::new(|| RuleBook::from_files(crate::instrument::catalogue::files::FILES));

impl RuleBook {
    /// The rule book this build embeds. An error stops a function at start; `make test` checks the rules.
    pub fn embedded() -> Result<&'static RuleBook, String> {
        EMBEDDED.as_ref().map_err(Clone::clone)
    }

    /// A rule book of `(path, text)` files; only those under `alert-rules/` are rule sets.
    pub fn from_files(files: &[(&'static str, &'static str)]) -> Result<RuleBook, String> {
        let mut sets: BTreeMap<String, Vec<RuleSet>> = BTreeMap::new();
        for &(path, source) in files {
            if path.starts_with(RULES_DIR) {
                let set = RuleSet::parse(source, path)?;
                sets.entry(set.instrument.clone()).or_default().push(set);
            }
        }
        for versions in sets.values_mut() {
            versions.sort_by_key(RuleSet::number);
        }
        Ok(RuleBook { sets })
    }

    /// Every rule set.
    pub fn all(&self) -> impl Iterator<Item = &RuleSet> {
        self.sets.values().flatten()
    }

    /// The rules for a submission of `instrument` version `version`: the newest rule set written for it.
    pub fn for_version(&self, instrument: &str, version: &str) -> Option<&RuleSet> {
        self.sets
            .get(instrument)?
            .iter()
            .rev()
            .find(|set| set.applies_to.iter().any(|v| v == version))
    }
}
