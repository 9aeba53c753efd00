use aws_config::Region;

use super::*;

/// The credentials provider a loader ends with, as it names itself.
async fn credentials_provider(env: &[(&str, &str)]) -> String {
    // A region named up front: the default region chain would otherwise ask the instance metadata service.
    let loader = config_loader(CallBudget::INTERACTIVE).region(Region::new("eu-west-1"));
    let config = from_environment(loader, &Env::from_pairs(env)).load().await;
    format!("{:?}", config.credentials_provider().expect("a provider"))
}

#[tokio::test]
async fn credentials_lambda_puts_in_the_environment_are_read_there_without_the_default_chain() {
    let lambda = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];
    let provider = credentials_provider(&lambda).await;
    assert!(
        provider.contains("EnvironmentVariableCredentialsProvider")
            && !provider.contains("DefaultCredentialsChain"),
        "{provider}"
    );
}

#[tokio::test]
async fn without_credentials_in_the_environment_the_default_chain_looks_for_them() {
    let blank_key = [
        ("AWS_ACCESS_KEY_ID", "  "),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    for partial in [
        &[][..],
        &[("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")][..],
        &blank_key[..],
    ] {
        let provider = credentials_provider(partial).await;
        assert!(provider.contains("DefaultCredentialsChain"), "{provider}");
    }
}
