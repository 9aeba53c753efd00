//! The knobs `make capacity` turns for a known wave: each a parameter, each off by default, each wired to the
//! property AWS documents for it.

use serde_norway::Value;

use super::{intrinsic, props, template};

/// `!If [condition, <on>, !Ref AWS::NoValue]`: the `<on>` branch, after checking the shape.
fn only_when<'a>(value: &'a Value, condition: &str) -> &'a Value {
    let Value::Tagged(tagged) = value else {
        panic!("expected !If [{condition}, …, !Ref AWS::NoValue], found {value:?}")
    };
    assert_eq!(tagged.tag, "!If");
    assert_eq!(tagged.value[0], condition);
    assert_eq!(
        intrinsic(&tagged.value[2], "!Ref"),
        "AWS::NoValue",
        "off means absent"
    );
    &tagged.value[1]
}

/// The condition is `!Not [!Equals [!Ref <parameter>, "0"]]` and the parameter defaults to 0.
fn off_by_default(t: &Value, condition: &str, parameter: &str) {
    let Value::Tagged(not) = &t["Conditions"][condition] else {
        panic!("no condition {condition}")
    };
    assert_eq!(not.tag, "!Not");
    let Value::Tagged(equals) = &not.value[0] else {
        panic!("{condition}: expected !Equals")
    };
    assert_eq!(intrinsic(&equals.value[0], "!Ref"), parameter);
    assert_eq!(equals.value[1], "0");
    assert_eq!(
        t["Parameters"][parameter]["Default"], 0,
        "{parameter} is off by default"
    );
}

#[test]
fn submit_can_hold_provisioned_and_reserved_concurrency_for_a_wave_and_holds_none_by_default() {
    let t = template();
    let submit = props(&t, "SubmitFunction");
    assert_eq!(
        submit["AutoPublishAlias"], "live",
        "provisioned concurrency lives on an alias"
    );
    off_by_default(
        &t,
        "HasSubmitProvisionedConcurrency",
        "SubmitProvisionedConcurrency",
    );
    let provisioned = only_when(
        &submit["ProvisionedConcurrencyConfig"],
        "HasSubmitProvisionedConcurrency",
    );
    assert_eq!(
        intrinsic(&provisioned["ProvisionedConcurrentExecutions"], "!Ref"),
        "SubmitProvisionedConcurrency"
    );
    off_by_default(
        &t,
        "HasSubmitReservedConcurrency",
        "SubmitReservedConcurrency",
    );
    let reserved = only_when(
        &submit["ReservedConcurrentExecutions"],
        "HasSubmitReservedConcurrency",
    );
    assert_eq!(intrinsic(reserved, "!Ref"), "SubmitReservedConcurrency");
}

#[test]
fn the_event_source_can_hold_provisioned_pollers_for_a_wave_and_polls_in_standard_mode_by_default()
{
    let t = template();
    off_by_default(&t, "HasProvisionedPollers", "ProcessMinimumPollers");
    let pollers = only_when(
        &props(&t, "ProcessEventSource")["ProvisionedPollerConfig"],
        "HasProvisionedPollers",
    );
    assert_eq!(
        intrinsic(&pollers["MinimumPollers"], "!Ref"),
        "ProcessMinimumPollers"
    );
    assert_eq!(
        intrinsic(&pollers["MaximumPollers"], "!Ref"),
        "ProcessMaximumPollers"
    );
}

#[test]
fn the_table_and_its_by_trial_index_can_be_warmed_ahead_of_a_wave_and_are_left_alone_by_default() {
    let t = template();
    let table = props(&t, "SubmissionTable");
    off_by_default(&t, "HasTableWarmThroughput", "TableWarmWriteUnitsPerSecond");
    let warm = only_when(&table["WarmThroughput"], "HasTableWarmThroughput");
    assert_eq!(
        intrinsic(&warm["WriteUnitsPerSecond"], "!Ref"),
        "TableWarmWriteUnitsPerSecond"
    );
    off_by_default(&t, "HasIndexWarmThroughput", "IndexWarmWriteUnitsPerSecond");
    let index = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|index| index["IndexName"] == intake::item::BY_TRIAL_INDEX)
        .expect("the by-trial index");
    let warm = only_when(&index["WarmThroughput"], "HasIndexWarmThroughput");
    assert_eq!(
        intrinsic(&warm["WriteUnitsPerSecond"], "!Ref"),
        "IndexWarmWriteUnitsPerSecond"
    );
}
