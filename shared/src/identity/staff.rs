//! A member of a study team: who they are, the trials whose alerts they may see, and what they may do (scopes).

use time::{Duration, OffsetDateTime};

use super::{Claims, MAX_TOKEN_LIFETIME, PATIENT_CLAIM, TRIAL_CLAIM, missing};

/// The default claim naming a staff member: the token's subject.
pub const STAFF_CLAIM: &str = "sub";
/// The scope that lets staff list their trials' alerts.
pub const READ_SCOPE: &str = "epro/alerts.read";
/// The scope that lets staff acknowledge an alert.
pub const ACKNOWLEDGE_SCOPE: &str = "epro/alerts.acknowledge";
/// The default scope that lets a data manager list a trial's flags (repeats, fast clocks, conflicting resends).
pub const FLAGS_SCOPE: &str = "epro/flags.read";
/// The default scope that lets study staff enrol patients on a schedule, change their terms and withdraw them.
pub const ENROLMENT_WRITE_SCOPE: &str = "epro/enrolment.write";
/// The default scope that lets study staff read enrolments and a trial's compliance.
pub const ENROLMENT_READ_SCOPE: &str = "epro/enrolment.read";
/// The default scope that lets a site investigator change a trial's data: exclude a submission from analysis and
/// restore it.
pub const DATA_CORRECT_SCOPE: &str = "epro/data.correct";
/// The default scope that lets a monitor or auditor list a trial's audit trail.
pub const AUDIT_READ_SCOPE: &str = "epro/audit.read";

/// Which claims name a staff member and their trials, which scopes grant what, and how long a token may live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPolicy {
    /// The claim holding the staff member's id (recorded on what they acknowledge).
    pub staff_claim: String,
    /// The claim holding the trial (or trials) whose alerts they may see.
    pub trial_claim: String,
    /// The patient claim: a token carrying it is a patient's, never staff.
    pub patient_claim: String,
    /// The longest a token may live (`exp - iat`).
    pub max_lifetime: Duration,
    /// The scope needed to list alerts.
    pub read_scope: String,
    /// The scope needed to acknowledge one.
    pub acknowledge_scope: String,
    /// The scope needed to list a trial's flags.
    pub flags_scope: String,
    /// The scope needed to exclude a submission from analysis or restore it.
    pub correct_scope: String,
    /// The scope needed to list a trial's audit trail.
    pub audit_scope: String,
}

impl Default for StaffPolicy {
    fn default() -> Self {
        StaffPolicy {
            staff_claim: STAFF_CLAIM.into(),
            trial_claim: TRIAL_CLAIM.into(),
            patient_claim: PATIENT_CLAIM.into(),
            max_lifetime: MAX_TOKEN_LIFETIME,
            read_scope: READ_SCOPE.into(),
            acknowledge_scope: ACKNOWLEDGE_SCOPE.into(),
            flags_scope: FLAGS_SCOPE.into(),
            correct_scope: DATA_CORRECT_SCOPE.into(),
            audit_scope: AUDIT_READ_SCOPE.into(),
        }
    }
}

/// A verified staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Their id.
    pub id: String,
    /// The trials whose alerts they may see.
    pub trials: Vec<String>,
    /// The scopes their token grants.
    pub scopes: Vec<String>,
}

impl Staff {
    /// Whether `trial_id` is one of theirs.
    pub fn sees(&self, trial_id: &str) -> bool {
        self.trials.iter().any(|trial| trial == trial_id)
    }

    /// Whether their token grants `scope`.
    pub fn may(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}

impl StaffPolicy {
    /// The staff member the claims name, or why there is none. Fails closed: no claims, a patient's token, no id,
    /// no trial, or a token that lives too long.
    pub fn staff(&self, claims: Option<Claims>, now: OffsetDateTime) -> Result<Staff, String> {
        let claims = claims.ok_or("no verified token")?;
        if let Some(problem) = claims.kind_problem() {
            return Err(problem);
        }
        if claims.get(&self.patient_claim).is_some() {
            return Err("a patient's token cannot act as study staff".into());
        }
        let id = claims
            .get(&self.staff_claim)
            .ok_or_else(|| missing(&self.staff_claim, "staff member"))?;
        let trials = claims.list(&self.trial_claim);
        if trials.is_empty() {
            return Err(missing(&self.trial_claim, "trial"));
        }
        if let Some(problem) = claims.lifetime_problem(self.max_lifetime, now) {
            return Err(problem);
        }
        // OAuth's `scope` is space-separated; some providers say `scp`. (API Gateway checks a staff route's scope
        // in these two claims only, before this code runs.)
        let mut scopes = claims.list("scope");
        scopes.extend(claims.list("scp"));
        Ok(Staff {
            id: id.to_owned(),
            trials,
            scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::macros::datetime;

    use super::*;

    fn staff(changes: &[(&str, &str)]) -> Result<Staff, String> {
        let issued = datetime!(2026-11-22 8:00 UTC).unix_timestamp();
        let mut claims: HashMap<String, String> = [
            ("sub", "nurse-1".to_owned()),
            ("trial_id", "[T-1 T-2]".to_owned()),
            (
                "scope",
                "epro/alerts.read epro/alerts.acknowledge".to_owned(),
            ),
            ("iat", issued.to_string()),
            ("exp", (issued + 900).to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (name, value) in changes {
            claims.insert((*name).to_owned(), (*value).to_owned());
        }
        StaffPolicy::default().staff(Some(Claims::new(&claims)), datetime!(2026-11-22 8:01 UTC))
    }

    #[test]
    fn a_staff_token_names_the_member_their_trials_and_their_scopes() {
        let nurse = staff(&[]).unwrap();
        assert_eq!(nurse.id, "nurse-1");
        assert!(nurse.sees("T-2") && !nurse.sees("T-3"));
        assert!(nurse.may(READ_SCOPE) && nurse.may(ACKNOWLEDGE_SCOPE));
        let reader = staff(&[("scope", "epro/alerts.read")]).unwrap();
        assert!(!reader.may(ACKNOWLEDGE_SCOPE));
        let scp = staff(&[("scope", ""), ("scp", "[epro/alerts.acknowledge]")]).unwrap();
        assert!(scp.may(ACKNOWLEDGE_SCOPE) && !scp.may(READ_SCOPE));
    }

    #[test]
    fn a_patient_token_no_id_no_trial_or_a_long_token_is_not_staff() {
        assert!(
            staff(&[("patient_id", "P-1")])
                .unwrap_err()
                .contains("patient's token")
        );
        assert!(
            staff(&[("sub", "")])
                .unwrap_err()
                .contains("no staff member")
        );
        assert!(staff(&[("trial_id", "")]).unwrap_err().contains("no trial"));
        assert!(
            staff(&[("token_use", "id")])
                .unwrap_err()
                .contains("identity token")
        );
        let long = (datetime!(2026-11-22 8:00 UTC).unix_timestamp() + 86_400).to_string();
        assert!(
            staff(&[("exp", &long)])
                .unwrap_err()
                .contains("longer than")
        );
        assert_eq!(
            StaffPolicy::default().staff(None, datetime!(2026-11-22 8:01 UTC)),
            Err("no verified token".into())
        );
    }
}
