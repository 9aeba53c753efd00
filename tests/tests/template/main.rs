//! Asserts the safety settings of template.yaml. The linters accept a misspelt `ReportBatchItemFailures`, a missing
//! redrive policy or a wildcard IAM action: each would lose or double clinical data silently, so we check them here.

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
    let Value::Tagged(find) = &p["ScalingConfig"]["MaximumConcurrency"] else {
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
    for queue in [queue, dlq] {
        assert_eq!(queue["SqsManagedSseEnabled"], true);
    }
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
fn the_table_is_on_demand_recoverable_encrypted_and_protected() {
    let t = template();
    let table = props(&t, "SubmissionTable");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
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
    assert_eq!(index["IndexName"], "ByTrialReceivedAt");
    assert_eq!(index["KeySchema"][0]["AttributeName"], "trialId");
    assert_eq!(index["KeySchema"][1]["AttributeName"], "receivedAt");
}

#[test]
fn both_functions_are_rust_on_al2023_with_a_configurable_architecture() {
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
    ] {
        let metadata = &resource(&t, name)["Metadata"];
        assert_eq!(metadata["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(metadata["BuildProperties"]["Binary"], binary, "{name}");
    }
}

#[test]
fn every_route_requires_a_verified_jwt_and_no_deploy_can_skip_it() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let routes: Vec<_> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::ApiGatewayV2::Route")
        .collect();
    assert!(!routes.is_empty());
    for route in routes {
        assert_eq!(route["Properties"]["AuthorizationType"], "JWT", "{route:?}");
        assert_eq!(
            intrinsic(&route["Properties"]["AuthorizerId"], "!Ref"),
            "PatientAuthorizer"
        );
    }
    let authorizer = props(&t, "PatientAuthorizer");
    assert_eq!(
        resource(&t, "PatientAuthorizer")["Type"],
        "AWS::ApiGatewayV2::Authorizer"
    );
    assert_eq!(authorizer["AuthorizerType"], "JWT");
    assert_eq!(
        authorizer["IdentitySource"].as_sequence().unwrap(),
        &[Value::from("$request.header.Authorization")]
    );
    let jwt = &authorizer["JwtConfiguration"];
    assert_eq!(intrinsic(&jwt["Issuer"], "!Ref"), "JwtIssuer");
    assert_eq!(intrinsic(&jwt["Audience"], "!Ref"), "JwtAudience");
    for parameter in ["JwtIssuer", "JwtAudience"] {
        assert!(
            t["Parameters"][parameter]["Default"].is_null(),
            "{parameter} must be given at deploy time, never defaulted"
        );
    }
    assert!(
        t["Parameters"]["AuthMode"].is_null(),
        "no switch may turn identity checks off"
    );
    let env = &props(&t, "SubmitFunction")["Environment"]["Variables"];
    assert_eq!(intrinsic(&env["PATIENT_CLAIM"], "!Ref"), "PatientClaim");
}

#[test]
fn the_http_api_is_explicit_and_each_route_reaches_its_function() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    assert!(
        resources
            .values()
            .all(|r| r["Type"] != "AWS::Serverless::HttpApi"),
        "emulators drop SAM HttpApi routes; declare AWS::ApiGatewayV2 resources"
    );
    assert_eq!(resource(&t, "HttpApi")["Type"], "AWS::ApiGatewayV2::Api");
    assert_eq!(props(&t, "HttpApi")["ProtocolType"], "HTTP");
    let routes: Vec<(String, String)> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::ApiGatewayV2::Route")
        .map(|r| {
            (
                r["Properties"]["RouteKey"].as_str().unwrap().to_owned(),
                intrinsic(&r["Properties"]["Target"], "!Sub"),
            )
        })
        .collect();
    let expected = [
        ("POST /v1/submissions", "integrations/${SubmitIntegration}"),
        (
            "POST /v1/fhir/QuestionnaireResponse",
            "integrations/${SubmitIntegration}",
        ),
        (
            "GET /v1/fhir/Questionnaire",
            "integrations/${CatalogueIntegration}",
        ),
        (
            "GET /v1/fhir/Questionnaire/{id}",
            "integrations/${CatalogueIntegration}",
        ),
        (
            "GET /v1/fhir/Questionnaire/{id}/_history/{version}",
            "integrations/${CatalogueIntegration}",
        ),
    ];
    for (key, target) in expected {
        assert!(
            routes.contains(&(key.to_owned(), target.to_owned())),
            "{key} -> {target} missing from {routes:?}"
        );
    }
    assert_eq!(
        routes.len(),
        expected.len(),
        "no route the tests do not know"
    );
    for integration in ["SubmitIntegration", "CatalogueIntegration"] {
        assert_eq!(props(&t, integration)["PayloadFormatVersion"], "2.0");
    }
    let throttling = &props(&t, "DefaultStage")["DefaultRouteSettings"];
    assert_eq!(
        intrinsic(&throttling["ThrottlingRateLimit"], "!Ref"),
        "ThrottlingRateLimit"
    );
    assert_eq!(
        intrinsic(&throttling["ThrottlingBurstLimit"], "!Ref"),
        "ThrottlingBurstLimit"
    );
    for (permission, function, path) in [
        (
            "SubmitInvokePermission",
            "SubmitFunction",
            "/*/POST/v1/submissions",
        ),
        (
            "SubmitFhirInvokePermission",
            "SubmitFunction",
            "/*/POST/v1/fhir/QuestionnaireResponse",
        ),
        (
            "CatalogueInvokePermission",
            "CatalogueFunction",
            "/*/GET/v1/fhir/Questionnaire*",
        ),
    ] {
        let p = props(&t, permission);
        assert_eq!(p["Principal"], "apigateway.amazonaws.com");
        assert_eq!(intrinsic(&p["FunctionName"], "!Ref"), function);
        assert!(
            intrinsic(&p["SourceArn"], "!Sub").ends_with(path),
            "{permission}"
        );
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

/// Every statement of a function's inline policies, as (actions, resource).
fn statements(t: &Value, function: &str) -> Vec<(Vec<String>, String)> {
    let policies = props(t, function)["Policies"]
        .as_sequence()
        .expect("inline policies only");
    policies
        .iter()
        .flat_map(|policy| {
            policy["Statement"]
                .as_sequence()
                .expect("a policy document")
                .iter()
        })
        .map(|statement| {
            assert_eq!(statement["Effect"], "Allow");
            let actions = match &statement["Action"] {
                Value::String(action) => vec![action.clone()],
                Value::Sequence(actions) => actions
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect(),
                other => panic!("unexpected Action {other:?}"),
            };
            (actions, intrinsic(&statement["Resource"], "!GetAtt"))
        })
        .collect()
}

#[test]
fn each_function_may_do_only_what_it_needs() {
    let t = template();
    assert!(
        props(&t, "CatalogueFunction")["Policies"].is_null(),
        "the catalogue function calls no AWS service"
    );
    assert_eq!(
        statements(&t, "SubmitFunction"),
        [(
            vec!["sqs:SendMessage".to_owned()],
            "SubmissionQueue.Arn".to_owned()
        )]
    );
    assert_eq!(
        statements(&t, "ProcessFunction"),
        [
            (
                vec!["dynamodb:PutItem".to_owned(), "dynamodb:GetItem".to_owned()],
                "SubmissionTable.Arn".to_owned()
            ),
            (
                vec![
                    "sqs:ReceiveMessage".to_owned(),
                    "sqs:DeleteMessage".to_owned(),
                    "sqs:GetQueueAttributes".to_owned()
                ],
                "SubmissionQueue.Arn".to_owned()
            )
        ]
    );
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
