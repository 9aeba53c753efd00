//! What every definition in the catalogue must satisfy, so that judging a submission never meets a surprise: unique
//! link ids that are valid answer keys, supported item types, options that match their item, `enableWhen` targets
//! that exist and come first, bounds that make sense, and scores over real, scorable items. `make test` runs it.

use std::collections::{BTreeMap, BTreeSet};

use super::catalogue::{Catalogue, Instrument};
use super::definition::{EnableWhen, Extension, Item, OPTION_EXCLUSIVE, Questionnaire, find};
use crate::submission::{MAX_ANSWERS, MAX_ID_CHARS, MAX_TEXT_CHARS};

/// The item types the intake judges.
pub const ITEM_TYPES: [&str; 8] = [
    "group", "display", "boolean", "decimal", "integer", "string", "text", "choice",
];
const OPERATORS: [&str; 7] = ["exists", "=", "!=", ">", "<", ">=", "<="];

/// Every problem of the catalogue, each naming its file (and item).
pub fn catalogue(catalogue: &Catalogue) -> Vec<String> {
    let mut problems = Vec::new();
    let base = catalogue.base();
    for instrument in catalogue.all() {
        let mut report = |problem: String| problems.push(format!("{}: {problem}", instrument.path));
        for problem in questionnaire(instrument) {
            report(problem);
        }
        if instrument.questionnaire().base() != Some(base) {
            report(format!("url must start with the catalogue's base {base}"));
        }
    }
    for id in catalogue.ids() {
        let versions = catalogue.versions(id);
        if !versions
            .iter()
            .any(|i| i.questionnaire().status == "active")
        {
            problems.push(format!(
                "{id}: no version is active, so none can be answered"
            ));
        }
        // A submission naming no version is judged against the version in effect when it was completed: a later
        // version must take effect after an earlier one did, or which is in effect would depend on file order.
        let mut since = None;
        for instrument in versions {
            match (since, instrument.effective_from()) {
                (Some(earlier), Some(from)) if from <= earlier => problems.push(format!(
                    "{}: effectivePeriod.start must come after the previous version's",
                    instrument.path
                )),
                (Some(_), None) => problems.push(format!(
                    "{}: effectivePeriod.start is required once an earlier version has one",
                    instrument.path
                )),
                _ => {}
            }
            since = instrument.effective_from().or(since);
        }
    }
    problems
}

/// Every problem of one published version.
pub fn questionnaire(instrument: &Instrument) -> Vec<String> {
    let q = instrument.questionnaire();
    let mut problems = Vec::new();
    let expected_path = format!("questionnaires/{}/{}.json", q.id, q.version);
    if instrument.path != expected_path {
        problems.push(format!("must be stored as {expected_path}"));
    }
    if q.resource_type != "Questionnaire" {
        problems.push("resourceType must be Questionnaire".into());
    }
    if !is_id(&q.id) {
        problems.push("id must be 1-64 characters of [A-Za-z0-9._:-]".into());
    }
    if !q.version.parse::<u32>().is_ok_and(|v| v > 0) || q.version.starts_with('0') {
        problems.push("version must be a whole number from 1, without leading zeros".into());
    }
    if !matches!(q.status.as_str(), "active" | "retired") {
        problems
            .push("status must be active or retired: a published version is never a draft".into());
    }
    let start = q.effective_period.as_ref().and_then(|p| p.start.as_deref());
    if start.is_some() && instrument.effective_from().is_none() {
        problems.push("effectivePeriod.start must be an RFC 3339 date-time with its offset".into());
    }
    if q.base().is_none() {
        problems.push("url must be <base>/Questionnaire/<id>".into());
    }
    let items = q.items();
    let mut seen = BTreeSet::new();
    for item in &items {
        if !seen.insert(item.link_id.as_str()) {
            problems.push(format!("linkId {} is used twice", item.link_id));
        }
    }
    let questions = items.iter().filter(|item| item.is_question()).count();
    if questions > MAX_ANSWERS {
        problems.push(format!(
            "has {questions} questions; a submission holds at most {MAX_ANSWERS}"
        ));
    }
    let order: BTreeMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(index, item)| (item.link_id.as_str(), index))
        .collect();
    for (index, item) in items.iter().enumerate() {
        for problem in item_problems(item, index, &order, &items) {
            problems.push(format!("item {}: {problem}", item.link_id));
        }
    }
    problems.extend(score_problems(instrument));
    problems
}

pub(crate) fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.chars().count() <= MAX_ID_CHARS
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

