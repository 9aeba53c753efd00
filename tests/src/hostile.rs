//! The hostile corpus: malformed and malicious requests a public API must refuse with a clear 4xx, enqueue nothing,
//! and never answer with a 5xx or a crash.
//!
//! Every request is a valid submission with one thing broken, sent with a valid token for the patient it names, so
//! only the breakage can be the reason for the refusal. `tests/hostile.rs` replays the corpus through the submit use
//! case in memory and through the deployed API.

use serde_json::{Value, json};

use intake::submission::TOP_LEVEL_FIELDS;
use intake::testing::example;

use crate::deployed::Deployed;

/// Where a request is refused: by API Gateway's routing, or by the function (which answers with a JSON error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Gateway,
    Function,
}

#[derive(Debug, Clone)]
pub struct HostileRequest {
    pub name: String,
    pub method: &'static str,
    /// Appended to the stack's `ApiUrl`.
    pub path: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl HostileRequest {
    /// Sends it to the API at `base` (the stack's `ApiUrl`) with `token`.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        base: &str,
        token: &str,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let method =
            reqwest::Method::from_bytes(self.method.as_bytes()).expect("corpus methods are valid");
        let mut call = http
            .request(
                method,
                format!("{}{}", base.trim_end_matches('/'), self.path),
            )
            .bearer_auth(token)
            .body(self.body.clone());
        if let Some(content_type) = &self.content_type {
            call = call.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        call.send().await
    }

    pub fn layer(&self) -> Layer {
        if self.method == "POST" && self.path == SUBMISSIONS {
            Layer::Function
        } else {
            Layer::Gateway
        }
    }
}

const SUBMISSIONS: &str = "/v1/submissions";
const HOLE: &str = "\"@@HOLE@@\"";
/// The API Gateway HTTP API payload limit.
pub const TEN_MIB: usize = 10 * 1024 * 1024;

/// Builds the corpus around one valid submission of `patient_id` in `trial_id`.
pub fn corpus(trial_id: &str, patient_id: &str) -> Vec<HostileRequest> {
    Corpus::new(example().trial(trial_id).patient(patient_id).json()).build()
}

struct Corpus {
    valid: Value,
    requests: Vec<HostileRequest>,
}

impl Corpus {
    fn new(valid: Value) -> Self {
        Corpus {
            valid,
            requests: Vec::new(),
        }
    }

    fn add(&mut self, name: impl Into<String>, body: impl Into<Vec<u8>>) {
        self.send(
            name,
            "POST",
            SUBMISSIONS,
            Some("application/json"),
            body.into(),
        );
    }

    fn send(
        &mut self,
        name: impl Into<String>,
        method: &'static str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) {
        self.requests.push(HostileRequest {
            name: name.into(),
            method,
            path: path.to_owned(),
            content_type: content_type.map(str::to_owned),
            body,
        });
    }

    /// The valid body with a top-level field set to `value`.
    fn with(&self, field: &str, value: Value) -> String {
        let mut body = self.valid.clone();
        body[field] = value;
        body.to_string()
    }

    fn with_answer(&self, key: &str, value: Value) -> String {
        let mut body = self.valid.clone();
        body["answers"][key] = value;
        body.to_string()
    }

    /// The valid body with `field` set to raw text that no JSON serialiser would write (`NaN`, bad escapes).
    fn with_raw(&self, field: &str, raw: &str) -> Vec<u8> {
        self.with(field, json!("@@HOLE@@"))
            .replacen(HOLE, raw, 1)
            .into_bytes()
    }

    fn with_raw_answer(&self, raw: &str) -> Vec<u8> {
        self.with_answer("pain", json!("@@HOLE@@"))
            .replacen(HOLE, raw, 1)
            .into_bytes()
    }

    fn without(&self, field: &str) -> String {
        let mut body = self.valid.clone();
        body.as_object_mut().unwrap().remove(field);
        body.to_string()
    }

    fn build(mut self) -> Vec<HostileRequest> {
        self.wrong_types();
        self.bad_answers();
        self.bad_numbers();
        self.deep_nesting();
        self.duplicate_keys();
        self.bad_encodings();
        self.null_bytes();
        self.look_alikes();
        self.injections();
        self.bad_dates();
        self.bad_bodies();
        self.bad_content_types();
        self.wrong_routes();
        self.requests
    }

