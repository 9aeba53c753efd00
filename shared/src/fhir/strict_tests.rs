//! Strict where meaning could change: what the FHIR route refuses because it does not understand it, at any depth —
//! a modifier extension, an extension, a primitive's extension, an unknown element, a `value[x]` of another type than
//! the item's, an item outside the group the questionnaire nests it in, an empty text — each at its element.

use serde_json::{Value, json};

use super::tests::{accept_fhir, only_issue, postop_with, response};
use crate::instrument::{Catalogue, judge};
use crate::testing::example::example;

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

const Q: &str = "QuestionnaireResponse";

fn refused(name: &str, value: Value, code: &str, expression: &str) {
    assert_eq!(
        only_issue(&value),
        (422, code.to_owned(), expression.to_owned()),
        "{name}"
    );
}

#[test]
fn a_modifier_extension_at_any_depth_is_refused_not_dropped() {
    let entered_in_error =
        json!([{"url": "http://example.org/fhir/entered-in-error", "valueBoolean": true}]);
    for (name, value, at) in [
        (
            "on an item",
            postop_with(|v| v["item"][0]["modifierExtension"] = entered_in_error.clone()),
            format!("{Q}.item[0].modifierExtension"),
        ),
        (
            "on an answer",
            postop_with(|v| {
                v["item"][0]["answer"][0]["modifierExtension"] = entered_in_error.clone()
            }),
            format!("{Q}.item[0].answer[0].modifierExtension"),
        ),
        (
            "on an item in a group",
            postop_with(|v| {
                v["item"][1]["item"][0]["modifierExtension"] = entered_in_error.clone()
            }),
            format!("{Q}.item[1].item[0].modifierExtension"),
        ),
        (
            "on the response",
            postop_with(|v| v["modifierExtension"] = entered_in_error.clone()),
            format!("{Q}.modifierExtension"),
        ),
    ] {
        refused(name, value, "not-supported", &at);
    }
}

#[test]
fn extensions_and_elements_the_intake_does_not_understand_are_refused_where_they_are() {
    let unknown = json!([{"url": "http://example.org/fhir/device", "valueString": "phone"}]);
    for (name, value, at) in [
        (
            "an extension on an item",
            postop_with(|v| v["item"][0]["extension"] = unknown.clone()),
            format!("{Q}.item[0].extension"),
        ),
        (
            "an extension on an answer",
            postop_with(|v| v["item"][0]["answer"][0]["extension"] = unknown.clone()),
            format!("{Q}.item[0].answer[0].extension"),
        ),
        (
            "an extension on a primitive value",
            postop_with(|v| {
                v["item"][3]["answer"][0]["_valueString"] = json!({"extension": unknown.clone()})
            }),
            format!("{Q}.item[3].answer[0]._valueString"),
        ),
        (
            "an element no item has",
            postop_with(|v| v["item"][0]["weight"] = json!(3)),
            format!("{Q}.item[0].weight"),
        ),
        (
            "an item's definition",
            postop_with(|v| v["item"][0]["definition"] = json!("http://example.org/temperature")),
            format!("{Q}.item[0].definition"),
        ),
        (
            "an element in the trial extension",
            postop_with(|v| v["extension"][0]["valueCode"] = json!("x")),
            format!("{Q}.extension[0].valueCode"),
        ),
        (
            "a display name on the subject",
            postop_with(|v| v["subject"]["display"] = json!("Jane Doe")),
            format!("{Q}.subject.display"),
        ),
    ] {
        refused(name, value, "not-supported", &at);
    }
    // What changes nothing is accepted: the question's text as shown, and element ids.
    let shown = postop_with(|v| {
        v["item"][0]["text"] = json!("Temperature (°C)");
        v["item"][0]["id"] = json!("i0");
        v["item"][0]["answer"][0]["id"] = json!("a0");
    });
    assert!(accept_fhir(&shown).is_ok());
}

#[test]
fn an_answer_must_use_the_value_type_of_its_item() {
    for (name, value, at) in [
        (
            "text for a choice",
            postop_with(|v| {
                v["item"][1]["item"][0]["answer"][0] = json!({"valueString": "redness"})
            }),
            format!("{Q}.item[1].item[0].answer[0].valueString"),
        ),
        (
            "a coding for a text item",
            postop_with(|v| {
                v["item"][3]["answer"][0] = json!({"valueCoding": {"code": "line one"}})
            }),
            format!("{Q}.item[3].answer[0].valueCoding"),
        ),
        (
            "an integer for a decimal item",
            postop_with(|v| v["item"][0]["answer"][0] = json!({"valueInteger": 38})),
            format!("{Q}.item[0].answer[0].valueInteger"),
        ),
        (
            "text for a boolean",
            postop_with(|v| v["item"][2]["item"][0]["answer"][0] = json!({"valueString": "true"})),
            format!("{Q}.item[2].item[0].answer[0].valueString"),
        ),
    ] {
        refused(name, value, "value", &at);
    }
    // A whole-number decimal is a decimal.
    let whole = postop_with(|v| v["item"][0]["answer"][0] = json!({"valueDecimal": 38}));
    assert!(accept_fhir(&whole).is_ok());
}

