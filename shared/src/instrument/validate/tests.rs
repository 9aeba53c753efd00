use serde_json::{Value, json};

use crate::instrument::{Catalogue, Judged, judge};
use crate::submission::FieldProblem;
use crate::testing::example;

fn judged(survey: &str, answers: Value) -> Result<Judged, Vec<FieldProblem>> {
    let catalogue = Catalogue::embedded();
    judge(catalogue, example().survey(survey, answers).submission())
}

/// The one problem of `answers`, as `(field, problem)`.
fn only_problem(survey: &str, answers: Value) -> (String, String) {
    let mut problems = judged(survey, answers).expect_err("must be refused");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let problem = problems.remove(0);
    (problem.field, problem.problem)
}

fn postop(extra: Value) -> Value {
    let mut answers = json!({"temperature": 37.2, "wound": ["none"], "nausea": false});
    for (key, value) in extra.as_object().unwrap() {
        answers[key] = value.clone();
    }
    answers
}

fn phq9(item9: &str) -> Value {
    let codes = [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
    ];
    let mut answers: serde_json::Map<String, Value> = codes
        .iter()
        .map(|code| (code.to_string(), json!("LA6569-3")))
        .collect();
    answers.insert("44260-8".into(), json!(item9));
    Value::Object(answers)
}

#[test]
fn a_complete_phq9_is_accepted_with_its_version_and_score() {
    let judged = judged("phq-9", phq9("LA6568-5")).unwrap();
    assert_eq!(judged.submission.survey_version.as_deref(), Some("1"));
    assert_eq!(judged.scores["total"].value, serde_json::Number::from(8));
    assert_eq!(judged.scores["total"].band.as_deref(), Some("mild"));
}

#[test]
fn an_unknown_instrument_or_version_is_refused() {
    let (field, problem) = only_problem("sf-36", json!({"q": 1}));
    assert_eq!(field, "surveyId");
    assert!(
        problem.starts_with("is not an instrument of the catalogue (ae-diary, gad-7"),
        "{problem}"
    );
    let catalogue = Catalogue::embedded();
    let unknown = judge(catalogue, example().version("9").submission()).unwrap_err();
    assert_eq!(
        unknown,
        [FieldProblem::new(
            "surveyVersion",
            "is not a published version of qol-daily (1, 2)"
        )]
    );
}

#[test]
fn answers_are_checked_against_the_version_named() {
    let catalogue = Catalogue::embedded();
    let with_mood = example().answer("mood", json!(7));
    assert!(
        judge(catalogue, with_mood.clone().submission()).is_ok(),
        "version 2 has mood"
    );
    let problems = judge(catalogue, with_mood.version("1").submission()).unwrap_err();
    assert_eq!(
        problems,
        [FieldProblem::new(
            "answers.mood",
            "is not an item of qol-daily version 1"
        )]
    );
}

#[test]
fn an_unknown_item_and_an_item_that_takes_no_answer_are_refused() {
    assert_eq!(
        only_problem("postop-recovery", postop(json!({"mood": 3}))),
        (
            "answers.mood".into(),
            "is not an item of postop-recovery version 1".into()
        )
    );
    assert_eq!(
        only_problem("postop-recovery", postop(json!({"wound-check": "fine"}))),
        (
            "answers.wound-check".into(),
            "is a group item and takes no answer".into()
        )
    );
}

#[test]
fn a_required_item_must_be_answered_when_it_is_shown() {
    assert_eq!(
        only_problem(
            "postop-recovery",
            json!({"wound": ["none"], "nausea": false})
        ),
        ("answers.temperature".into(), "is required".into())
    );
    // The follow-up is required only when nausea is yes (enableWhen).
    assert_eq!(
        only_problem("postop-recovery", postop(json!({"nausea": true}))),
        ("answers.nausea-severity".into(), "is required".into())
    );
    assert!(
        judged(
            "postop-recovery",
            postop(json!({"nausea": true, "nausea-severity": "mild"}))
        )
        .is_ok()
    );
}

