//! The functions themselves: runtime, build, logging.

use serde_norway::Value;

use crate::{intrinsic, number, props, resource, template};

#[test]
fn every_function_is_rust_on_al2023_with_a_configurable_architecture() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(
        intrinsic(&globals["Architectures"][0], "!Ref"),
        "Architecture"
    );
    assert_eq!(t["Parameters"]["Architecture"]["Default"], "arm64");
    for (name, binary) in [
        ("SubmitFunction", "submit"),
        ("ProcessFunction", "process"),
        ("CatalogueFunction", "catalogue"),
        ("NotifyFunction", "notify"),
        ("EscalateFunction", "escalate"),
        ("AlertsFunction", "alerts"),
        ("TimelineFunction", "timeline"),
    ] {
        let metadata = &resource(&t, name)["Metadata"];
        assert_eq!(metadata["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(metadata["BuildProperties"]["Binary"], binary, "{name}");
    }
}

#[test]
fn the_outputs_name_what_clients_and_operators_need() {
    let t = template();
    for output in ["ApiUrl", "QueueUrl", "DeadLetterQueueUrl", "TableName"] {
        assert!(
            t["Outputs"][output]["Value"] != Value::Null,
            "missing output {output}"
        );
    }
}

#[test]
fn every_function_logs_json_at_the_deployers_level_to_its_own_group_kept_a_year() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["LoggingConfig"]["LogFormat"], "JSON");
    assert_eq!(
        intrinsic(&globals["LoggingConfig"]["ApplicationLogLevel"], "!Ref"),
        "LogLevel"
    );
    assert_eq!(
        intrinsic(&globals["Environment"]["Variables"]["RUST_LOG"], "!Ref"),
        "LogLevel"
    );
    // The log test deploys the most verbose level allowed, so no allowed level can print more than it saw.
    let levels = t["Parameters"]["LogLevel"]["AllowedValues"]
        .as_sequence()
        .unwrap();
    assert_eq!(levels.last().unwrap(), "TRACE");
    assert_eq!(super::deploy::local_parameters()["LogLevel"], "TRACE");
    for (function, group) in [
        ("SubmitFunction", "SubmitLogGroup"),
        ("ProcessFunction", "ProcessLogGroup"),
        ("CatalogueFunction", "CatalogueLogGroup"),
        ("NotifyFunction", "NotifyLogGroup"),
        ("EscalateFunction", "EscalateLogGroup"),
        ("AlertsFunction", "AlertsLogGroup"),
        ("TimelineFunction", "TimelineLogGroup"),
    ] {
        assert_eq!(
            intrinsic(&props(&t, function)["LoggingConfig"]["LogGroup"], "!Ref"),
            group
        );
        assert_eq!(
            intrinsic(&props(&t, group)["RetentionInDays"], "!Ref"),
            "LogRetentionDays"
        );
    }
    assert!(number(&t["Parameters"]["LogRetentionDays"]["Default"]) >= 365);
}
