//! Who is calling, from the claims of a token API Gateway's JWT authorizer has verified (signature, issuer, audience,
//! expiry, not-before). The functions read them and fail closed: no claims, no identity. A patient (here) submits
//! into their own trials; a staff member ([`staff`]) works on their trials' alerts.
//!
//! A token is bound to a person and to the trials they belong to. A patient withdrawn from a trial loses access when
//! the trial's identity provider stops renewing their tokens; so that this takes minutes and not hours, a token
//! that lives longer than the configured maximum (15 minutes by default) is refused, whatever its signature says.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};

mod sign_in;
mod staff;

pub use sign_in::{Grant, PATIENT_ATTRIBUTE, Refusal, SignInPolicy, TRIAL_ATTRIBUTE, grant};
pub use staff::{
    ACKNOWLEDGE_SCOPE, AUDIT_READ_SCOPE, DATA_CORRECT_SCOPE, ENROLMENT_READ_SCOPE,
    ENROLMENT_WRITE_SCOPE, FLAGS_SCOPE, READ_SCOPE, STAFF_CLAIM, Staff, StaffPolicy,
};

/// The authorizer's claims, every value a string (API Gateway renders a list as `[a b c]`).
#[derive(Debug, Clone, Copy)]
pub struct Claims<'a>(&'a HashMap<String, String>);

impl<'a> Claims<'a> {
    /// The claims of a request, if an authorizer ran.
    pub fn new(claims: &'a HashMap<String, String>) -> Self {
        Claims(claims)
    }

    /// A claim's value, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// A claim that holds one value or a list: its values.
    pub fn list(&self, name: &str) -> Vec<String> {
        let Some(value) = self.get(name) else {
            return Vec::new();
        };
        let inner = value
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(value);
        inner.split_whitespace().map(str::to_owned).collect()
    }

    /// A numeric date claim (`iat`, `exp`, `nbf`), as a time.
    fn time(&self, name: &str) -> Option<OffsetDateTime> {
        let seconds = self.get(name)?.parse::<f64>().ok()?;
        OffsetDateTime::from_unix_timestamp(seconds as i64).ok()
    }

    /// Why the token is not one for APIs, if it is not: an identity token (Cognito's `token_use: id`) is the app's.
    pub fn kind_problem(&self) -> Option<String> {
        self.get("token_use")
            .is_some_and(|kind| kind != "access")
            .then(|| "the token is an identity token; the API takes access tokens".into())
    }

    /// Why the token may not be used now, if it may not: it must say when it was issued and expires, live no
    /// longer than `max_lifetime`, and be valid already.
    pub fn lifetime_problem(&self, max_lifetime: Duration, now: OffsetDateTime) -> Option<String> {
        let (Some(issued), Some(expires)) = (self.time("iat"), self.time("exp")) else {
            return Some("the token does not say when it was issued and when it expires".into());
        };
        if expires - issued > max_lifetime {
            return Some(format!(
                "the token lives longer than {} seconds; the identity provider must issue shorter-lived tokens",
                max_lifetime.whole_seconds()
            ));
        }
        if self.time("nbf").is_some_and(|not_before| not_before > now) {
            return Some("the token is not valid yet".into());
        }
        None
    }
}

/// Which claims name a patient and their trials, and how long a token may live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientPolicy {
    /// The claim holding the patient id.
    pub patient_claim: String,
    /// The claim holding the trial (or trials) the patient is enrolled in.
    pub trial_claim: String,
    /// The longest a token may live (`exp - iat`).
    pub max_lifetime: Duration,
}

/// The default patient claim.
pub const PATIENT_CLAIM: &str = "patient_id";
/// The default trial claim.
pub const TRIAL_CLAIM: &str = "trial_id";
/// The default longest token lifetime: 15 minutes.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::minutes(15);

impl Default for PatientPolicy {
    fn default() -> Self {
        PatientPolicy {
            patient_claim: PATIENT_CLAIM.into(),
            trial_claim: TRIAL_CLAIM.into(),
            max_lifetime: MAX_TOKEN_LIFETIME,
        }
    }
}

/// A verified patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    /// Their id.
    pub id: String,
    /// The trials they may submit to.
    pub trials: Vec<String>,
}

