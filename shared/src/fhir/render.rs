//! A stored submission rendered as a FHIR R4 `QuestionnaireResponse`: the items nested as the questionnaire version
//! it was filled in on nests them, codings with their system and display, numbers typed as their items are.

use serde_json::{Map, Value, json};

use super::{IDENTIFIER_SYSTEM, TIMEPOINT_EXTENSION, TRIAL_EXTENSION};
use crate::instrument::Catalogue;
use crate::instrument::definition::Item;
use crate::submission::{Answer, Submission};

/// The `QuestionnaireResponse` of a judged submission (its `survey_version` set), or `None` when the catalogue
/// lacks that version (it never does: published versions are never removed).
pub fn questionnaire_response(catalogue: &Catalogue, submission: &Submission) -> Option<Value> {
    let instrument = catalogue
        .get(&submission.survey_id, submission.survey_version.as_deref())
        .ok()?;
    let base = catalogue.base();
    Some(json!({
        "resourceType": "QuestionnaireResponse",
        "identifier": {
            "system": IDENTIFIER_SYSTEM,
            "value": format!("urn:uuid:{}", submission.submission_id),
        },
        "questionnaire": instrument.canonical(),
        "status": "completed",
        "subject": { "reference": format!("Patient/{}", submission.patient_id) },
        // Stored before the intake asked for FHIR's spelling, a time may use `t` and `z`: the same instant.
        "authored": submission.completed_at.to_ascii_uppercase(),
        "extension": [
            { "url": format!("{base}{TRIAL_EXTENSION}"), "valueString": submission.trial_id },
            { "url": format!("{base}{TIMEPOINT_EXTENSION}"), "valueString": submission.timepoint },
        ],
        "item": items(&instrument.questionnaire().item, submission),
    }))
}

/// The answered items among `items`, groups kept when any of their items is answered.
fn items(items: &[Item], submission: &Submission) -> Vec<Value> {
    items
        .iter()
        .filter_map(|item| {
            let mut rendered = Map::new();
            rendered.insert("linkId".into(), json!(item.link_id));
            if !item.text.is_empty() {
                rendered.insert("text".into(), json!(item.text));
            }
            if item.item_type == "group" {
                let children = self::items(&item.item, submission);
                if children.is_empty() {
                    return None;
                }
                rendered.insert("item".into(), Value::Array(children));
            } else {
                let answer = submission.answers.get(&item.link_id)?;
                let answers = answers(item, answer);
                if answers.is_empty() {
                    return None;
                }
                rendered.insert("answer".into(), Value::Array(answers));
            }
            Some(Value::Object(rendered))
        })
        .collect()
}

fn answers(item: &Item, answer: &Answer) -> Vec<Value> {
    let one = |value: Value| json!({ value_key(item, &value): value });
    match answer {
        Answer::Choices(choices) => choices.iter().filter_map(|c| text(item, c)).collect(),
        Answer::Text(choice) => text(item, choice).into_iter().collect(),
        Answer::Flag(flag) => vec![one(json!(flag))],
        Answer::Number(number) => vec![one(Value::Number(number.clone()))],
    }
}

/// A text answer: a `valueCoding` for a choice item (its option's coding), a `valueString` otherwise. An empty or
/// blank text (stored before the intake refused them) is no FHIR string: it is left out.
fn text(item: &Item, text: &str) -> Option<Value> {
    match item
        .option(text)
        .and_then(|option| option.value_coding.as_ref())
    {
        Some(coding) if item.item_type == "choice" => Some(json!({ "valueCoding": {
            "system": coding.system, "code": coding.code, "display": coding.display
        }})),
        _ if text.trim().is_empty() => None,
        _ => Some(json!({ "valueString": text })),
    }
}

fn value_key(item: &Item, value: &Value) -> &'static str {
    match (item.item_type.as_str(), value) {
        (_, Value::Bool(_)) => "valueBoolean",
        ("integer", _) => "valueInteger",
        _ => "valueDecimal",
    }
}
