use super::*;
use serde_json::{Map, json};

use crate::testing::example;

fn valid() -> Value {
    example().json()
}

fn with(field: &str, value: Value) -> Value {
    example().set(field, value).json()
}

fn with_answer(key: &str, value: Value) -> Value {
    example().answer(key, value).json()
}

fn problems(body: Value) -> Vec<FieldProblem> {
    Submission::from_value(&body).expect_err("must be rejected")
}

/// The one problem reported for `field`, asserting there is exactly one problem in all.
fn only_problem(body: Value) -> FieldProblem {
    let mut found = problems(body);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one problem, got {found:?}"
    );
    found.remove(0)
}

#[test]
fn accepts_the_contract_example() {
    let submission = Submission::from_value(&valid()).unwrap();
    assert_eq!(
        submission.submission_id.to_string(),
        "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f"
    );
    assert_eq!(submission.patient_id, "P-000123");
    assert_eq!(submission.completed_at, "2026-11-22T08:00:03Z");
    assert_eq!(submission.answers.len(), 5);
    assert_eq!(
        submission.answers["symptoms"],
        Answer::Choices(vec!["cough".into(), "fever".into()])
    );
    assert_eq!(submission.answers["nausea"], Answer::Flag(false));
}

#[test]
fn a_body_that_is_not_json_is_malformed_not_invalid() {
    let rejection = Submission::parse(b"{\"submissionId\": ").unwrap_err();
    assert!(matches!(rejection, Rejection::MalformedJson(_)));
    assert!(matches!(
        Submission::parse(b""),
        Err(Rejection::MalformedJson(_))
    ));
}

#[test]
fn a_repeated_key_makes_the_body_malformed_without_quoting_it() {
    let valid = valid().to_string();
    let twice = valid.replacen('{', "{\"patientId\": \"P-000999\", ", 1);
    let Err(Rejection::MalformedJson(detail)) = Submission::parse(twice.as_bytes()) else {
        panic!("two patientIds must not pass");
    };
    assert!(
        detail.contains("same key twice") && detail.contains("column"),
        "{detail}"
    );
    assert!(!detail.contains("patientId"), "{detail}");
    let nested = valid.replacen("\"pain\":3", "\"pain\":3,\"pain\":4", 1);
    assert_ne!(nested, valid);
    assert!(matches!(
        Submission::parse(nested.as_bytes()),
        Err(Rejection::MalformedJson(_))
    ));
}

#[test]
fn nesting_beyond_the_parser_limit_is_malformed_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        Submission::parse(deep.as_bytes()),
        Err(Rejection::MalformedJson(_))
    ));
}

#[test]
fn text_with_control_characters_is_refused_but_tabs_and_line_breaks_are_kept() {
    for bad in ["a\u{0}b", "\u{1b}[2J", "bell\u{7}", "\u{85}"] {
        assert_eq!(
            only_problem(with_answer("comment", json!(bad))).problem,
            "must not contain control characters other than tab and line breaks"
        );
        assert_eq!(
            only_problem(with_answer("symptoms", json!([bad]))).field,
            "answers.symptoms[0]"
        );
    }
    assert_eq!(
        only_problem(with_answer("comment", json!("caf\u{fffd}"))).problem,
        "must be valid UTF-8 (it holds U+FFFD, the mark of bytes that were not)"
    );
    let typed = "line one\r\nline two\tend";
    let accepted = Submission::from_value(&with_answer("comment", json!(typed))).unwrap();
    assert_eq!(accepted.answers["comment"], Answer::Text(typed.into()));
}

#[test]
fn json_that_is_not_an_object_is_invalid() {
    for body in [json!([1, 2]), json!("text"), json!(null), json!(7)] {
        assert_eq!(
            only_problem(body),
            FieldProblem::new("body", "must be a JSON object")
        );
    }
}

#[test]
fn every_missing_field_is_listed() {
    let found = problems(json!({}));
    let fields: Vec<&str> = found.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, TOP_LEVEL_FIELDS);
    assert!(found.iter().all(|p| p.problem == "is required"));
}

#[test]
fn unknown_top_level_fields_are_rejected() {
    let mut body = valid();
    body["deviceId"] = json!("x");
    assert_eq!(
        only_problem(body),
        FieldProblem::new("deviceId", "is not a field of a v1 submission")
    );
}

#[test]
fn an_absurdly_long_unknown_field_is_echoed_shortened() {
    let key = "k".repeat(10_000);
    let mut body = valid();
    body[key.as_str()] = json!(1);
    let found = only_problem(body);
    assert_eq!(found.field.chars().count(), MAX_ID_CHARS + 1);
    assert!(found.field.ends_with('…'));
}

