//! Scores declared in a questionnaire (our `score` extension): what is summed and the bands of the sum, read from the
//! definition. The build (`build.rs`) reads every questionnaire's declarations with this module, so a malformed one
//! stops the build instead of failing the requests that name its instrument.

use super::definition::{Coding, Extension, Questionnaire, SCORE_PATH};

/// A declared score.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Its key in the stored `scores` (`total`).
    pub name: String,
    /// The LOINC (or other) code of the score, when it has one.
    pub code: Option<Coding>,
    /// How it is computed: `sum` is the only method.
    pub method: String,
    /// The items summed, by `linkId`.
    pub items: Vec<String>,
    /// Named ranges of the value, in order.
    pub bands: Vec<Band>,
}

/// A named range of a score (`0`–`4`: `none-minimal`), bounds included.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Lowest value in the band.
    pub from: f64,
    /// Highest value in the band.
    pub to: f64,
    /// The band's name.
    pub label: String,
}

impl Score {
    /// Every score the questionnaire declares; a malformed declaration is an error naming it.
    pub fn declared(questionnaire: &Questionnaire) -> Result<Vec<Score>, String> {
        let Some(base) = questionnaire.base() else {
            return Ok(Vec::new());
        };
        let url = format!("{base}{SCORE_PATH}");
        questionnaire
            .extension
            .iter()
            .filter(|extension| extension.url == url)
            .map(Score::from_extension)
            .collect()
    }

    fn from_extension(extension: &Extension) -> Result<Score, String> {
        let part = |name: &'static str| extension.extension.iter().filter(move |e| e.url == name);
        let text = |name: &'static str| {
            part(name)
                .next()
                .and_then(Extension::text)
                .map(str::to_owned)
                .ok_or_else(|| format!("a score declares no {name}"))
        };
        let bands = part("band")
            .map(|band| {
                let sub = |name: &str| band.extension.iter().find(|e| e.url == name);
                Ok(Band {
                    from: sub("from")
                        .and_then(Extension::number)
                        .ok_or("a band has no from")?,
                    to: sub("to")
                        .and_then(Extension::number)
                        .ok_or("a band has no to")?,
                    label: sub("label")
                        .and_then(Extension::text)
                        .ok_or("a band has no label")?
                        .to_owned(),
                })
            })
            .collect::<Result<Vec<_>, &str>>()?;
        Ok(Score {
            name: text("name")?,
            code: part("code").next().and_then(|e| e.value_coding.clone()),
            method: text("method")?,
            items: part("item")
                .filter_map(|e| e.text().map(str::to_owned))
                .collect(),
            bands,
        })
    }
}
