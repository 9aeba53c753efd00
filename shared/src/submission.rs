//! The v1 submission contract: what a patient app may send, and every rule it must meet.
//!
//! Validation collects every problem instead of stopping at the first, so an app developer can fix a payload in
//! one round trip. Problem texts never quote the submitted value: they end up in logs and support tickets.

use std::collections::BTreeMap;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longest id (`trialId`, `patientId`, `surveyId`, `timepoint`, answer keys), in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Most answers in one submission.
pub const MAX_ANSWERS: usize = 200;
/// Longest free-text answer or choice, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Most choices in a multiple-choice answer.
pub const MAX_CHOICES: usize = 50;
/// How far in the future `completedAt` may lie, to absorb clock skew on patients' phones.
pub const COMPLETED_AT_TOLERANCE: Duration = Duration::minutes(5);

/// DynamoDB stores numbers with a magnitude from 1e-130 up to (not including) 1e126; anything outside would be
/// accepted here and then fail in the store on every retry, so it is rejected at the edge.
const MIN_NUMBER_MAGNITUDE: f64 = 1e-130;
const NUMBER_MAGNITUDE_LIMIT: f64 = 1e126;

/// Every field of a v1 submission, in contract order; `answers` last.
pub const TOP_LEVEL_FIELDS: [&str; 7] = [
    "submissionId",
    "trialId",
    "patientId",
    "surveyId",
    "timepoint",
    "completedAt",
    "answers",
];

/// A submission that met every rule of the contract.
///
/// Field order and the sorted `answers` map make its JSON serialisation canonical, which the content hash relies on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub submission_id: Uuid,
    pub trial_id: String,
    pub patient_id: String,
    pub survey_id: String,
    pub timepoint: String,
    /// Kept exactly as the app sent it (after checking it is RFC 3339), so the stored record is what the patient's
    /// device recorded.
    pub completed_at: String,
    pub answers: BTreeMap<String, Answer>,
}

/// One answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Number(Number),
    Flag(bool),
    Text(String),
    Choices(Vec<String>),
}

/// One broken rule, addressed by its JSON path (`answers.pain`, `answers.symptoms[2]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// Why a body is not a valid submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The body is not JSON at all; the text is serde_json's position-only description.
    MalformedJson(String),
    /// The body is JSON but breaks the contract.
    Invalid(Vec<FieldProblem>),
}

impl Submission {
    /// Parses and validates a request body. `now` is the server's receive time, for the `completedAt` check.
    pub fn parse(body: &[u8], now: OffsetDateTime) -> Result<Self, Rejection> {
        let value = parse_json(body).map_err(|e| Rejection::MalformedJson(e.to_string()))?;
        Self::from_value(&value, now).map_err(Rejection::Invalid)
    }

    /// Validates an already parsed JSON value against every rule of the contract.
    pub fn from_value(value: &Value, now: OffsetDateTime) -> Result<Self, Vec<FieldProblem>> {
        let Some(object) = value.as_object() else {
            return Err(vec![problem("body", "must be a JSON object")]);
        };
        let mut check = Checker::default();
        for key in object.keys() {
            if !TOP_LEVEL_FIELDS.contains(&key.as_str()) {
                check.report(shorten(key), "is not a field of a v1 submission");
            }
        }
        let submission_id = check.submission_id(object);
        let trial_id = check.id_field(object, "trialId");
        let patient_id = check.id_field(object, "patientId");
        let survey_id = check.id_field(object, "surveyId");
        let timepoint = check.id_field(object, "timepoint");
        let completed_at = check.completed_at(object, now);
        let answers = check.answers(object);

        match (
            submission_id,
            trial_id,
            patient_id,
            survey_id,
            timepoint,
            completed_at,
            answers,
        ) {
            (
                Some(submission_id),
                Some(trial_id),
                Some(patient_id),
                Some(survey_id),
                Some(timepoint),
                Some(completed_at),
                Some(answers),
            ) if check.problems.is_empty() => Ok(Submission {
                submission_id,
                trial_id,
                patient_id,
                survey_id,
                timepoint,
                completed_at,
                answers,
            }),
            _ => Err(check.problems),
        }
    }
}