#[test]
fn submission_id_must_be_a_canonical_non_nil_uuid() {
    let canonical_form = "must be a UUID in its 36-character form (8-4-4-4-12 hex digits)";
    for bad in [
        "not-a-uuid",
        "0b9d6c1e3f7a4c529d1e2a4b6c8d0e1f",
        "{0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f}",
        "urn:uuid:0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f",
        "",
    ] {
        assert_eq!(
            only_problem(with("submissionId", json!(bad))),
            FieldProblem::new("submissionId", canonical_form),
            "{bad}"
        );
    }
    assert_eq!(
        only_problem(with("submissionId", json!(Uuid::nil().to_string()))),
        FieldProblem::new("submissionId", "must not be the nil UUID")
    );
    assert_eq!(
        only_problem(with("submissionId", json!(42))),
        FieldProblem::new("submissionId", "must be a string")
    );
}

#[test]
fn submission_id_is_stored_lowercase_so_one_id_has_one_spelling() {
    let body = with(
        "submissionId",
        json!("0B9D6C1E-3F7A-4C52-9D1E-2A4B6C8D0E1F"),
    );
    let submission = Submission::from_value(&body).unwrap();
    assert_eq!(
        serde_json::to_value(&submission).unwrap()["submissionId"],
        "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f"
    );
}

#[test]
fn id_fields_follow_the_id_rule() {
    for field in ["trialId", "patientId", "surveyId", "timepoint"] {
        assert_eq!(
            only_problem(with(field, json!(""))),
            FieldProblem::new(field, "must not be empty")
        );
        assert_eq!(
            only_problem(with(field, json!("a".repeat(65)))),
            FieldProblem::new(field, "must be at most 64 characters")
        );
        assert_eq!(
            only_problem(with(field, json!("P 1"))),
            FieldProblem::new(
                field,
                "may contain only letters, digits, '.', '_', ':' and '-'"
            )
        );
        assert_eq!(
            only_problem(with(field, json!("Ρ-1"))), // Greek capital rho, a Latin P look-alike
            FieldProblem::new(
                field,
                "may contain only letters, digits, '.', '_', ':' and '-'"
            )
        );
        assert_eq!(
            only_problem(with(field, json!(["P-1"]))),
            FieldProblem::new(field, "must be a string")
        );
        let longest = "a.b_c:d-".repeat(8);
        assert!(Submission::from_value(&with(field, json!(longest))).is_ok());
    }
}

#[test]
fn completed_at_must_be_a_real_rfc3339_time_but_may_run_ahead_of_the_server() {
    let rfc = "must be an RFC 3339 date-time as FHIR writes it, such as 2026-11-22T08:00:03Z";
    for bad in [
        "2026-11-22",
        "22/11/2026 08:00",
        "2026-11-22T08:00:03",
        "",
        "2026-11-22 08:00:03Z",
        "2026-02-30T08:00:00Z",
        "2026-11-22T25:00:00Z",
        "2026-11-22t08:00:03Z",
        "2026-11-22T08:00:03z",
        "2026-11-22T08:00:03.1234567891Z",
        "2026-11-22T08:00:03+14:30",
    ] {
        assert_eq!(
            only_problem(with("completedAt", json!(bad))),
            FieldProblem::new("completedAt", rfc),
            "{bad}"
        );
    }
    // A fast device clock is flagged when the envelope is made, never refused here: an hour ahead, a year ahead.
    for good in [
        "2026-11-22T09:04:00+01:00",
        "2025-01-01T00:00:00.123Z",
        "2026-11-22T09:00:00Z",
        "2027-11-22T08:00:00Z",
        "2026-11-22T08:00:03.123456789-12:00",
        "2026-11-22T08:00:03+14:00",
    ] {
        assert!(
            Submission::from_value(&with("completedAt", json!(good))).is_ok(),
            "{good}"
        );
    }
}

#[test]
fn answers_must_be_a_non_empty_bounded_object() {
    assert_eq!(
        only_problem(with("answers", json!([]))),
        FieldProblem::new("answers", "must be an object of question id to answer")
    );
    assert_eq!(
        only_problem(with("answers", json!({}))),
        FieldProblem::new("answers", "must have at least one answer")
    );
    let many: Map<String, Value> = (0..=MAX_ANSWERS)
        .map(|i| (format!("q{i}"), json!(1)))
        .collect();
    assert_eq!(
        only_problem(with("answers", Value::Object(many.clone()))),
        FieldProblem::new("answers", "must have at most 200 answers")
    );
    let most: Map<String, Value> = many.into_iter().take(MAX_ANSWERS).collect();
    assert!(Submission::from_value(&with("answers", Value::Object(most))).is_ok());
}

