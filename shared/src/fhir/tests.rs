//! The FHIR form: a `QuestionnaireResponse` in is the same submission as its JSON twin, survives the round trip
//! through the queue and back out, and each broken rule is refused at the element that breaks it.

use serde_json::{Value, json};

use super::render::questionnaire_response;
use crate::instrument::Catalogue;
use crate::item::content_hash;
use crate::submit::{Form, SubmitError, accept};
use crate::testing::example::{self, ExampleSubmission, example};

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

/// One valid submission of each instrument, as the JSON form.
fn one_of_each() -> Vec<ExampleSubmission> {
    vec![
        example(),
        example().version("1"),
        example().survey("phq-9", example::phq9_answers("LA6570-1")),
        example().survey(
            "gad-7",
            json!({"69725-0": "LA6568-5", "68509-9": "LA6569-3", "69733-4": "LA6570-1", "69734-2": "LA6571-9",
                   "69735-9": "LA6568-5", "69689-8": "LA6568-5", "69736-7": "LA6569-3"}),
        ),
        example().survey("pain-nrs", json!({"pain": 7})),
        example().survey(
            "postop-recovery",
            json!({"temperature": 38.6, "wound": ["redness", "discharge"], "nausea": true,
                   "nausea-severity": "moderate", "notes": "line one\nline two"}),
        ),
        example().survey("ae-diary", json!({"events": ["a fall", "a rash"], "notes": "é"})),
        // One answer to an item that repeats: a list of one, in both forms.
        example().survey(
            "postop-recovery",
            json!({"temperature": 36.9, "wound": ["none"], "nausea": false}),
        ),
    ]
}

/// The FHIR twin of a JSON example, as the server renders it.
pub(super) fn response(example: &ExampleSubmission) -> Value {
    questionnaire_response(catalogue(), &example.judged().submission).unwrap()
}

pub(super) fn accept_fhir(value: &Value) -> Result<crate::instrument::Judged, SubmitError> {
    accept(Form::Fhir, value.to_string().as_bytes(), catalogue())
}

#[test]
fn a_response_round_trips_through_the_intake_unchanged() {
    for example in one_of_each() {
        let out = response(&example);
        let back = accept_fhir(&out).unwrap_or_else(|e| panic!("{e:?}\n{out:#}"));
        assert_eq!(back.submission, example.judged().submission);
        assert_eq!(back.scores, example.judged().scores);
        assert_eq!(
            questionnaire_response(catalogue(), &back.submission).unwrap(),
            out,
            "in → out is stable"
        );
    }
}

#[test]
fn the_json_and_fhir_forms_of_one_submission_have_one_content_hash() {
    for example in one_of_each() {
        let json = accept(Form::Json, &example.bytes(), catalogue()).unwrap();
        let fhir = accept_fhir(&response(&example)).unwrap();
        assert_eq!(
            content_hash(&json.submission),
            content_hash(&fhir.submission)
        );
    }
}

#[test]
fn a_completion_time_stored_in_lower_case_reads_back_as_fhir_writes_it() {
    let mut stored = example().judged().submission;
    stored.completed_at = "2026-11-22t08:00:03.5z".into();
    let out = questionnaire_response(catalogue(), &stored).unwrap();
    assert_eq!(out["authored"], "2026-11-22T08:00:03.5Z");
}

#[test]
fn groups_nest_as_the_questionnaire_nests_them_and_codings_carry_system_and_display() {
    let out = response(&one_of_each()[5]);
    assert_eq!(
        out["questionnaire"],
        "https://epro.example.org/fhir/Questionnaire/postop-recovery|1"
    );
    assert_eq!(
        out["identifier"]["value"],
        format!("urn:uuid:{}", example::SUBMISSION_ID)
    );
    let wound = &out["item"][1];
    assert_eq!(wound["linkId"], "wound-check");
    assert_eq!(wound["item"][0]["linkId"], "wound");
    assert_eq!(
        wound["item"][0]["answer"][1]["valueCoding"],
        json!({"system": "https://epro.example.org/fhir/CodeSystem/wound-problem", "code": "discharge",
               "display": "Fluid or pus coming out"})
    );
    assert_eq!(out["item"][0]["answer"][0], json!({"valueDecimal": 38.6}));
    assert_eq!(
        out["item"][2]["item"][0]["answer"][0],
        json!({"valueBoolean": true})
    );
}

/// The response of the post-op example with one change.
pub(super) fn postop_with(change: impl Fn(&mut Value)) -> Value {
    let mut value = response(&one_of_each()[5]);
    change(&mut value);
    value
}

