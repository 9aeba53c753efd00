//! The identity provider the stack creates unless the deployer names their own: a Cognito user pool whose tokens
//! live no longer than the API accepts, whose accounts only sites create and only sites bind to a trial and a
//! patient, and whose every token passes through the token function.

use serde_norway::Value;

use super::{intrinsic, number, props, resource, template};

const POOL_RESOURCES: [&str; 17] = [
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
        // Without the list Cognito lets a user write every attribute, their trial and patient id included.
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
    let table: Vec<&Value> = statements
        .iter()
        .filter(|s| {
            s["Action"]
                .as_str()
                .is_some_and(|a| a.starts_with("dynamodb:"))
        })
        .collect();
    assert_eq!(table.len(), 1, "{statements:?}");
    assert_eq!(table[0]["Action"], "dynamodb:GetItem");
    assert_eq!(
        table[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
        Value::Sequence(vec!["TRIAL#*#PATIENT#*".into()])
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
