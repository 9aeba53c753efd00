//! A trial's de-identification key, kept in AWS Secrets Manager (encrypted under its KMS key, its reads in
//! CloudTrail), never in the repository or the export: created on the first de-identified export of the trial from
//! Secrets Manager's own random generator, the same for every export after, so pseudonyms stay stable.

use aws_sdk_secretsmanager::Client;

use crate::Error;

/// The shortest key accepted: 256 bits' worth of characters.
const MIN_KEY_BYTES: usize = 32;

/// The secret's name for `trial` of the deployment `namespace` (its table name: one per stack).
pub fn name(namespace: &str, trial: &str) -> String {
    format!("epro-intake/{namespace}/deidentification/{trial}")
}

/// The trial's key: read, or created once.
pub async fn trial_key(secrets: &Client, namespace: &str, trial: &str) -> Result<Vec<u8>, Error> {
    let name = name(namespace, trial);
    if let Some(key) = read(secrets, &name).await? {
        return Ok(key);
    }
    let random = secrets
        .get_random_password()
        .password_length(64)
        .exclude_punctuation(true)
        .send()
        .await?;
    let created = secrets
        .create_secret()
        .name(&name)
        .description("Keys the pseudonyms and date shifts of this trial's de-identified exports. Never rotate: pseudonyms would change.")
        .secret_string(
            random
                .random_password()
                .ok_or("Secrets Manager returned no random password")?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Another export created it first: use theirs.
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_exists_exception()) => {}
        Err(error) => return Err(error.into()),
    }
    read(secrets, &name)
        .await?
        .ok_or_else(|| format!("the secret {name} was created but cannot be read").into())
}

async fn read(secrets: &Client, name: &str) -> Result<Option<Vec<u8>>, Error> {
    match secrets.get_secret_value().secret_id(name).send().await {
        Ok(value) => {
            let key = value
                .secret_string()
                .unwrap_or_default()
                .as_bytes()
                .to_vec();
            // A short key would make every pseudonym guessable: refuse it rather than export under it.
            if key.len() < MIN_KEY_BYTES {
                return Err(format!(
                    "the secret {name} holds {} bytes; a de-identification key needs at least {MIN_KEY_BYTES}",
                    key.len()
                )
                .into());
            }
            Ok(Some(key))
        }
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}
