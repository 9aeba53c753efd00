//! What tells the on-call engineer, before a patient's answers are at risk: an alarm for each way the flow can
//! fail, each paging the ops topic with a threshold that fires on the first sign; one dashboard of the flow whose
//! custom metrics are the ones the functions emit; and a runbook entry (docs/operations.md) for each alarm.

use intake::metrics::{Metric, NAMESPACE};
use serde_norway::Value;

use super::{intrinsic, number, props, resource, template};

fn alarms(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), &r["Properties"]))
        .collect()
}

/// The resource an alarm's first dimension names (`!Ref X` or `!GetAtt X.QueueName`).
fn watched(alarm: &Value) -> String {
    let value = &alarm["Dimensions"][0]["Value"];
    match value {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => intrinsic(value, "!Ref"),
        Value::Tagged(tagged) if tagged.tag == "!GetAtt" => intrinsic(value, "!GetAtt")
            .split('.')
            .next()
            .unwrap()
            .to_owned(),
        other => panic!("a dimension names a resource, not {other:?}"),
    }
}

fn find<'a>(
    alarms: &'a [(String, &'a Value)],
    namespace: &str,
    metric: &str,
    resource: &str,
) -> &'a Value {
    alarms
        .iter()
        .find(|(_, a)| {
            a["Namespace"] == namespace && a["MetricName"] == metric && watched(a) == resource
        })
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("no alarm on {namespace} {metric} of {resource}"))
}

#[test]
fn every_alarm_pages_the_ops_topic_and_clears_there_too() {
    let t = template();
    let alarms = alarms(&t);
    assert!(alarms.len() >= 15, "{} alarms", alarms.len());
    for (name, alarm) in &alarms {
        for actions in ["AlarmActions", "OKActions"] {
            let targets = alarm[actions]
                .as_sequence()
                .unwrap_or_else(|| panic!("{name}: no {actions}"));
            assert_eq!(targets.len(), 1, "{name}");
            assert_eq!(
                intrinsic(&targets[0], "!Ref"),
                "OpsTopic",
                "{name}: {actions}"
            );
        }
        // No data means nothing happened (no dead letters, no errors), not an outage of the metric; except for a
        // heartbeat, whose silence is the failure.
        let silence = if alarm["MetricName"] == "SweepsCompleted" {
            "breaching"
        } else {
            "notBreaching"
        };
        assert_eq!(alarm["TreatMissingData"], silence, "{name}");
        let description = alarm["AlarmDescription"].as_str().unwrap();
        assert!(
            description.contains("When an alarm fires"),
            "{name}: points to the runbook"
        );
    }
    assert_eq!(
        intrinsic(&props(&t, "OpsEmailSubscription")["TopicArn"], "!Ref"),
        "OpsTopic"
    );
}

#[test]
fn each_way_the_flow_fails_has_an_alarm_that_fires_on_the_first_sign() {
    let t = template();
    let alarms = alarms(&t);
    // (namespace, metric, resource, statistic, threshold): a single dead letter, error, throttle or undelivered
    // alert batch is worth a page.
    let first_sign = [
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "DeadLetterQueue",
        ),
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "AlertDeliveryFailureQueue",
        ),
        ("AWS/DynamoDB", "WriteThrottleEvents", "SubmissionTable"),
        ("AWS/DynamoDB", "ReadThrottleEvents", "SubmissionTable"),
        ("AWS/Lambda", "Throttles", "SubmitFunction"),
        ("AWS/Lambda", "Throttles", "ProcessFunction"),
        ("AWS/Lambda", "Throttles", "NotifyFunction"),
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "TimelineFailureQueue",
        ),
        (NAMESPACE, "AlertsDeliveredBySweep", "EscalateFunction"),
    ];
    for (namespace, metric, resource) in first_sign {
        let alarm = find(&alarms, namespace, metric, resource);
        assert_eq!(number(&alarm["Threshold"]), 1, "{metric} of {resource}");
        assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    }
    let age = find(
        &alarms,
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "SubmissionQueue",
    );
    assert_eq!(intrinsic(&age["Threshold"], "!Ref"), "QueueAgeAlarmSeconds");
    let default = number(&t["Parameters"]["QueueAgeAlarmSeconds"]["Default"]);
    assert!(
        (60..=900).contains(&default),
        "a burst drains in about a minute: {default} s"
    );
    assert_eq!(age["Statistic"], "Maximum");
    let api = find(&alarms, "AWS/ApiGateway", "5xx", "HttpApi");
    assert_eq!(
        api["Statistic"], "Average",
        "the 5xx average is the failure rate"
    );
    assert!(api["Threshold"].as_f64().unwrap() <= 0.05);
    let delay = find(&alarms, "AWS/Lambda", "IteratorAge", "NotifyFunction");
    assert!(
        number(&delay["Threshold"]) <= 60_000,
        "alerts wait at most a minute"
    );
}

