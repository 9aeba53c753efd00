//! Who is calling: the patient named by the verified token's claims, or nobody.

use std::collections::HashMap;

use crate::submission::Submission;

use super::SubmitError;

/// Which JWT claim names the patient. API Gateway's JWT authorizer has verified the token (signature, issuer,
/// audience, expiry) before the function runs; this only reads who the verified caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientClaim(String);

impl PatientClaim {
    /// The claim used when `PATIENT_CLAIM` is unset.
    pub const DEFAULT: &str = "patient_id";

    /// A claim name; empty means [`Self::DEFAULT`].
    pub fn new(claim: &str) -> Self {
        PatientClaim(
            if claim.is_empty() {
                Self::DEFAULT
            } else {
                claim
            }
            .to_owned(),
        )
    }

    /// The claim's name.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The caller, as told by the authorizer's claims (absent when no authorizer ran: fail closed).
    pub fn caller(&self, claims: Option<&HashMap<String, String>>) -> Caller {
        claims
            .and_then(|claims| claims.get(&self.0))
            .filter(|id| !id.is_empty())
            .map_or(Caller::Anonymous, |id| Caller::Patient(id.clone()))
    }
}

impl Default for PatientClaim {
    fn default() -> Self {
        PatientClaim::new(Self::DEFAULT)
    }
}

/// Who is submitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A patient, by the id their token carries.
    Patient(String),
    /// No identity: refused with 401.
    Anonymous,
}

impl Caller {
    /// The patient's id; no identity is refused before the request is even read.
    pub fn patient(&self) -> Result<&str, SubmitError> {
        match self {
            Caller::Patient(id) => Ok(id),
            Caller::Anonymous => Err(SubmitError::Unauthenticated),
        }
    }
}

/// A patient may submit only their own surveys.
pub fn may_submit(patient: &str, submission: &Submission) -> Result<(), SubmitError> {
    if patient == submission.patient_id {
        Ok(())
    } else {
        Err(SubmitError::Forbidden {
            submission_id: submission.submission_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patient_claim_defaults_to_patient_id() {
        assert_eq!(PatientClaim::default(), PatientClaim("patient_id".into()));
        assert_eq!(PatientClaim::new(""), PatientClaim("patient_id".into()));
        assert_eq!(PatientClaim::new("sub"), PatientClaim("sub".into()));
    }

    #[test]
    fn the_caller_comes_from_the_configured_claim() {
        let jwt = PatientClaim::default();
        let claims = HashMap::from([
            ("patient_id".to_string(), "P-1".to_string()),
            ("sub".to_string(), "u".to_string()),
        ]);
        assert_eq!(jwt.caller(Some(&claims)), Caller::Patient("P-1".into()));
        assert_eq!(jwt.caller(None), Caller::Anonymous);
        assert_eq!(jwt.caller(Some(&HashMap::new())), Caller::Anonymous);
        let empty = HashMap::from([("patient_id".to_string(), String::new())]);
        assert_eq!(jwt.caller(Some(&empty)), Caller::Anonymous);
        let sub = PatientClaim::new("sub");
        assert_eq!(sub.caller(Some(&claims)), Caller::Patient("u".into()));
    }
}
