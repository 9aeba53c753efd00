//! The path from the queue to the table: nothing lost, nothing doubled, poison parked.

use serde_norway::Value;

use intake::item::{Flag, FlagKind, SubmissionItem};
use intake::testing::example;

use crate::{intrinsic, number, props, resource, template};

#[test]
fn the_event_source_reports_partial_batch_failures() {
    let t = template();
    assert_eq!(
        resource(&t, "ProcessEventSource")["Type"],
        "AWS::Lambda::EventSourceMapping"
    );
    let p = props(&t, "ProcessEventSource");
    assert_eq!(
        intrinsic(&p["EventSourceArn"], "!GetAtt"),
        "SubmissionQueue.Arn"
    );
    assert_eq!(intrinsic(&p["FunctionName"], "!Ref"), "ProcessFunction");
    assert!(
        props(&t, "ProcessFunction")["Events"].is_null(),
        "a SAM SQS event would grant the poller every queue in the account"
    );
    let response_types = p["FunctionResponseTypes"]
        .as_sequence()
        .expect("FunctionResponseTypes is a list");
    assert_eq!(response_types, &[Value::from("ReportBatchItemFailures")]);
    assert_eq!(intrinsic(&p["BatchSize"], "!Ref"), "BatchSize");
    assert_eq!(
        intrinsic(&p["MaximumBatchingWindowInSeconds"], "!Ref"),
        "MaximumBatchingWindowInSeconds"
    );
    // Standard mode unless provisioned pollers are set for a wave (tests/template/capacity.rs).
    let Value::Tagged(standard) = &p["ScalingConfig"] else {
        panic!("ScalingConfig must be chosen by the HasProvisionedPollers condition")
    };
    assert_eq!(standard.tag, "!If");
    assert_eq!(standard.value[0], "HasProvisionedPollers");
    let Value::Tagged(find) = &standard.value[2]["MaximumConcurrency"] else {
        panic!("ScalingConfig.MaximumConcurrency must come from the ScalingLevels mapping")
    };
    assert_eq!(find.tag, "!FindInMap");
    assert_eq!(find.value[0], "ScalingLevels");
    assert_eq!(
        intrinsic(&find.value[1], "!Ref"),
        "ProcessMaximumConcurrency"
    );
    let levels = t["Parameters"]["ProcessMaximumConcurrency"]["AllowedValues"]
        .as_sequence()
        .unwrap();
    for level in levels {
        let key = level.as_str().expect("mapping keys are strings");
        let value = &t["Mappings"]["ScalingLevels"][key]["MaximumConcurrency"];
        assert!(
            value.is_u64(),
            "level {key} must map to a number, not {value:?}"
        );
        assert_eq!(number(value), number(level));
        assert!(
            (2..=1000).contains(&number(level)),
            "ScalingConfig.MaximumConcurrency is 2 to 1000"
        );
    }
}

#[test]
fn poison_goes_to_a_longer_lived_dead_letter_queue_after_five_receives() {
    let t = template();
    let queue = props(&t, "SubmissionQueue");
    let dlq = props(&t, "DeadLetterQueue");
    assert_eq!(number(&queue["RedrivePolicy"]["maxReceiveCount"]), 5);
    assert_eq!(
        intrinsic(&queue["RedrivePolicy"]["deadLetterTargetArn"], "!GetAtt"),
        "DeadLetterQueue.Arn"
    );
    assert!(
        number(&dlq["MessageRetentionPeriod"]) > number(&queue["MessageRetentionPeriod"]),
        "a moved message keeps its enqueue time, so the DLQ must keep messages longer than the source"
    );
}

#[test]
fn the_visibility_timeout_is_six_times_the_process_timeout_for_every_allowed_value() {
    let t = template();
    let visibility = &props(&t, "SubmissionQueue")["VisibilityTimeout"];
    let Value::Tagged(find) = visibility else {
        panic!("VisibilityTimeout must come from the ProcessTimeouts mapping")
    };
    assert_eq!(find.tag, "!FindInMap");
    assert_eq!(find.value[0], "ProcessTimeouts");
    assert_eq!(intrinsic(&find.value[1], "!Ref"), "ProcessTimeoutSeconds");
    assert_eq!(
        intrinsic(&props(&t, "ProcessFunction")["Timeout"], "!Ref"),
        "ProcessTimeoutSeconds"
    );
    let allowed = t["Parameters"]["ProcessTimeoutSeconds"]["AllowedValues"]
        .as_sequence()
        .unwrap();
    assert!(!allowed.is_empty());
    for timeout in allowed {
        let key = timeout.as_str().expect("mapping keys are strings");
        let row = &t["Mappings"]["ProcessTimeouts"][key]["VisibilityTimeout"];
        assert_eq!(number(row), 6 * number(timeout), "timeout {key}");
    }
}

#[test]
fn the_queue_takes_the_largest_envelope_of_the_largest_valid_body() {
    let t = template();
    assert_eq!(
        number(&props(&t, "SubmissionQueue")["MaximumMessageSize"]),
        intake::envelope::MAX_MESSAGE_BYTES as u64
    );
}

#[test]
fn the_table_is_on_demand_recoverable_and_protected() {
    let t = template();
    let table = props(&t, "SubmissionTable");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["DeletionProtectionEnabled"], true);
    assert_eq!(resource(&t, "SubmissionTable")["DeletionPolicy"], "Retain");
    let keys: Vec<(&str, &str)> = table["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap(),
                k["KeyType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(keys, [("pk", "HASH"), ("sk", "RANGE")]);
    let index = &table["GlobalSecondaryIndexes"][0];
    assert_eq!(index["IndexName"], intake::item::BY_TRIAL_INDEX);
    assert_eq!(index["KeySchema"][0]["AttributeName"], "trialShard");
    assert_eq!(index["KeySchema"][1]["AttributeName"], "receivedAt");
}

#[test]
fn data_managers_find_a_trials_flags_through_an_index_that_holds_no_answers() {
    let t = template();
    let indexes = props(&t, "SubmissionTable")["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap();
    let flags = indexes
        .iter()
        .find(|index| index["IndexName"] == "FlagsByTrial")
        .expect("the FlagsByTrial index");
    assert_eq!(flags["KeySchema"][0]["AttributeName"], "flagTrialId");
    assert_eq!(flags["KeySchema"][1]["AttributeName"], "flaggedAt");
    assert_eq!(flags["Projection"]["ProjectionType"], "INCLUDE");
    let projected: Vec<&str> = flags["Projection"]["NonKeyAttributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(projected, ["recordType", "kind", "submissionId", "detail"]);
    // The attribute names the store writes are the ones the index reads.
    let item = SubmissionItem::new(example().envelope(), "2026-01-01T00:00:00Z".into());
    let flag = Flag::on(
        &item,
        FlagKind::Repeat,
        "ids only".into(),
        "2026-01-01T00:00:00Z",
    );
    let written = serde_json::to_value(&flag).unwrap();
    for name in [
        "flagTrialId",
        "flaggedAt",
        "recordType",
        "kind",
        "submissionId",
        "detail",
    ] {
        assert!(
            written.get(name).is_some(),
            "flag items carry no {name}: {written}"
        );
    }
}
