//! `enableWhen`: whether an item is shown, and so may (or, when required, must) be answered.
//!
//! The rule implemented (FHIR R4): each condition compares the answer of an earlier question with a value. A
//! question without an answer makes `exists = false` true and every other condition false. A question with several
//! answers meets a condition when any of its answers does. With several conditions, `enableBehavior` says whether
//! `all` or `any` must hold. An item inside a disabled group is disabled too.

use std::collections::BTreeMap;

use super::catalogue::Instrument;
use super::definition::{EnableWhen, Item};
use crate::submission::Answer;

/// Whether item `link_id` is shown for `answers`: its own conditions hold, and its groups' too.
pub fn is_enabled(
    instrument: &Instrument,
    link_id: &str,
    answers: &BTreeMap<String, Answer>,
) -> bool {
    fn find(
        items: &[Item],
        link_id: &str,
        instrument: &Instrument,
        answers: &BTreeMap<String, Answer>,
    ) -> Option<bool> {
        items.iter().find_map(|item| {
            let shown = conditions_hold(item, instrument, answers);
            if item.link_id == link_id {
                return Some(shown);
            }
            find(&item.item, link_id, instrument, answers).map(|inner| shown && inner)
        })
    }
    find(
        &instrument.questionnaire().item,
        link_id,
        instrument,
        answers,
    )
    .unwrap_or(false)
}

/// Whether `item`'s own conditions hold for `answers` (its parents are the caller's business).
pub fn conditions_hold(
    item: &Item,
    instrument: &Instrument,
    answers: &BTreeMap<String, Answer>,
) -> bool {
    if item.enable_when.is_empty() {
        return true;
    }
    let mut results = item.enable_when.iter().map(|condition| {
        let question = instrument.item(&condition.question);
        holds(condition, question, answers.get(&condition.question))
    });
    match item.enable_behavior.as_deref() {
        Some("any") => results.any(|held| held),
        _ => results.all(|held| held),
    }
}

/// One condition, for the question's answer (if any).
pub fn holds(condition: &EnableWhen, question: Option<&Item>, answer: Option<&Answer>) -> bool {
    let Some(answer) = answer else {
        return condition.operator == "exists" && condition.answer_boolean == Some(false);
    };
    if condition.operator == "exists" {
        return condition.answer_boolean == Some(true);
    }
    let values: Vec<Value> = match answer {
        Answer::Number(number) => number.as_f64().map(Value::Number).into_iter().collect(),
        Answer::Flag(flag) => vec![Value::Flag(*flag)],
        Answer::Text(text) => vec![Value::Text(text)],
        Answer::Choices(choices) => choices.iter().map(|c| Value::Text(c)).collect(),
    };
    values
        .into_iter()
        .any(|value| compare(condition, question, value))
}

/// An answer, as a condition compares it.
enum Value<'a> {
    Number(f64),
    Flag(bool),
    Text(&'a str),
}

fn compare(condition: &EnableWhen, question: Option<&Item>, value: Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match value {
        Value::Flag(flag) => condition.answer_boolean.map(|wanted| flag.cmp(&wanted)),
        Value::Number(number) => condition
            .answer_decimal
            .or(condition.answer_integer.map(|n| n as f64))
            .and_then(|wanted| number.partial_cmp(&wanted)),
        // A choice answer is a code; it matches the coding when the option with that code is that coding. Codes
        // have no order: only `=` and `!=` apply (the catalogue check allows no other operator on a choice).
        Value::Text(code) if condition.answer_coding.is_some() => {
            let equal = condition.answer_coding.as_ref().is_some_and(|coding| {
                let system = question
                    .and_then(|item| item.option(code))
                    .and_then(|option| option.value_coding.as_ref())
                    .map(|option| option.system.as_str());
                coding.code == code && (coding.system.is_empty() || system == Some(&coding.system))
            });
            return match condition.operator.as_str() {
                "=" => equal,
                "!=" => !equal,
                _ => false,
            };
        }
        Value::Text(text) => condition
            .answer_string
            .as_deref()
            .map(|wanted| text.cmp(wanted)),
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match condition.operator.as_str() {
        "=" => ordering == Ordering::Equal,
        "!=" => ordering != Ordering::Equal,
        ">" => ordering == Ordering::Greater,
        "<" => ordering == Ordering::Less,
        ">=" => ordering != Ordering::Less,
        "<=" => ordering != Ordering::Greater,
        _ => false,
    }
}
