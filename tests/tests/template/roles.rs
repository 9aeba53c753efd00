//! Least privilege: one role per function, each allowed exactly its own calls on its own resources.

use intake::item::{AUDIT_PREFIX, VERSION_PREFIX};
use serde_norway::Value;

use crate::{intrinsic, props, resource, template};

/// The functions and their roles.
const FUNCTIONS: [(&str, &str); 9] = [
    ("SubmitFunction", "SubmitRole"),
    ("ProcessFunction", "ProcessRole"),
    ("CatalogueFunction", "CatalogueRole"),
    ("NotifyFunction", "NotifyRole"),
    ("EscalateFunction", "EscalateRole"),
    ("AlertsFunction", "AlertsRole"),
    ("TimelineFunction", "TimelineRole"),
    ("CalendarFunction", "CalendarRole"),
    ("RemindersFunction", "RemindersRole"),
];

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Sequence(many) => many
            .iter()
            .map(|a| a.as_str().expect("a plain string").to_owned())
            .collect(),
        other => panic!("expected a string or a list, found {other:?}"),
    }
}

/// The policy every role shares: X-Ray's write actions, which take no resource. Checked on its own.
const TRACING: &str = "TracingPolicy";
/// The deny that keeps the audit trail append-only whatever a role's grants allow. Checked on its own.
const APPEND_ONLY: &str = "AuditTrailAppendOnlyPolicy";
/// The deny that keeps every role but the two that record people's changes from writing the trail at all.
const WRITERS_ONLY: &str = "AuditTrailWritersOnlyPolicy";

/// Every statement that applies to `role`: its inline policies and each `AWS::IAM::Policy` attached to it, but
/// the shared tracing policy and the audit trail's denies.
fn statements_of(t: &Value, role: &str) -> Vec<Value> {
    let mut documents: Vec<&Value> = props(t, role)["Policies"]
        .as_sequence()
        .map(|policies| policies.iter().map(|p| &p["PolicyDocument"]).collect())
        .unwrap_or_default();
    for (name, policy) in t["Resources"].as_mapping().unwrap() {
        let shared = [TRACING, APPEND_ONLY, WRITERS_ONLY].contains(&name.as_str().unwrap());
        if policy["Type"] == "AWS::IAM::Policy" && !shared {
            let roles = policy["Properties"]["Roles"].as_sequence().unwrap();
            if roles.iter().any(|r| intrinsic(r, "!Ref") == role) {
                documents.push(&policy["Properties"]["PolicyDocument"]);
            }
        }
    }
    documents
        .into_iter()
        .flat_map(|d| d["Statement"].as_sequence().unwrap().clone())
        .collect()
}

/// `role`'s grants as (actions, resource), in template order.
fn grants(t: &Value, role: &str) -> Vec<(Vec<String>, String)> {
    statements_of(t, role)
        .iter()
        .map(|statement| {
            assert_eq!(statement["Effect"], "Allow", "{role}");
            assert!(statement["NotAction"].is_null() && statement["NotResource"].is_null());
            (
                list(&statement["Action"]),
                resource_of(&statement["Resource"]),
            )
        })
        .collect()
}

/// A statement's resource as text: `Table.Arn` for `!GetAtt`, `Ref Topic`, or the `!Sub` pattern; a list of them
/// joined with `, `. Never `*`.
fn resource_of(value: &Value) -> String {
    match value {
        Value::Sequence(many) => many.iter().map(resource_of).collect::<Vec<_>>().join(", "),
        Value::Tagged(tagged) if tagged.tag == "!GetAtt" => intrinsic(value, "!GetAtt"),
        Value::Tagged(tagged) if tagged.tag == "!Ref" => {
            format!("Ref {}", intrinsic(value, "!Ref"))
        }
        Value::Tagged(tagged) if tagged.tag == "!Sub" => intrinsic(value, "!Sub"),
        other => panic!("a resource named exactly, not {other:?}"),
    }
}

