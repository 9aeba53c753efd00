//! Whose submission this may be: the verified patient's own, in a trial their token names.

use crate::identity::Patient;
use crate::submission::Submission;

use super::SubmitError;

/// A patient may submit only their own surveys, and only into a trial their token names.
pub fn may_submit(patient: &Patient, submission: &Submission) -> Result<(), SubmitError> {
    let submission_id = submission.submission_id;
    if patient.id != submission.patient_id {
        Err(SubmitError::Forbidden {
            submission_id,
            reason: "a patient may submit only their own surveys",
        })
    } else if !patient.owns(&submission.trial_id, &submission.patient_id) {
        Err(SubmitError::Forbidden {
            submission_id,
            reason: "a patient may submit only to a trial their token names",
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::example::{self, example};

    fn patient(trials: &[&str]) -> Patient {
        Patient {
            id: example::PATIENT_ID.into(),
            trials: trials.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn only_the_patients_own_submission_in_their_own_trial_passes() {
        let own = example().submission();
        assert!(may_submit(&patient(&[example::TRIAL_ID]), &own).is_ok());
        let other_patient = example().patient("P-999999").submission();
        assert!(matches!(
            may_submit(&patient(&[example::TRIAL_ID]), &other_patient),
            Err(SubmitError::Forbidden { reason, .. }) if reason.contains("their own surveys")
        ));
        assert!(matches!(
            may_submit(&patient(&["ANOTHER-TRIAL"]), &own),
            Err(SubmitError::Forbidden { reason, .. }) if reason.contains("a trial their token names")
        ));
    }
}
