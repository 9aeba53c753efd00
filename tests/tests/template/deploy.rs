//! samconfig.toml, the settings `sam build` and `sam deploy` read per environment: a parameter it names that the
//! template lacks fails the deploy at its change set, and one the template requires but it leaves out stops it.

use super::template;
use serde_norway::Value;
use std::collections::BTreeMap;

fn samconfig() -> toml::Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../samconfig.toml");
    toml::from_str(&std::fs::read_to_string(path).expect("samconfig.toml is readable"))
        .expect("samconfig.toml is TOML")
}

/// The `parameter_overrides` each environment deploys with, as SAM CLI reads them: its `deploy` section's list,
/// or where that has none, its `global` section's (a command's list replaces the global one, never merges).
fn overrides(config: &toml::Table) -> BTreeMap<String, BTreeMap<String, String>> {
    config
        .iter()
        .filter_map(|(name, environment)| {
            environment
                .as_table()
                .map(|sections| (name.clone(), sections))
        })
        .map(|(name, sections)| {
            let list = ["deploy", "global"].iter().find_map(|section| {
                sections
                    .get(*section)?
                    .get("parameters")?
                    .get("parameter_overrides")
            });
            let set = list
                .into_iter()
                .flat_map(|list| {
                    list.as_array()
                        .expect("parameter_overrides is a list of Key=Value")
                })
                .map(|item| {
                    let (key, value) = item
                        .as_str()
                        .and_then(|text| text.split_once('='))
                        .expect("Key=Value");
                    (key.to_owned(), value.to_owned())
                })
                .collect();
            (name, set)
        })
        .collect()
}

/// The parameters the local stack deploys with (infra/local_stack.py adds the machine's architecture and issuer).
pub(crate) fn local_parameters() -> BTreeMap<String, String> {
    overrides(&samconfig())
        .remove("local")
        .expect("samconfig.toml has the local environment")
}

/// The environments `sam deploy --config-env <name>` deploys to an account without asking: each names its stack.
/// (`default` is what `sam deploy --guided` fills in; `local` is the local AWS.)
fn account_environments(config: &toml::Table) -> Vec<&str> {
    config
        .iter()
        .filter(|(name, environment)| {
            name.as_str() != "local"
                && environment
                    .get("deploy")
                    .and_then(|d| d.get("parameters")?.get("stack_name"))
                    .is_some()
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

#[test]
fn every_environment_sets_only_parameters_the_template_declares() {
    let declared = template()["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .clone();
    for (environment, set) in overrides(&samconfig()) {
        for parameter in set.keys() {
            assert!(
                declared.contains_key(Value::String(parameter.clone())),
                "samconfig.toml [{environment}] sets {parameter}, which template.yaml does not declare"
            );
        }
    }
}

#[test]
fn an_account_environment_sets_every_parameter_without_a_default() {
    let template = template();
    let required: Vec<&str> = template["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .iter()
        .filter(|(_, parameter)| parameter.get("Default").is_none())
        .map(|(name, _)| name.as_str().expect("a parameter name"))
        .collect();
    let config = samconfig();
    let accounts = account_environments(&config);
    assert!(
        accounts.contains(&"prod"),
        "samconfig.toml has the example production environment: {accounts:?}"
    );
    let environments = overrides(&config);
    for environment in accounts {
        let set = &environments[environment];
        for parameter in &required {
            assert!(
                set.contains_key(*parameter),
                "samconfig.toml [{environment}] leaves out {parameter}"
            );
        }
        // The template's rule refuses a deploy with its own issuer and no audience: catch it here first.
        if set
            .get("JwtIssuer")
            .is_some_and(|issuer| !issuer.is_empty())
        {
            assert!(
                set.get("JwtAudience").is_some_and(|a| !a.is_empty()),
                "samconfig.toml [{environment}] names an issuer without its audiences"
            );
        }
        // Alarms reach someone: an e-mail address, or a subscription the deployer adds (then say so here).
        assert!(
            set.contains_key("OpsEmail"),
            "samconfig.toml [{environment}] sends alarms nowhere"
        );
    }
}

#[test]
fn every_environment_opts_in_to_the_cargo_lambda_build_so_sam_build_does_not_stop_to_ask() {
    for (environment, sections) in samconfig().iter().filter(|(_, value)| value.is_table()) {
        let opted_in = sections
            .get("global")
            .and_then(|global| global.get("parameters"))
            .and_then(|parameters| parameters.get("beta_features"))
            .and_then(toml::Value::as_bool);
        assert_eq!(
            opted_in,
            Some(true),
            "samconfig.toml [{environment}.global.parameters] beta_features"
        );
    }
}
