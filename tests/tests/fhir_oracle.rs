//! An oracle that cannot be tuned to: valid QuestionnaireResponses of every instrument, each mutated once or twice
//! (structure, value types, nesting, extensions, empty values, dates, ids), sent to the deployed FHIR route. Every
//! answer must be a 202 or a clear 4xx, never a 5xx; every response that got a 202 must be valid FHIR to an
//! independent R4 model (PyPI `fhir.resources`, `tests/fhir/oracle.py`) and must render back, from what was stored,
//! as an equivalent valid resource. Seeded: `FHIR_ORACLE_SEED` (a new one each run otherwise, printed) and
//! `FHIR_ORACLE_CASES` (2,000).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use futures::{StreamExt, stream};
use intake::fhir::render;
use intake::instrument::Catalogue;
use intake::item::{SubmissionItem, submission_key};
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::{Survey, TokenRequest, mint_token, post_to};
use serde_json::{Value, json};
use uuid::Uuid;

/// The instruments an app fills, in their current version.
const INSTRUMENTS: [&str; 6] = [
    "phq-9",
    "gad-7",
    "pain-nrs",
    "postop-recovery",
    "qol-daily",
    "ae-diary",
];

/// JSON pointers to every item (`/item/0/item/1`) and every answer (`…/answer/0`) of a response.
fn places(response: &Value) -> (Vec<String>, Vec<String>) {
    fn walk(value: &Value, at: &str, items: &mut Vec<String>, answers: &mut Vec<String>) {
        for (i, item) in value["item"].as_array().into_iter().flatten().enumerate() {
            let here = format!("{at}/item/{i}");
            for (a, _) in item["answer"].as_array().into_iter().flatten().enumerate() {
                answers.push(format!("{here}/answer/{a}"));
            }
            walk(item, &here, items, answers);
            items.push(here);
        }
    }
    let (mut items, mut answers) = (Vec::new(), Vec::new());
    walk(response, "", &mut items, &mut answers);
    (items, answers)
}

fn pick<'a>(rng: &mut fastrand::Rng, list: &'a [String]) -> Option<&'a String> {
    (!list.is_empty()).then(|| &list[rng.usize(..list.len())])
}