    fn wrong_types(&mut self) {
        let (answers, fields) = TOP_LEVEL_FIELDS.split_last().expect("seven fields");
        assert_eq!(*answers, "answers");
        let wrong = [
            ("a number", json!(123)),
            ("a boolean", json!(true)),
            ("null", Value::Null),
            ("an array", json!(["P-000001"])),
            ("an object", json!({"id": "x"})),
        ];
        for field in fields {
            self.add(format!("{field} missing"), self.without(field));
            for (what, value) in &wrong {
                self.add(
                    format!("{field} is {what}"),
                    self.with(field, value.clone()),
                );
            }
        }
        self.add("answers missing", self.without("answers"));
        for (what, value) in [
            ("a string", json!("pain=3")),
            ("a number", json!(3)),
            ("an array", json!([3, 4])),
            ("null", Value::Null),
            ("empty", json!({})),
        ] {
            self.add(format!("answers is {what}"), self.with("answers", value));
        }
        self.add(
            "an unknown top-level field",
            self.with("isAdmin", json!(true)),
        );
    }

    fn bad_answers(&mut self) {
        let long = "x".repeat(intake::submission::MAX_TEXT_CHARS + 1);
        let many: serde_json::Map<String, Value> = (0..=intake::submission::MAX_ANSWERS)
            .map(|i| (format!("q{i}"), json!(1)))
            .collect();
        let cases = [
            ("an answer is null", "pain", Value::Null),
            ("an answer is an object", "pain", json!({"score": 3})),
            ("choices hold numbers", "symptoms", json!([1, 2])),
            ("choices hold null", "symptoms", json!([null])),
            ("choices are mixed", "symptoms", json!(["cough", 1])),
            ("nested choices", "symptoms", json!([["cough"]])),
            ("free text too long", "comment", json!(long)),
            ("too many choices", "symptoms", json!(vec!["a"; 51])),
            ("an empty question id", "", json!(1)),
            ("a question id with a space", "pain score", json!(1)),
            ("a question id with the key delimiter", "q#1", json!(1)),
            ("a question id too long", &"q".repeat(65), json!(1)),
        ];
        for (name, key, value) in cases {
            self.add(name, self.with_answer(key, value));
        }
        self.add(
            "too many answers",
            self.with("answers", Value::Object(many)),
        );
    }

    fn bad_numbers(&mut self) {
        for (name, raw) in [
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
            ("a number beyond f64", "1e309"),
            ("a negative number beyond f64", "-1e400"),
            ("hexadecimal", "0x10"),
            ("a leading zero", "007"),
            ("a leading plus", "+1"),
            ("a bare fraction", ".5"),
            ("a dangling exponent", "1e"),
            ("a magnitude DynamoDB cannot store", "1e126"),
            ("a negative magnitude DynamoDB cannot store", "-2.5e200"),
            ("a fraction DynamoDB cannot store", "1e-131"),
        ] {
            self.add(format!("answer {name}"), self.with_raw_answer(raw));
        }
    }

    fn deep_nesting(&mut self) {
        let arrays = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        self.add(
            "an answer nested 200 arrays deep",
            self.with_raw_answer(&arrays(200)),
        );
        self.add(
            "an answer nested 200 objects deep",
            self.with_raw_answer(&objects(200)),
        );
        self.add("a body nested 100,000 arrays deep", arrays(100_000));
        self.add("a body nested 50,000 objects deep", objects(50_000));
    }

    fn duplicate_keys(&mut self) {
        let valid = self.valid.to_string();
        let prefixed = |extra: &str| valid.replacen('{', &format!("{{{extra},"), 1);
        self.add(
            "patientId twice (another patient first)",
            prefixed("\"patientId\":\"P-999999\""),
        );
        self.add(
            "submissionId twice",
            prefixed("\"submissionId\":\"7c1f5a52-0d8e-4b0f-9d7e-3a2b1c0d9e8f\""),
        );
        self.add("answers twice", prefixed("\"answers\":{\"pain\":1}"));
        self.add(
            "a question answered twice",
            self.with_raw_answer("3,\"pain\":9"),
        );
    }