#[test]
fn items_sit_where_the_questionnaire_nests_them() {
    // The wound question taken out of its group, to the top level.
    let moved = postop_with(|v| {
        let wound = v["item"][1]["item"][0].clone();
        v["item"].as_array_mut().unwrap().remove(1);
        v["item"].as_array_mut().unwrap().push(wound);
    });
    refused(
        "out of its group",
        moved,
        "structure",
        &format!("{Q}.item[3]"),
    );
    // The notes question put inside the stomach group.
    let nested = postop_with(|v| {
        let notes = v["item"][3].clone();
        v["item"].as_array_mut().unwrap().remove(3);
        v["item"][2]["item"].as_array_mut().unwrap().push(notes);
    });
    refused(
        "into another group",
        nested,
        "structure",
        &format!("{Q}.item[2].item[2]"),
    );
    // A question under an answer: the catalogue nests items in groups only.
    let under_answer = postop_with(|v| {
        let notes = v["item"][3].clone();
        v["item"].as_array_mut().unwrap().remove(3);
        v["item"][0]["answer"][0]["item"] = json!([notes]);
    });
    refused(
        "under an answer",
        under_answer,
        "structure",
        &format!("{Q}.item[0].answer[0].item"),
    );
}

#[test]
fn a_text_answer_holds_a_non_whitespace_character_in_both_forms() {
    let diary = |events: Value| example().survey("ae-diary", json!({ "events": events }));
    for empty in [json!([""]), json!(["   "]), json!(["a rash", "\n\t"])] {
        let submission = diary(empty.clone()).submission();
        let problems = judge(catalogue(), submission).expect_err("an empty entry is no event");
        assert!(
            problems[0].problem.contains("non-whitespace"),
            "{problems:?}"
        );
    }
    let mut fhir = response(&diary(json!(["a rash"])));
    fhir["item"][0]["answer"][0]["valueString"] = json!("");
    let (status, code, at) = only_issue(&fhir);
    assert_eq!((status, code.as_str()), (422, "value"));
    assert!(at.starts_with(&format!("{Q}.item[0]")), "{at}");
}

#[test]
fn an_exclusive_option_stands_alone_from_the_version_that_says_so() {
    let wound = |version: &str, codes: Value| {
        example()
            .survey(
                "postop-recovery",
                json!({"temperature": 37.0, "wound": codes, "nausea": false}),
            )
            .version(version)
    };
    let both = json!(["none", "discharge"]);
    // Version 1 was published without the rule: what it accepted stays accepted.
    let v1 = wound("1", both.clone());
    assert!(judge(catalogue(), v1.submission()).is_ok());
    let v2 = wound("2", both);
    let problems =
        judge(catalogue(), v2.submission()).expect_err("none with a problem contradicts itself");
    assert_eq!(problems[0].field, "answers.wound");
    assert_eq!(problems[0].problem, "none excludes every other answer");
    assert!(judge(catalogue(), wound("2", json!(["none"])).submission()).is_ok());
}

#[test]
fn a_blank_text_stored_before_it_was_refused_is_never_rendered_as_an_empty_fhir_string() {
    // Stored when the intake still took [""]: the diary's entries, one of them blank.
    let mut submission = example()
        .survey("ae-diary", json!({ "events": ["a rash"], "notes": "é" }))
        .judged()
        .submission;
    submission.answers.insert(
        "events".into(),
        crate::submission::Answer::Choices(vec!["a rash".into(), "  ".into()]),
    );
    submission.answers.insert(
        "notes".into(),
        crate::submission::Answer::Text(String::new()),
    );
    let rendered = super::render::questionnaire_response(catalogue(), &submission).unwrap();
    let text = rendered.to_string();
    assert!(
        !text.contains(r#""valueString":"""#) && !text.contains(r#""  ""#),
        "{rendered:#}"
    );
    assert_eq!(rendered["item"][0]["answer"].as_array().unwrap().len(), 1);
    assert_eq!(
        rendered["item"].as_array().unwrap().len(),
        1,
        "the blank notes are left out"
    );
}
