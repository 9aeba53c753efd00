//! Asserts the safety settings of template.yaml. The linters accept a misspelt `ReportBatchItemFailures`, a missing
//! redrive policy or a wildcard IAM action: each would lose or double clinical data silently, so we check them here.

mod alerts;
mod api;
mod capacity;
mod deploy;
mod functions;
mod identity;
mod keys;
mod layout;
mod operations;
mod pipeline;
mod roles;

use serde_norway::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("template.yaml is readable"))
        .expect("template.yaml is YAML")
}

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    &template["Resources"][name]
}

fn props<'a>(template: &'a Value, name: &str) -> &'a Value {
    &resource(template, name)["Properties"]
}

/// The text of a short-form intrinsic such as `!GetAtt DeadLetterQueue.Arn` or `!Ref X`.
fn intrinsic(value: &Value, tag: &str) -> String {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => match &tagged.value {
            Value::String(text) => text.clone(),
            other => panic!("{tag} with a non-string argument: {other:?}"),
        },
        other => panic!("expected {tag}, found {other:?}"),
    }
}

fn number(value: &Value) -> u64 {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {value:?}"))
}
