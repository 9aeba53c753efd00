//! Who gets a token, decided when the identity provider issues one (the template's Cognito user pool calls the
//! `token` function, its pre-token-generation trigger, at every sign-in and every refresh):
//!
//! - a patient account names its trial and patient (`custom:trial_id`, `custom:patient_id`, set by the site): it
//!   gets the patient and trial claims from the trial's enrolment record, read consistently, so a patient never
//!   enrolled, or withdrawn, gets no token, from the next sign-in or refresh on;
//! - a staff account names its trials (`custom:trial_id`, comma-separated) and belongs to groups named after the
//!   API's scopes (`epro/alerts.read`…): it gets the trial claim and those scopes;
//! - any other account gets no token.
//!
//! A refusal's code ([`Refusal::code`]) is all the person signing in is shown; its text, with ids only, goes to
//! the log.

use std::collections::HashMap;

use super::{
    ACKNOWLEDGE_SCOPE, AUDIT_READ_SCOPE, DATA_CORRECT_SCOPE, ENROLMENT_READ_SCOPE,
    ENROLMENT_WRITE_SCOPE, FLAGS_SCOPE, PATIENT_CLAIM, READ_SCOPE, TRIAL_CLAIM,
};
use crate::config::Env;
use crate::ports::{Enrolments, StoreError};

/// The user attribute naming the trial (a patient's one; a staff member's, comma-separated).
pub const TRIAL_ATTRIBUTE: &str = "custom:trial_id";
/// The user attribute naming the patient, on a patient's account only.
pub const PATIENT_ATTRIBUTE: &str = "custom:patient_id";

/// What a token may say: the claim names the API reads and the scopes it knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInPolicy {
    /// The claim naming the patient.
    pub patient_claim: String,
    /// The claim naming the trial (or a staff member's trials).
    pub trial_claim: String,
    /// The API's scopes: a staff member's group naming one of them grants it.
    pub scopes: Vec<String>,
}

impl SignInPolicy {
    /// `PATIENT_CLAIM`, `TRIAL_CLAIM` (the API's claim names) and `SCOPES` (the API's scopes, comma-separated);
    /// each defaults to what the API reads by default.
    pub fn from_env(env: &Env) -> Self {
        let text =
            |name: &str, default: &str| env.optional(name).unwrap_or_else(|| default.to_owned());
        let scopes = env.optional("SCOPES").map_or_else(
            || DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            |list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            },
        );
        SignInPolicy {
            patient_claim: text("PATIENT_CLAIM", PATIENT_CLAIM),
            trial_claim: text("TRIAL_CLAIM", TRIAL_CLAIM),
            scopes,
        }
    }
}

/// The API's scopes by default.
const DEFAULT_SCOPES: [&str; 7] = [
    READ_SCOPE,
    ACKNOWLEDGE_SCOPE,
    FLAGS_SCOPE,
    ENROLMENT_WRITE_SCOPE,
    ENROLMENT_READ_SCOPE,
    DATA_CORRECT_SCOPE,
    AUDIT_READ_SCOPE,
];

/// The claims and scopes a token gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Claim name and value: a string, or for a staff member's trials, a list.
    pub claims: Vec<(String, serde_json::Value)>,
    /// Scopes to add to the access token.
    pub scopes: Vec<String>,
    /// The API's scopes not granted: taken out of the token whatever the sign-in asked for.
    pub withheld: Vec<String>,
}

/// Why an account gets no token.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The account names no trial.
    #[error("the account names no trial ({TRIAL_ATTRIBUTE})")]
    NoTrial,
    /// A patient account whose enrolment record is missing.
    #[error("patient {patient_id} is not enrolled in trial {trial_id}")]
    NotEnrolled {
        /// The trial the account names.
        trial_id: String,
        /// The patient it names.
        patient_id: String,
    },
    /// A patient account whose enrolment was withdrawn.
    #[error("patient {patient_id} was withdrawn from trial {trial_id}")]
    Withdrawn {
        /// The trial.
        trial_id: String,
        /// The patient.
        patient_id: String,
    },
    /// A staff account in no group naming one of the API's scopes.
    #[error(
        "the account is neither a patient's nor in a group named after one of the API's scopes"
    )]
    NoRole,
    /// The enrolment could not be read: the sign-in fails, and may be tried again.
    #[error("the enrolment could not be read ({0})")]
    Store(#[from] StoreError),
}

impl Refusal {
    /// Every code a refusal has: the alarms subtract them from the function's errors.
    pub const CODES: [&str; 5] = [
        "no_trial",
        "not_enrolled",
        "withdrawn",
        "no_role",
        "store_unavailable",
    ];

    /// A short code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoTrial => "no_trial",
            Refusal::NotEnrolled { .. } => "not_enrolled",
            Refusal::Withdrawn { .. } => "withdrawn",
            Refusal::NoRole => "no_role",
            Refusal::Store(_) => "store_unavailable",
        }
    }
}

/// The claims and scopes for the account with `attributes` in `groups`.
pub async fn grant(
    attributes: &HashMap<String, String>,
    groups: &[String],
    enrolments: &impl Enrolments,
    policy: &SignInPolicy,
) -> Result<Grant, Refusal> {
    let value = |name: &str| {
        attributes
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let trial = value(TRIAL_ATTRIBUTE).ok_or(Refusal::NoTrial)?;
    if let Some(patient_id) = value(PATIENT_ATTRIBUTE) {
        let enrolment = enrolments
            .standing(trial, patient_id)
            .await?
            .ok_or_else(|| Refusal::NotEnrolled {
                trial_id: trial.to_owned(),
                patient_id: patient_id.to_owned(),
            })?;
        // A withdrawal is never recorded ahead of its instant; one whose instant does not read still counts.
        if enrolment.withdrawal.is_some() {
            return Err(Refusal::Withdrawn {
                trial_id: enrolment.trial_id,
                patient_id: enrolment.patient_id,
            });
        }
        return Ok(Grant {
            claims: vec![
                (policy.patient_claim.clone(), enrolment.patient_id.into()),
                (policy.trial_claim.clone(), enrolment.trial_id.into()),
            ],
            scopes: Vec::new(),
            withheld: policy.scopes.clone(),
        });
    }
    let scopes: Vec<String> = policy
        .scopes
        .iter()
        .filter(|scope| groups.contains(scope))
        .cloned()
        .collect();
    if scopes.is_empty() {
        return Err(Refusal::NoRole);
    }
    let trials: Vec<serde_json::Value> = trial
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Into::into)
        .collect();
    let withheld = policy
        .scopes
        .iter()
        .filter(|scope| !scopes.contains(scope))
        .cloned()
        .collect();
    Ok(Grant {
        claims: vec![(policy.trial_claim.clone(), trials.into())],
        scopes,
        withheld,
    })
}

#[cfg(test)]
#[path = "sign_in_tests.rs"]
mod tests;
