//! Instruments: the questionnaires a trial uses, as FHIR R4 `Questionnaire` resources in a versioned catalogue
//! embedded at build time, and the judgement of a submission against the exact version it was filled in on.
//!
//! - [`definition`]: the part of a `Questionnaire` the intake reads;
//! - [`catalogue`]: every published version, embedded; the current version of each instrument;
//! - [`check`]: what every definition in the catalogue must satisfy (run by `make test`);
//! - `enable`: `enableWhen`, whether an item is shown;
//! - `validate`: answers against a definition, every problem with its item;
//! - [`score_declaration`]: the scores a questionnaire declares and their bands;
//! - [`score`]: scores computed from answers.

use crate::submission::{FieldProblem, Submission};

pub mod catalogue;
pub mod check;
pub mod definition;
mod enable;
pub mod score;
pub mod score_declaration;
#[cfg(test)]
mod tests;
mod validate;

pub use catalogue::{Catalogue, Instrument, Unknown};
pub use enable::is_enabled;
pub use score::{ScoreValue, Scores};

/// A submission judged against its instrument: the version resolved, the answers checked, the scores computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The submission, with `survey_version` set to the version it was judged against.
    pub submission: Submission,
    /// The scores the version declares, computed from the answers.
    pub scores: Scores,
    /// Whether the API chose the version because the app named none (then it is not part of the content).
    pub version_resolved: bool,
}

/// Judges `submission` against the version it names, listing every problem.
///
/// A submission that names no version is judged against the version in effect when it was completed (a version's
/// `effectivePeriod.start`; one without starts before everything): the version the app most likely rendered, and
/// the same version for a retry that lands after a newer one was published (which takes effect after its deploy).
pub fn judge(
    catalogue: &Catalogue,
    mut submission: Submission,
) -> Result<Judged, Vec<FieldProblem>> {
    let version_resolved = submission.survey_version.is_none();
    let named = resolve(catalogue, &submission)?;
    let instrument = match version_resolved {
        true => catalogue
            .in_effect(&submission.survey_id, &submission.completed_at)
            .unwrap_or(named),
        false => named,
    };
    let problems = validate::problems(instrument, &submission.answers);
    if !problems.is_empty() {
        return Err(problems);
    }
    let scores = score::compute_all(instrument, &submission.answers);
    submission.survey_version = Some(instrument.version().to_owned());
    Ok(Judged {
        submission,
        scores,
        version_resolved,
    })
}

fn resolve<'a>(
    catalogue: &'a Catalogue,
    submission: &Submission,
) -> Result<&'a Instrument, Vec<FieldProblem>> {
    let id = &submission.survey_id;
    catalogue
        .get(id, submission.survey_version.as_deref())
        .map_err(|unknown| {
            vec![match unknown {
                Unknown::Instrument => FieldProblem::new(
                    "surveyId",
                    format!(
                        "is not an instrument of the catalogue ({})",
                        catalogue.ids().collect::<Vec<_>>().join(", ")
                    ),
                ),
                Unknown::Version(versions) => FieldProblem::new(
                    "surveyVersion",
                    format!(
                        "is not a published version of {id} ({})",
                        versions.join(", ")
                    ),
                ),
            }]
        })
}