fn item_problems(
    item: &Item,
    index: usize,
    order: &BTreeMap<&str, usize>,
    items: &[&Item],
) -> Vec<String> {
    let mut problems = Vec::new();
    let kind = item.item_type.as_str();
    let mut fail = |problem: &str| problems.push(problem.to_owned());
    if !is_id(&item.link_id) {
        fail("linkId must be 1-64 characters of [A-Za-z0-9._:-] (it is the answer's key)");
    }
    if !ITEM_TYPES.contains(&kind) {
        fail("type must be one of group, display, boolean, decimal, integer, string, text, choice");
    }
    if item.is_question() && (item.required.is_none() || item.repeats.is_none()) {
        fail("a question must declare required and repeats");
    }
    if !item.is_question() && (item.is_required() || item.is_repeating()) {
        fail("a group or display item is neither required nor repeating");
    }
    if kind == "group" && item.item.is_empty() {
        fail("a group must have items");
    }
    if kind != "group" && !item.item.is_empty() {
        fail("only a group has items");
    }
    if item.is_repeating() && !matches!(kind, "choice" | "string" | "text") {
        fail("only choice and text items may repeat (a list answer holds text)");
    }
    match (kind == "choice", item.answer_option.is_empty()) {
        (true, true) => fail("a choice item needs answerOption"),
        (false, false) => fail("only a choice item has answerOption"),
        _ => {}
    }
    let codes: Vec<&str> = item.answer_option.iter().filter_map(|o| o.code()).collect();
    if codes.len() != item.answer_option.len() {
        fail("every answerOption of a choice item is a valueCoding");
    }
    if codes.iter().collect::<BTreeSet<_>>().len() != codes.len() {
        fail("answerOption codes must be unique");
    }
    if codes
        .iter()
        .any(|code| code.is_empty() || code.chars().count() > MAX_TEXT_CHARS)
    {
        fail("an answerOption code must be 1-2000 characters");
    }
    let exclusive: Vec<&Extension> = item
        .answer_option
        .iter()
        .filter_map(|option| find(&option.extension, OPTION_EXCLUSIVE))
        .collect();
    if exclusive.iter().any(|e| e.value_boolean.is_none()) {
        fail("optionExclusive is a valueBoolean");
    }
    let can_exclude = kind == "choice" && item.is_repeating();
    if !exclusive.is_empty() && !can_exclude {
        fail("only an option of a repeating choice item can be exclusive");
    }
    match item.max_length {
        Some(_) if !matches!(kind, "string" | "text") => fail("only a text item has maxLength"),
        Some(limit) if limit == 0 || limit > MAX_TEXT_CHARS => {
            fail("maxLength must be from 1 to 2000 (the contract's longest text)")
        }
        _ => {}
    }
    let (min, max) = (item.min_value(), item.max_value());
    if (min.is_some() || max.is_some()) && !matches!(kind, "integer" | "decimal") {
        fail("only a number item has minValue or maxValue");
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        fail("minValue is above maxValue");
    }
    if kind == "integer" && [min, max].into_iter().flatten().any(|b| b.fract() != 0.0) {
        fail("the bounds of a whole-number item are whole numbers");
    }
    for condition in &item.enable_when {
        if let Some(problem) = condition_problem(condition, index, order, items) {
            problems.push(format!("enableWhen on {}: {problem}", condition.question));
        }
    }
    match (item.enable_when.len(), item.enable_behavior.as_deref()) {
        (0 | 1, None) | (2.., Some("all" | "any")) => {}
        (0 | 1, Some(_)) => problems.push("enableBehavior without several enableWhen".into()),
        (2.., _) => problems.push("several enableWhen need enableBehavior all or any".into()),
    }
    problems
}

fn condition_problem(
    condition: &EnableWhen,
    index: usize,
    order: &BTreeMap<&str, usize>,
    items: &[&Item],
) -> Option<String> {
    let Some(&position) = order.get(condition.question.as_str()) else {
        return Some("no item has this linkId".into());
    };
    if position >= index {
        return Some("the question must come before the item it enables".into());
    }
    let question = items[position];
    if !question.is_question() {
        return Some("the question must be a question, not a group or display".into());
    }
    if !OPERATORS.contains(&condition.operator.as_str()) {
        return Some("operator must be exists, =, !=, >, <, >= or <=".into());
    }
    if condition.answer_values() != 1 {
        return Some("give exactly one answer[x]".into());
    }
    if condition.operator == "exists" {
        return condition
            .answer_boolean
            .is_none()
            .then(|| "exists compares with answerBoolean".into());
    }
    let ordered = matches!(condition.operator.as_str(), ">" | "<" | ">=" | "<=");
    let matches_type = match question.item_type.as_str() {
        "boolean" => condition.answer_boolean.is_some() && !ordered,
        "integer" => condition.answer_integer.is_some(),
        "decimal" => condition.answer_decimal.is_some() || condition.answer_integer.is_some(),
        "string" | "text" => condition.answer_string.is_some(),
        "choice" => {
            let known = condition
                .answer_coding
                .as_ref()
                .and_then(|coding| question.option(&coding.code))
                .is_some();
            known && !ordered
        }
        _ => false,
    };
    (!matches_type).then(|| {
        format!(
            "the answer[x] and operator must suit a {} question (a choice compares with one of its options, by = or !=)",
            question.item_type
        )
    })
}

fn score_problems(instrument: &Instrument) -> Vec<String> {
    let q: &Questionnaire = instrument.questionnaire();
    let items = q.items();
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for score in instrument.scores() {
        let mut fail = |problem: String| problems.push(format!("score {}: {problem}", score.name));
        if !names.insert(score.name.as_str()) || !is_id(&score.name) {
            fail("the name must be unique and 1-64 characters of [A-Za-z0-9._:-]".into());
        }
        if score.method != "sum" {
            fail("method must be sum".into());
        }
        if score.items.is_empty() {
            fail("sums no item".into());
        }
        for link_id in &score.items {
            match items.iter().find(|item| &item.link_id == link_id) {
                None => fail(format!("item {link_id} does not exist")),
                Some(item) if item.is_repeating() => fail(format!("item {link_id} repeats")),
                Some(item) if item.item_type == "choice" => {
                    if item.answer_option.iter().any(|o| o.ordinal().is_none()) {
                        fail(format!("an option of item {link_id} has no ordinalValue"));
                    }
                }
                Some(item) if matches!(item.item_type.as_str(), "integer" | "decimal") => {}
                Some(_) => fail(format!("item {link_id} is neither a choice nor a number")),
            }
        }
        let mut bands: Vec<_> = score.bands.iter().collect();
        bands.sort_by(|a, b| a.from.total_cmp(&b.from));
        if bands.iter().any(|band| band.from > band.to) {
            fail("a band ends before it starts".into());
        }
        if bands.windows(2).any(|pair| pair[0].to >= pair[1].from) {
            fail("bands overlap".into());
        }
    }
    problems
}
