//! Encryption at rest with the stack's own keys, which only the functions (and the named operators) can use.

use serde_norway::Value;

use crate::{intrinsic, props, template};

/// What a key statement lets its principal do with data, as opposed to managing the key.
const DATA_ACTIONS: [&str; 6] = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKeyWithoutPlaintext",
];

/// A key's statements, each with the condition name it is included under, if any.
fn key_statements(t: &Value, key: &str) -> Vec<(Option<String>, Value)> {
    let policy = &props(t, key)["KeyPolicy"];
    policy["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|statement| match statement {
            Value::Tagged(tagged) if tagged.tag == "!If" => (
                Some(tagged.value[0].as_str().unwrap().to_owned()),
                tagged.value[1].clone(),
            ),
            plain => (None, plain.clone()),
        })
        .collect()
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(one) => vec![one.clone()],
        Value::Sequence(many) => many
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("unexpected Action {other:?}"),
    }
}

/// Who a statement names: `root`, a `!GetAtt` role, a `!Ref` parameter or a service.
fn principal(statement: &Value) -> String {
    let principal = &statement["Principal"];
    if let Some(service) = principal["Service"].as_str() {
        return format!("service {service}");
    }
    match &principal["AWS"] {
        Value::Tagged(tagged) if tagged.tag == "!Sub" => {
            let text = tagged.value.as_str().unwrap();
            assert!(text.ends_with(":root"), "unexpected principal {text}");
            "root".into()
        }
        Value::Tagged(tagged) if tagged.tag == "!GetAtt" => tagged.value.as_str().unwrap().into(),
        Value::Tagged(tagged) if tagged.tag == "!Ref" => tagged.value.as_str().unwrap().into(),
        Value::Tagged(tagged) if tagged.tag == "!Sub" => tagged.value.as_str().unwrap().into(),
        other => panic!("a key policy names principals exactly, not {other:?}"),
    }
}

fn service_principal(statement: &Value) -> Option<String> {
    match &statement["Principal"]["Service"] {
        Value::String(service) => Some(service.clone()),
        Value::Tagged(tagged) if tagged.tag == "!Sub" => Some(tagged.value.as_str()?.into()),
        _ => None,
    }
}

#[test]
fn queues_and_table_use_the_data_key_and_every_log_group_the_log_key() {
    let t = template();
    for queue in [
        "SubmissionQueue",
        "DeadLetterQueue",
        "AlertDeliveryFailureQueue",
    ] {
        let p = props(&t, queue);
        assert_eq!(
            intrinsic(&p["KmsMasterKeyId"], "!Ref"),
            "DataKey",
            "{queue}"
        );
        assert!(p["SqsManagedSseEnabled"].is_null(), "{queue}");
    }
    let sse = &props(&t, "SubmissionTable")["SSESpecification"];
    assert_eq!(sse["SSEEnabled"], true);
    assert_eq!(sse["SSEType"], "KMS");
    assert_eq!(intrinsic(&sse["KMSMasterKeyId"], "!Ref"), "DataKey");
    let groups: Vec<_> = t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
        .collect();
    assert_eq!(groups.len(), 11, "ten functions and the API");
    for topic in [
        "AlertTopic",
        "EscalationTopic",
        "ReminderTopic",
        "MissedSurveyTopic",
    ] {
        assert_eq!(
            intrinsic(&props(&t, topic)["KmsMasterKeyId"], "!Ref"),
            "DataKey",
            "{topic}"
        );
    }
    // Alarm messages hold no clinical data; CloudWatch may use the log key only through SNS.
    assert_eq!(
        intrinsic(&props(&t, "OpsTopic")["KmsMasterKeyId"], "!Ref"),
        "LogKey"
    );
    for (name, group) in groups {
        assert_eq!(
            intrinsic(&group["Properties"]["KmsKeyId"], "!GetAtt"),
            "LogKey.Arn",
            "{name:?}"
        );
    }
    for key in ["DataKey", "LogKey"] {
        assert_eq!(props(&t, key)["EnableKeyRotation"], true, "{key}");
    }
}

