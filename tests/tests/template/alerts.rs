//! Alerts: out of the table through its stream, only alert inserts, retried and parked, escalated on a schedule.

use serde_norway::Value;

use intake::alert::{Report, RuleBook, Severity};
use intake::item::{AlertItem, RecordType, SubmissionItem};
use intake::testing::example;

use crate::{intrinsic, number, props, resource, template};

#[test]
fn new_alerts_leave_the_table_through_its_stream_and_nothing_else_does() {
    let t = template();
    assert_eq!(
        props(&t, "SubmissionTable")["StreamSpecification"]["StreamViewType"],
        "NEW_IMAGE"
    );
    let source = props(&t, "NotifyEventSource");
    assert_eq!(
        intrinsic(&source["EventSourceArn"], "!GetAtt"),
        "SubmissionTable.StreamArn"
    );
    assert_eq!(intrinsic(&source["FunctionName"], "!Ref"), "NotifyFunction");
    assert_eq!(
        source["StartingPosition"], "TRIM_HORIZON",
        "no alert written before the mapping is lost"
    );
    let filters = source["FilterCriteria"]["Filters"].as_sequence().unwrap();
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value =
        serde_json::from_str(filters[0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["NewImage"]["recordType"]["S"],
        serde_json::json!(["alert"]),
        "only alert items: a submission's answers never reach the notify function"
    );
    // The pattern names what an alert item really holds.
    let item = SubmissionItem::new(example().envelope(), "2026-01-01T00:00:00Z".into());
    let book = RuleBook::embedded().unwrap();
    let set = book.all().next().unwrap();
    let alert = AlertItem::raise(
        &Report::stored(&item),
        set,
        &set.rules[0],
        None,
        "2026-01-01T00:00:00Z",
    );
    let written = serde_json::to_value(&alert).unwrap();
    assert_eq!(written["recordType"], "alert");
    for name in ["trialId", "alertSort", "raisedAt"] {
        assert!(written[name].is_string(), "alerts carry {name}");
    }
    assert_eq!(
        written["escalation"].is_string(),
        set.rules[0].severity == Severity::Urgent
    );
}

#[test]
fn an_undeliverable_batch_is_retried_split_and_parked_where_an_operator_sees_it() {
    let t = template();
    let source = props(&t, "NotifyEventSource");
    assert_eq!(source["BisectBatchOnFunctionError"], true);
    assert!(number(&source["MaximumRetryAttempts"]) >= 10);
    assert_eq!(
        intrinsic(
            &source["DestinationConfig"]["OnFailure"]["Destination"],
            "!GetAtt"
        ),
        "AlertDeliveryFailureQueue.Arn"
    );
    for output in [
        "AlertTopicArn",
        "EscalationTopicArn",
        "AlertDeliveryFailureQueueUrl",
    ] {
        assert!(!t["Outputs"][output]["Value"].is_null(), "{output}");
    }
}

#[test]
fn the_team_reads_alerts_by_trial_and_the_sweep_finds_urgent_ones_due() {
    let t = template();
    let indexes = props(&t, "SubmissionTable")["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap();
    let keys = |name: &str| -> (String, String) {
        let index = indexes.iter().find(|i| i["IndexName"] == name).unwrap();
        let key = |n: usize| {
            index["KeySchema"][n]["AttributeName"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        (key(0), key(1))
    };
    assert_eq!(
        keys("AlertsByTrial"),
        ("trialId".into(), "alertSort".into())
    );
    assert_eq!(
        keys("PendingEscalations"),
        ("escalation".into(), "raisedAt".into())
    );
    assert_eq!(
        keys("PendingDeliveries"),
        ("delivery".into(), "raisedAt".into())
    );
    assert_eq!(intake::aws::ALERTS_BY_TRIAL, "AlertsByTrial");
    assert_eq!(intake::aws::PENDING_ESCALATIONS, "PendingEscalations");
    assert_eq!(intake::aws::PENDING_DELIVERIES, "PendingDeliveries");

    let schedule = props(&t, "EscalationSchedule");
    assert_eq!(
        resource(&t, "EscalationSchedule")["Type"],
        "AWS::Events::Rule"
    );
    assert_eq!(schedule["ScheduleExpression"], "rate(1 minute)");
    assert_eq!(
        intrinsic(&schedule["Targets"][0]["Arn"], "!GetAtt"),
        "EscalateFunction.Arn"
    );
    let permission = props(&t, "EscalateSchedulePermission");
    assert_eq!(permission["Principal"], "events.amazonaws.com");
    assert_eq!(
        intrinsic(&permission["SourceArn"], "!GetAtt"),
        "EscalationSchedule.Arn"
    );
    let defaults = intake::escalate::EscalateConfig::from_env(&intake::config::Env::from_pairs(&[
        ("TABLE_NAME", "t"),
        ("ESCALATION_TOPIC_ARN", "a"),
        ("ALERT_TOPIC_ARN", "b"),
    ]))
    .unwrap();
    let after = &t["Parameters"]["EscalateAfterSeconds"];
    assert_eq!(number(&after["Default"]), 900, "15 minutes");
    assert_eq!(
        number(&after["Default"]),
        defaults.after.whole_seconds() as u64,
        "the template and the code agree on the default"
    );
    let deliver = &t["Parameters"]["DeliverAfterSeconds"];
    assert_eq!(
        number(&deliver["Default"]),
        defaults.deliver_after.whole_seconds() as u64,
        "the template and the code agree on the default"
    );
    let env = &props(&t, "EscalateFunction")["Environment"]["Variables"];
    assert_eq!(
        intrinsic(&env["ESCALATE_AFTER_SECONDS"], "!Ref"),
        "EscalateAfterSeconds"
    );
    assert_eq!(
        intrinsic(&env["ESCALATION_TOPIC_ARN"], "!Ref"),
        "EscalationTopic"
    );
    assert_eq!(intrinsic(&env["ALERT_TOPIC_ARN"], "!Ref"), "AlertTopic");
    assert_eq!(
        intrinsic(&env["DELIVER_AFTER_SECONDS"], "!Ref"),
        "DeliverAfterSeconds"
    );
    let _: &Value = &props(&t, "NotifyFunction")["Environment"]["Variables"]["ALERT_TOPIC_ARN"];
}

#[test]
fn reports_reach_the_timeline_in_completion_order_only_when_their_rules_compare_reports() {
    let t = template();
    let source = props(&t, "TimelineEventSource");
    assert_eq!(
        intrinsic(&source["EventSourceArn"], "!GetAtt"),
        "SubmissionTable.StreamArn"
    );
    assert_eq!(
        intrinsic(&source["FunctionName"], "!Ref"),
        "TimelineFunction"
    );
    assert_eq!(source["StartingPosition"], "TRIM_HORIZON");
    let filters = source["FilterCriteria"]["Filters"].as_sequence().unwrap();
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value =
        serde_json::from_str(filters[0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    let image = &pattern["dynamodb"]["NewImage"];
    // Stored submissions, conflicting resends and corrections, by the names the items are written with.
    assert_eq!(
        image["recordType"]["S"],
        serde_json::json!([
            RecordType::Submission,
            RecordType::Conflict,
            RecordType::Version
        ])
    );
    assert_eq!(image["onTimeline"]["BOOL"], serde_json::json!([true]));
    // The pattern names what the process function really writes: a pain report is marked, a PHQ-9 is not.
    let marked = |survey: &str, answers: serde_json::Value| {
        let write = intake::item::SubmissionItem::new(
            example().survey(survey, answers).envelope(),
            "2026-01-01T00:00:00Z".into(),
        );
        let book = RuleBook::embedded().unwrap();
        let set = book
            .for_version(survey, write.submission.survey_version.as_deref().unwrap())
            .unwrap();
        set.has_worsening_rules()
    };
    assert!(marked("pain-nrs", serde_json::json!({"pain": 3})));
    assert!(!marked(
        "phq-9",
        intake::testing::example::phq9_answers("LA6568-5")
    ));
    assert_eq!(source["BisectBatchOnFunctionError"], true);
    assert!(number(&source["MaximumRetryAttempts"]) >= 10);
    assert_eq!(
        intrinsic(
            &source["DestinationConfig"]["OnFailure"]["Destination"],
            "!GetAtt"
        ),
        "TimelineFailureQueue.Arn"
    );
}