    fn bad_encodings(&mut self) {
        let valid = self.valid.to_string().into_bytes();
        let in_text = |bytes: &[u8]| {
            let mut body = self.with_answer("comment", json!("@@HOLE@@")).into_bytes();
            let at = find(&body, HOLE.as_bytes()).expect("the hole is there");
            body.splice(at + 1..at + HOLE.len() - 1, bytes.iter().copied());
            body
        };
        let cases = [
            ("invalid UTF-8 in free text", in_text(b"caf\xe9")),
            ("an overlong UTF-8 NUL", in_text(b"a\xc0\x80b")),
            ("a UTF-8 encoded surrogate", in_text(b"\xed\xa0\x80")),
            ("a truncated UTF-8 sequence", in_text(b"\xe2\x82")),
        ];
        for (name, body) in cases {
            self.add(name, body);
        }
        self.add(
            "a lone surrogate escape",
            self.with_raw("surveyId", "\"\\ud800\""),
        );
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(&valid);
        self.add("a UTF-8 byte order mark", bom);
        let utf16: Vec<u8> = self
            .valid
            .to_string()
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        self.add("the body in UTF-16", utf16);
    }

    fn null_bytes(&mut self) {
        self.add(
            "a NUL in patientId",
            self.with("patientId", json!("P-000\u{0}123")),
        );
        self.add(
            "a NUL in free text",
            self.with_answer("comment", json!("fine\u{0}DROP")),
        );
        self.add(
            "a NUL in a question id",
            self.with_answer("pain\u{0}", json!(1)),
        );
        self.add(
            "a raw NUL byte inside a string",
            self.with_raw("surveyId", "\"qol\u{0}daily\""),
        );
        let mut trailing = self.valid.to_string().into_bytes();
        trailing.push(0);
        self.add("a NUL after the body", trailing);
        self.add(
            "a terminal escape in free text",
            self.with_answer("comment", json!("\u{1b}[2J\u{1b}[1;1H")),
        );
    }

    fn look_alikes(&mut self) {
        let patient = self.valid["patientId"].as_str().unwrap().to_owned();
        let cases = [
            (
                "patientId with a Cyrillic Р",
                "patientId",
                patient.replacen('P', "Р", 1),
            ),
            (
                "patientId in fullwidth",
                "patientId",
                patient.replacen('P', "Ｐ", 1),
            ),
            (
                "patientId with a zero-width space",
                "patientId",
                format!("{patient}\u{200b}"),
            ),
            (
                "patientId with a right-to-left override",
                "patientId",
                format!("\u{202e}{patient}"),
            ),
            (
                "trialId with a Greek Omicron",
                "trialId",
                "ΟNC-2026".to_owned(),
            ),
            (
                "surveyId with a combining accent",
                "surveyId",
                "qol-dai\u{301}ly".to_owned(),
            ),
        ];
        for (name, field, value) in cases {
            self.add(name, self.with(field, json!(value)));
        }
        let mut lookalike_key = self.valid.clone();
        let object = lookalike_key.as_object_mut().unwrap();
        let id = object.remove("patientId").unwrap();
        object.insert("patientΙd".into(), id); // Greek capital Iota
        self.add(
            "the patientId key spelt with a Greek Iota",
            lookalike_key.to_string(),
        );
    }

    fn injections(&mut self) {
        let payloads = [
            "' OR '1'='1",
            "1; DROP TABLE submissions",
            "<script>alert(1)</script>",
            "${jndi:ldap://127.0.0.1/a}",
            "../../../etc/passwd",
            "TRIAL#X#PATIENT#P-000001",
            "{{7*7}}",
            "$(reboot)",
            "P-1\r\nX-Injected: 1",
            "attribute_not_exists(pk)",
            "{\"$ne\": null}",
        ];
        let fields = ["trialId", "patientId", "surveyId", "timepoint"];
        for (i, payload) in payloads.iter().enumerate() {
            let field = fields[i % fields.len()];
            self.add(
                format!("injection in {field}: {payload:?}"),
                self.with(field, json!(payload)),
            );
        }
        self.add(
            "an operator object as patientId",
            self.with("patientId", json!({"$ne": null})),
        );
    }

    fn bad_dates(&mut self) {
        for (name, value) in [
            ("an impossible date", json!("2026-13-45T25:61:00Z")),
            ("a date without a zone", json!("2026-11-22T08:00:00")),
            ("a date with a space", json!("2026-11-22 08:00:00Z")),
            ("a date that does not exist", json!("2026-02-30T08:00:00Z")),
            ("a date as epoch seconds", json!(1_763_798_400)),
            ("a date as words", json!("yesterday")),
        ] {
            self.add(
                format!("completedAt is {name}"),
                self.with("completedAt", value),
            );
        }
        self.add(
            "submissionId in braces",
            self.with(
                "submissionId",
                json!("{0b9d6c1e-3f7a-4c52-9d1e-2a4b6c8d0e1f}"),
            ),
        );
        self.add(
            "the nil submissionId",
            self.with(
                "submissionId",
                json!("00000000-0000-0000-0000-000000000000"),
            ),
        );
    }