fn owned(actions: &[&str], resource: &str) -> (Vec<String>, String) {
    (
        actions.iter().map(|a| (*a).to_owned()).collect(),
        resource.to_owned(),
    )
}

#[test]
fn every_function_runs_under_its_own_role_that_only_lambda_can_assume() {
    let t = template();
    for (function, role) in FUNCTIONS {
        let p = props(&t, function);
        assert_eq!(intrinsic(&p["Role"], "!GetAtt"), format!("{role}.Arn"));
        assert!(
            p["Policies"].is_null(),
            "{function}: SAM Policies would add the managed basic execution role"
        );
        assert_eq!(resource(&t, role)["Type"], "AWS::IAM::Role");
        let trust = props(&t, role)["AssumeRolePolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        assert_eq!(trust.len(), 1, "{role}");
        assert_eq!(trust[0]["Principal"]["Service"], "lambda.amazonaws.com");
        assert_eq!(trust[0]["Action"], "sts:AssumeRole");
    }
}

#[test]
fn every_role_may_write_trace_segments_and_nothing_more_through_the_tracing_policy() {
    let t = template();
    let p = props(&t, TRACING);
    let roles: Vec<String> = p["Roles"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| intrinsic(r, "!Ref"))
        .collect();
    let expected: Vec<String> = FUNCTIONS
        .iter()
        .map(|(_, role)| (*role).to_owned())
        .collect();
    assert_eq!(roles, expected);
    let statements = p["PolicyDocument"]["Statement"].as_sequence().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(
        list(&statements[0]["Action"]),
        ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    );
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Tracing"], "Active", "every function is traced");
}

#[test]
fn no_resource_attaches_a_managed_policy() {
    let t = template();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        assert!(
            r["Properties"]["ManagedPolicyArns"].is_null(),
            "{name:?} attaches a managed policy"
        );
        assert!(r["Type"] != "AWS::IAM::ManagedPolicy", "{name:?}");
    }
}

