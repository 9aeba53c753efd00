//! The items of a `QuestionnaireResponse` and their answers: where each item sits, which elements it may have,
//! and each answer's `value[x]` against the item's type in the questionnaire.

use serde_json::{Map, Value};

use super::{ITEM_ELEMENTS, Reader, VALUES};

impl Reader<'_> {
    /// Reads the items of `parent` (the response, or a group item whose `linkId` is `group`): each must be an item
    /// the questionnaire nests there, with only the elements the intake understands.
    pub(super) fn items(
        &mut self,
        items: Option<&Value>,
        parent: &str,
        group: Option<&str>,
        answers: &mut Map<String, Value>,
    ) {
        let Some(items) = items else { return };
        let Some(items) = items.as_array() else {
            return self.malformed(&format!("{parent}.item"), "must be a list of items");
        };
        for (index, item) in items.iter().enumerate() {
            let at = format!("{parent}.item[{index}]");
            let Some(object) = item.as_object() else {
                self.malformed(&at, "an item must be an object");
                continue;
            };
            self.elements(object, &at, &ITEM_ELEMENTS, "QuestionnaireResponse.item");
            let Some(link_id) = object.get("linkId").and_then(Value::as_str) else {
                self.malformed(&at, "an item needs a linkId");
                continue;
            };
            if answers.contains_key(link_id) || self.paths.items.contains_key(link_id) {
                self.refuse(
                    "value",
                    &at,
                    "answers an item that is answered elsewhere in this response",
                );
                continue;
            }
            self.paths.items.insert(link_id.to_owned(), at.clone());
            if let Some(instrument) = self.instrument
                && instrument.item(link_id).is_some()
            {
                let nested_in = instrument.parent_of(link_id).map(|g| g.link_id.as_str());
                if nested_in != group {
                    let place = match nested_in {
                        Some(group) => format!("inside the item of group {group}"),
                        None => "at the top level of the response".to_owned(),
                    };
                    self.refuse(
                        "structure",
                        &at,
                        format!("is not where the questionnaire puts it: it belongs {place}"),
                    );
                }
            }
            if let Some(answer) = self.answers(object.get("answer"), link_id, &at) {
                answers.insert(link_id.to_owned(), answer);
            }
            self.items(object.get("item"), &at, Some(link_id), answers);
        }
    }

    /// Refuses the elements of `object` (at `at`) the intake does not understand: a modifier extension (it could
    /// change what the element means), an extension, a primitive's extension (`_value…`), or any other element
    /// than `understood`.
    pub(super) fn elements(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        understood: &[&str],
        of: &str,
    ) {
        for key in object.keys() {
            let element = format!("{at}.{key}");
            if understood.contains(&key.as_str())
                || (key.starts_with("value") && of.ends_with("answer"))
            {
                continue;
            }
            let problem = match key.as_str() {
                "modifierExtension" => {
                    "is a modifier extension this intake does not understand: it could change what the element means"
                }
                "extension" => "is an extension this intake does not understand",
                key if key.starts_with('_') => {
                    "extends a primitive element, which this intake does not understand"
                }
                "definition" => "is valid FHIR, but this intake would not keep it",
                _ => "is not an element this intake understands",
            };
            self.refuse("not-supported", &element, format!("{problem} ({of})"));
        }
    }

    /// The answers of an item as one v1 answer: a value, or a list when several.
    fn answers(&mut self, answers: Option<&Value>, link_id: &str, at: &str) -> Option<Value> {
        let answers = answers?;
        let Some(list) = answers.as_array() else {
            self.malformed(&format!("{at}.answer"), "must be a list of answers");
            return None;
        };
        let mut values = Vec::new();
        for (index, answer) in list.iter().enumerate() {
            let answer_at = format!("{at}.answer[{index}]");
            let Some(object) = answer.as_object() else {
                self.malformed(&answer_at, "an answer must be an object");
                continue;
            };
            self.elements(
                object,
                &answer_at,
                &["id", "item"],
                "QuestionnaireResponse.item.answer",
            );
            if object.contains_key("item") {
                // The catalogue nests items in groups only: nothing belongs under an answer.
                self.refuse(
                    "structure",
                    &format!("{answer_at}.item"),
                    "is not where the questionnaire puts any item: it nests items in groups only",
                );
            }
            let given: Vec<&String> = object
                .keys()
                .filter(|key| key.starts_with("value"))
                .collect();
            let [key] = given.as_slice() else {
                self.malformed(&answer_at, "an answer has exactly one value[x]");
                continue;
            };
            if !VALUES.contains(&key.as_str()) {
                self.refuse(
                    "not-supported",
                    &format!("{answer_at}.{key}"),
                    "answer types other than boolean, decimal, integer, string and Coding are not accepted",
                );
                continue;
            }
            let Some(value) = value_of(key, &object[key.as_str()]) else {
                self.malformed(&answer_at, format!("{key} has the wrong type"));
                continue;
            };
            if let Some(expected) = self.value_key(link_id)
                && expected != key.as_str()
            {
                self.refuse(
                    "value",
                    &format!("{answer_at}.{key}"),
                    format!("must be {expected}: the item's type takes no {key}"),
                );
                continue;
            }
            if let Some(coding) = object[key.as_str()]
                .as_object()
                .filter(|_| key.as_str() == "valueCoding")
            {
                let at = format!("{answer_at}.valueCoding");
                self.elements(coding, &at, &["system", "code", "display", "id"], "Coding");
            }
            if !self.system_matches(link_id, &object[key.as_str()]) {
                self.refuse(
                    "value",
                    &format!("{answer_at}.valueCoding.system"),
                    "is not the code system of the item's options",
                );
            }
            values.push(value);
        }
        // One answer to an item that repeats is still a list: that is the item's shape in the v1 form.
        match values.len() {
            0 => None,
            1 if !self.repeats(link_id) => values.pop(),
            _ => Some(Value::Array(values)),
        }
    }
}

