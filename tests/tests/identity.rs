//! Who may submit, through the deployed API: API Gateway's JWT authorizer refuses every token it cannot verify, and
//! the submit function refuses every verified token that does not make the caller this patient of this trial.

use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::{Survey, TokenRequest, mint_token, post, post_to};
use serde_json::json;

/// The token with one character in the middle of its signature changed: header and claims still read as valid.
/// (Not the last character: some of its bits are padding that decoders ignore.)
fn tamper(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("a JWS has three parts");
    let mut signature = signature.to_owned();
    let middle = signature.len() / 2;
    let flipped = if &signature[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    signature.replace_range(middle..=middle, flipped);
    format!("{signed}.{signature}")
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn only_a_valid_token_of_the_submissions_own_patient_and_trial_is_accepted() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let survey = Survey::new(&fresh_trial("ID"), "P-000321", 21);
    let token =
        |request: TokenRequest| async move { mint_token(http, stack, &request).await.unwrap() };
    let own = TokenRequest::patient(&survey.patient_id, &survey.trial_id);
    let with = |change: fn(&mut TokenRequest)| {
        let mut request = own.clone();
        change(&mut request);
        request
    };
    let valid = token(own.clone()).await;
    // (case, bearer token, status, the function's error code when the function is the one refusing)
    let cases: Vec<(&str, Option<String>, u16, Option<&str>)> = vec![
        ("no token", None, 401, None),
        ("not a JWT", Some("not-a-token".into()), 401, None),
        ("tampered signature", Some(tamper(&valid)), 401, None),
        (
            "expired",
            Some(token(with(|r| r.expires_in = -60)).await),
            401,
            None,
        ),
        (
            "not valid yet (nbf)",
            Some(token(with(|r| r.not_before = Some(600))).await),
            401,
            None,
        ),
        (
            "another audience",
            Some(token(with(|r| r.audience = Some("another-api".into()))).await),
            401,
            None,
        ),
        (
            "another issuer",
            Some(
                token(with(|r| {
                    r.issuer = Some("https://idp.elsewhere.example".into())
                }))
                .await,
            ),
            401,
            None,
        ),
        (
            "signed by another key",
            Some(token(with(|r| r.sign = Some("other-key".into()))).await),
            401,
            None,
        ),
        (
            "unsigned (alg none)",
            Some(token(with(|r| r.sign = Some("none".into()))).await),
            401,
            None,
        ),
        (
            "algorithm confusion (HS256 keyed with the public key)",
            Some(token(with(|r| r.sign = Some("hs256-public-key".into()))).await),
            401,
            None,
        ),
        (
            "verified, without the patient claim",
            Some(token(with(|r| r.omit = vec!["patient_id".into()])).await),
            401,
            Some("unauthenticated"),
        ),
        (
            "verified, without the trial claim",
            Some(token(with(|r| r.omit = vec!["trial_id".into()])).await),
            401,
            Some("unauthenticated"),
        ),
        (
            "verified, but living an hour",
            Some(token(with(|r| r.expires_in = 3_600)).await),
            401,
            Some("unauthenticated"),
        ),
        (
            "verified, another patient",
            Some(token(TokenRequest::patient("P-000322", &survey.trial_id)).await),
            403,
            Some("forbidden"),
        ),
        (
            "verified, the same patient id in another trial",
            Some(token(TokenRequest::patient(&survey.patient_id, "ANOTHER-TRIAL")).await),
            403,
            Some("forbidden"),
        ),
    ];
    for (name, bearer, status, code) in cases {
        let reply = post(
            http,
            stack,
            bearer.as_deref(),
            "application/json",
            survey.body.to_string(),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        if let Some(code) = code {
            assert_eq!(reply.body["error"], code, "{name}");
        }
    }
    // The FHIR route sits behind the same authorizer.
    let (path, content_type, body) = survey.clone().as_fhir().request();
    assert_eq!(
        post_to(http, stack, path, None, content_type, body)
            .await
            .unwrap()
            .status,
        401
    );

    deployed.drained().await;
    let items = aws
        .patient_items(stack, &survey.trial_id, &survey.patient_id)
        .await
        .unwrap();
    assert!(
        items.is_empty(),
        "a refused request reached the table: {:?}",
        items.keys()
    );

    // A token naming several trials (the claim is a list) is good for each of them.
    let both = TokenRequest {
        trial_id: Some(json!(["ANOTHER-TRIAL", survey.trial_id])),
        ..own
    };
    let reply = post(
        http,
        stack,
        Some(&token(both).await),
        "application/json",
        survey.body.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
    deployed.stored_item(&survey).await;
}