#[test]
fn administrators_manage_the_keys_but_only_the_functions_and_operators_can_decrypt() {
    let t = template();
    let mut data_users = Vec::new();
    for key in ["DataKey", "LogKey"] {
        for (condition, statement) in key_statements(&t, key) {
            assert_eq!(statement["Effect"], "Allow");
            let who = principal(&statement);
            let uses_data: Vec<String> = actions(&statement)
                .into_iter()
                .filter(|a| DATA_ACTIONS.contains(&a.as_str()) || a.ends_with('*'))
                .collect();
            if who == "root" {
                assert!(
                    uses_data.is_empty(),
                    "{key}: administrators may {uses_data:?}"
                );
                if actions(&statement).contains(&"kms:CreateGrant".to_owned()) {
                    assert_eq!(
                        statement["Condition"]["Bool"]["kms:GrantIsForAWSResource"], true,
                        "{key}: grants only for the AWS service holding the data"
                    );
                }
                continue;
            }
            if uses_data.is_empty() {
                continue;
            }
            // Every use goes through the service that holds the data, never a direct call.
            let through = &statement["Condition"];
            assert!(
                !through["StringEquals"]["kms:ViaService"].is_null()
                    || !through["ArnLike"]["kms:EncryptionContext:aws:logs:arn"].is_null(),
                "{key}: {who} may use the key outside its service"
            );
            data_users.push((key, who, condition));
        }
    }
    let logs = service_principal(
        &key_statements(&t, "LogKey")
            .into_iter()
            .find(|(_, s)| s["Principal"]["Service"] != Value::Null)
            .unwrap()
            .1,
    );
    assert_eq!(logs.as_deref(), Some("logs.${AWS::Region}.amazonaws.com"));
    assert_eq!(
        data_users,
        [
            ("DataKey", "SubmitRole.Arn".to_owned(), None),
            ("DataKey", "ProcessRole.Arn".to_owned(), None),
            ("DataKey", "NotifyRole.Arn".to_owned(), None),
            ("DataKey", "AlertsRole.Arn".to_owned(), None),
            ("DataKey", "EscalateRole.Arn".to_owned(), None),
            ("DataKey", "TimelineRole.Arn".to_owned(), None),
            ("DataKey", "CalendarRole.Arn".to_owned(), None),
            ("DataKey", "RemindersRole.Arn".to_owned(), None),
            (
                "DataKey",
                "TokenRole.Arn".to_owned(),
                Some("UsesUserPool".to_owned())
            ),
            (
                "DataKey",
                "OperatorRoleArn".to_owned(),
                Some("HasOperatorRole".to_owned())
            ),
            (
                "LogKey",
                "service logs.${AWS::Region}.amazonaws.com".to_owned(),
                None
            ),
            (
                "LogKey",
                "service cloudwatch.amazonaws.com".to_owned(),
                None
            ),
        ]
    );
}

#[test]
fn the_log_key_covers_every_log_group_of_the_stack_and_nothing_else() {
    let t = template();
    let (_, statement) = key_statements(&t, "LogKey")
        .into_iter()
        .find(|(_, s)| !s["Condition"]["ArnLike"].is_null())
        .unwrap();
    let pattern = intrinsic(
        &statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"],
        "!Sub",
    );
    let glob = regex::Regex::new(&format!(
        "^{}$",
        regex::escape(&pattern).replace(r"\*", ".*")
    ))
    .unwrap();
    let arn = |name: &str| {
        format!(
            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}"
        )
    };
    for group in [
        "SubmitLogGroup",
        "ProcessLogGroup",
        "CatalogueLogGroup",
        "NotifyLogGroup",
        "EscalateLogGroup",
        "AlertsLogGroup",
        "ApiAccessLogGroup",
    ] {
        let name = intrinsic(&props(&t, group)["LogGroupName"], "!Sub");
        assert!(
            glob.is_match(&arn(&name)),
            "{group} ({name}) is not covered"
        );
    }
    assert!(!glob.is_match(&arn("/aws/lambda/another-stack-submit")));
}
