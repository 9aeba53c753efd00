//! Writes a FHIR JSON file for every kind of resource the intake serves or emits, for `make fhir-check` to validate
//! with an independent FHIR model: each published Questionnaire as served, the Bundle of current versions, a
//! QuestionnaireResponse of each instrument as rendered from a stored submission, and the OperationOutcomes of
//! refusals.

use std::path::PathBuf;

use intake::fhir::{questionnaire, render};
use intake::instrument::Catalogue;
use intake::ports::QueueError;
use intake::submit::{Form, SubmitError, accept};
use intake_e2e::Survey;
use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: fhir-examples <folder>")?,
    );
    std::fs::create_dir_all(&folder)?;
    let catalogue = Catalogue::embedded();
    let write = |name: &str, body: &str| std::fs::write(folder.join(format!("{name}.json")), body);

    for instrument in catalogue.all() {
        let served = questionnaire::read(catalogue, instrument.id(), Some(instrument.version()))
            .map_err(|unknown| format!("{unknown:?}"))?;
        write(
            &format!("questionnaire-{}-{}", instrument.id(), instrument.version()),
            &served.body,
        )?;
    }
    write("bundle", &questionnaire::bundle(catalogue).body)?;

    let rng = &mut fastrand::Rng::with_seed(2026);
    let mut written = 0;
    for id in catalogue.ids() {
        for n in 0..3 {
            let (_, _, body) = Survey::of(id, "FHIR-CHECK", "P-000001", "day-7", rng)
                .as_fhir()
                .request();
            let judged =
                accept(Form::Fhir, body.as_bytes(), catalogue).map_err(|e| format!("{e:?}"))?;
            let response =
                render::questionnaire_response(catalogue, &judged.submission).ok_or("rendered")?;
            write(&format!("response-{id}-{n}"), &response.to_string())?;
            written += 1;
        }
    }

    let refusals = [
        (
            "structure",
            accept(Form::Fhir, br#"{"resourceType": "Patient"}"#, catalogue).err(),
        ),
        (
            "unprocessable",
            accept(
                Form::Fhir,
                json!({"resourceType": "QuestionnaireResponse", "status": "amended"})
                    .to_string()
                    .as_bytes(),
                catalogue,
            )
            .err(),
        ),
        (
            "unauthenticated",
            Some(SubmitError::Unauthenticated("no verified token".into())),
        ),
        (
            "media-type",
            Some(SubmitError::UnsupportedMediaType {
                expected: "application/fhir+json",
            }),
        ),
        (
            "unavailable",
            Some(SubmitError::Unavailable {
                submission_id: uuid::Uuid::nil(),
                cause: QueueError::Unavailable("x".into()),
            }),
        ),
    ];
    for (name, refusal) in refusals {
        let reply = refusal
            .ok_or(format!("{name} was not refused"))?
            .reply(Form::Fhir);
        let outcome: &Value = &reply.body;
        write(&format!("outcome-{name}"), &outcome.to_string())?;
    }
    println!(
        "wrote {} FHIR examples to {}",
        catalogue.all().count() + 1 + written + 5,
        folder.display()
    );
    Ok(())
}