/// Changes one thing of `response`, as a buggy or foreign app would; what it did.
fn mutate(response: &mut Value, rng: &mut fastrand::Rng) -> &'static str {
    let (items, answers) = places(response);
    let item = pick(rng, &items).cloned();
    let answer = pick(rng, &answers).cloned();
    let extension =
        json!([{"url": "http://example.org/fhir/StructureDefinition/x", "valueString": "x"}]);
    let with = |response: &mut Value, pointer: &Option<String>, change: &dyn Fn(&mut Value)| {
        if let Some(target) = pointer.as_deref().and_then(|p| response.pointer_mut(p)) {
            change(target);
        }
    };
    match rng.u8(0..32) {
        0 => {
            with(response, &item, &|i| {
                i["modifierExtension"] = extension.clone()
            });
            "a modifier extension on an item"
        }
        1 => {
            with(response, &answer, &|a| {
                a["modifierExtension"] = extension.clone()
            });
            "a modifier extension on an answer"
        }
        2 => {
            with(response, &item, &|i| i["extension"] = extension.clone());
            "an extension on an item"
        }
        3 => {
            with(response, &answer, &|a| a["extension"] = extension.clone());
            "an extension on an answer"
        }
        4 => {
            with(response, &answer, &|a| {
                a["_valueString"] = json!({"extension": extension.clone()})
            });
            "a primitive extension on an answer"
        }
        5 => {
            with(response, &item, &|i| i["weight"] = json!(1));
            "an unknown element on an item"
        }
        6 => {
            with(response, &answer, &|a| {
                let object = a.as_object_mut().expect("an answer");
                let (key, value) = object
                    .iter()
                    .find(|(k, _)| k.starts_with("value"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .expect("a value");
                object.remove(&key);
                let text = match &value {
                    Value::Object(coding) => coding["code"].clone(),
                    other => json!(other.to_string()),
                };
                object.insert("valueString".into(), text);
            });
            "a value written as text"
        }
        7 => {
            with(response, &answer, &|a| {
                let object = a.as_object_mut().expect("an answer");
                if let Some(text) = object.remove("valueString") {
                    object.insert("valueCoding".into(), json!({ "code": text }));
                } else if let Some(number) = object.remove("valueInteger") {
                    object.insert("valueDecimal".into(), number);
                } else if let Some(number) = object.remove("valueDecimal") {
                    object.insert("valueInteger".into(), number);
                } else if let Some(flag) = object.remove("valueBoolean") {
                    object.insert("valueInteger".into(), json!(u8::from(flag == true)));
                }
            });
            "a value of another type"
        }
        8 => {
            // A question taken out of its group, to the top level.
            let nested = items
                .iter()
                .find(|p| p.matches("/item/").count() > 1)
                .cloned();
            if let Some(pointer) = nested {
                let moved = response.pointer(&pointer).cloned().expect("an item");
                let (parent, index) = pointer.rsplit_once('/').expect("a pointer");
                if let Some(list) = response.pointer_mut(parent).and_then(Value::as_array_mut) {
                    list.remove(index.parse().expect("an index"));
                }
                response["item"].as_array_mut().expect("items").push(moved);
            }
            "an item out of its group"
        }
        9 => {
            // A top-level question put inside a group.
            let top = items
                .iter()
                .filter(|p| p.matches("/item/").count() == 1)
                .cloned()
                .collect::<Vec<_>>();
            let group = top
                .iter()
                .find(|p| response.pointer(p).is_some_and(|i| i["item"].is_array()))
                .cloned();
            let question = top
                .iter()
                .find(|p| response.pointer(p).is_some_and(|i| i["answer"].is_array()))
                .cloned();
            if let (Some(group), Some(question)) = (group, question) {
                let moved = response.pointer(&question).cloned().expect("an item");
                if let Some(children) = response
                    .pointer_mut(&format!("{group}/item"))
                    .and_then(Value::as_array_mut)
                {
                    children.push(moved);
                }
            }
            "an item inside another group"
        }
        10 => {
            with(
                response,
                &answer,
                &|a| a["item"] = json!([{"linkId": "follow-up", "answer": [{"valueString": "x"}]}]),
            );
            "an item under an answer"
        }
        11 => {
            with(response, &answer, &|a| {
                let object = a.as_object_mut().expect("an answer");
                object.retain(|k, _| !k.starts_with("value"));
                object.insert("valueString".into(), json!(["", " ", "\n\t"][rng_index(3)]));
            });
            "an empty or blank text"
        }
        12 => {
            with(response, &item, &|i| i["answer"] = json!([]));
            "an empty answer list"
        }
        13 => {
            response["item"] = json!([]);
            "no item at all"
        }
        14 => {
            with(response, &item, &|i| {
                i.as_object_mut().expect("an item").remove("linkId");
            });
            "an item without a linkId"
        }
        15 => {
            if let Some(pointer) = &item {
                let copy = response.pointer(pointer).cloned().expect("an item");
                response["item"].as_array_mut().expect("items").push(copy);
            }
            "an item answered twice"
        }
        16 => {
            if let Some(pointer) = &answer {
                let copy = response.pointer(pointer).cloned().expect("an answer");
                let (list, _) = pointer.rsplit_once('/').expect("a pointer");
                if let Some(list) = response.pointer_mut(list).and_then(Value::as_array_mut) {
                    list.push(copy);
                }
            }
            "the same answer twice"
        }
        17 => {
            // Another mutation may already have shortened it: start from a whole instant.
            let authored = response["authored"]
                .as_str()
                .filter(|text| text.len() >= 20 && text.is_ascii())
                .unwrap_or("2026-11-22T08:00:03Z")
                .to_owned();
            response["authored"] = json!(match rng.u8(0..8) {
                0 => authored[..10].to_owned(),
                1 => authored[..19].to_owned(),
                2 => authored.replace('T', "t").replace('Z', "z"),
                3 => format!("{}+14:00", &authored[..19]),
                4 => format!("{}.123456789Z", &authored[..19]),
                5 => format!("{}T23:59:60Z", &authored[..10]),
                6 => "2026-13-01T00:00:00Z".to_owned(),
                _ => format!("{}-00:00", &authored[..19]),
            });
            "a completion time written another way"
        }
        18 => {
            let value = response["identifier"]["value"].as_str().unwrap_or_default();
            response["identifier"]["value"] = json!(match rng.u8(0..3) {
                0 => value.to_uppercase().replace("URN:UUID:", "urn:uuid:"),
                1 => value.replace("urn:uuid:", "urn:uuid:{") + "}",
                _ => value.replace("urn:uuid:", ""),
            });
            "an identifier written another way"
        }
        19 => {
            response["status"] =
                json!(["amended", "in-progress", "entered-in-error"][rng_index(3)]);
            "another status"
        }
        20 => {
            let canonical = response["questionnaire"].as_str().unwrap_or_default();
            let url = canonical.split('|').next().unwrap_or_default().to_owned();
            response["questionnaire"] = json!(if rng.bool() { url } else { format!("{url}|99") });
            "the questionnaire without or with another version"
        }
        21 => {
            with(response, &item, &|i| {
                i["text"] = json!("As the app showed it");
                i["id"] = json!("element-1");
            });
            "the question's text and an element id (harmless)"
        }
        22 => {
            response["subject"]["display"] = json!("A Patient");
            "a display name on the subject"
        }
        23 => {
            let top = response["item"].as_array_mut().expect("items");
            if !top.is_empty() {
                top.remove(0);
            }
            "the first item left out"
        }
        24 => {
            with(response, &answer, &|a| {
                if let Some(coding) = a.get_mut("valueCoding") {
                    coding["display"] = json!("Another label");
                    coding["userSelected"] = json!(true);
                }
            });
            "a coding with its own label and userSelected"
        }
        25 => {
            with(response, &answer, &|a| {
                if let Some(coding) = a.get_mut("valueCoding") {
                    coding["system"] = json!("http://snomed.info/sct");
                }
            });
            "a coding from another system"
        }
        26 => {
            with(response, &answer, &|a| {
                let object = a.as_object_mut().expect("an answer");
                for key in ["valueDecimal", "valueInteger"] {
                    if let Some(value) = object.get_mut(key) {
                        *value = json!(value.to_string());
                    }
                }
            });
            "a number written as a JSON string"
        }
        27 => {
            response["extension"]
                .as_array_mut()
                .expect("extensions")
                .push(json!({"url": "http://example.org/fhir/StructureDefinition/app", "valueString": "1.2"}));
            "an extension on the response"
        }
        28 => {
            response["contained"] = json!([{"resourceType": "Patient", "id": "p"}]);
            "a contained resource"
        }
        29 => {
            with(response, &answer, &|a| {
                if let Some(text) = a.get_mut("valueString") {
                    *text = json!("a line\u{0007}with a bell");
                }
            });
            "a control character in a text"
        }
        30 => {
            response["meta"] = json!({"versionId": "1", "lastUpdated": "2026-11-22T08:00:00Z"});
            response["id"] = json!("qr-1");
            "an id and meta (harmless)"
        }
        _ => {
            response["language"] = json!("en");
            "a language (harmless)"
        }
    }
}

/// A random index below `n` from the thread's generator (for choices inside a change closure).
fn rng_index(n: usize) -> usize {
    fastrand::usize(..n)
}

#[tokio::test]
#[ignore = "needs a deployed stack and the FHIR venv: run `make e2e`"]
async fn every_response_the_intake_accepts_is_valid_fhir_and_comes_back_the_same() {
    let seed: u64 = std::env::var("FHIR_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let cases: usize = std::env::var("FHIR_ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    eprintln!("FHIR oracle: {cases} cases, FHIR_ORACLE_SEED={seed}");
    fastrand::seed(seed);
    let deployed = Deployed::load().await;
    let (stack, http) = (&deployed.stack, &deployed.http);
    let trial = fresh_trial("ORACLE");
    let patient = "P-ORACLE";
    let token = mint_token(http, stack, &TokenRequest::patient(patient, &trial))
        .await
        .unwrap();
    let mut rng = fastrand::Rng::with_seed(seed);
    let generated: Vec<(usize, &'static str, Value)> = (0..cases)
        .map(|n| {
            let instrument = INSTRUMENTS[n % INSTRUMENTS.len()];
            let survey = Survey::of(
                instrument,
                &trial,
                patient,
                &format!("oracle-{n}"),
                &mut rng,
            )
            .as_fhir();
            let (_, _, body) = survey.request();
            let mut response: Value = serde_json::from_str(&body).expect("a rendered response");
            let mut what = mutate(&mut response, &mut rng);
            if rng.bool() {
                what = mutate(&mut response, &mut rng);
            }
            (n, what, response)
        })
        .collect();
    let answered: Vec<(usize, &'static str, Value, u16)> = stream::iter(generated)
        .map(|(n, what, response)| {
            let token = token.clone();
            async move {
                let reply = post_to(
                    http,
                    stack,
                    "/v1/fhir/QuestionnaireResponse",
                    Some(&token),
                    "application/fhir+json",
                    response.to_string(),
                )
                .await
                .expect("the API answers");
                (n, what, response, reply.status)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let server_errors: Vec<String> = answered
        .iter()
        .filter(|(_, _, _, status)| *status >= 500)
        .map(|(n, what, _, status)| format!("case {n} ({what}): {status}"))
        .collect();
    assert!(
        server_errors.is_empty(),
        "FHIR_ORACLE_SEED={seed}: a client's mistake is never a 5xx: {server_errors:?}"
    );
    let accepted: Vec<&(usize, &str, Value, u16)> =
        answered.iter().filter(|(_, _, _, s)| *s == 202).collect();
    let refused = answered.len() - accepted.len();
    eprintln!(
        "FHIR oracle: {} accepted, {refused} refused with a 4xx",
        accepted.len()
    );
    assert!(
        accepted.len() * 20 >= cases && refused * 3 >= cases,
        "FHIR_ORACLE_SEED={seed}: the mutations should be accepted and refused in fair shares"
    );
    deployed.drained().await;

    // What was stored, rendered back.
    let id_of = |response: &Value| -> Uuid {
        let value = response["identifier"]["value"].as_str().unwrap_or_default();
        value
            .trim_start_matches("urn:uuid:")
            .parse()
            .expect("an accepted response names its id")
    };
    let keys: Vec<(String, String)> = accepted
        .iter()
        .map(|(_, _, response, _)| submission_key(&id_of(response)))
        .collect();
    let stored: HashMap<(String, String), _> = deployed.aws.get_items(stack, &keys).await.unwrap();
    let catalogue = Catalogue::embedded();
    let pairs = std::env::temp_dir().join(format!("fhir-oracle-{seed}.ndjson"));
    let mut file = std::fs::File::create(&pairs).unwrap();
    for ((n, what, sent, _), key) in accepted.iter().zip(&keys) {
        let item = stored.get(key).unwrap_or_else(|| {
            panic!("FHIR_ORACLE_SEED={seed}: case {n} ({what}) got 202 and was not stored")
        });
        let item: SubmissionItem = serde_dynamo::from_item(item.clone()).unwrap();
        let rendered = render::questionnaire_response(catalogue, &item.submission).unwrap();
        let answered = catalogue
            .get(
                &item.submission.survey_id,
                item.submission.survey_version.as_deref(),
            )
            .unwrap();
        let questionnaire: Value = serde_json::from_str(answered.source).unwrap();
        let line = json!({"case": n, "seed": seed, "mutation": what, "sent": sent, "stored": rendered,
            "questionnaire": questionnaire});
        writeln!(file, "{line}").unwrap();
    }
    drop(file);
    let python = std::env::var_os("FHIR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../.local/fhir/bin/python"
            ))
        });
    let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/fhir/oracle.py");
    let judged = std::process::Command::new(&python)
        .args([oracle, pairs.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (make fhir-check installs it)", python.display()));
    eprintln!("{}", String::from_utf8_lossy(&judged.stdout));
    assert!(
        judged.status.success(),
        "FHIR_ORACLE_SEED={seed}: {}",
        String::from_utf8_lossy(&judged.stderr)
    );
}