#[test]
fn a_sweep_that_stops_running_pages_within_five_minutes() {
    let t = template();
    let alarms = alarms(&t);
    assert!(Metric::ALL.iter().any(|m| m.name() == "SweepsCompleted"));
    for sweeper in ["EscalateFunction", "RemindersFunction"] {
        let alarm = find(&alarms, NAMESPACE, "SweepsCompleted", sweeper);
        assert_eq!(
            alarm["ComparisonOperator"], "LessThanThreshold",
            "{sweeper}"
        );
        assert_eq!(number(&alarm["Threshold"]), 1, "{sweeper}");
        assert_eq!(alarm["Statistic"], "Sum", "{sweeper}");
        assert!(
            number(&alarm["Period"]) * number(&alarm["EvaluationPeriods"]) <= 300,
            "{sweeper}: within five minutes"
        );
    }
}

#[test]
fn every_topic_that_reaches_people_pages_when_sns_cannot_deliver() {
    let t = template();
    let alarms = alarms(&t);
    let topics: Vec<&str> = t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::SNS::Topic")
        .map(|(name, _)| name.as_str().unwrap())
        // The ops topic carries these alarms: its own failures cannot page through it.
        .filter(|name| *name != "OpsTopic")
        .collect();
    assert_eq!(topics.len(), 4, "{topics:?}");
    for topic in topics {
        let alarm = find(&alarms, "AWS/SNS", "NumberOfNotificationsFailed", topic);
        assert_eq!(
            intrinsic(&alarm["Dimensions"][0]["Value"], "!GetAtt"),
            format!("{topic}.TopicName")
        );
        assert_eq!(alarm["Dimensions"][0]["Name"], "TopicName");
        assert_eq!(number(&alarm["Threshold"]), 1, "{topic}");
        assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    }
}

#[test]
fn a_spike_of_refusals_pages_whatever_the_reason() {
    let t = template();
    let mut watched = Vec::new();
    for (name, alarm) in alarms(&t) {
        let Some(queries) = alarm["Metrics"].as_sequence() else {
            continue;
        };
        // The submissions' refusal rates; the token function's refusals are subtracted from its errors.
        if !name.ends_with("RefusalRateAlarm") {
            continue;
        }
        let expressions: Vec<&str> = queries
            .iter()
            .filter_map(|q| q["Expression"].as_str())
            .collect();
        for query in queries {
            let stat = &query["MetricStat"];
            if stat["Metric"]["MetricName"] != "Refused" {
                continue;
            }
            let dimensions = stat["Metric"]["Dimensions"].as_sequence().unwrap();
            assert_eq!(intrinsic(&dimensions[0]["Value"], "!Ref"), "SubmitFunction");
            assert_eq!(dimensions[1]["Name"], intake::metrics::REASON);
            watched.push(dimensions[1]["Value"].as_str().unwrap().to_owned());
            let id = query["Id"].as_str().unwrap();
            assert!(
                expressions
                    .iter()
                    .any(|e| e.contains(&format!("FILL({id}, 0)"))),
                "{name}: {id} is counted, and a reason with no refusals counts 0"
            );
        }
        let rate = queries
            .iter()
            .find(|q| q["ReturnData"] == true)
            .expect("one expression is the alarm's");
        let expression = rate["Expression"].as_str().unwrap();
        assert!(
            expression.starts_with("IF(requests >= "),
            "{name}: a floor of requests, so three refusals at night do not page"
        );
        assert_eq!(
            intrinsic(&alarm["Threshold"], "!Ref"),
            "RefusalRateAlarmPercent"
        );
    }
    // And the refusals no function sees: the API's own 4xx (the authorizer's 401s, throttling's 429s).
    let api = props(&t, "Api4xxRateAlarm")["Metrics"]
        .as_sequence()
        .unwrap();
    let stats: Vec<&str> = api
        .iter()
        .filter_map(|q| q["MetricStat"]["Metric"]["MetricName"].as_str())
        .collect();
    assert_eq!(stats, ["Count", "4xx"]);
    watched.sort();
    let mut refusals = intake::submit::CLIENT_REFUSALS.map(str::to_owned).to_vec();
    refusals.sort();
    assert_eq!(watched, refusals, "every 4xx refusal reason, each once");
}