#[test]
fn answer_keys_follow_the_id_rule() {
    assert_eq!(
        only_problem(with_answer("pain level", json!(3))),
        FieldProblem::new(
            "answers.pain level",
            "question id may contain only letters, digits, '.', '_', ':' and '-'"
        )
    );
}

#[test]
fn answer_values_are_numbers_booleans_strings_or_string_arrays() {
    let kinds = "must be a number, a boolean, a string, or an array of strings";
    assert_eq!(
        only_problem(with_answer("pain", json!(null))),
        FieldProblem::new("answers.pain", kinds)
    );
    assert_eq!(
        only_problem(with_answer("pain", json!({"value": 3}))),
        FieldProblem::new("answers.pain", kinds)
    );
}

#[test]
fn text_answers_are_bounded_in_characters_not_bytes() {
    assert_eq!(
        only_problem(with_answer("comment", json!("x".repeat(2_001)))),
        FieldProblem::new("answers.comment", "must be at most 2000 characters")
    );
    // 2,000 three-byte characters are fine.
    assert!(Submission::from_value(&with_answer("comment", json!("€".repeat(2_000)))).is_ok());
}

#[test]
fn choices_are_bounded_strings() {
    assert_eq!(
        only_problem(with_answer("symptoms", json!(vec!["a"; 51]))),
        FieldProblem::new("answers.symptoms", "must have at most 50 choices")
    );
    let found = problems(with_answer(
        "symptoms",
        json!(["ok", 1, "y".repeat(2_001), null]),
    ));
    assert_eq!(
        found,
        vec![
            FieldProblem::new("answers.symptoms[1]", "must be a string"),
            FieldProblem::new("answers.symptoms[2]", "must be at most 2000 characters"),
            FieldProblem::new("answers.symptoms[3]", "must be a string"),
        ]
    );
    assert!(Submission::from_value(&with_answer("symptoms", json!([]))).is_ok());
}

#[test]
fn numbers_must_fit_what_the_store_can_hold() {
    let range = "must be 0 or have a magnitude from 1e-130 up to 1e126";
    for bad in [1e200, -1e130, 1e126, 1e-200] {
        assert_eq!(
            only_problem(with_answer("pain", json!(bad))),
            FieldProblem::new("answers.pain", range),
            "{bad}"
        );
    }
    for good in [0.0, -2.5, 1e125, 1e-130] {
        assert!(Submission::from_value(&with_answer("pain", json!(good))).is_ok());
    }
    assert!(Submission::from_value(&with_answer("pain", json!(u64::MAX))).is_ok());
    // JSON has no NaN or Infinity, and out-of-range literals do not parse.
    assert!(matches!(
        Submission::parse(br#"{"answers": {"pain": NaN}}"#),
        Err(Rejection::MalformedJson(_))
    ));
    assert!(matches!(
        Submission::parse(br#"{"answers": {"pain": 1e400}}"#),
        Err(Rejection::MalformedJson(_))
    ));
}

#[test]
fn integral_floats_take_their_integer_form() {
    let canonical = |value: Value| {
        let submission = Submission::from_value(&with_answer("n", value)).unwrap();
        serde_json::to_value(&submission.answers["n"]).unwrap()
    };
    assert_eq!(canonical(json!(4.0)), json!(4));
    assert_eq!(canonical(json!(-2.0)), json!(-2));
    assert_eq!(canonical(json!(-0.0)), json!(0));
    assert_eq!(
        canonical(json!(1e19)),
        json!(10_000_000_000_000_000_000_u64)
    );
    assert_eq!(canonical(json!(5.5)), json!(5.5));
    assert_eq!(
        canonical(json!(1e20)),
        json!(1e20),
        "beyond 64 bits a float stays a float"
    );
    assert_eq!(canonical(json!(3)), json!(3));
}

#[test]
fn every_problem_is_listed_not_only_the_first() {
    let body = json!({
        "submissionId": "nope",
        "trialId": "",
        "patientId": "P-1",
        "surveyId": "qol",
        "timepoint": "day 7",
        "completedAt": "yesterday",
        "answers": { "pain": null, "bad key": 1 },
        "extra": true
    });
    let fields: Vec<String> = problems(body).into_iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "extra",
            "submissionId",
            "trialId",
            "timepoint",
            "completedAt",
            "answers.bad key",
            "answers.pain"
        ]
    );
}

#[test]
fn problem_texts_never_quote_the_submitted_value() {
    let secret = "my-secret-diagnosis";
    let body = json!({
        "submissionId": secret, "trialId": format!("{secret} "), "patientId": 1, "surveyId": "s",
        "timepoint": "t", "completedAt": secret, "answers": { "c": [secret, 1], "n": null }
    });
    for found in problems(body) {
        assert!(!found.problem.contains(secret), "{found:?}");
    }
}
