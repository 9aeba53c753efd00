//! The field rules of the v1 contract. Every problem text is built from the limit it names, so the two cannot
//! drift apart.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{
    Answer, FieldProblem, MAX_ANSWERS, MAX_CHOICES, MAX_ID_CHARS, MAX_TEXT_CHARS, OPTIONAL_FIELDS,
    Submission, TOP_LEVEL_FIELDS,
};

/// DynamoDB stores numbers with a magnitude from 1e-130 up to (not including) 1e126; anything outside would be
/// accepted here and then fail in the store on every retry, so it is rejected at the edge.
const MIN_NUMBER_MAGNITUDE: f64 = 1e-130;
const NUMBER_MAGNITUDE_LIMIT: f64 = 1e126;

/// Checks a parsed body against every rule, collecting every problem.
pub(super) fn check(value: &Value) -> Result<Submission, Vec<FieldProblem>> {
    let Some(object) = value.as_object() else {
        return Err(vec![problem("body", "must be a JSON object")]);
    };
    let mut check = Checker::default();
    for key in object.keys() {
        if !TOP_LEVEL_FIELDS.contains(&key.as_str()) && !OPTIONAL_FIELDS.contains(&key.as_str()) {
            check.report(shorten(key), "is not a field of a v1 submission");
        }
    }
    let submission_id = check.submission_id(object);
    let trial_id = check.id_field(object, "trialId");
    let patient_id = check.id_field(object, "patientId");
    let survey_id = check.id_field(object, "surveyId");
    let survey_version = match object.get("surveyVersion") {
        None => Some(None),
        Some(_) => check.id_field(object, "surveyVersion").map(Some),
    };
    let timepoint = check.id_field(object, "timepoint");
    let completed_at = check.completed_at(object);
    let answers = check.answers(object);
    // Every field is read (and every problem collected) before any is required.
    let submission = (|| {
        Some(Submission {
            submission_id: submission_id?,
            trial_id: trial_id?,
            patient_id: patient_id?,
            survey_id: survey_id?,
            survey_version: survey_version?,
            timepoint: timepoint?,
            completed_at: completed_at?,
            answers: answers?,
        })
    })();
    match submission {
        Some(submission) if check.problems.is_empty() => Ok(submission),
        _ => Err(check.problems),
    }
}

fn problem(field: impl Into<String>, problem: impl Into<String>) -> FieldProblem {
    FieldProblem::new(field, problem)
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
pub(crate) fn canonical_number(number: &Number) -> Number {
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

    fn completed_at(&mut self, object: &Map<String, Value>) -> Option<String> {
        const FIELD: &str = "completedAt";
        let text = self.string(object, FIELD)?;
        // The `time` crate also takes the space separator that RFC 3339 mentions only in a note, and lower-case `t`
        // and `z`; FHIR's dateTime (what `authored` and every export carries) takes only `T` and `Z`, at most nine
        // fraction digits and an offset within ±14:00. Any real time passes: one ahead of the server's is a fast
        // device clock, flagged when the envelope is made, never refused.
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok();
        let fraction_digits = text.split_once('.').map_or(0, |(_, rest)| {
            rest.bytes().take_while(u8::is_ascii_digit).count()
        });
        let fhir_shape = text.as_bytes().get(10) == Some(&b'T')
            && !text.contains('z')
            && fraction_digits <= 9
            && parsed.is_some_and(|at| at.offset().whole_minutes().abs() <= 14 * 60);
        if fhir_shape {
            Some(text.to_owned())
        } else {
            self.report(
                FIELD,
                "must be an RFC 3339 date-time as FHIR writes it, such as 2026-11-22T08:00:03Z",
            );
            None
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
        // In key order, so problems are listed the same way whatever order the body (or a serde_json feature that
        // some dependency turns on) gives the entries.
        let mut sorted: Vec<(&String, &Value)> = entries.iter().collect();
        sorted.sort_unstable_by_key(|(key, _)| *key);
        let answers: BTreeMap<String, Answer> = sorted
            .into_iter()
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
                format!(
                    "must be 0 or have a magnitude from {MIN_NUMBER_MAGNITUDE:e} up to {NUMBER_MAGNITUDE_LIMIT:e}"
                ),
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
        // SQS carries only characters of XML 1.0's range; U+FFFE and U+FFFF are outside it (and never typed), so a
        // text with one could be accepted here and then refused by the queue on every retry.
        if text.contains(['\u{fffe}', '\u{ffff}']) {
            self.report(path, "must not contain the noncharacters U+FFFE or U+FFFF");
            return None;
        }
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