#[test]
fn the_questions_on_call_asks_are_saved_queries_over_fields_the_functions_log() {
    let t = template();
    // Each query and the fields it must read: the logging tests show the functions write them.
    let saved = [
        (
            "SubmissionJourneyQuery",
            ["submission_id", "span.requestId"],
        ),
        ("RefusalsByReasonQuery", ["outcome", "client"]),
        ("FailedRecordsQuery", ["message_id", "span.xrayTraceId"]),
    ];
    for (name, fields) in saved {
        assert_eq!(resource(&t, name)["Type"], "AWS::Logs::QueryDefinition");
        assert_eq!(resource(&t, name)["Condition"], "HasFullCloudWatch");
        let query = props(&t, name)["QueryString"].as_str().unwrap();
        for field in fields {
            assert!(query.contains(field), "{name}: {field}");
        }
        assert!(
            !props(&t, name)["LogGroupNames"]
                .as_sequence()
                .unwrap()
                .is_empty()
        );
    }
    assert!(
        props(&t, "RefusalsByReasonQuery")["QueryString"]
            .as_str()
            .unwrap()
            .contains("by outcome, client, fields")
    );
}

#[test]
fn a_local_emulator_leaves_out_only_what_it_cannot_run() {
    let t = template();
    let conditioned: Vec<(&str, &str)> = t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Condition"] == "HasFullCloudWatch")
        .map(|(name, r)| (name.as_str().unwrap(), r["Type"].as_str().unwrap()))
        .collect();
    assert_eq!(conditioned.len(), 6, "{conditioned:?}");
    for (name, kind) in conditioned {
        let metric_math =
            kind == "AWS::CloudWatch::Alarm" && props(&t, name)["Metrics"].as_sequence().is_some();
        assert!(
            kind == "AWS::Logs::QueryDefinition" || metric_math,
            "{name} ({kind}) would be missing from the local stack"
        );
    }
    assert_eq!(t["Parameters"]["LocalEmulator"]["Default"], "false");
}

/// Every refusal code the token function can give is subtracted, each FILLed to 0, so only failures remain.
fn token_failures_are_its_errors_less_every_refusal(t: &Value) {
    let alarm = props(t, "TokenFailureAlarm");
    let queries = alarm["Metrics"].as_sequence().unwrap();
    let expression = queries
        .iter()
        .find(|q| q["ReturnData"] == true)
        .and_then(|q| q["Expression"].as_str())
        .unwrap();
    assert!(expression.starts_with("errors - ("), "{expression}");
    let mut reasons = Vec::new();
    for query in queries
        .iter()
        .filter(|q| q["MetricStat"]["Metric"]["MetricName"] == "Refused")
    {
        let id = query["Id"].as_str().unwrap();
        assert!(expression.contains(&format!("FILL({id}, 0)")), "{id}");
        let dimensions = query["MetricStat"]["Metric"]["Dimensions"]
            .as_sequence()
            .unwrap();
        assert_eq!(intrinsic(&dimensions[0]["Value"], "!Ref"), "TokenFunction");
        reasons.push(dimensions[1]["Value"].as_str().unwrap().to_owned());
    }
    reasons.sort();
    let mut codes = intake::identity::Refusal::CODES.map(str::to_owned).to_vec();
    codes.sort();
    assert_eq!(reasons, codes, "every refusal the token function counts");
}