    fn bad_bodies(&mut self) {
        let valid = self.valid.to_string();
        for (name, body) in [
            ("an empty body", String::new()),
            ("a whitespace body", "  \n\t ".to_owned()),
            ("null", "null".to_owned()),
            ("an empty array", "[]".to_owned()),
            ("an array of the submission", format!("[{valid}]")),
            ("a JSON string", "\"submission\"".to_owned()),
            ("a number", "0".to_owned()),
            ("true", "true".to_owned()),
            ("two submissions back to back", format!("{valid}{valid}")),
            (
                "the submission and trailing garbage",
                format!("{valid} garbage"),
            ),
            (
                "a truncated submission",
                valid[..valid.len() / 2].to_owned(),
            ),
            ("form encoding", "patientId=P-000001&pain=3".to_owned()),
            ("XML", "<submission><pain>3</pain></submission>".to_owned()),
        ] {
            self.add(name, body);
        }
        let padded = |size: usize| {
            let mut body = valid.clone();
            body.insert_str(1, &format!("\"pad\":\"{}\",", "x".repeat(size)));
            body
        };
        self.add(
            "one byte over 256 KiB",
            padded(intake::submission::MAX_BODY_BYTES),
        );
        self.add("a 10 MiB body", padded(TEN_MIB));
    }

    fn bad_content_types(&mut self) {
        let valid = self.valid.to_string().into_bytes();
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/xml"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonp"),
            Some("application/javascript"),
            Some("json"),
        ] {
            let name = format!("Content-Type {}", content_type.unwrap_or("missing"));
            self.send(name, "POST", SUBMISSIONS, content_type, valid.clone());
        }
    }

    fn wrong_routes(&mut self) {
        let valid = self.valid.to_string().into_bytes();
        for method in ["GET", "PUT", "PATCH", "DELETE"] {
            self.send(
                format!("{method} {SUBMISSIONS}"),
                method,
                SUBMISSIONS,
                Some("application/json"),
                valid.clone(),
            );
        }
        for path in [
            "/v1/submission",
            "/v2/submissions",
            "/v1/submissions/extra",
            "/V1/SUBMISSIONS",
            "/",
            "/v1/submissions/..%2f..%2fadmin",
            "/v1/%00submissions",
        ] {
            self.send(
                format!("POST {path}"),
                "POST",
                path,
                Some("application/json"),
                valid.clone(),
            );
        }
    }
}

/// What refused requests left behind in the deployed stack, if anything: a record of their trial or patient in the
/// table, or a dead letter more than before. Call it once the queue has drained.
pub async fn trace_of_refused(
    deployed: &Deployed,
    trial: &str,
    patient: &str,
    dead_letters_before: u64,
) -> Option<String> {
    let (aws, stack) = (&deployed.aws, &deployed.stack);
    let stored = aws.trial_submission_keys(stack, trial).await.ok()?;
    if !stored.is_empty() {
        return Some(format!("refused requests reached the table: {stored:?}"));
    }
    let records = aws.patient_items(stack, trial, patient).await.ok()?;
    if !records.is_empty() {
        return Some(format!(
            "refused requests left records: {:?}",
            records.keys()
        ));
    }
    let dead_letters = aws.queue_depth(&stack.dead_letter_queue_url).await.ok()?;
    (dead_letters != dead_letters_before).then(|| {
        format!("refused requests were enqueued to fail later: {dead_letters_before} dead letters, now {dead_letters}")
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_has_over_a_hundred_distinct_requests() {
        let corpus = corpus("HOSTILE", "P-000001");
        assert!(corpus.len() >= 100, "{}", corpus.len());
        let mut names: Vec<_> = corpus.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), corpus.len(), "names are unique");
        let mut bodies: Vec<_> = corpus
            .iter()
            .filter(|r| {
                r.layer() == Layer::Function
                    && r.content_type.as_deref() == Some("application/json")
            })
            .map(|r| &r.body)
            .collect();
        bodies.sort_unstable();
        bodies.dedup();
        assert!(bodies.len() > 90, "each body case really changes the body");
    }
}
