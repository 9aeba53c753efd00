//! A FHIR R4 `QuestionnaireResponse` read into the v1 submission it carries, so both forms meet the same rules
//! and make the same canonical content (a JSON and a FHIR copy of one submission are duplicates, not conflicts).
//!
//! The mapping (docs/api.md, `openapi.yaml`): `identifier` `urn:uuid:<submissionId>` (system `urn:ietf:rfc:3986`);
//! `questionnaire` the canonical `url|version` (version optional: the current one); `subject.reference`
//! `Patient/<patientId>`; `authored` is `completedAt`; the trial and timepoint are extensions
//! `<base>/StructureDefinition/trial` and `…/timepoint` (`valueString`); each answered item becomes
//! `answers.<linkId>`, nested groups flattened. A `valueCoding` answers with its code; several answers make a list.
//!
//! Strict where meaning could change: an item must sit where the questionnaire nests it, an answer's `value[x]`
//! must be the item type's, and an element the intake does not understand at any depth (a modifier extension above
//! all, any extension, a primitive's extension, an unknown element) is refused, never dropped.

use serde_json::{Map, Value, json};

use super::outcome::Issue;
use super::{IDENTIFIER_SYSTEM, Paths, TIMEPOINT_EXTENSION, TRIAL_EXTENSION};
use crate::instrument::{Catalogue, Instrument};

mod items;

/// Elements of a `QuestionnaireResponse` that carry nothing the intake stores: accepted and ignored.
const IGNORED: [&str; 4] = ["id", "meta", "language", "text"];
/// Elements the intake reads.
const READ: [&str; 8] = [
    "resourceType",
    "identifier",
    "questionnaire",
    "status",
    "subject",
    "authored",
    "extension",
    "item",
];
/// The other R4 elements: valid FHIR, but the intake would drop them, so it refuses them.
const UNSUPPORTED: [&str; 7] = [
    "implicitRules",
    "contained",
    "modifierExtension",
    "basedOn",
    "partOf",
    "encounter",
    "author",
];
/// The elements of an item the intake understands: `text` (the question as shown) and `id` are accepted and ignored.
const ITEM_ELEMENTS: [&str; 5] = ["linkId", "text", "answer", "item", "id"];
/// The answer types the intake accepts, and the ones FHIR has that it refuses.
const VALUES: [&str; 5] = [
    "valueBoolean",
    "valueDecimal",
    "valueInteger",
    "valueString",
    "valueCoding",
];

/// Why a `QuestionnaireResponse` cannot be read: malformed (400) or readable but outside what the intake accepts
/// (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Not a `QuestionnaireResponse`, or an element of the wrong shape.
    Structure(Vec<Issue>),
    /// A valid resource the intake refuses (status, identifier form, unknown questionnaire…).
    Rule(Vec<Issue>),
}

/// The v1 body a response carries, and where each of its fields came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The submission in the v1 JSON form.
    pub body: Value,
    /// FHIRPath of each field, to point problems at the response's own elements.
    pub paths: Paths,
}

/// Reads `value` as a `QuestionnaireResponse` of one of `catalogue`'s questionnaires.
pub fn read(value: &Value, catalogue: &Catalogue) -> Result<Read, Unreadable> {
    let mut reader = Reader {
        instrument: None,
        base: catalogue.base().to_owned(),
        structure: Vec::new(),
        rules: Vec::new(),
        paths: Paths::new(catalogue.base()),
    };
    let body = reader.response(value, catalogue);
    match (reader.structure.is_empty(), reader.rules.is_empty()) {
        (false, _) => Err(Unreadable::Structure(reader.structure)),
        (true, false) => Err(Unreadable::Rule(reader.rules)),
        (true, true) => Ok(Read {
            body,
            paths: reader.paths,
        }),
    }
}

struct Reader<'a> {
    /// The questionnaire answered, once known: a coding's system is checked against its options.
    instrument: Option<&'a Instrument>,
    base: String,
    structure: Vec<Issue>,
    rules: Vec<Issue>,
    paths: Paths,
}

const ROOT: &str = "QuestionnaireResponse";

impl<'a> Reader<'a> {
    fn malformed(&mut self, at: &str, problem: impl Into<String>) {
        self.structure
            .push(Issue::error("structure", problem, Some(at.to_owned())));
    }

    fn refuse(&mut self, code: &'static str, at: &str, problem: impl Into<String>) {
        self.rules
            .push(Issue::error(code, problem, Some(at.to_owned())));
    }