/// JSON as serde_json reads it (depth-limited, UTF-8 only), except that an object with a repeated key is an error.
/// serde_json would keep the last copy silently, and a body that names two `patientId`s means whatever the next
/// reader (a proxy, a WAF, an auditor's tool) decides it means.
fn parse_json(body: &[u8]) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = UniqueKeys.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

struct UniqueKeys;

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Value, E> {
        Ok(Value::Bool(flag))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Value, E> {
        Ok(Value::from(number))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Value, E> {
        Ok(Value::from(number))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Value, E> {
        Number::from_f64(number)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut array = Vec::new();
        while let Some(item) = items.next_element_seed(UniqueKeys)? {
            array.push(item);
        }
        Ok(Value::Array(array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if object.contains_key(&key) {
                // The key is not quoted: it is the caller's data, and the position suffices to find it.
                return Err(de::Error::custom("an object has the same key twice"));
            }
            let value = entries.next_value_seed(UniqueKeys)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn problem(field: impl Into<String>, problem: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Unknown keys are echoed back to help the app developer, but never at unbounded length.
fn shorten(key: &str) -> String {
    match key.char_indices().nth(MAX_ID_CHARS) {
        Some((cut, _)) => format!("{}…", &key[..cut]),
        None => key.to_owned(),
    }
}

/// The id rule shared by the four id fields and answer keys: 1–64 characters of `[A-Za-z0-9._:-]`.
fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        Some("must not be empty".into())
    } else if id.chars().count() > MAX_ID_CHARS {
        Some(format!("must be at most {MAX_ID_CHARS} characters"))
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
    {
        Some("may contain only letters, digits, '.', '_', ':' and '-'".into())
    } else {
        None
    }
}

/// One number, one form: an integral float that a 64-bit integer holds exactly (`4.0`, `-0.0`, `1e19`) becomes that
/// integer. DynamoDB keeps no such distinction (it returns `4` for `4.0`), so without this the stored record would
/// differ from its content hash, and a resend of `4` for `4.0` would count as a conflict.
fn canonical_number(number: &Number) -> Number {
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    match number.as_f64() {
        Some(x) if number.is_f64() && x.fract() == 0.0 && (0.0..TWO_POW_64).contains(&x) => {
            Number::from(x as u64)
        }
        Some(x) if number.is_f64() && x.fract() == 0.0 && x >= i64::MIN as f64 && x < 0.0 => {
            Number::from(x as i64)
        }
        _ => number.clone(),
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<FieldProblem>,
}

impl Checker {
    fn report(&mut self, field: impl Into<String>, text: impl Into<String>) {
        self.problems.push(problem(field, text));
    }

    /// The field's string value; reports a missing field or a wrong type.
    fn string<'a>(&mut self, object: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
        match object.get(field) {
            None => {
                self.report(field, "is required");
                None
            }
            Some(Value::String(text)) => Some(text),
            Some(_) => {
                self.report(field, "must be a string");
                None
            }
        }
    }

    fn submission_id(&mut self, object: &Map<String, Value>) -> Option<Uuid> {
        const FIELD: &str = "submissionId";
        let text = self.string(object, FIELD)?;
        // Only the canonical 8-4-4-4-12 form: the braced, URN and bare-hex forms would let one id take several
        // spellings.
        match Uuid::try_parse(text) {
            Ok(id) if text.len() == 36 && !id.is_nil() => Some(id),
            Ok(id) if id.is_nil() => {
                self.report(FIELD, "must not be the nil UUID");
                None
            }
            _ => {
                self.report(
                    FIELD,
                    "must be a UUID in its 36-character form (8-4-4-4-12 hex digits)",
                );
                None
            }
        }
    }

    fn id_field(&mut self, object: &Map<String, Value>, field: &str) -> Option<String> {
        let text = self.string(object, field)?;
        match id_problem(text) {
            Some(text) => {
                self.report(field, text);
                None
            }
            None => Some(text.to_owned()),
        }
    }

    fn completed_at(&mut self, object: &Map<String, Value>, now: OffsetDateTime) -> Option<String> {
        const FIELD: &str = "completedAt";
        let text = self.string(object, FIELD)?;
        // The `time` crate also takes the space separator that RFC 3339 mentions only in a note; the grammar (and
        // every consumer that sorts or parses these as ISO 8601) needs the `T`.
        let grammar_separator = text
            .as_bytes()
            .get(10)
            .is_some_and(|b| b.eq_ignore_ascii_case(&b'T'));
        match OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .filter(|_| grammar_separator)
            .ok_or(())
        {
            Err(()) => {
                self.report(
                    FIELD,
                    "must be an RFC 3339 date-time, such as 2026-11-22T08:00:03Z",
                );
                None
            }
            Ok(at) if at > now + COMPLETED_AT_TOLERANCE => {
                self.report(FIELD, "must not be more than 5 minutes in the future");
                None
            }
            Ok(_) => Some(text.to_owned()),
        }
    }

    fn answers(&mut self, object: &Map<String, Value>) -> Option<BTreeMap<String, Answer>> {
        const FIELD: &str = "answers";
        let entries = match object.get(FIELD) {
            None => {
                self.report(FIELD, "is required");
                return None;
            }
            Some(Value::Object(entries)) => entries,
            Some(_) => {
                self.report(FIELD, "must be an object of question id to answer");
                return None;
            }
        };
        if entries.is_empty() {
            self.report(FIELD, "must have at least one answer");
            return None;
        }
        if entries.len() > MAX_ANSWERS {
            // Checking each of thousands of entries would only bloat the response: the count is the real problem.
            self.report(FIELD, format!("must have at most {MAX_ANSWERS} answers"));
            return None;
        }
        let before = self.problems.len();
        let answers: BTreeMap<String, Answer> = entries
            .iter()
            .filter_map(|(key, value)| {
                let path = format!("{FIELD}.{}", shorten(key));
                if let Some(text) = id_problem(key) {
                    self.report(path.clone(), format!("question id {text}"));
                }
                self.answer(&path, value)
                    .map(|answer| (key.clone(), answer))
            })
            .collect();
        (self.problems.len() == before).then_some(answers)
    }

    fn answer(&mut self, path: &str, value: &Value) -> Option<Answer> {
        match value {
            Value::Number(number) => self.number(path, number).map(Answer::Number),
            Value::Bool(flag) => Some(Answer::Flag(*flag)),
            Value::String(text) => self.text(path, text).map(Answer::Text),
            Value::Array(items) => self.choices(path, items).map(Answer::Choices),
            Value::Null | Value::Object(_) => {
                self.report(
                    path,
                    "must be a number, a boolean, a string, or an array of strings",
                );
                None
            }
        }
    }

    fn number(&mut self, path: &str, number: &Number) -> Option<Number> {
        // Without serde_json's arbitrary_precision every JSON number is an integer or a finite f64.
        let magnitude = number.as_f64().map_or(f64::INFINITY, f64::abs);
        if magnitude != 0.0 && !(MIN_NUMBER_MAGNITUDE..NUMBER_MAGNITUDE_LIMIT).contains(&magnitude)
        {
            self.report(
                path,
                "must be 0 or have a magnitude from 1e-130 up to 1e126",
            );
            return None;
        }
        Some(canonical_number(number))
    }

    fn text(&mut self, path: &str, text: &str) -> Option<String> {
        if text.chars().count() > MAX_TEXT_CHARS {
            self.report(path, format!("must be at most {MAX_TEXT_CHARS} characters"));
            return None;
        }
        // A NUL or an escape sequence is never something a patient typed; it truncates or rewrites the text in the
        // tools that later display it. Tabs and line breaks are typed.
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            self.report(
                path,
                "must not contain control characters other than tab and line breaks",
            );
            return None;
        }
        // API Gateway hands the function a JSON body as text, replacing bytes that are not UTF-8 with U+FFFD. The
        // function never sees the bad bytes, only this mark: what the patient wrote was damaged on the way.
        if text.contains(char::REPLACEMENT_CHARACTER) {
            self.report(
                path,
                "must be valid UTF-8 (it holds U+FFFD, the mark of bytes that were not)",
            );
            return None;
        }
        Some(text.to_owned())
    }

    fn choices(&mut self, path: &str, items: &[Value]) -> Option<Vec<String>> {
        if items.len() > MAX_CHOICES {
            self.report(path, format!("must have at most {MAX_CHOICES} choices"));
            return None;
        }
        let before = self.problems.len();
        let choices: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                let item_path = format!("{path}[{index}]");
                match item {
                    Value::String(text) => self.text(&item_path, text),
                    _ => {
                        self.report(item_path, "must be a string");
                        None
                    }
                }
            })
            .collect();
        (self.problems.len() == before).then_some(choices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 08:00:00 UTC);

    fn valid() -> Value {
        json!({
            "submissionId": "0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f",
            "trialId": "ONC-2026-01",
            "patientId": "P-000123",
            "surveyId": "qol-daily",
            "timepoint": "day-7",
            "completedAt": "2026-11-22T08:00:03Z",
            "answers": { "pain": 3, "fatigue": 5.5, "nausea": false, "comment": "slept badly", "symptoms": ["cough", "fever"] }
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut body = valid();
        body[field] = value;
        body
    }

    fn with_answer(key: &str, value: Value) -> Value {
        let mut body = valid();
        body["answers"][key] = value;
        body
    }

    fn problems(body: Value) -> Vec<FieldProblem> {
        Submission::from_value(&body, NOW).expect_err("must be rejected")
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
        let submission = Submission::from_value(&valid(), NOW).unwrap();
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
        let rejection = Submission::parse(b"{\"submissionId\": ", NOW).unwrap_err();
        assert!(matches!(rejection, Rejection::MalformedJson(_)));
        assert!(matches!(
            Submission::parse(b"", NOW),
            Err(Rejection::MalformedJson(_))
        ));
    }

    #[test]
    fn a_repeated_key_makes_the_body_malformed_without_quoting_it() {
        let valid = valid().to_string();
        let twice = valid.replacen('{', "{\"patientId\": \"P-000999\", ", 1);
        let Err(Rejection::MalformedJson(detail)) = Submission::parse(twice.as_bytes(), NOW) else {
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
            Submission::parse(nested.as_bytes(), NOW),
            Err(Rejection::MalformedJson(_))
        ));
    }

    #[test]
    fn nesting_beyond_the_parser_limit_is_malformed_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            Submission::parse(deep.as_bytes(), NOW),
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
        let accepted = Submission::from_value(&with_answer("comment", json!(typed)), NOW).unwrap();
        assert_eq!(accepted.answers["comment"], Answer::Text(typed.into()));
    }

    #[test]
    fn json_that_is_not_an_object_is_invalid() {
        for body in [json!([1, 2]), json!("text"), json!(null), json!(7)] {
            assert_eq!(only_problem(body), problem("body", "must be a JSON object"));
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
            problem("deviceId", "is not a field of a v1 submission")
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
                problem("submissionId", canonical_form),
                "{bad}"
            );
        }
        assert_eq!(
            only_problem(with("submissionId", json!(Uuid::nil().to_string()))),
            problem("submissionId", "must not be the nil UUID")
        );
        assert_eq!(
            only_problem(with("submissionId", json!(42))),
            problem("submissionId", "must be a string")
        );
    }

    #[test]
    fn submission_id_is_stored_lowercase_so_one_id_has_one_spelling() {
        let body = with(
            "submissionId",
            json!("0B9D6C1E-3F7A-4C52-9D1E-2A4B6C8D0E1F"),
        );
        let submission = Submission::from_value(&body, NOW).unwrap();
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
                problem(field, "must not be empty")
            );
            assert_eq!(
                only_problem(with(field, json!("a".repeat(65)))),
                problem(field, "must be at most 64 characters")
            );
            assert_eq!(
                only_problem(with(field, json!("P 1"))),
                problem(
                    field,
                    "may contain only letters, digits, '.', '_', ':' and '-'"
                )
            );
            assert_eq!(
                only_problem(with(field, json!("Ρ-1"))), // Greek capital rho, a Latin P look-alike
                problem(
                    field,
                    "may contain only letters, digits, '.', '_', ':' and '-'"
                )
            );
            assert_eq!(
                only_problem(with(field, json!(["P-1"]))),
                problem(field, "must be a string")
            );
            let longest = "a.b_c:d-".repeat(8);
            assert!(Submission::from_value(&with(field, json!(longest)), NOW).is_ok());
        }
    }

    #[test]
    fn completed_at_must_be_rfc3339_and_not_in_the_future() {
        let rfc = "must be an RFC 3339 date-time, such as 2026-11-22T08:00:03Z";
        for bad in [
            "2026-11-22",
            "22/11/2026 08:00",
            "2026-11-22T08:00:03",
            "",
            "2026-11-22 08:00:03Z",
        ] {
            assert_eq!(
                only_problem(with("completedAt", json!(bad))),
                problem("completedAt", rfc),
                "{bad}"
            );
        }
        assert_eq!(
            only_problem(with("completedAt", json!("2026-11-22T08:05:01Z"))),
            problem(
                "completedAt",
                "must not be more than 5 minutes in the future"
            )
        );
        // Exactly at the tolerance, in another offset, and in the past are all fine.
        for good in [
            "2026-11-22T08:05:00Z",
            "2026-11-22T09:04:00+01:00",
            "2025-01-01T00:00:00.123Z",
        ] {
            assert!(
                Submission::from_value(&with("completedAt", json!(good)), NOW).is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn answers_must_be_a_non_empty_bounded_object() {
        assert_eq!(
            only_problem(with("answers", json!([]))),
            problem("answers", "must be an object of question id to answer")
        );
        assert_eq!(
            only_problem(with("answers", json!({}))),
            problem("answers", "must have at least one answer")
        );
        let many: Map<String, Value> = (0..=MAX_ANSWERS)
            .map(|i| (format!("q{i}"), json!(1)))
            .collect();
        assert_eq!(
            only_problem(with("answers", Value::Object(many.clone()))),
            problem("answers", "must have at most 200 answers")
        );
        let most: Map<String, Value> = many.into_iter().take(MAX_ANSWERS).collect();
        assert!(Submission::from_value(&with("answers", Value::Object(most)), NOW).is_ok());
    }

    #[test]
    fn answer_keys_follow_the_id_rule() {
        assert_eq!(
            only_problem(with_answer("pain level", json!(3))),
            problem(
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
            problem("answers.pain", kinds)
        );
        assert_eq!(
            only_problem(with_answer("pain", json!({"value": 3}))),
            problem("answers.pain", kinds)
        );
    }

    #[test]
    fn text_answers_are_bounded_in_characters_not_bytes() {
        assert_eq!(
            only_problem(with_answer("comment", json!("x".repeat(2_001)))),
            problem("answers.comment", "must be at most 2000 characters")
        );
        // 2,000 three-byte characters are fine.
        assert!(
            Submission::from_value(&with_answer("comment", json!("€".repeat(2_000))), NOW).is_ok()
        );
    }

    #[test]
    fn choices_are_bounded_strings() {
        assert_eq!(
            only_problem(with_answer("symptoms", json!(vec!["a"; 51]))),
            problem("answers.symptoms", "must have at most 50 choices")
        );
        let found = problems(with_answer(
            "symptoms",
            json!(["ok", 1, "y".repeat(2_001), null]),
        ));
        assert_eq!(
            found,
            vec![
                problem("answers.symptoms[1]", "must be a string"),
                problem("answers.symptoms[2]", "must be at most 2000 characters"),
                problem("answers.symptoms[3]", "must be a string"),
            ]
        );
        assert!(Submission::from_value(&with_answer("symptoms", json!([])), NOW).is_ok());
    }

    #[test]
    fn numbers_must_fit_what_the_store_can_hold() {
        let range = "must be 0 or have a magnitude from 1e-130 up to 1e126";
        for bad in [1e200, -1e130, 1e126, 1e-200] {
            assert_eq!(
                only_problem(with_answer("pain", json!(bad))),
                problem("answers.pain", range),
                "{bad}"
            );
        }
        for good in [0.0, -2.5, 1e125, 1e-130] {
            assert!(Submission::from_value(&with_answer("pain", json!(good)), NOW).is_ok());
        }
        assert!(Submission::from_value(&with_answer("pain", json!(u64::MAX)), NOW).is_ok());
        // JSON has no NaN or Infinity, and out-of-range literals do not parse.
        assert!(matches!(
            Submission::parse(br#"{"answers": {"pain": NaN}}"#, NOW),
            Err(Rejection::MalformedJson(_))
        ));
        assert!(matches!(
            Submission::parse(br#"{"answers": {"pain": 1e400}}"#, NOW),
            Err(Rejection::MalformedJson(_))
        ));
    }

    #[test]
    fn integral_floats_take_their_integer_form() {
        let canonical = |value: Value| {
            let submission = Submission::from_value(&with_answer("n", value), NOW).unwrap();
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
}
