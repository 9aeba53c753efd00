//! Prints what the contract test's hooks need to turn a schema-valid request into one that also fits an
//! instrument (rules a schema of the generic contract cannot state): answer sets valid for each instrument, and a
//! valid QuestionnaireResponse of each, and a PHQ-9 that raises an urgent alert (for the staff routes). Generated
//! from the catalogue, so they never drift from it.

use intake::instrument::Catalogue;
use intake_e2e::Survey;
use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalogue = Catalogue::embedded();
    let rng = &mut fastrand::Rng::with_seed(20261122);
    let mut answer_sets = Vec::new();
    let mut responses = Vec::new();
    for id in catalogue.ids() {
        for _ in 0..5 {
            let survey = Survey::of(id, "CONTRACT", "P-CONTRACT-1", "day-7", rng);
            answer_sets.push(json!({
                "surveyId": survey.body["surveyId"],
                "surveyVersion": survey.body["surveyVersion"],
                "answers": survey.body["answers"],
            }));
            let (_, _, body) = survey.as_fhir().request();
            responses.push(serde_json::from_str::<Value>(&body)?);
        }
    }
    let mut urgent = Survey::of("phq-9", "CONTRACT", "P-CONTRACT-1", "contract-alert", rng);
    urgent.body["answers"] = intake::testing::example::phq9_answers("LA6571-9");
    println!(
        "{}",
        json!({ "answerSets": answer_sets, "responses": responses, "urgentSubmission": urgent.body })
    );
    Ok(())
}