    fn response(&mut self, value: &Value, catalogue: &'a Catalogue) -> Value {
        let Some(object) = value.as_object() else {
            self.malformed(ROOT, "the body must be a JSON object: a FHIR resource");
            return Value::Null;
        };
        if object.get("resourceType").and_then(Value::as_str) != Some(ROOT) {
            self.malformed(ROOT, "resourceType must be QuestionnaireResponse");
            return Value::Null;
        }
        for key in object.keys() {
            let at = format!("{ROOT}.{key}");
            if UNSUPPORTED.contains(&key.as_str()) || key == "source" {
                self.refuse(
                    "not-supported",
                    &at,
                    "is valid FHIR, but this intake would not keep it",
                );
            } else if !READ.contains(&key.as_str()) && !IGNORED.contains(&key.as_str()) {
                self.malformed(&at, "is not an element of a QuestionnaireResponse");
            }
        }
        let mut body = Map::new();
        self.identifier(object.get("identifier"), &mut body);
        self.questionnaire(object.get("questionnaire"), catalogue, &mut body);
        match object.get("status").map(Value::as_str) {
            Some(Some("completed")) => {}
            Some(Some(_)) => self.refuse(
                "business-rule",
                &format!("{ROOT}.status"),
                "only a completed response is accepted",
            ),
            Some(None) => self.malformed(&format!("{ROOT}.status"), "must be a code"),
            None => self.refuse("required", &format!("{ROOT}.status"), "is required"),
        }
        if let Some(subject) = object.get("subject").and_then(Value::as_object) {
            let at = format!("{ROOT}.subject");
            self.elements(subject, &at, &["reference", "id"], "Reference");
        }
        match object
            .get("subject")
            .map(|subject| subject.get("reference").map(Value::as_str))
        {
            Some(Some(Some(reference))) => match reference.strip_prefix("Patient/") {
                Some(patient) => {
                    body.insert("patientId".into(), json!(patient));
                }
                None => self.refuse(
                    "value",
                    &format!("{ROOT}.subject.reference"),
                    "must be Patient/<patientId>",
                ),
            },
            Some(_) => self.malformed(
                &format!("{ROOT}.subject"),
                "must be a Reference with a reference",
            ),
            None => self.refuse("required", &format!("{ROOT}.subject"), "is required"),
        }
        match object.get("authored") {
            Some(Value::String(authored)) => {
                body.insert("completedAt".into(), json!(authored));
            }
            Some(_) => self.malformed(&format!("{ROOT}.authored"), "must be a dateTime"),
            None => self.refuse("required", &format!("{ROOT}.authored"), "is required"),
        }
        self.extensions(object.get("extension"), &mut body);
        let mut answers = Map::new();
        self.items(object.get("item"), ROOT, None, &mut answers);
        body.insert("answers".into(), Value::Object(answers));
        Value::Object(body)
    }

    fn identifier(&mut self, identifier: Option<&Value>, body: &mut Map<String, Value>) {
        let at = format!("{ROOT}.identifier");
        let Some(identifier) = identifier else {
            return self.refuse(
                "required",
                &at,
                "is required: urn:uuid:<submissionId>, the idempotency key",
            );
        };
        let (Some(system), Some(value)) = (
            identifier.get("system").and_then(Value::as_str),
            identifier.get("value").and_then(Value::as_str),
        ) else {
            return self.malformed(&at, "must be an Identifier with system and value");
        };
        if let Some(object) = identifier.as_object() {
            self.elements(object, &at, &["system", "value", "id"], "Identifier");
        }
        if system != IDENTIFIER_SYSTEM {
            self.refuse(
                "value",
                &format!("{at}.system"),
                format!("must be {IDENTIFIER_SYSTEM}"),
            );
        }
        match value.strip_prefix("urn:uuid:") {
            Some(id) => {
                body.insert("submissionId".into(), json!(id));
            }
            None => self.refuse(
                "value",
                &format!("{at}.value"),
                "must be urn:uuid:<submissionId>",
            ),
        }
    }

    fn questionnaire(
        &mut self,
        canonical: Option<&Value>,
        catalogue: &'a Catalogue,
        body: &mut Map<String, Value>,
    ) {
        let at = format!("{ROOT}.questionnaire");
        let Some(canonical) = canonical else {
            return self.refuse(
                "required",
                &at,
                "is required: <base>/Questionnaire/<id>|<version>",
            );
        };
        let Some(canonical) = canonical.as_str() else {
            return self.malformed(&at, "must be a canonical URL");
        };
        let (url, version) = match canonical.split_once('|') {
            Some((url, version)) => (url, Some(version)),
            None => (canonical, None),
        };
        match catalogue.id_of_url(url) {
            Some(id) => {
                self.instrument = catalogue.get(id, version).ok();
                body.insert("surveyId".into(), json!(id));
                if let Some(version) = version {
                    body.insert("surveyVersion".into(), json!(version));
                }
            }
            None => self.refuse(
                "not-found",
                &at,
                "is not a questionnaire of this catalogue (GET /v1/fhir/Questionnaire lists them)",
            ),
        }
    }

    fn extensions(&mut self, extensions: Option<&Value>, body: &mut Map<String, Value>) {
        let trial = format!("{}{TRIAL_EXTENSION}", self.base);
        let timepoint = format!("{}{TIMEPOINT_EXTENSION}", self.base);
        let Some(list) = extensions.map(Value::as_array) else {
            return self.refuse(
                "required",
                &format!("{ROOT}.extension"),
                "the trial and timepoint extensions are required",
            );
        };
        let Some(list) = list else {
            return self.malformed(&format!("{ROOT}.extension"), "must be a list of extensions");
        };
        for (index, extension) in list.iter().enumerate() {
            let at = format!("{ROOT}.extension[{index}]");
            if let Some(object) = extension.as_object() {
                self.elements(object, &at, &["url", "valueString", "id"], "Extension");
            }
            let (url, value) = (
                extension.get("url").and_then(Value::as_str),
                extension.get("valueString"),
            );
            let field = match url {
                Some(url) if url == trial => "trialId",
                Some(url) if url == timepoint => "timepoint",
                Some(_) => {
                    self.refuse(
                        "not-supported",
                        &at,
                        "is an extension this intake does not keep",
                    );
                    continue;
                }
                None => {
                    self.malformed(&at, "an extension needs a url");
                    continue;
                }
            };
            match value {
                Some(Value::String(text)) if !body.contains_key(field) => {
                    body.insert(field.into(), json!(text));
                }
                Some(Value::String(_)) => self.refuse("value", &at, "is given twice"),
                _ => self.malformed(&at, "must have a valueString"),
            }
        }
        for (field, url) in [("trialId", &trial), ("timepoint", &timepoint)] {
            if !body.contains_key(field) {
                self.refuse(
                    "required",
                    &format!("{ROOT}.extension('{url}')"),
                    "is required",
                );
            }
        }
    }
}