impl Patient {
    /// Whether they may write into `trial_id` as `patient_id`.
    pub fn owns(&self, trial_id: &str, patient_id: &str) -> bool {
        self.id == patient_id && self.trials.iter().any(|trial| trial == trial_id)
    }
}

/// Why a token without `claim` names no `what`: the claim named, so the deployer knows what to map.
pub(crate) fn missing(claim: &str, what: &str) -> String {
    format!("the token names no {what} (no {claim} claim)")
}

impl PatientPolicy {
    /// The patient the claims name, or why there is none (no claims at all: no authorizer ran).
    pub fn patient(&self, claims: Option<Claims>, now: OffsetDateTime) -> Result<Patient, String> {
        let claims = claims.ok_or("no verified token")?;
        if let Some(problem) = claims.kind_problem() {
            return Err(problem);
        }
        let id = claims
            .get(&self.patient_claim)
            .ok_or_else(|| missing(&self.patient_claim, "patient"))?;
        let trials = claims.list(&self.trial_claim);
        if trials.is_empty() {
            return Err(missing(&self.trial_claim, "trial"));
        }
        if let Some(problem) = claims.lifetime_problem(self.max_lifetime, now) {
            return Err(problem);
        }
        Ok(Patient {
            id: id.to_owned(),
            trials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 08:00:00 UTC);

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let issued = NOW.unix_timestamp();
        let mut map: HashMap<String, String> = [
            ("patient_id", "P-1".to_owned()),
            ("trial_id", "T-1".to_owned()),
            ("iat", issued.to_string()),
            ("exp", (issued + 900).to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (key, value) in pairs {
            if value.is_empty() {
                map.remove(*key);
            } else {
                map.insert((*key).to_owned(), (*value).to_owned());
            }
        }
        map
    }

    fn patient(pairs: &[(&str, &str)]) -> Result<Patient, String> {
        PatientPolicy::default().patient(Some(Claims::new(&claims(pairs))), NOW)
    }

    #[test]
    fn a_patient_comes_with_the_trials_the_token_names() {
        assert_eq!(
            patient(&[]),
            Ok(Patient {
                id: "P-1".into(),
                trials: vec!["T-1".into()]
            })
        );
        let both = patient(&[("trial_id", "[T-1 T-2]")]).unwrap();
        assert_eq!(both.trials, ["T-1", "T-2"]);
        assert!(both.owns("T-2", "P-1") && !both.owns("T-3", "P-1") && !both.owns("T-1", "P-2"));
    }

    #[test]
    fn every_missing_part_of_the_identity_fails_closed() {
        assert_eq!(
            PatientPolicy::default().patient(None, NOW),
            Err("no verified token".into())
        );
        assert_eq!(
            patient(&[("patient_id", "")]),
            Err("the token names no patient (no patient_id claim)".into())
        );
        assert_eq!(
            patient(&[("trial_id", "")]),
            Err("the token names no trial (no trial_id claim)".into())
        );
        assert_eq!(
            patient(&[("trial_id", "[]")]),
            Err("the token names no trial (no trial_id claim)".into())
        );
        assert!(
            patient(&[("iat", "")])
                .unwrap_err()
                .contains("when it was issued")
        );
    }

    #[test]
    fn an_identity_token_is_refused_and_an_access_token_taken() {
        // Checked first: an identity token without the patient claim is named for what it is.
        assert_eq!(
            patient(&[("token_use", "id"), ("patient_id", "")]),
            Err("the token is an identity token; the API takes access tokens".into())
        );
        assert!(patient(&[("token_use", "access")]).is_ok());
    }

    #[test]
    fn a_long_lived_or_not_yet_valid_token_is_refused() {
        let issued = NOW.unix_timestamp();
        let long = (issued + 3_600).to_string();
        assert!(
            patient(&[("exp", &long)])
                .unwrap_err()
                .contains("longer than 900 seconds")
        );
        let later = (issued + 60).to_string();
        assert_eq!(
            patient(&[("nbf", &later)]),
            Err("the token is not valid yet".into())
        );
        let fractional = format!("{issued}.5");
        assert!(
            patient(&[("iat", &fractional)]).is_ok(),
            "numeric dates may have fractions"
        );
    }
}
