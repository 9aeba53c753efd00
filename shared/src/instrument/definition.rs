//! The part of a FHIR R4 `Questionnaire` the intake reads: items, their types and constraints, `enableWhen`, answer
//! options with their ordinal values, and the score declarations. Everything else in the file (text, copyright,
//! publisher…) is served to apps untouched and ignored here.

use serde::Deserialize;

/// The SDC extension carrying an option's score (`answerOption.extension`).
pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
/// The SDC extension for a number item's lower bound.
pub const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
/// The SDC extension for a number item's upper bound.
pub const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
/// The SDC extension marking an option of a repeating choice item that excludes every other answer ("none").
pub const OPTION_EXCLUSIVE: &str =
    "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive";
/// Our extension declaring a score (its path below the catalogue's canonical base).
pub const SCORE_PATH: &str = "/StructureDefinition/score";

/// A `Questionnaire`, as far as the intake needs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    /// Must be `Questionnaire`.
    pub resource_type: String,
    /// The instrument id (`phq-9`), the same in every version.
    pub id: String,
    /// The canonical URL: `<base>/Questionnaire/<id>`.
    pub url: String,
    /// The version, a whole number as text (`"1"`).
    pub version: String,
    /// `active` or `retired` (a published version is never a draft).
    pub status: String,
    /// The human title.
    #[serde(default)]
    pub title: String,
    /// When this version is in effect: a submission that names no version is judged against the version in effect
    /// when it was completed. Absent: in effect since before any submission.
    pub effective_period: Option<Period>,
    /// Top-level extensions: the score declarations.
    #[serde(default)]
    pub extension: Vec<Extension>,
    /// The items, in display order.
    #[serde(default)]
    pub item: Vec<Item>,
}

/// A FHIR `Period`, as far as the intake reads one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Period {
    /// When it starts: an RFC 3339 instant.
    pub start: Option<String>,
}

/// One item of a questionnaire: a question, a group of items, or display text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Unique within the questionnaire: the key of its answer.
    pub link_id: String,
    /// The question's text.
    #[serde(default)]
    pub text: String,
    /// `group`, `display`, `boolean`, `decimal`, `integer`, `string`, `text` or `choice`.
    #[serde(rename = "type")]
    pub item_type: String,
    /// Must be answered when enabled. Declared on every question (the catalogue check insists).
    pub required: Option<bool>,
    /// Takes several answers. Declared on every question (the catalogue check insists).
    pub repeats: Option<bool>,
    /// Longest text answer, in characters.
    pub max_length: Option<usize>,
    /// The options of a choice item.
    #[serde(default)]
    pub answer_option: Vec<AnswerOption>,
    /// When the item is shown (and may be answered).
    #[serde(default)]
    pub enable_when: Vec<EnableWhen>,
    /// `all` or `any`, required with more than one condition.
    pub enable_behavior: Option<String>,
    /// Extensions: `minValue`, `maxValue`, the unit.
    #[serde(default)]
    pub extension: Vec<Extension>,
    /// A group's items.
    #[serde(default)]
    pub item: Vec<Item>,
}

/// One option of a choice item.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerOption {
    /// The option's code (the only option kind the intake accepts).
    pub value_coding: Option<Coding>,
    /// `ordinalValue`: what the option adds to a score; `optionExclusive`: that it excludes every other answer.
    #[serde(default)]
    pub extension: Vec<Extension>,
}

/// A FHIR `Coding`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Coding {
    /// The code system.
    #[serde(default)]
    pub system: String,
    /// The code: what a JSON submission answers.
    pub code: String,
    /// The option's label.
    #[serde(default)]
    pub display: String,
}

/// One `enableWhen` condition: the item is shown when `question`'s answer compares to a value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnableWhen {
    /// The `linkId` of an earlier question.
    pub question: String,
    /// `exists`, `=`, `!=`, `>`, `<`, `>=` or `<=`.
    pub operator: String,
    /// The value compared with, for `exists`.
    pub answer_boolean: Option<bool>,
    /// The value compared with, for a number question.
    pub answer_decimal: Option<f64>,
    /// The value compared with, for a whole-number question.
    pub answer_integer: Option<i64>,
    /// The value compared with, for a text question.
    pub answer_string: Option<String>,
    /// The value compared with, for a choice question.
    pub answer_coding: Option<Coding>,
}

