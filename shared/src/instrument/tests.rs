//! The catalogue itself: it parses, passes every check, and its published versions match the lock file. Then each
//! check, planted once, to see it fail.

use serde_json::{Value, json};

use super::catalogue::Catalogue;
use super::check;
use super::definition::OPTION_EXCLUSIVE;

const LOCK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/instruments/catalogue.lock"
));

fn embedded() -> &'static Catalogue {
    Catalogue::embedded()
}

/// `(id, version, hash)` of every line of the lock file.
fn locked() -> Vec<(String, String, String)> {
    LOCK.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        // Alert rule sets and schedules are locked here too, and checked with them (`alert::tests`,
        // `schedule::tests`).
        .filter(|line| !line.starts_with(crate::alert::rules::RULES_DIR))
        .filter(|line| !line.starts_with(crate::schedule::SCHEDULES_DIR))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(
                fields.len(),
                3,
                "a lock line is `<id> <version> sha256:<hex>`: {line}"
            );
            (
                fields[0].to_owned(),
                fields[1].to_owned(),
                fields[2].to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_embedded_catalogue_passes_every_check() {
    let problems = check::catalogue(embedded());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_catalogue_ships_the_trial_instruments() {
    for id in [
        "phq-9",
        "gad-7",
        "pain-nrs",
        "postop-recovery",
        "qol-daily",
        "ae-diary",
    ] {
        assert!(embedded().current(id).is_some(), "{id} is missing");
    }
    assert_eq!(embedded().base(), "https://epro.example.org/fhir");
}

#[test]
fn every_published_version_is_locked_and_unchanged() {
    let locked = locked();
    for instrument in embedded().all() {
        let line = format!(
            "{} {} {}",
            instrument.id(),
            instrument.version(),
            instrument.definition_hash()
        );
        match locked
            .iter()
            .find(|(id, version, _)| id == instrument.id() && version == instrument.version())
        {
            None => panic!(
                "{} is not in catalogue.lock; a new version is published by adding:\n{line}",
                instrument.path
            ),
            Some((_, _, hash)) => assert_eq!(
                hash,
                &instrument.definition_hash(),
                "{} changed after it was published: publish a new version instead",
                instrument.path
            ),
        }
    }
}

#[test]
fn no_published_version_is_ever_removed() {
    for (id, version, _) in locked() {
        assert!(
            embedded().get(&id, Some(&version)).is_ok(),
            "{id} version {version} is in catalogue.lock but not in the catalogue: published versions stay"
        );
    }
}

#[test]
fn every_embedded_definition_parses_whole() {
    // build.rs stops a build on a definition that does not parse; this pins the headers the functions read at start.
    let whole = Catalogue::from_files(super::catalogue::files::FILES).unwrap();
    assert_eq!(whole.all().count(), embedded().all().count());
    // What picks a version is read apart from the rest (at start): it must say what the whole definition says.
    for instrument in embedded().all() {
        let q = instrument.questionnaire();
        let start = q.effective_period.as_ref().and_then(|p| p.start.as_deref());
        assert_eq!(
            (instrument.id(), instrument.version(), instrument.url()),
            (q.id.as_str(), q.version.as_str(), q.url.as_str()),
            "{}",
            instrument.path
        );
        assert_eq!(
            instrument.is_active(),
            q.status == "active",
            "{}",
            instrument.path
        );
        assert_eq!(
            instrument.effective_from(),
            start.and_then(|s| time::OffsetDateTime::parse(
                s,
                &time::format_description::well_known::Rfc3339
            )
            .ok()),
            "{}",
            instrument.path
        );
    }
}

#[test]
fn a_definition_is_parsed_whole_only_when_its_instrument_is_first_used() {
    let source = embedded().current("pain-nrs").unwrap().source;
    let broken: &'static str = Box::leak(
        source
            .replacen("\"item\"", "\"item\": 7, \"was\"", 1)
            .into_boxed_str(),
    );
    let files = [("questionnaires/pain-nrs/1.json", broken)];
    assert!(
        Catalogue::from_files(&files).is_err(),
        "the validating read parses every definition"
    );
    let lazy = Catalogue::read(&files).expect("id, version and status read without the items");
    let instrument = lazy
        .get("pain-nrs", Some("1"))
        .expect("picked by its header");
    assert_eq!(lazy.current("pain-nrs").map(|i| i.version()), Some("1"));
    let used = std::panic::catch_unwind(|| instrument.questionnaire().item.len());
    assert!(
        used.is_err(),
        "its items are read on first use, and these do not parse"
    );
}

#[test]
fn a_retired_version_is_still_served_but_never_current_nor_chosen() {
    let source = embedded().current("pain-nrs").unwrap().source;
    let retired: &'static str = Box::leak(
        source
            .replacen("\"version\": \"1\"", "\"version\": \"2\"", 1)
            .replacen("\"status\": \"active\"", "\"status\": \"retired\"", 1)
            .into_boxed_str(),
    );
    assert_ne!(retired, source);
    let files = [
        ("questionnaires/pain-nrs/1.json", source),
        ("questionnaires/pain-nrs/2.json", retired),
    ];
    let catalogue = Catalogue::from_files(&files).unwrap();
    let second = catalogue.get("pain-nrs", Some("2")).expect("served");
    assert!(!second.is_active());
    assert_eq!(
        catalogue.current("pain-nrs").map(|i| i.version()),
        Some("1")
    );
    assert_eq!(
        catalogue
            .in_effect("pain-nrs", "2030-01-01T00:00:00Z")
            .map(|i| i.version()),
        Some("1")
    );
}

#[test]
fn the_hash_ignores_formatting_but_not_content() {
    let source = embedded().current("pain-nrs").unwrap().source;
    let hash = |text: &str| {
        let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
        let catalogue =
            Catalogue::from_files(&[("questionnaires/pain-nrs/1.json", leaked)]).unwrap();
        catalogue.all().next().unwrap().definition_hash()
    };
    let compact = serde_json::to_string(&serde_json::from_str::<Value>(source).unwrap()).unwrap();
    assert_eq!(hash(source), hash(&compact));
    assert_ne!(
        hash(source),
        hash(&source.replace("worst pain", "worst ache"))
    );
}

#[test]
fn the_current_version_is_the_highest_active_one_and_older_ones_stay_reachable() {
    let catalogue = embedded();
    assert_eq!(catalogue.current("qol-daily").unwrap().version(), "2");
    assert_eq!(catalogue.get("qol-daily", None).unwrap().version(), "2");
    assert_eq!(
        catalogue.get("qol-daily", Some("1")).unwrap().version(),
        "1"
    );
    assert!(catalogue.get("qol-daily", Some("3")).is_err());
    assert!(catalogue.get("nope", None).is_err());
}

#[test]
fn a_body_naming_no_version_is_judged_against_the_version_in_effect_when_completed_so_a_retry_is_the_same()
 {
    use crate::envelope::Envelope;
    use crate::item::SubmissionItem;
    use crate::testing::example::{self, example};

    let v1 = embedded().get("qol-daily", Some("1")).unwrap();
    let before = Catalogue::from_files(&[(v1.path, v1.source)]).unwrap();
    // The deploy publishes version 2, in effect from 1 December, which drops the comment item.
    let mut v2: Value =
        serde_json::from_str(embedded().get("qol-daily", Some("2")).unwrap().source).unwrap();
    v2["item"]
        .as_array_mut()
        .unwrap()
        .retain(|item| item["linkId"] != "comment");
    v2["effectivePeriod"] = json!({"start": "2026-12-01T00:00:00Z"});
    let v2: &'static str = Box::leak(v2.to_string().into_boxed_str());
    let after = Catalogue::from_files(&[
        (v1.path, v1.source),
        ("questionnaires/qol-daily/2.json", v2),
    ])
    .unwrap();
    let judged = |catalogue: &Catalogue, body: &example::ExampleSubmission| {
        let judged = super::judge(catalogue, body.submission())?;
        let version = judged.submission.survey_version.clone().unwrap();
        let envelope = Envelope::new(judged, "json", "r".into(), example::RECEIVED_AT);
        Ok::<_, Vec<crate::submission::FieldProblem>>((
            version,
            SubmissionItem::new(envelope, String::new()).content_hash,
        ))
    };

    // Completed on 22 November, with a comment: version 1 before the deploy, and still version 1 after it (not a 400
    // for an answer that was valid when first sent), with the same content hash (a duplicate, not a conflict).
    let november = example();
    let first = judged(&before, &november).unwrap();
    let retry = judged(&after, &november).unwrap();
    assert_eq!((first.0.as_str(), retry.0.as_str()), ("1", "1"));
    assert_eq!(first.1, retry.1);
    // Completed on 2 December: version 2 is in effect, and a comment is not one of its items.
    let december = example().set("completedAt", json!("2026-12-02T08:00:00Z"));
    assert!(judged(&after, &december).is_err());
    let plain = december.answers(json!({"pain": 3, "fatigue": 5.5}));
    assert_eq!(judged(&after, &plain).unwrap().0, "2");
    // A body naming its version is judged against that version only.
    assert!(super::judge(&after, november.version("2").submission()).is_err());
}

#[test]
fn a_version_published_ahead_of_its_effective_date_is_readable_but_not_yet_current() {
    let v1 = embedded().get("qol-daily", Some("1")).unwrap();
    let mut v2: Value =
        serde_json::from_str(embedded().get("qol-daily", Some("2")).unwrap().source).unwrap();
    v2["effectivePeriod"] = json!({"start": "2999-01-01T00:00:00Z"});
    let v2: &'static str = Box::leak(v2.to_string().into_boxed_str());
    let catalogue = Catalogue::from_files(&[
        (v1.path, v1.source),
        ("questionnaires/qol-daily/2.json", v2),
    ])
    .unwrap();
    assert_eq!(catalogue.current("qol-daily").unwrap().version(), "1");
    assert!(catalogue.get("qol-daily", Some("2")).is_ok());
    assert!(super::check::catalogue(&catalogue).is_empty());
}

#[test]
fn the_check_wants_each_version_to_take_effect_after_the_one_before() {
    let v1 = embedded().get("qol-daily", Some("1")).unwrap();
    let with_start = |version: &str, start: &str| -> (&'static str, &'static str) {
        let mut value: Value = serde_json::from_str(v1.source).unwrap();
        value["version"] = json!(version);
        value["effectivePeriod"] = json!({ "start": start });
        let source: &'static str = Box::leak(value.to_string().into_boxed_str());
        let path: &'static str =
            Box::leak(format!("questionnaires/qol-daily/{version}.json").into_boxed_str());
        (path, source)
    };
    let out_of_order = Catalogue::from_files(&[
        with_start("1", "2026-12-01T00:00:00Z"),
        with_start("2", "2026-11-01T00:00:00Z"),
    ])
    .unwrap();
    assert_found(
        check::catalogue(&out_of_order),
        "effectivePeriod.start must come after the previous version's",
    );
    let unreadable = Catalogue::from_files(&[with_start("1", "tomorrow")]).unwrap();
    assert_found(
        check::catalogue(&unreadable),
        "effectivePeriod.start must be an RFC 3339 date-time",
    );
}

/// The problems the check finds in `id` version 1 after `plant` breaks it.
fn problems_after(id: &str, plant: impl Fn(&mut Value)) -> Vec<String> {
    let mut value: Value = serde_json::from_str(embedded().current(id).unwrap().source).unwrap();
    plant(&mut value);
    let source: &'static str = Box::leak(value.to_string().into_boxed_str());
    let path: &'static str = Box::leak(format!("questionnaires/{id}/1.json").into_boxed_str());
    match Catalogue::from_files(&[(path, source)]) {
        Ok(catalogue) => check::questionnaire(catalogue.all().next().unwrap()),
        Err(error) => vec![error],
    }
}

fn assert_found(problems: Vec<String>, expected: &str) {
    assert!(
        problems.iter().any(|problem| problem.contains(expected)),
        "expected a problem containing {expected:?}, found {problems:#?}"
    );
}

#[test]
fn the_check_finds_duplicate_link_ids_and_bad_ids() {
    assert_found(
        problems_after("phq-9", |q| q["item"][2]["linkId"] = json!("44250-9")),
        "linkId 44250-9 is used twice",
    );
    assert_found(
        problems_after("phq-9", |q| q["item"][1]["linkId"] = json!("item one")),
        "linkId must be 1-64 characters",
    );
    assert_found(
        problems_after("phq-9", |q| q["version"] = json!("1.0")),
        "version must be a whole number",
    );
    assert_found(
        problems_after("phq-9", |q| q["status"] = json!("draft")),
        "never a draft",
    );
}

#[test]
fn the_check_finds_enable_when_targets_that_are_missing_or_come_later() {
    let postop = |plant: fn(&mut Value)| problems_after("postop-recovery", plant);
    assert_found(
        postop(|q| q["item"][2]["item"][1]["enableWhen"][0]["question"] = json!("nauseous")),
        "no item has this linkId",
    );
    assert_found(
        postop(|q| {
            q["item"][0]["enableWhen"] =
                json!([{"question": "nausea", "operator": "=", "answerBoolean": true}])
        }),
        "must come before the item it enables",
    );
    assert_found(
        postop(|q| q["item"][2]["item"][1]["enableWhen"][0]["answerBoolean"] = json!(null)),
        "exactly one answer[x]",
    );
    assert_found(
        postop(|q| q["item"][2]["item"][1]["enableWhen"][0]["operator"] = json!(">")),
        "must suit a boolean question",
    );
}

#[test]
fn the_check_finds_options_that_do_not_match_their_item() {
    assert_found(
        problems_after("phq-9", |q| {
            q["item"][1]["answerOption"][0] = json!({"valueInteger": 0})
        }),
        "every answerOption of a choice item is a valueCoding",
    );
    assert_found(
        problems_after("pain-nrs", |q| {
            q["item"][0]["answerOption"] = json!([{"valueCoding": {"code": "x"}}])
        }),
        "only a choice item has answerOption",
    );
    assert_found(
        problems_after("phq-9", |q| q["item"][1]["answerOption"] = json!([])),
        "a choice item needs answerOption",
    );
    assert_found(
        problems_after("pain-nrs", |q| q["item"][0]["type"] = json!("date")),
        "type must be one of",
    );
    assert_found(
        problems_after("pain-nrs", |q| q["item"][0]["repeats"] = json!(true)),
        "only choice and text items may repeat",
    );
    assert_found(
        problems_after("pain-nrs", |q| {
            q["item"][0]["extension"][0]["valueInteger"] = json!(11);
        }),
        "minValue is above maxValue",
    );
    assert_found(
        problems_after("pain-nrs", |q| {
            q["item"][0].as_object_mut().unwrap().remove("required");
        }),
        "must declare required and repeats",
    );
}

#[test]
fn the_check_finds_scores_over_items_that_are_missing_or_unscorable() {
    let items = |q: &mut Value| {
        q["extension"][0]["extension"]
            .as_array_mut()
            .unwrap()
            .clone()
    };
    assert_found(
        problems_after("phq-9", |q| {
            let mut parts = items(q);
            parts.push(json!({"url": "item", "valueString": "no-such-item"}));
            q["extension"][0]["extension"] = Value::Array(parts);
        }),
        "item no-such-item does not exist",
    );
    assert_found(
        problems_after("phq-9", |q| {
            let mut parts = items(q);
            parts.push(json!({"url": "item", "valueString": "69722-7"}));
            q["extension"][0]["extension"] = Value::Array(parts);
        }),
        "an option of item 69722-7 has no ordinalValue",
    );
    assert_found(
        problems_after("phq-9", |q| {
            q["extension"][0]["extension"][2]["valueCode"] = json!("mean")
        }),
        "method must be sum",
    );
}

#[test]
fn the_check_finds_an_exclusive_option_that_cannot_exclude_anything() {
    let exclusive = |value: Value| json!([{"url": OPTION_EXCLUSIVE, "valueBoolean": value}]);
    // On a choice that takes one answer, an exclusive option means nothing.
    assert_found(
        problems_after("phq-9", |q| {
            q["item"][1]["answerOption"][0]["extension"] = exclusive(json!(true))
        }),
        "only an option of a repeating choice item can be exclusive",
    );
    // The flag is a boolean.
    assert_found(
        problems_after("qol-daily", |q| {
            q["item"][4]["answerOption"][0]["extension"] =
                json!([{"url": OPTION_EXCLUSIVE, "valueString": "yes"}])
        }),
        "optionExclusive is a valueBoolean",
    );
    // Where it belongs, it passes.
    let fine = problems_after("qol-daily", |q| {
        q["item"][4]["answerOption"][0]["extension"] = exclusive(json!(true))
    });
    assert!(
        !fine
            .iter()
            .any(|p| p.contains("exclusive") || p.contains("optionExclusive")),
        "{fine:?}"
    );
}
