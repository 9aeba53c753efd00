//! What every rule set must satisfy, against the catalogue it reads, so that evaluating rules never meets a
//! surprise and no rule is silently unable to fire: `make test` runs it.

use std::collections::BTreeSet;

use super::rules::{Condition, RuleBook, RuleSet, Subject, Test};
use crate::instrument::{Catalogue, Instrument};

/// The longest label: it travels in e-mail subjects and SMS.
pub const MAX_LABEL_CHARS: usize = 120;

/// Every problem of the rule book, each naming its file (and rule).
pub fn rule_book(book: &RuleBook, catalogue: &Catalogue) -> Vec<String> {
    let mut problems = Vec::new();
    for set in book.all() {
        for problem in rule_set(set, catalogue) {
            problems.push(format!("{}: {problem}", set.path));
        }
    }
    problems
}

/// Every problem of one rule set.
pub fn rule_set(set: &RuleSet, catalogue: &Catalogue) -> Vec<String> {
    let mut problems = Vec::new();
    let expected = format!(
        "{}{}/{}.json",
        super::rules::RULES_DIR,
        set.instrument,
        set.version
    );
    if set.path != expected {
        problems.push(format!("must be stored as {expected}"));
    }
    if !set.version.parse::<u32>().is_ok_and(|v| v > 0) || set.version.starts_with('0') {
        problems.push("version must be a whole number from 1, without leading zeros".into());
    }
    if set.applies_to.is_empty() {
        problems.push("appliesTo must name at least one instrument version".into());
    }
    if set.rules.is_empty() {
        problems.push("a rule set has at least one rule".into());
    }
    let mut ids = BTreeSet::new();
    for rule in &set.rules {
        let id_ok = !rule.id.is_empty()
            && rule.id.len() <= 64
            && rule
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            problems.push(format!(
                "rule id {:?} must be 1-64 characters of [a-z0-9-]",
                rule.id
            ));
        }
        if !ids.insert(&rule.id) {
            problems.push(format!("rule id {} is used twice", rule.id));
        }
        let label = rule.label.trim();
        if label.is_empty() || rule.label.chars().count() > MAX_LABEL_CHARS || label != rule.label {
            problems.push(format!(
                "{}: label must be 1-{MAX_LABEL_CHARS} characters, trimmed",
                rule.id
            ));
        }
    }
    for version in &set.applies_to {
        let Ok(instrument) = catalogue.get(&set.instrument, Some(version)) else {
            problems.push(format!(
                "applies to {} version {version}, which the catalogue lacks",
                set.instrument
            ));
            continue;
        };
        for rule in &set.rules {
            if let Some(problem) = condition(&rule.when, instrument) {
                problems.push(format!("{} (on version {version}): {problem}", rule.id));
            }
        }
    }
    problems
}

/// Why `condition` cannot be evaluated on `instrument`, or can never hold.
fn condition(condition: &Condition, instrument: &Instrument) -> Option<String> {
    match (&condition.subject, &condition.test) {
        (Subject::Score(name), test) => {
            if !instrument.scores().iter().any(|s| &s.name == name) {
                return Some(format!("score {name} is not declared"));
            }
            match test {
                Test::AnyOf(_) => Some("anyOf tests an item's options, not a score".into()),
                Test::WorsenedBy(step) if *step <= 0.0 => Some("worsenedBy must be above 0".into()),
                _ => None,
            }
        }
        (Subject::Item(link_id), test) => {
            let Some(item) = instrument.item(link_id) else {
                return Some(format!("item {link_id} does not exist"));
            };
            let ordinals: Vec<f64> = item
                .answer_option
                .iter()
                .filter_map(|o| o.ordinal())
                .collect();
            let (low, high) = match item.item_type.as_str() {
                "integer" | "decimal" => (item.min_value(), item.max_value()),
                "choice" if ordinals.len() == item.answer_option.len() && !ordinals.is_empty() => (
                    ordinals.iter().copied().reduce(f64::min),
                    ordinals.iter().copied().reduce(f64::max),
                ),
                "choice" => (None, None),
                other => {
                    return Some(format!(
                        "item {link_id} is a {other} item, which no rule can test"
                    ));
                }
            };
            let numeric = item.item_type != "choice" || low.is_some();
            match test {
                Test::AnyOf(codes) => {
                    if item.item_type != "choice" {
                        return Some(format!("anyOf needs a choice item; {link_id} is not"));
                    }
                    if codes.is_empty() {
                        return Some("anyOf names no option".into());
                    }
                    codes
                        .iter()
                        .find(|code| item.option(code).is_none())
                        .map(|code| format!("{code} is not an option of {link_id}"))
                }
                _ if !numeric => Some(format!(
                    "{link_id}'s options have no ordinal values to compare"
                )),
                Test::AtLeast(bound) if high.is_some_and(|high| *bound > high) => Some(format!(
                    "can never fire: {link_id} is at most {}",
                    high.unwrap_or_default()
                )),
                Test::AtMost(bound) if low.is_some_and(|low| *bound < low) => Some(format!(
                    "can never fire: {link_id} is at least {}",
                    low.unwrap_or_default()
                )),
                Test::WorsenedBy(step) if *step <= 0.0 => Some("worsenedBy must be above 0".into()),
                _ => None,
            }
        }
    }
}
