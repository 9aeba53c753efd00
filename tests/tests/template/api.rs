//! The HTTP API: every route behind the JWT authorizer, each reaching its function.

use serde_norway::Value;

use crate::{intrinsic, number, props, resource, template};

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
        let key = route["Properties"]["RouteKey"].as_str().unwrap();
        assert_eq!(route["Properties"]["AuthorizationType"], "JWT", "{key}");
        // Patient routes take the patient app's tokens, staff routes the staff portal's, the catalogue either's.
        let expected = if key.contains("/v1/trials/") || key.contains("/v1/alerts/") {
            "StaffAuthorizer"
        } else if key.contains("/v1/fhir/Questionnaire") && !key.starts_with("POST")
            || key.contains("/v1/fhir/PlanDefinition")
        {
            "TokenAuthorizer"
        } else {
            "PatientAuthorizer"
        };
        let authorizer = intrinsic(&route["Properties"]["AuthorizerId"], "!Ref");
        assert_eq!(authorizer, expected, "{key}");
    }
    // The issuer is the stack's user pool, or the provider the deployer names: there is no third way.
    for (name, clients) in [
        (
            "TokenAuthorizer",
            &["PatientAppClient", "StaffAppClient"][..],
        ),
        ("PatientAuthorizer", &["PatientAppClient"][..]),
        ("StaffAuthorizer", &["StaffAppClient"][..]),
    ] {
        assert_eq!(resource(&t, name)["Type"], "AWS::ApiGatewayV2::Authorizer");
        let authorizer = props(&t, name);
        assert_eq!(authorizer["AuthorizerType"], "JWT");
        assert_eq!(
            authorizer["IdentitySource"].as_sequence().unwrap(),
            &[Value::from("$request.header.Authorization")]
        );
        let jwt = &authorizer["JwtConfiguration"];
        let [condition, pool, external] = choice(&jwt["Issuer"]);
        assert_eq!(condition, "UsesUserPool");
        assert_eq!(
            intrinsic(&pool, "!Sub"),
            "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
        );
        assert_eq!(intrinsic(&external, "!Ref"), "JwtIssuer");
        let [condition, audiences, external] = choice(&jwt["Audience"]);
        assert_eq!(condition, "UsesUserPool");
        let audiences: Vec<String> = audiences
            .as_sequence()
            .unwrap()
            .iter()
            .map(|c| intrinsic(c, "!Ref"))
            .collect();
        assert_eq!(audiences, clients, "{name}");
        assert_eq!(intrinsic(&external, "!Ref"), "JwtAudience");
    }
    assert_eq!(
        t["Conditions"]["UsesUserPool"],
        serde_norway::from_str::<Value>(r#"!Equals [!Ref JwtIssuer, ""]"#).unwrap()
    );
    // With its own issuer, a deploy must name the audiences: an empty list would refuse every token.
    let rule = &t["Rules"]["OwnIssuerNamesItsAudience"];
    assert!(!rule["Assertions"].is_null(), "{rule:?}");
    rule_functions_only(&t["Rules"]);
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
        (
            "GET /v1/fhir/PlanDefinition",
            "integrations/${CatalogueIntegration}",
        ),
        (
            "GET /v1/fhir/PlanDefinition/{id}",
            "integrations/${CatalogueIntegration}",
        ),
        (
            "GET /v1/fhir/PlanDefinition/{id}/_history/{version}",
            "integrations/${CatalogueIntegration}",
        ),
        (
            "GET /v1/trials/{trialId}/alerts",
            "integrations/${AlertsIntegration}",
        ),
        (
            "POST /v1/alerts/{alertId}/acknowledgement",
            "integrations/${AlertsIntegration}",
        ),
        (
            "GET /v1/trials/{trialId}/flags",
            "integrations/${AlertsIntegration}",
        ),
        (
            "PUT /v1/trials/{trialId}/submissions/{submissionId}/exclusion",
            "integrations/${AlertsIntegration}",
        ),
        (
            "GET /v1/trials/{trialId}/submissions/{submissionId}/exclusion",
            "integrations/${AlertsIntegration}",
        ),
        (
            "POST /v1/trials/{trialId}/submissions/{submissionId}/versions",
            "integrations/${AlertsIntegration}",
        ),
        (
            "GET /v1/trials/{trialId}/submissions/{submissionId}/versions",
            "integrations/${AlertsIntegration}",
        ),
        (
            "GET /v1/trials/{trialId}/audit",
            "integrations/${AlertsIntegration}",
        ),
        (
            "POST /v1/trials/{trialId}/enrolments",
            "integrations/${CalendarIntegration}",
        ),
        (
            "GET /v1/trials/{trialId}/enrolments/{patientId}",
            "integrations/${CalendarIntegration}",
        ),
        (
            "PATCH /v1/trials/{trialId}/enrolments/{patientId}",
            "integrations/${CalendarIntegration}",
        ),
        (
            "POST /v1/trials/{trialId}/enrolments/{patientId}/withdrawal",
            "integrations/${CalendarIntegration}",
        ),
        (
            "GET /v1/trials/{trialId}/compliance",
            "integrations/${CalendarIntegration}",
        ),
        (
            "GET /v1/patients/me/schedule",
            "integrations/${CalendarIntegration}",
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
    assert_eq!(
        intrinsic(&props(&t, "SubmitIntegration")["IntegrationUri"], "!Ref"),
        "SubmitFunction.Alias"
    );
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
        // Submit is invoked through its live alias, where provisioned concurrency is held when set.
        (
            "SubmitInvokePermission",
            "SubmitFunction.Alias",
            "/*/POST/v1/submissions",
        ),
        (
            "SubmitFhirInvokePermission",
            "SubmitFunction.Alias",
            "/*/POST/v1/fhir/QuestionnaireResponse",
        ),
        (
            "CatalogueInvokePermission",
            "CatalogueFunction",
            "/*/GET/v1/fhir/Questionnaire*",
        ),
        (
            "PlanDefinitionInvokePermission",
            "CatalogueFunction",
            "/*/GET/v1/fhir/PlanDefinition*",
        ),
        (
            "AlertListInvokePermission",
            "AlertsFunction",
            "/*/GET/v1/trials/*/alerts",
        ),
        (
            "AlertAcknowledgementInvokePermission",
            "AlertsFunction",
            "/*/POST/v1/alerts/*/acknowledgement",
        ),
        (
            "FlagListInvokePermission",
            "AlertsFunction",
            "/*/GET/v1/trials/*/flags",
        ),
        (
            "ExclusionInvokePermission",
            "AlertsFunction",
            "/*/PUT/v1/trials/*/submissions/*/exclusion",
        ),
        (
            "ExclusionReadInvokePermission",
            "AlertsFunction",
            "/*/GET/v1/trials/*/submissions/*/exclusion",
        ),
        (
            "CorrectionInvokePermission",
            "AlertsFunction",
            "/*/POST/v1/trials/*/submissions/*/versions",
        ),
        (
            "VersionsInvokePermission",
            "AlertsFunction",
            "/*/GET/v1/trials/*/submissions/*/versions",
        ),
        (
            "AuditTrailInvokePermission",
            "AlertsFunction",
            "/*/GET/v1/trials/*/audit",
        ),
        (
            "CalendarStaffPostInvokePermission",
            "CalendarFunction",
            "/*/POST/v1/trials/*/enrolments*",
        ),
        (
            "CalendarStaffGetInvokePermission",
            "CalendarFunction",
            "/*/GET/v1/trials/*/enrolments/*",
        ),
        (
            "CalendarStaffPatchInvokePermission",
            "CalendarFunction",
            "/*/PATCH/v1/trials/*/enrolments/*",
        ),
        (
            "ComplianceInvokePermission",
            "CalendarFunction",
            "/*/GET/v1/trials/*/compliance",
        ),
        (
            "PatientScheduleInvokePermission",
            "CalendarFunction",
            "/*/GET/v1/patients/me/schedule",
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

/// CloudFormation refuses a template whose Rules use any other function (`!Join`, `!If`, `!Sub`…), and the linters
/// let it through.
fn rule_functions_only(value: &Value) {
    const ALLOWED: [&str; 11] = [
        "!And",
        "!Or",
        "!Not",
        "!Equals",
        "!Contains",
        "!EachMemberEquals",
        "!EachMemberIn",
        "!RefAll",
        "!ValueOf",
        "!ValueOfAll",
        "!Ref",
    ];
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            assert!(ALLOWED.contains(&tag.as_str()), "{tag} in Rules");
            rule_functions_only(&tagged.value);
        }
        Value::Sequence(items) => items.iter().for_each(rule_functions_only),
        Value::Mapping(map) => map.values().for_each(rule_functions_only),
        _ => {}
    }
}

/// The three arguments of an `!If`.
fn choice(value: &Value) -> [Value; 3] {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!If" => tagged
            .value
            .as_sequence()
            .and_then(|arguments| <[Value; 3]>::try_from(arguments.clone()).ok())
            .expect("!If [condition, then, else]"),
        other => panic!("expected !If, found {other:?}"),
    }
}