impl Reader<'_> {
    /// The `value[x]` an answer to `link_id` must use, by the item's type, when the questionnaire knows the item.
    fn value_key(&self, link_id: &str) -> Option<&'static str> {
        let item = self.instrument?.item(link_id)?;
        match item.item_type.as_str() {
            "boolean" => Some("valueBoolean"),
            "integer" => Some("valueInteger"),
            "decimal" => Some("valueDecimal"),
            "string" | "text" => Some("valueString"),
            "choice" => Some("valueCoding"),
            _ => None,
        }
    }

    /// Whether the questionnaire answered says `link_id` repeats.
    fn repeats(&self, link_id: &str) -> bool {
        self.instrument
            .and_then(|instrument| instrument.item(link_id))
            .is_some_and(|item| item.is_repeating())
    }

    /// A coding that names a system names its option's (codes alone are compared by the rules that follow).
    fn system_matches(&self, link_id: &str, coding: &Value) -> bool {
        let Some(system) = coding.get("system").and_then(Value::as_str) else {
            return true;
        };
        let (Some(instrument), Some(code)) =
            (self.instrument, coding.get("code").and_then(Value::as_str))
        else {
            return true;
        };
        let option = instrument
            .item(link_id)
            .and_then(|item| item.option(code))
            .and_then(|option| option.value_coding.as_ref());
        option.is_none_or(|option| option.system == system)
    }
}

/// The v1 value of one `value[x]`, or `None` when it has the wrong JSON type.
fn value_of(key: &str, value: &Value) -> Option<Value> {
    match key {
        "valueBoolean" => value.is_boolean().then(|| value.clone()),
        "valueDecimal" => value.is_number().then(|| value.clone()),
        "valueInteger" => (value.is_i64() || value.is_u64()).then(|| value.clone()),
        "valueString" => value.is_string().then(|| value.clone()),
        "valueCoding" => value.get("code").filter(|code| code.is_string()).cloned(),
        _ => None,
    }
}