/// A FHIR extension: a URL and a value, or nested extensions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// What the extension means.
    pub url: String,
    /// Nested extensions (a complex extension).
    #[serde(default)]
    pub extension: Vec<Extension>,
    /// `valueDecimal`.
    pub value_decimal: Option<f64>,
    /// `valueInteger`.
    pub value_integer: Option<i64>,
    /// `valueString`.
    pub value_string: Option<String>,
    /// `valueCode`.
    pub value_code: Option<String>,
    /// `valueCoding`.
    pub value_coding: Option<Coding>,
    /// `valueBoolean`.
    pub value_boolean: Option<bool>,
}

impl Extension {
    /// The value as a number, whether declared as decimal or integer.
    pub fn number(&self) -> Option<f64> {
        self.value_decimal.or(self.value_integer.map(|n| n as f64))
    }

    /// The value as text, whether declared as string or code.
    pub fn text(&self) -> Option<&str> {
        self.value_string.as_deref().or(self.value_code.as_deref())
    }
}

/// The first extension with `url` among `extensions`.
pub fn find<'a>(extensions: &'a [Extension], url: &str) -> Option<&'a Extension> {
    extensions.iter().find(|extension| extension.url == url)
}

impl Item {
    /// Must be answered when enabled.
    pub fn is_required(&self) -> bool {
        self.required == Some(true)
    }

    /// Takes several answers.
    pub fn is_repeating(&self) -> bool {
        self.repeats == Some(true)
    }

    /// Whether the item takes answers (not a group, not display text).
    pub fn is_question(&self) -> bool {
        !matches!(self.item_type.as_str(), "group" | "display")
    }

    /// `minValue`, as a number.
    pub fn min_value(&self) -> Option<f64> {
        find(&self.extension, MIN_VALUE).and_then(Extension::number)
    }

    /// `maxValue`, as a number.
    pub fn max_value(&self) -> Option<f64> {
        find(&self.extension, MAX_VALUE).and_then(Extension::number)
    }

    /// The option whose code is `code`.
    pub fn option(&self, code: &str) -> Option<&AnswerOption> {
        self.answer_option
            .iter()
            .find(|option| option.code() == Some(code))
    }
}

impl AnswerOption {
    /// The option's code.
    pub fn code(&self) -> Option<&str> {
        self.value_coding
            .as_ref()
            .map(|coding| coding.code.as_str())
    }

    /// What the option adds to a score (`ordinalValue`).
    pub fn ordinal(&self) -> Option<f64> {
        find(&self.extension, ORDINAL_VALUE).and_then(Extension::number)
    }

    /// Whether choosing it excludes every other answer (SDC `optionExclusive`).
    pub fn is_exclusive(&self) -> bool {
        find(&self.extension, OPTION_EXCLUSIVE).and_then(|e| e.value_boolean) == Some(true)
    }
}

impl EnableWhen {
    /// How many `answer[x]` values the condition gives (exactly one is valid).
    pub fn answer_values(&self) -> usize {
        [
            self.answer_boolean.is_some(),
            self.answer_decimal.is_some(),
            self.answer_integer.is_some(),
            self.answer_string.is_some(),
            self.answer_coding.is_some(),
        ]
        .into_iter()
        .filter(|given| *given)
        .count()
    }
}

/// The canonical base of questionnaire `id` at `url`: the part before `/Questionnaire/<id>`.
pub fn canonical_base<'a>(url: &'a str, id: &str) -> Option<&'a str> {
    url.strip_suffix(&format!("/Questionnaire/{id}"))
        .filter(|base| !base.is_empty())
}

impl Questionnaire {
    /// Reads a definition file.
    pub fn parse(text: &str) -> Result<Self, String> {
        // Straight into the types, not through a `Value` first: the detour doubled the work.
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The canonical base: the part of `url` before `/Questionnaire/`.
    pub fn base(&self) -> Option<&str> {
        canonical_base(&self.url, &self.id)
    }

    /// Every item, depth first, in display order.
    pub fn items(&self) -> Vec<&Item> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Item>) {
            for item in items {
                out.push(item);
                walk(&item.item, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.item, &mut out);
        out
    }
}