/// CloudFormation matches an `AllowedPattern` against the whole value.
fn allowed(t: &Value, parameter: &str) -> regex::Regex {
    let pattern = t["Parameters"][parameter]["AllowedPattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{parameter} has an AllowedPattern"));
    regex::Regex::new(&format!("^(?:{pattern})$")).unwrap()
}

#[test]
fn the_issuer_must_be_https_unless_it_runs_on_this_very_machine() {
    let issuer = allowed(&template(), "JwtIssuer");
    for good in [
        // The stack's own user pool.
        "",
        "https://login.example.org/realms/trial",
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
        "http://127.0.0.1:4567",
        "http://localhost:8080/issuer",
    ] {
        assert!(issuer.is_match(good), "{good} is refused");
    }
    for bad in [
        "http://login.example.org",
        "http://127.0.0.1.example.org",
        "http://localhost.example.org:80",
        "http://10.0.0.5:4567",
        "ftp://login.example.org",
        "https://",
        " ",
    ] {
        assert!(!issuer.is_match(bad), "{bad} is accepted");
    }
}

#[test]
fn the_token_binds_the_patient_and_the_trial_and_lives_briefly() {
    let t = template();
    let env = &props(&t, "SubmitFunction")["Environment"]["Variables"];
    for (variable, parameter) in [
        ("PATIENT_CLAIM", "PatientClaim"),
        ("TRIAL_CLAIM", "TrialClaim"),
        ("MAX_TOKEN_LIFETIME_SECONDS", "MaxTokenLifetimeSeconds"),
    ] {
        assert_eq!(intrinsic(&env[variable], "!Ref"), parameter);
    }
    assert_eq!(
        t["Parameters"]["PatientClaim"]["Default"],
        intake::identity::PATIENT_CLAIM
    );
    assert_eq!(
        t["Parameters"]["TrialClaim"]["Default"],
        intake::identity::TRIAL_CLAIM
    );
    let claim = allowed(&t, "TrialClaim");
    assert!(claim.is_match("trial_id") && claim.is_match("custom:trials"));
    assert!(!claim.is_match("") && !claim.is_match("trial id"));
    let lifetime = &t["Parameters"]["MaxTokenLifetimeSeconds"];
    assert!(
        number(&lifetime["Default"]) <= 900,
        "a withdrawn patient's access must end within 15 minutes by default"
    );
    assert_eq!(
        number(&lifetime["Default"]),
        intake::identity::PatientPolicy::default()
            .max_lifetime
            .whole_seconds() as u64,
        "the template and the code agree on the default"
    );
}

