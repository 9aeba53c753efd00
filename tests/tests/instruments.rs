//! Instruments through the deployed API, as an app uses them: fetch a questionnaire, answer it, send the
//! `QuestionnaireResponse`; every broken rule refused at its item; both forms of one submission stored once.

use std::time::Duration;

use intake::item::SubmissionItem;
use intake::testing::example::{self, example};
use intake_e2e::deployed::{Deployed, eventually, fresh_trial};
use intake_e2e::{ApiReply, Survey, TokenRequest, mint_token, post_to, submit};
use serde_json::{Value, json};
use uuid::Uuid;

const FHIR: &str = "application/fhir+json";

async fn token(deployed: &Deployed, patient: &str, trial: &str) -> String {
    mint_token(
        &deployed.http,
        &deployed.stack,
        &TokenRequest::patient(patient, trial),
    )
    .await
    .unwrap()
}

/// `GET path` with the token (when given) and `If-None-Match` (when given): status, headers and JSON body.
async fn get(
    deployed: &Deployed,
    path: &str,
    token: Option<&str>,
    if_none_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = format!("{}{path}", deployed.stack.api_url.trim_end_matches('/'));
    let mut request = deployed.http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(tag) = if_none_match {
        request = request.header(reqwest::header::IF_NONE_MATCH, tag);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let text = response.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn the_catalogue_is_served_as_fhir_with_tags_that_caches_can_trust() {
    let deployed = Deployed::load().await;
    let token = token(&deployed, "P-000801", "ANY-TRIAL").await;
    let (status, headers, bundle) =
        get(&deployed, "/v1/fhir/Questionnaire", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], FHIR);
    assert_eq!(bundle["resourceType"], "Bundle");
    assert!(bundle["total"].as_u64().unwrap() >= 6);

    let (status, headers, phq9) = get(
        &deployed,
        "/v1/fhir/Questionnaire/phq-9",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let published: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/instruments/questionnaires/phq-9/1.json"
    )))
    .unwrap();
    assert_eq!(phq9, published, "served exactly as published");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, _) = get(
        &deployed,
        "/v1/fhir/Questionnaire/phq-9",
        Some(&token),
        Some(&etag),
    )
    .await;
    assert_eq!(status, 304, "the client's copy is current");

    let (status, headers, first) = get(
        &deployed,
        "/v1/fhir/Questionnaire/qol-daily/_history/1",
        Some(&token),
        None,
    )
    .await;
    assert_eq!((status, first["version"].as_str()), (200, Some("1")));
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );

    let (status, _, outcome) = get(
        &deployed,
        "/v1/fhir/Questionnaire/sf-36",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (status, &outcome["issue"][0]["code"]),
        (404, &json!("not-found"))
    );
    let (status, _, _) = get(&deployed, "/v1/fhir/Questionnaire", None, None).await;
    assert_eq!(status, 401, "the same authorizer as submissions");
}

/// Answers every shown question of a served questionnaire, as an app would from its JSON: numbers at their lower
/// bound, the first option of a choice, yes to yes/no questions, a sentence for text. Groups nest as they do in
/// the questionnaire.
fn answer_like_an_app(items: &Value, answered: &mut Vec<(String, Value)>) -> Vec<Value> {
    let mut out = Vec::new();
    for item in items.as_array().into_iter().flatten() {
        let link_id = item["linkId"].as_str().unwrap().to_owned();
        let shown = item["enableWhen"].as_array().is_none_or(|conditions| {
            conditions.iter().all(|condition| {
                answered.iter().any(|(id, value)| {
                    id == condition["question"].as_str().unwrap()
                        && value.get("valueBoolean") == condition.get("answerBoolean")
                })
            })
        });
        if !shown {
            continue;
        }
        let value = match item["type"].as_str().unwrap() {
            "group" => {
                let children = answer_like_an_app(&item["item"], answered);
                out.push(json!({"linkId": link_id, "item": children}));
                continue;
            }
            "display" => continue,
            "boolean" => json!({"valueBoolean": true}),
            "integer" => json!({"valueInteger": item["extension"][0]["valueInteger"]}),
            "decimal" => json!({"valueDecimal": 37.4}),
            "choice" => json!({"valueCoding": item["answerOption"][0]["valueCoding"]}),
            _ => json!({"valueString": "I feel fine today."}),
        };
        answered.push((link_id.clone(), value.clone()));
        out.push(json!({"linkId": link_id, "text": item["text"], "answer": [value]}));
    }
    out
}