#[test]
fn an_item_that_enable_when_hides_must_not_be_answered() {
    assert_eq!(
        only_problem(
            "postop-recovery",
            postop(json!({"nausea-severity": "mild"}))
        ),
        (
            "answers.nausea-severity".into(),
            "must not be answered: it is shown only when nausea = true".into()
        )
    );
}

#[test]
fn a_value_of_the_wrong_type_is_refused() {
    let cases = [
        (
            json!({"temperature": "warm"}),
            "answers.temperature",
            "must be a number",
        ),
        (
            json!({"nausea": 1}),
            "answers.nausea",
            "must be true or false",
        ),
        (json!({"notes": 5}), "answers.notes", "must be text"),
        (
            json!({"wound": "none"}),
            "answers.wound",
            "must be a list of answers (the item allows several)",
        ),
        (
            json!({"nausea": ["yes"]}),
            "answers.nausea",
            "takes one answer, not several",
        ),
    ];
    for (extra, field, problem) in cases {
        assert_eq!(
            only_problem("postop-recovery", postop(extra)),
            (field.into(), problem.into())
        );
    }
    assert_eq!(
        only_problem("pain-nrs", json!({"pain": 4.5})),
        ("answers.pain".into(), "must be a whole number".into())
    );
}

#[test]
fn numbers_must_lie_within_min_and_max_value() {
    assert_eq!(
        only_problem("pain-nrs", json!({"pain": 11})),
        ("answers.pain".into(), "must be from 0 to 10".into())
    );
    assert_eq!(
        only_problem("postop-recovery", postop(json!({"temperature": 45.1}))),
        ("answers.temperature".into(), "must be from 34 to 43".into())
    );
    assert!(
        judged("pain-nrs", json!({"pain": 10.0})).is_ok(),
        "10.0 is the whole number 10"
    );
}

#[test]
fn text_must_fit_max_length() {
    assert_eq!(
        only_problem(
            "postop-recovery",
            postop(json!({"notes": "x".repeat(1001)}))
        ),
        (
            "answers.notes".into(),
            "must be at most 1000 characters".into()
        )
    );
    let entries = json!(["a fall", "y".repeat(2_000)]);
    assert!(judged("ae-diary", json!({"events": entries})).is_ok());
}

#[test]
fn a_choice_must_be_one_of_the_options_and_not_repeated() {
    assert_eq!(
        only_problem("phq-9", phq9("LA9999-9")),
        (
            "answers.44260-8".into(),
            "must be one of the item's options: LA6568-5, LA6569-3, LA6570-1, LA6571-9".into()
        )
    );
    let problems = judged(
        "postop-recovery",
        postop(json!({"wound": ["redness", "pus", "redness"]})),
    )
    .unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["answers.wound[1]", "answers.wound"]);
    assert_eq!(problems[1].problem, "gives the same answer twice");
    assert_eq!(
        only_problem("postop-recovery", postop(json!({"wound": []}))),
        (
            "answers.wound".into(),
            "must hold at least one answer (leave the item out when it is not answered)".into()
        )
    );
}

#[test]
fn every_problem_is_listed_with_its_item() {
    let problems = judged(
        "postop-recovery",
        json!({"temperature": 50, "wound": ["pus"], "nausea-severity": "mild", "extra": 1}),
    )
    .unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "answers.temperature",
            "answers.wound[0]",
            "answers.nausea",
            "answers.nausea-severity",
            "answers.extra"
        ]
    );
}

#[test]
fn problem_texts_never_quote_an_answer() {
    let secret = "my-secret-worry";
    let problems = judged(
        "postop-recovery",
        json!({"temperature": secret, "wound": [secret], "nausea": secret, "notes": [secret]}),
    )
    .unwrap_err();
    assert!(
        problems.iter().all(|p| !p.problem.contains(secret)),
        "{problems:?}"
    );
}
