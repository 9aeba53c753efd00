//! Answers checked against the exact instrument version the patient filled in. Every problem is reported with its
//! item (`answers.<linkId>`), and no text quotes an answer.

use std::collections::BTreeMap;

use serde_json::Number;

use super::catalogue::Instrument;
use super::definition::Item;
use super::enable;
use crate::submission::{Answer, FieldProblem};

/// Every problem of `answers` against `instrument`, in the questionnaire's order (unknown items last).
pub fn problems(instrument: &Instrument, answers: &BTreeMap<String, Answer>) -> Vec<FieldProblem> {
    let questionnaire = instrument.questionnaire();
    let mut found = Vec::new();
    walk(&questionnaire.item, true, instrument, answers, &mut found);
    for key in answers.keys() {
        let problem = match instrument.item(key) {
            None => format!(
                "is not an item of {} version {}",
                questionnaire.id, questionnaire.version
            ),
            Some(item) if !item.is_question() => {
                format!("is a {} item and takes no answer", item.item_type)
            }
            Some(_) => continue,
        };
        found.push(at(key, problem));
    }
    found
}

fn at(link_id: &str, problem: impl Into<String>) -> FieldProblem {
    FieldProblem::new(format!("answers.{link_id}"), problem)
}

/// Checks `items` (and their children), `shown` when every enclosing group is enabled.
fn walk(
    items: &[Item],
    shown: bool,
    instrument: &Instrument,
    answers: &BTreeMap<String, Answer>,
    found: &mut Vec<FieldProblem>,
) {
    for item in items {
        let enabled = shown && enable::conditions_hold(item, instrument, answers);
        if item.is_question() {
            match (answers.get(&item.link_id), enabled) {
                (Some(_), false) => found.push(at(&item.link_id, disabled_because(item))),
                (None, true) if item.is_required() => found.push(at(&item.link_id, "is required")),
                (Some(answer), true) => check_answer(item, answer, found),
                (None, _) => {}
            }
        }
        walk(&item.item, enabled, instrument, answers, found);
    }
}

/// Why an item may not be answered, naming its conditions (link ids and definitional values, never answers).
fn disabled_because(item: &Item) -> String {
    if item.enable_when.is_empty() {
        return "must not be answered: its group is not shown for these answers".into();
    }
    let conditions: Vec<String> = item
        .enable_when
        .iter()
        .map(|condition| {
            let value = condition
                .answer_boolean
                .map(|b| b.to_string())
                .or(condition.answer_integer.map(|n| n.to_string()))
                .or(condition.answer_decimal.map(|n| n.to_string()))
                .or(condition.answer_string.clone())
                .or(condition.answer_coding.as_ref().map(|c| c.code.clone()))
                .unwrap_or_default();
            format!("{} {} {value}", condition.question, condition.operator)
        })
        .collect();
    let joiner = match item.enable_behavior.as_deref() {
        Some("any") => " or ",
        _ => " and ",
    };
    format!(
        "must not be answered: it is shown only when {}",
        conditions.join(joiner)
    )
}

fn check_answer(item: &Item, answer: &Answer, found: &mut Vec<FieldProblem>) {
    let report =
        |found: &mut Vec<FieldProblem>, problem: String| found.push(at(&item.link_id, problem));
    match (answer, item.is_repeating()) {
        (Answer::Choices(_), false) => {
            return report(found, "takes one answer, not several".into());
        }
        (Answer::Choices(values), true) if values.is_empty() => {
            return report(
                found,
                "must hold at least one answer (leave the item out when it is not answered)".into(),
            );
        }
        (Answer::Choices(values), true) => {
            for (index, value) in values.iter().enumerate() {
                if let Some(problem) = text_problem(item, value) {
                    found.push(at(&format!("{}[{index}]", item.link_id), problem));
                }
            }
            // Choosing an option twice means nothing; two identical diary entries can be two events.
            let mut distinct = values.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if item.item_type == "choice" && distinct.len() != values.len() {
                report(found, "gives the same answer twice".into());
            }
            // "No problems" beside a problem contradicts itself: an exclusive option stands alone.
            let exclusive = values
                .iter()
                .find(|code| item.option(code).is_some_and(|o| o.is_exclusive()));
            if let (Some(code), 2..) = (exclusive, distinct.len()) {
                report(found, format!("{code} excludes every other answer"));
            }
            return;
        }
        (_, true) => {
            return report(
                found,
                "must be a list of answers (the item allows several)".into(),
            );
        }
        _ => {}
    }
    if let Some(problem) = scalar_problem(item, answer) {
        report(found, problem);
    }
}

/// The problem with one answer to a non-repeating item, if any.
fn scalar_problem(item: &Item, answer: &Answer) -> Option<String> {
    match (item.item_type.as_str(), answer) {
        ("boolean", Answer::Flag(_)) => None,
        ("boolean", _) => Some("must be true or false".into()),
        ("integer", Answer::Number(number)) if is_whole(number) => range_problem(item, number),
        ("integer", _) => Some("must be a whole number".into()),
        ("decimal", Answer::Number(number)) => range_problem(item, number),
        ("decimal", _) => Some("must be a number".into()),
        ("string" | "text" | "choice", Answer::Text(text)) => text_problem(item, text),
        ("string" | "text", _) => Some("must be text".into()),
        ("choice", _) => Some(options_text(item)),
        (other, _) => Some(format!(
            "has type {other}, which the intake does not accept"
        )),
    }
}

/// The problem with one text or code answer, if any.
fn text_problem(item: &Item, text: &str) -> Option<String> {
    if item.item_type == "choice" {
        return item.option(text).is_none().then(|| options_text(item));
    }
    if text.trim().is_empty() {
        return Some(
            "must hold a non-whitespace character (leave the item out when it is not answered)"
                .into(),
        );
    }
    let limit = item.max_length?;
    (text.chars().count() > limit).then(|| format!("must be at most {limit} characters"))
}

fn options_text(item: &Item) -> String {
    let codes: Vec<&str> = item
        .answer_option
        .iter()
        .filter_map(|option| option.code())
        .collect();
    format!("must be one of the item's options: {}", codes.join(", "))
}

fn is_whole(number: &Number) -> bool {
    number.is_i64() || number.is_u64()
}

fn range_problem(item: &Item, number: &Number) -> Option<String> {
    let value = number.as_f64()?;
    let (min, max) = (item.min_value(), item.max_value());
    let below = min.is_some_and(|min| value < min);
    let above = max.is_some_and(|max| value > max);
    (below || above).then(|| match (min, max) {
        (Some(min), Some(max)) => format!("must be from {min} to {max}"),
        (Some(min), None) => format!("must be at least {min}"),
        (None, _) => format!("must be at most {}", max.unwrap_or_default()),
    })
}

#[cfg(test)]
mod tests;
