//! The identity provider the stack creates unless the deployer names their own: a Cognito user pool whose tokens
//! live no longer than the API accepts, whose accounts only sites create and only sites bind to a trial and a
//! patient, and whose every token passes through the token function.

use intake::item::EnrolmentStanding;
use serde_norway::Value;

use super::{intrinsic, number, props, resource, template};

const POOL_RESOURCES: [&str; 18] = [
    "UserPool",
    "ApiResourceServer",
    "AlertReadGroup",
    "AlertAcknowledgeGroup",
    "FlagReadGroup",
    "EnrolmentWriteGroup",
    "EnrolmentReadGroup",
    "DataCorrectGroup",
    "AuditReadGroup",
    "PatientAppClient",
    "StaffAppClient",
    "TokenRole",
    "TokenPolicy",
    "TokenFunction",
    "TokenLogGroup",
    "TokenInvokePermission",
    "TokenStoreFailureAlarm",
    "TokenThrottlesAlarm",
];

#[test]
fn the_user_pool_and_its_trigger_exist_only_when_no_external_issuer_is_named() {
    let t = template();
    for name in POOL_RESOURCES {
        assert_eq!(resource(&t, name)["Condition"], "UsesUserPool", "{name}");
    }
    assert_eq!(t["Parameters"]["JwtIssuer"]["Default"], "");
}

#[test]
fn every_token_lives_at_most_as_long_as_the_api_accepts() {
    let t = template();
    let limit = number(&t["Parameters"]["MaxTokenLifetimeSeconds"]["Default"]);
    for client in ["PatientAppClient", "StaffAppClient"] {
        let p = props(&t, client);
        for (token, unit) in [
            ("AccessTokenValidity", "AccessToken"),
            ("IdTokenValidity", "IdToken"),
        ] {
            assert_eq!(p["TokenValidityUnits"][unit], "minutes", "{client} {token}");
            assert!(
                number(&p[token]) * 60 <= limit,
                "{client} {token} outlives {limit} s"
            );
        }
        assert_eq!(
            p["GenerateSecret"], false,
            "{client}: a public client keeps no secret"
        );
        assert_eq!(p["EnableTokenRevocation"], true, "{client}");
        assert_eq!(p["PreventUserExistenceErrors"], "ENABLED", "{client}");
        // Password sign-in with IAM credentials, for the tests, on the local emulator only.
        let Value::Tagged(flows) = &p["ExplicitAuthFlows"] else {
            panic!("{client}: the sign-in flows depend on where the stack runs")
        };
        let [condition, local, aws] =
            <[Value; 3]>::try_from(flows.value.as_sequence().unwrap().clone()).unwrap();
        assert_eq!(condition, "OnLocalEmulator");
        assert_eq!(
            t["Conditions"]["OnLocalEmulator"],
            serde_norway::from_str::<Value>(r#"!Equals [!Ref LocalEmulator, "true"]"#).unwrap()
        );
        assert!(
            local
                .as_sequence()
                .unwrap()
                .contains(&"ALLOW_ADMIN_USER_PASSWORD_AUTH".into())
        );
        assert_eq!(
            aws,
            Value::Sequence(vec![
                "ALLOW_USER_SRP_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into()
            ])
        );
    }
}

#[test]
fn only_sites_create_accounts_and_bind_them_to_a_trial_and_a_patient() {
    let t = template();
    let pool = props(&t, "UserPool");
    assert_eq!(
        pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        true
    );
    for client in ["PatientAppClient", "StaffAppClient"] {
        let writable = props(&t, client)["WriteAttributes"]
            .as_sequence()
            .unwrap()
            .clone();
        // Without the list Cognito lets a user write every attribute, their trial and patient id included. The
        // local emulator keeps the list but does not enforce it: this check is the only one.
        assert!(!writable.is_empty(), "{client}");
        assert!(
            writable
                .iter()
                .all(|a| !a.as_str().unwrap().starts_with("custom:")),
            "{client} lets a user rewrite {writable:?}"
        );
    }
    let schema: Vec<&str> = pool["Schema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap())
        .collect();
    assert_eq!(schema, ["trial_id", "patient_id"]);
}

#[test]
fn every_token_passes_through_the_token_function_which_reads_enrolments_only() {
    let t = template();
    let trigger = &props(&t, "UserPool")["LambdaConfig"]["PreTokenGenerationConfig"];
    assert_eq!(
        trigger["LambdaVersion"], "V2_0",
        "claims and scopes on access tokens need V2"
    );
    assert_eq!(
        intrinsic(&trigger["LambdaArn"], "!GetAtt"),
        "TokenFunction.Arn"
    );
    let permission = props(&t, "TokenInvokePermission");
    assert_eq!(permission["Principal"], "cognito-idp.amazonaws.com");
    assert_eq!(
        intrinsic(&permission["SourceArn"], "!GetAtt"),
        "UserPool.Arn"
    );
    let statements = props(&t, "TokenPolicy")["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
        .clone();
    // Every action, however a statement writes it (one, or a list).
    let actions = |statement: &Value| -> Vec<String> {
        match &statement["Action"] {
            Value::String(action) => vec![action.clone()],
            Value::Sequence(list) => list
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            other => panic!("an Action: {other:?}"),
        }
    };
    let granted: Vec<String> = statements.iter().flat_map(actions).collect();
    assert_eq!(
        granted,
        [
            "dynamodb:GetItem",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords"
        ]
    );
    let read = statements
        .iter()
        .find(|s| actions(s).contains(&"dynamodb:GetItem".to_owned()))
        .unwrap();
    let condition = &read["Condition"];
    assert_eq!(
        condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
        Value::Sequence(vec!["TRIAL#*#PATIENT#*".into()])
    );
    // Of the patient's partition, which holds their answers too, only the enrolment's standing.
    let attributes: Vec<&str> = condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for attribute in EnrolmentStanding::ATTRIBUTES {
        assert!(
            attributes.contains(&attribute),
            "{attribute} is not readable"
        );
    }
    assert!(
        attributes
            .iter()
            .all(|a| ["pk", "sk"].contains(a) || EnrolmentStanding::ATTRIBUTES.contains(a)),
        "{attributes:?}"
    );
    assert_eq!(
        condition["StringEqualsIfExists"]["dynamodb:Select"],
        "SPECIFIC_ATTRIBUTES"
    );
    let env = &props(&t, "TokenFunction")["Environment"]["Variables"];
    assert_eq!(intrinsic(&env["PATIENT_CLAIM"], "!Ref"), "PatientClaim");
    assert_eq!(intrinsic(&env["TRIAL_CLAIM"], "!Ref"), "TrialClaim");
}

#[test]
fn each_staff_group_is_named_after_a_scope_the_api_checks() {
    let t = template();
    let scopes: Vec<String> = t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Cognito::UserPoolGroup")
        .map(|r| intrinsic(&r["Properties"]["GroupName"], "!Ref"))
        .collect();
    assert_eq!(scopes.len(), 7);
    let server = props(&t, "ApiResourceServer");
    let identifier = server["Identifier"].as_str().unwrap();
    for parameter in &scopes {
        let default = t["Parameters"][parameter.as_str()]["Default"]
            .as_str()
            .unwrap();
        let (prefix, name) = default.split_once('/').unwrap();
        assert_eq!(prefix, identifier, "{parameter}");
        assert!(
            server["Scopes"]
                .as_sequence()
                .unwrap()
                .iter()
                .any(|s| s["ScopeName"] == name),
            "the resource server lacks {default}"
        );
    }
}