fn response_for(questionnaire: &Value, trial: &str, patient: &str) -> Value {
    let base = questionnaire["url"]
        .as_str()
        .unwrap()
        .split("/Questionnaire/")
        .next()
        .unwrap();
    json!({
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", Uuid::new_v4())},
        "questionnaire": format!("{}|{}", questionnaire["url"].as_str().unwrap(), questionnaire["version"].as_str().unwrap()),
        "status": "completed",
        "subject": {"reference": format!("Patient/{patient}")},
        "authored": "2026-11-22T08:00:03+01:00",
        "extension": [
            {"url": format!("{base}/StructureDefinition/trial"), "valueString": trial},
            {"url": format!("{base}/StructureDefinition/timepoint"), "valueString": "day-7"},
        ],
        "item": answer_like_an_app(&questionnaire["item"], &mut Vec::new()),
    })
}

async fn post_fhir(deployed: &Deployed, token: &str, response: &Value) -> ApiReply {
    let (http, stack) = (&deployed.http, &deployed.stack);
    post_to(
        http,
        stack,
        "/v1/fhir/QuestionnaireResponse",
        Some(token),
        FHIR,
        response.to_string(),
    )
    .await
    .unwrap()
}

/// Every `(linkId, answers)` of a response, nested items included.
fn answers_of(items: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for item in items.as_array().into_iter().flatten() {
        if let Some(answers) = item.get("answer") {
            let codes: Vec<Value> = answers
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.get("valueCoding").map_or(a.clone(), |c| json!(c["code"])))
                .collect();
            out.push((item["linkId"].as_str().unwrap().to_owned(), json!(codes)));
        }
        out.extend(answers_of(&item["item"]));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn an_app_answers_a_served_questionnaire_and_the_stored_response_reads_back_the_same() {
    let deployed = Deployed::load().await;
    let (trial, patient) = (fresh_trial("INSTR"), "P-000802");
    let token = token(&deployed, patient, &trial).await;
    let (_, _, questionnaire) = get(
        &deployed,
        "/v1/fhir/Questionnaire/postop-recovery",
        Some(&token),
        None,
    )
    .await;
    let response = response_for(&questionnaire, &trial, patient);
    let reply = post_fhir(&deployed, &token, &response).await;
    assert_eq!(reply.status, 202, "{}", reply.body);

    let id: Uuid = reply.body["submissionId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let survey = Survey {
        submission_id: id,
        trial_id: trial.clone(),
        patient_id: patient.into(),
        ..Survey::new(&trial, patient, 1)
    };
    let stored: SubmissionItem =
        serde_dynamo::from_item(deployed.stored_item(&survey).await).unwrap();
    let in_effect_now = intake::instrument::Catalogue::embedded()
        .current("postop-recovery")
        .unwrap()
        .version();
    assert_eq!(
        questionnaire["version"],
        json!(in_effect_now),
        "the version in effect is served"
    );
    assert_eq!(
        stored.submission.survey_version.as_deref(),
        questionnaire["version"].as_str(),
        "judged against the version the app rendered"
    );
    assert_eq!(stored.received_as, "fhir");
    assert_eq!(
        stored.submission.answers["nausea-severity"],
        intake::submission::Answer::Text("mild".into())
    );
    let catalogue = intake::instrument::Catalogue::embedded();
    let back = intake::fhir::render::questionnaire_response(catalogue, &stored.submission).unwrap();
    assert_eq!(
        answers_of(&back["item"]),
        answers_of(&response["item"]),
        "every answer, read back"
    );
}

/// One change to a valid response that breaks one rule.
type Mutation = Box<dyn Fn(&mut Value)>;

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn each_broken_rule_is_refused_at_its_item_and_nothing_is_stored() {
    let deployed = Deployed::load().await;
    let (trial, patient) = (fresh_trial("INSTR"), "P-000803");
    let token = token(&deployed, patient, &trial).await;
    let (_, _, questionnaire) = get(
        &deployed,
        "/v1/fhir/Questionnaire/postop-recovery",
        Some(&token),
        None,
    )
    .await;
    let valid = response_for(&questionnaire, &trial, patient);
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "too hot",
            Box::new(|v| v["item"][0]["answer"][0] = json!({"valueDecimal": 45.0})),
            "QuestionnaireResponse.item[0]",
        ),
        (
            "required missing",
            Box::new(|v| {
                v["item"].as_array_mut().unwrap().remove(0);
            }),
            "QuestionnaireResponse.repeat(item).where(linkId='temperature')",
        ),
        (
            "not an option",
            Box::new(|v| {
                v["item"][1]["item"][0]["answer"][0]["valueCoding"]["code"] = json!("gone")
            }),
            "QuestionnaireResponse.item[1].item[0].answer[0]",
        ),
        (
            "hidden answered",
            Box::new(|v| v["item"][2]["item"][0]["answer"][0] = json!({"valueBoolean": false})),
            "QuestionnaireResponse.item[2].item[1]",
        ),
        (
            "unknown item",
            Box::new(|v| {
                v["item"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"linkId": "mood", "answer": [{"valueInteger": 1}]}))
            }),
            "QuestionnaireResponse.item[4]",
        ),
        (
            "unpublished version",
            Box::new(|v| {
                v["questionnaire"] =
                    json!("https://epro.example.org/fhir/Questionnaire/postop-recovery|7")
            }),
            "QuestionnaireResponse.questionnaire",
        ),
        (
            "not completed",
            Box::new(|v| v["status"] = json!("in-progress")),
            "QuestionnaireResponse.status",
        ),
        (
            "a modifier extension the intake does not understand",
            Box::new(|v| {
                v["item"][0]["modifierExtension"] = json!([{"url": "http://example.org/fhir/entered-in-error", "valueBoolean": true}])
            }),
            "QuestionnaireResponse.item[0].modifierExtension",
        ),
        (
            "text for a choice",
            Box::new(|v| v["item"][1]["item"][0]["answer"][0] = json!({"valueString": "redness"})),
            "QuestionnaireResponse.item[1].item[0].answer[0].valueString",
        ),
        (
            "a question outside its group",
            Box::new(|v| {
                let wound = v["item"][1]["item"][0].clone();
                let items = v["item"].as_array_mut().unwrap();
                items.remove(1);
                items.insert(1, wound);
            }),
            "QuestionnaireResponse.item[1]",
        ),
        (
            "no problems and discharge at once (version 2)",
            Box::new(|v| {
                let none = json!({"valueCoding": {"system": "https://epro.example.org/fhir/CodeSystem/wound-problem", "code": "none"}});
                let discharge = json!({"valueCoding": {"system": "https://epro.example.org/fhir/CodeSystem/wound-problem", "code": "discharge"}});
                v["item"][1]["item"][0]["answer"] = json!([none, discharge]);
                let canonical = v["questionnaire"].as_str().unwrap();
                let unversioned = canonical.split('|').next().unwrap().to_owned();
                v["questionnaire"] = json!(format!("{unversioned}|2"));
            }),
            "QuestionnaireResponse.item[1].item[0]",
        ),
    ];
    for (name, change, expression) in cases {
        let mut response = valid.clone();
        change(&mut response);
        let reply = post_fhir(&deployed, &token, &response).await;
        assert_eq!(reply.status, 422, "{name}: {}", reply.body);
        assert_eq!(reply.body["resourceType"], "OperationOutcome", "{name}");
        assert_eq!(
            reply.body["issue"][0]["expression"][0], expression,
            "{name}: {}",
            reply.body
        );
    }
    let reply = post_fhir(&deployed, &token, &json!({"resourceType": "Patient"})).await;
    assert_eq!(
        (reply.status, &reply.body["issue"][0]["code"]),
        (400, &json!("structure"))
    );

    // The JSON form lists each problem with its item.
    let json_body = example()
        .trial(&trial)
        .patient(patient)
        .id(Uuid::new_v4())
        .survey(
            "postop-recovery",
            json!({"temperature": 45.0, "wound": ["gone"], "nausea-severity": "mild", "notes": "  \n "}),
        )
        .json();
    let reply = submit(&deployed.http, &deployed.stack, &json_body)
        .await
        .unwrap();
    assert_eq!(reply.status, 400);
    let fields: Vec<&str> = reply.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "answers.temperature",
            "answers.wound[0]",
            "answers.nausea",
            "answers.nausea-severity",
            "answers.notes"
        ]
    );
    let exclusive = example()
        .trial(&trial)
        .patient(patient)
        .id(Uuid::new_v4())
        .survey(
            "postop-recovery",
            json!({"temperature": 37.0, "wound": ["none", "discharge"], "nausea": false}),
        )
        .version("2")
        .json();
    let reply = submit(&deployed.http, &deployed.stack, &exclusive)
        .await
        .unwrap();
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["fields"][0]["field"], "answers.wound");

    deployed.drained().await;
    let stored = deployed
        .aws
        .patient_items(&deployed.stack, &trial, patient)
        .await
        .unwrap();
    assert!(
        stored.is_empty(),
        "a refused submission reached the table: {:?}",
        stored.keys()
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn the_json_and_fhir_forms_of_one_submission_are_stored_once_without_a_conflict() {
    let deployed = Deployed::load().await;
    let survey = Survey::of(
        "phq-9",
        &fresh_trial("INSTR"),
        "P-000804",
        "day-7",
        &mut fastrand::Rng::with_seed(8),
    );
    let fhir = survey.clone().as_fhir();
    assert_eq!(
        intake_e2e::send(&deployed.http, &deployed.stack, &survey)
            .await
            .unwrap()
            .status,
        202
    );
    deployed.stored_item(&survey).await;
    assert_eq!(
        intake_e2e::send(&deployed.http, &deployed.stack, &fhir)
            .await
            .unwrap()
            .status,
        202
    );
    deployed.drained().await;
    let items = deployed
        .aws
        .patient_answer_records(&deployed.stack, &survey.trial_id, &survey.patient_id)
        .await
        .unwrap();
    assert_eq!(
        items.len(),
        1,
        "one record, no conflict: {:?}",
        items.keys()
    );
    let stored: SubmissionItem =
        serde_dynamo::from_item(items.into_values().next().unwrap()).unwrap();
    assert!(
        stored.scores.contains_key("total"),
        "PHQ-9's total is stored with it"
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn the_largest_valid_body_is_queued_and_stored() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("INSTR");
    let largest = example::largest(
        example()
            .trial(&trial)
            .patient("P-000805")
            .id(Uuid::new_v4()),
    );
    assert!(largest.bytes().len() > intake::submission::MAX_BODY_BYTES - 4_096);
    let reply = submit(&deployed.http, &deployed.stack, &largest.json())
        .await
        .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
    let id = largest.json()["submissionId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let survey = Survey {
        submission_id: id,
        trial_id: trial.clone(),
        patient_id: "P-000805".into(),
        ..Survey::new(&trial, "P-000805", 1)
    };
    let stored = eventually(Duration::from_secs(60), || async {
        let mut items = deployed
            .aws
            .patient_answer_records(&deployed.stack, &trial, "P-000805")
            .await?;
        Ok(items.remove(&format!("SUBMISSION#{}", survey.submission_id)))
    })
    .await;
    assert!(intake_e2e::audit::stored_as_sent(&stored, &largest.json()));
}
