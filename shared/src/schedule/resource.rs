//! The subset of a FHIR `PlanDefinition` the schedule reader takes, as published JSON reads into it, and the check
//! that a definition holds nothing else (an element this reader ignores would say something the calendar does not).

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PlanDefinition {
    pub(super) resource_type: String,
    pub(super) id: String,
    pub(super) url: String,
    pub(super) version: String,
    pub(super) status: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) extension: Vec<Extension>,
    #[serde(default)]
    pub(super) action: Vec<Action>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Action {
    pub(super) id: String,
    #[serde(default)]
    pub(super) title: String,
    pub(super) code: Option<Vec<CodeableConcept>>,
    #[serde(default)]
    pub(super) related_action: Vec<RelatedAction>,
    pub(super) definition_canonical: Option<String>,
    pub(super) timing_timing: Option<Timing>,
    #[serde(default)]
    pub(super) action: Vec<Action>,
}

#[derive(Deserialize)]
pub(super) struct CodeableConcept {
    #[serde(default)]
    pub(super) coding: Vec<Coding>,
}

#[derive(Deserialize)]
pub(super) struct Coding {
    pub(super) system: String,
    pub(super) code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RelatedAction {
    pub(super) action_id: String,
    pub(super) relationship: String,
    pub(super) offset_duration: Option<Quantity>,
    #[serde(default)]
    pub(super) extension: Vec<Extension>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Extension {
    pub(super) url: String,
    pub(super) value_duration: Option<Quantity>,
    pub(super) value_range: Option<Range>,
}

#[derive(Deserialize)]
pub(super) struct Range {
    pub(super) low: Quantity,
    pub(super) high: Quantity,
}

#[derive(Deserialize)]
pub(super) struct Quantity {
    pub(super) value: serde_json::Number,
    pub(super) system: String,
    pub(super) code: String,
}

#[derive(Deserialize)]
pub(super) struct Timing {
    pub(super) repeat: TimingRepeat,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TimingRepeat {
    pub(super) count: Option<u32>,
    pub(super) period: Option<i64>,
    pub(super) period_unit: Option<String>,
    #[serde(default)]
    pub(super) time_of_day: Vec<String>,
}

/// Whether `value` holds only elements this reader takes (a definition with anything else fails the check: it
/// would say something the calendar ignores).
pub(super) fn unread_elements(value: &Value) -> Vec<String> {
    const PLAN: &[&str] = &[
        "resourceType",
        "id",
        "url",
        "version",
        "name",
        "title",
        "type",
        "status",
        "date",
        "publisher",
        "description",
        "extension",
        "action",
    ];
    const ACTION: &[&str] = &[
        "id",
        "title",
        "code",
        "relatedAction",
        "definitionCanonical",
        "timingTiming",
        "action",
    ];
    const RELATED: &[&str] = &["actionId", "relationship", "offsetDuration", "extension"];
    const REPEAT: &[&str] = &["count", "period", "periodUnit", "timeOfDay"];
    let mut found = Vec::new();
    let mut unknown = |object: &Value, allowed: &[&str], at: &str| {
        for key in object.as_object().into_iter().flat_map(|o| o.keys()) {
            if !allowed.contains(&key.as_str()) {
                found.push(format!("{at}.{key}"));
            }
        }
    };
    unknown(value, PLAN, "PlanDefinition");
    fn actions(value: &Value) -> Vec<&Value> {
        let mut all = Vec::new();
        for action in value["action"].as_array().into_iter().flatten() {
            all.push(action);
            all.extend(actions(action));
        }
        all
    }
    for action in actions(value) {
        let at = format!("action {}", action["id"].as_str().unwrap_or("?"));
        unknown(action, ACTION, &at);
        for related in action["relatedAction"].as_array().into_iter().flatten() {
            unknown(related, RELATED, &format!("{at}.relatedAction"));
        }
        if let Some(timing) = action.get("timingTiming") {
            unknown(timing, &["repeat"], &format!("{at}.timingTiming"));
            unknown(
                &timing["repeat"],
                REPEAT,
                &format!("{at}.timingTiming.repeat"),
            );
        }
    }
    found
}