/// The only issue of a refused response: `(status, code, expression)`.
pub(super) fn only_issue(value: &Value) -> (u16, String, String) {
    let error = accept_fhir(value).expect_err("must be refused");
    let status = error.status().as_u16();
    let reply = error.reply(Form::Fhir);
    let issues = reply.body["issue"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let text = |key: &str| issues[0][key].as_str().unwrap_or_default().to_owned();
    (
        status,
        text("code"),
        issues[0]["expression"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn each_broken_rule_is_a_422_at_the_offending_element() {
    let q = "QuestionnaireResponse";
    let cases: Vec<(&str, Value, &str, String)> = vec![
        (
            "in progress",
            postop_with(|v| v["status"] = json!("in-progress")),
            "business-rule",
            format!("{q}.status"),
        ),
        (
            "another identifier system",
            postop_with(|v| v["identifier"]["system"] = json!("urn:oid:1.2.3")),
            "value",
            format!("{q}.identifier.system"),
        ),
        (
            "an unknown questionnaire",
            postop_with(|v| {
                v["questionnaire"] = json!("https://elsewhere.example/Questionnaire/x|1")
            }),
            "not-found",
            format!("{q}.questionnaire"),
        ),
        (
            "an unpublished version",
            postop_with(|v| {
                v["questionnaire"] =
                    json!("https://epro.example.org/fhir/Questionnaire/postop-recovery|9")
            }),
            "value",
            format!("{q}.questionnaire"),
        ),
        (
            "a subject that is not a patient",
            postop_with(|v| v["subject"]["reference"] = json!("Group/7")),
            "value",
            format!("{q}.subject.reference"),
        ),
        (
            "no trial",
            postop_with(|v| {
                v["extension"].as_array_mut().unwrap().remove(0);
            }),
            "required",
            format!("{q}.extension('https://epro.example.org/fhir/StructureDefinition/trial')"),
        ),
        (
            "an unknown item",
            postop_with(|v| {
                v["item"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"linkId": "mood", "answer": [{"valueInteger": 3}]}))
            }),
            "value",
            format!("{q}.item[4]"),
        ),
        (
            "a number as text",
            postop_with(|v| v["item"][0]["answer"][0] = json!({"valueString": "38"})),
            "value",
            format!("{q}.item[0].answer[0].valueString"),
        ),
        (
            "a temperature out of range",
            postop_with(|v| v["item"][0]["answer"][0] = json!({"valueDecimal": 44.5})),
            "value",
            format!("{q}.item[0]"),
        ),
        (
            "a required item missing",
            postop_with(|v| {
                v["item"].as_array_mut().unwrap().remove(0);
            }),
            "required",
            format!("{q}.repeat(item).where(linkId='temperature')"),
        ),
        (
            "a hidden item answered",
            postop_with(|v| v["item"][2]["item"][0]["answer"][0] = json!({"valueBoolean": false})),
            "value",
            format!("{q}.item[2].item[1]"),
        ),
        (
            "an option that is not one",
            postop_with(|v| {
                v["item"][2]["item"][1]["answer"][0]["valueCoding"]["code"] = json!("unbearable")
            }),
            "value",
            format!("{q}.item[2].item[1]"),
        ),
        (
            "two answers to a one-answer item",
            postop_with(|v| {
                let extra = v["item"][2]["item"][1]["answer"][0].clone();
                v["item"][2]["item"][1]["answer"]
                    .as_array_mut()
                    .unwrap()
                    .push(extra);
            }),
            "value",
            format!("{q}.item[2].item[1]"),
        ),
        (
            "a coding from another system",
            postop_with(|v| {
                v["item"][1]["item"][0]["answer"][0]["valueCoding"]["system"] =
                    json!("http://snomed.info/sct")
            }),
            "value",
            format!("{q}.item[1].item[0].answer[0].valueCoding.system"),
        ),
        (
            "an item answered twice",
            postop_with(|v| {
                let again = v["item"][0].clone();
                v["item"].as_array_mut().unwrap().push(again);
            }),
            "value",
            format!("{q}.item[4]"),
        ),
        (
            "a field the intake would drop",
            postop_with(|v| v["basedOn"] = json!([{"reference": "CarePlan/1"}])),
            "not-supported",
            format!("{q}.basedOn"),
        ),
    ];
    for (name, value, code, expression) in cases {
        assert_eq!(
            only_issue(&value),
            (422, code.to_owned(), expression),
            "{name}"
        );
    }
}

#[test]
fn a_body_that_is_not_a_well_formed_response_is_a_400() {
    for (name, body) in [
        ("not JSON", b"{\"resourceType\":".to_vec()),
        ("another resource", br#"{"resourceType": "Patient"}"#.to_vec()),
        ("an array", b"[]".to_vec()),
        ("an unknown element", postop_with(|v| v["itemz"] = json!([])).to_string().into_bytes()),
        ("items that are not a list", postop_with(|v| v["item"] = json!({})).to_string().into_bytes()),
        (
            "an answer with two values",
            postop_with(|v| v["item"][0]["answer"][0]["valueInteger"] = json!(38)).to_string().into_bytes(),
        ),
        ("a repeated key", br#"{"resourceType": "QuestionnaireResponse", "status": "completed", "status": "amended"}"#.to_vec()),
    ] {
        let error = accept(Form::Fhir, &body, catalogue()).expect_err(name);
        assert_eq!(error.status().as_u16(), 400, "{name}: {error:?}");
        let reply = error.reply(Form::Fhir);
        assert_eq!(reply.body["issue"][0]["code"], "structure", "{name}");
    }
}

#[test]
fn v1_rules_point_at_the_response_element_they_judge() {
    let (status, code, expression) = only_issue(&postop_with(|v| {
        v["authored"] = json!("2026-02-30T08:00:00Z")
    }));
    assert_eq!((status, code.as_str()), (422, "value"));
    assert_eq!(expression, "QuestionnaireResponse.authored");
    let (_, _, expression) = only_issue(&postop_with(|v| {
        v["identifier"]["value"] = json!("urn:uuid:not-a-uuid")
    }));
    assert_eq!(expression, "QuestionnaireResponse.identifier.value");
}