#[test]
fn every_function_has_an_errors_alarm() {
    let t = template();
    let alarms = alarms(&t);
    let functions: Vec<&str> = t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, _)| name.as_str().unwrap())
        .collect();
    assert_eq!(functions.len(), 10);
    // The token function's errors are its refusals (a withdrawn patient signing in): its alarms count the
    // refusals that are failures (enrolments it could not read), and the errors that are no refusal at all.
    token_failures_are_its_errors_less_every_refusal(&t);
    let token = find(&alarms, "EproIntake", "Refused", "TokenFunction");
    let reason = token["Dimensions"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|d| d["Name"] == "reason");
    assert_eq!(
        reason.map(|d| &d["Value"]),
        Some(&Value::from("store_unavailable"))
    );
    for function in functions.into_iter().filter(|f| *f != "TokenFunction") {
        let alarm = find(&alarms, "AWS/Lambda", "Errors", function);
        assert_eq!(number(&alarm["Threshold"]), 1, "{function}");
        assert_eq!(alarm["Statistic"], "Sum", "{function}");
    }
}

#[test]
fn the_dashboard_shows_the_flow_with_the_metrics_the_functions_emit() {
    let t = template();
    let body = intrinsic(&props(&t, "OperationsDashboard")["DashboardBody"], "!Sub");
    let dashboard: serde_json::Value =
        serde_json::from_str(&body).expect("the dashboard body is JSON");
    let widgets = dashboard["widgets"].as_array().unwrap();
    let titles: Vec<&str> = widgets
        .iter()
        .map(|w| w["properties"]["title"].as_str().unwrap())
        .collect();
    for shown in ["Arrivals", "Queue", "Stored", "alerts", "Latency", "errors"] {
        assert!(
            titles.iter().any(|t| t.contains(shown)),
            "no widget for {shown}: {titles:?}"
        );
    }
    let emitted: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
    let mut custom = 0;
    for widget in widgets {
        for line in widget["properties"]["metrics"].as_array().unwrap() {
            if line[0] == NAMESPACE {
                custom += 1;
                let name = line[1].as_str().unwrap();
                assert!(
                    emitted.contains(&name),
                    "the dashboard shows {name}, which no function emits"
                );
                assert_eq!(line[2], intake::metrics::FUNCTION, "{name}: by function");
            }
        }
    }
    assert!(custom >= 8, "{custom} custom metric lines");
}

#[test]
fn the_readme_says_what_to_do_when_each_alarm_fires() {
    let readme = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/operations.md"
    ))
    .unwrap();
    let section = readme
        .split("## When an alarm fires")
        .nth(1)
        .expect("docs/operations.md has a \"When an alarm fires\" section");
    let makefile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Makefile")).unwrap();
    let t = template();
    for (name, _) in alarms(&t) {
        let heading = format!("`{name}`");
        // The alarm's entry: the bullet that names it in bold.
        let entry = section
            .split("\n- **")
            .find(|entry| entry.split("**").next().unwrap().contains(&heading))
            .unwrap_or_else(|| panic!("docs/operations.md: nothing on {name}"));
        // Its first command, one an operator can paste: a make target that exists, or the AWS CLI.
        let command = entry
            .split('`')
            .skip(1)
            .step_by(2)
            .find(|code| code.starts_with("make ") || code.starts_with("aws "))
            .unwrap_or_else(|| panic!("docs/operations.md: {name} names no command"));
        if let Some(target) = command.strip_prefix("make ") {
            let target = target.split_whitespace().next().unwrap();
            assert!(
                makefile.contains(&format!("\n{target}:")),
                "{name}: make {target} is not a target"
            );
        }
    }
}