#[test]
fn each_function_may_do_only_what_it_needs_on_its_own_resources() {
    let t = template();
    let logs = ["logs:CreateLogStream", "logs:PutLogEvents"];
    assert_eq!(
        grants(&t, "SubmitRole"),
        [
            owned(&["sqs:SendMessage"], "SubmissionQueue.Arn"),
            owned(&logs, "SubmitLogGroup.Arn"),
        ]
    );
    assert_eq!(
        grants(&t, "ProcessRole"),
        [
            owned(
                &[
                    "dynamodb:PutItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:GetItem"
                ],
                "SubmissionTable.Arn"
            ),
            owned(
                &[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes"
                ],
                "SubmissionQueue.Arn"
            ),
            owned(&logs, "ProcessLogGroup.Arn"),
        ]
    );
    assert_eq!(
        grants(&t, "CatalogueRole"),
        [owned(&logs, "CatalogueLogGroup.Arn")],
        "the catalogue calls no AWS service but its logs"
    );
    let stream = [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ];
    assert_eq!(
        grants(&t, "NotifyRole"),
        [
            owned(&stream, "SubmissionTable.StreamArn"),
            owned(&["dynamodb:UpdateItem"], "SubmissionTable.Arn"),
            owned(&["sns:Publish"], "Ref AlertTopic"),
            owned(&["sqs:SendMessage"], "AlertDeliveryFailureQueue.Arn"),
            owned(&logs, "NotifyLogGroup.Arn"),
        ],
        "notify claims and records deliveries; it reads nothing"
    );
    assert_eq!(
        grants(&t, "EscalateRole"),
        [
            owned(
                &["dynamodb:Query"],
                "${SubmissionTable.Arn}/index/PendingDeliveries, ${SubmissionTable.Arn}/index/PendingEscalations"
            ),
            owned(&["dynamodb:UpdateItem"], "SubmissionTable.Arn"),
            owned(&["sns:Publish"], "Ref AlertTopic, Ref EscalationTopic"),
            owned(&logs, "EscalateLogGroup.Arn"),
        ]
    );
    assert_eq!(
        grants(&t, "AlertsRole"),
        [
            owned(
                &["dynamodb:Query"],
                "${SubmissionTable.Arn}/index/AlertsByTrial, ${SubmissionTable.Arn}/index/FlagsByTrial"
            ),
            owned(&["dynamodb:GetItem"], "SubmissionTable.Arn"),
            owned(&["dynamodb:UpdateItem"], "SubmissionTable.Arn"),
            owned(&["dynamodb:PutItem"], "SubmissionTable.Arn"),
            owned(&["dynamodb:Query"], "SubmissionTable.Arn"),
            owned(&["dynamodb:Query"], "SubmissionTable.Arn"),
            owned(&["dynamodb:ConditionCheckItem"], "SubmissionTable.Arn"),
            owned(&logs, "AlertsLogGroup.Arn"),
        ],
        "staff list alerts and flags through their indexes only"
    );
    let on_table: Vec<(Vec<String>, Vec<String>)> = statements_of(&t, "AlertsRole")
        .iter()
        .filter(|s| resource_of(&s["Resource"]) == "SubmissionTable.Arn")
        .map(|s| {
            (
                list(&s["Action"]),
                list(&s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]),
            )
        })
        .collect();
    let both = |action: &str, keys: &[&str]| {
        (
            vec![action.to_owned()],
            keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>(),
        )
    };
    let audit = format!("{AUDIT_PREFIX}*");
    let version = format!("{VERSION_PREFIX}*");
    assert_eq!(
        on_table,
        [
            both(
                "dynamodb:GetItem",
                &[
                    "ALERT#*",
                    "EXCLUSION#*",
                    "SUBMISSIONID#*",
                    "TRIAL#*#PATIENT#*"
                ]
            ),
            both("dynamodb:UpdateItem", &["ALERT#*"]),
            both(
                "dynamodb:PutItem",
                &[&audit, "EXCLUSION#*", &version, "ALERT#*"],
            ),
            both("dynamodb:Query", &[&audit, &version]),
            both("dynamodb:Query", &["TRIAL#*#PATIENT#*"]),
            both(
                "dynamodb:ConditionCheckItem",
                &["SUBMISSIONID#*", "TRIAL#*#PATIENT#*", &version],
            ),
        ],
        "on the table, the staff API reaches only the partitions each call needs: it changes alerts only, appends \
         audit records, exclusions, corrected versions and the alerts they raise, and never writes where \
         submissions are"
    );
    // Its one query of the patients' partitions (a submission's resends) returns their content hashes only.
    let resends = statements_of(&t, "AlertsRole")
        .into_iter()
        .find(|s| {
            let keys = &s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            list(&s["Action"]) == ["dynamodb:Query"]
                && !keys.is_null()
                && list(keys) == ["TRIAL#*#PATIENT#*"]
        })
        .expect("the resends' query");
    assert_eq!(
        list(&resends["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]),
        ["contentHash"]
    );
    assert_eq!(
        resends["Condition"]["StringEquals"]["dynamodb:Select"],
        "SPECIFIC_ATTRIBUTES"
    );
    assert_eq!(
        grants(&t, "TimelineRole"),
        [
            owned(&stream, "SubmissionTable.StreamArn"),
            owned(
                &[
                    "dynamodb:PutItem",
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem"
                ],
                "SubmissionTable.Arn"
            ),
            owned(&["sqs:SendMessage"], "TimelineFailureQueue.Arn"),
            owned(&logs, "TimelineLogGroup.Arn"),
        ]
    );
    assert_eq!(
        grants(&t, "CalendarRole"),
        [
            owned(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem"
                ],
                "SubmissionTable.Arn"
            ),
            owned(
                &["dynamodb:Query"],
                "${SubmissionTable.Arn}/index/CalendarByTrial"
            ),
            owned(&logs, "CalendarLogGroup.Arn"),
        ],
        "enrolments and their surveys due, a trial's calendar; no submission is listed"
    );
    assert_eq!(
        grants(&t, "RemindersRole"),
        [
            owned(
                &["dynamodb:Query"],
                "${SubmissionTable.Arn}/index/ScheduleDue"
            ),
            owned(&["dynamodb:UpdateItem"], "SubmissionTable.Arn"),
            owned(&["sns:Publish"], "Ref ReminderTopic, Ref MissedSurveyTopic"),
            owned(&logs, "RemindersLogGroup.Arn"),
        ],
        "the sweep claims and records steps; it queries nothing but the due index"
    );
}