#[test]
fn each_request_is_access_logged_without_its_body_token_or_address() {
    let t = template();
    let settings = &props(&t, "DefaultStage")["AccessLogSettings"];
    assert_eq!(
        intrinsic(&settings["DestinationArn"], "!GetAtt"),
        "ApiAccessLogGroup.Arn"
    );
    let format = settings["Format"].as_str().unwrap();
    let fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(format).expect("one JSON object per request");
    for field in ["requestId", "route", "status", "authorizerError"] {
        assert!(fields.contains_key(field), "{field} is not logged");
    }
    for secret in ["sourceIp", "header", "requestBody", "identity", "userAgent"] {
        assert!(
            !format.contains(secret),
            "the access log must not carry {secret}"
        );
    }
}

#[test]
fn staff_routes_require_their_scope_at_the_authorizer_and_patient_routes_none() {
    let t = template();
    let scopes = |route: &str| -> Vec<String> {
        props(&t, route)["AuthorizationScopes"]
            .as_sequence()
            .map(|s| s.iter().map(|v| intrinsic(v, "!Ref")).collect())
            .unwrap_or_default()
    };
    assert_eq!(scopes("AlertListRoute"), ["AlertReadScope"]);
    assert_eq!(
        scopes("AlertAcknowledgementRoute"),
        ["AlertAcknowledgeScope"]
    );
    assert_eq!(scopes("FlagListRoute"), ["FlagReadScope"]);
    for (route, scope) in [
        ("EnrolRoute", "EnrolmentWriteScope"),
        ("EnrolmentChangeRoute", "EnrolmentWriteScope"),
        ("WithdrawalRoute", "EnrolmentWriteScope"),
        ("EnrolmentReadRoute", "EnrolmentReadScope"),
        ("ComplianceRoute", "EnrolmentReadScope"),
    ] {
        assert_eq!(scopes(route), [scope], "{route}");
    }
    assert_eq!(
        t["Parameters"]["EnrolmentWriteScope"]["Default"],
        intake::identity::ENROLMENT_WRITE_SCOPE
    );
    assert_eq!(
        t["Parameters"]["EnrolmentReadScope"]["Default"],
        intake::identity::ENROLMENT_READ_SCOPE
    );
    let calendar_env = &props(&t, "CalendarFunction")["Environment"]["Variables"];
    for (variable, parameter) in [
        ("ENROLMENT_WRITE_SCOPE", "EnrolmentWriteScope"),
        ("ENROLMENT_READ_SCOPE", "EnrolmentReadScope"),
        ("STAFF_CLAIM", "StaffClaim"),
        ("TRIAL_CLAIM", "TrialClaim"),
        ("PATIENT_CLAIM", "PatientClaim"),
        ("MAX_TOKEN_LIFETIME_SECONDS", "MaxTokenLifetimeSeconds"),
    ] {
        assert_eq!(
            intrinsic(&calendar_env[variable], "!Ref"),
            parameter,
            "{variable}"
        );
    }
    assert_eq!(
        t["Parameters"]["FlagReadScope"]["Default"],
        intake::identity::FLAGS_SCOPE
    );
    for patient_route in [
        "SubmitRoute",
        "FhirSubmitRoute",
        "QuestionnaireBundleRoute",
        "PatientScheduleRoute",
    ] {
        assert!(scopes(patient_route).is_empty(), "{patient_route}");
    }
    assert_eq!(
        t["Parameters"]["AlertReadScope"]["Default"],
        intake::identity::READ_SCOPE
    );
    assert_eq!(
        t["Parameters"]["AlertAcknowledgeScope"]["Default"],
        intake::identity::ACKNOWLEDGE_SCOPE
    );
    let env = &props(&t, "AlertsFunction")["Environment"]["Variables"];
    for (variable, parameter) in [
        ("READ_SCOPE", "AlertReadScope"),
        ("ACKNOWLEDGE_SCOPE", "AlertAcknowledgeScope"),
        ("FLAGS_SCOPE", "FlagReadScope"),
        ("STAFF_CLAIM", "StaffClaim"),
        ("TRIAL_CLAIM", "TrialClaim"),
        ("PATIENT_CLAIM", "PatientClaim"),
        ("MAX_TOKEN_LIFETIME_SECONDS", "MaxTokenLifetimeSeconds"),
    ] {
        assert_eq!(intrinsic(&env[variable], "!Ref"), parameter, "{variable}");
    }
}