/// The roles a deny policy applies to, and its one statement's actions and leading keys.
fn deny(t: &Value, policy: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let p = props(t, policy);
    let roles = p["Roles"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| intrinsic(r, "!Ref"))
        .collect();
    let statements = p["PolicyDocument"]["Statement"].as_sequence().unwrap();
    assert_eq!(statements.len(), 1, "{policy}");
    let statement = &statements[0];
    assert_eq!(statement["Effect"], "Deny", "{policy}");
    assert_eq!(resource_of(&statement["Resource"]), "SubmissionTable.Arn");
    (
        roles,
        list(&statement["Action"]),
        list(&statement["Condition"]["ForAnyValue:StringLike"]["dynamodb:LeadingKeys"]),
    )
}

/// The roles granted any of `actions` on the table.
fn granted(t: &Value, actions: &[&str]) -> Vec<String> {
    FUNCTIONS
        .iter()
        .map(|(_, role)| (*role).to_owned())
        .filter(|role| {
            grants(t, role).iter().any(|(granted, resource)| {
                resource == "SubmissionTable.Arn"
                    && granted.iter().any(|a| actions.contains(&a.as_str()))
            })
        })
        .collect()
}

#[test]
fn no_role_may_change_or_delete_an_audit_record_and_only_the_two_recording_apis_append_one() {
    let t = template();
    let audit = vec![format!("{AUDIT_PREFIX}*")];
    let writers = granted(
        &t,
        &[
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
    );
    let (roles, actions, keys) = deny(&t, APPEND_ONLY);
    assert_eq!(
        roles, writers,
        "every role that writes the table, and only those"
    );
    assert_eq!(
        actions,
        [
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:PartiQLUpdate",
            "dynamodb:PartiQLDelete"
        ]
    );
    assert_eq!(keys, audit, "the audit partitions, as the code names them");

    let putters: Vec<String> = granted(&t, &["dynamodb:PutItem"])
        .into_iter()
        .filter(|role| role != "AlertsRole" && role != "CalendarRole")
        .collect();
    let (roles, actions, keys) = deny(&t, WRITERS_ONLY);
    assert_eq!(
        roles, putters,
        "every role that may put items but records no person's change"
    );
    assert_eq!(actions, ["dynamodb:PutItem", "dynamodb:PartiQLInsert"]);
    assert_eq!(keys, audit);
}

#[test]
fn functions_and_the_event_source_start_only_once_their_permissions_exist() {
    let t = template();
    for (dependant, policy) in [
        ("SubmitFunction", "SubmitPolicy"),
        ("ProcessFunction", "ProcessPolicy"),
        ("ProcessEventSource", "ProcessPolicy"),
        ("NotifyFunction", "NotifyPolicy"),
        ("NotifyEventSource", "NotifyPolicy"),
        ("EscalateFunction", "EscalatePolicy"),
        ("AlertsFunction", "AlertsPolicy"),
        ("TimelineFunction", "TimelinePolicy"),
        ("TimelineEventSource", "TimelinePolicy"),
        ("CalendarFunction", "CalendarPolicy"),
        ("RemindersFunction", "RemindersPolicy"),
    ] {
        assert_eq!(resource(&t, dependant)["DependsOn"], policy, "{dependant}");
    }
}
