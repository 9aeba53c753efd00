//! What each column of an instrument version's table holds: a codebook an analyst reads beside the data, as study
//! data dictionaries do (REDCap, CDISC define.xml): the column, its question, its type, whether it holds several
//! entries, and each option's code, label and score.

use intake::instrument::Instrument;

use super::table::{FIXED, Table};

/// The codebook's columns.
pub const HEADER: [&str; 5] = ["column", "question", "type", "entries", "options"];

/// The codebook of a table whose item columns are `questions`, from `instrument` (none for submissions from before
/// instruments, whose columns are only named).
pub fn codebook(instrument: Option<&Instrument>, questions: &[String]) -> Table {
    let mut rows: Vec<Vec<String>> = FIXED
        .iter()
        .map(|(column, meaning)| {
            vec![
                (*column).into(),
                (*meaning).into(),
                "envelope".into(),
                "one".into(),
                String::new(),
            ]
        })
        .collect();
    let items = instrument
        .map(|i| i.questionnaire().items())
        .unwrap_or_default();
    for question in questions {
        let row = match items.iter().find(|item| &item.link_id == question) {
            Some(item) => vec![
                question.clone(),
                item.text.clone(),
                item.item_type.clone(),
                if item.repeats == Some(true) {
                    "several, joined with ; (\\; inside an entry)".into()
                } else {
                    "one".into()
                },
                item.answer_option
                    .iter()
                    .filter_map(|option| {
                        let coding = option.value_coding.as_ref()?;
                        let score = option
                            .ordinal()
                            .map(|value| format!(" [score {value}]"))
                            .unwrap_or_default();
                        Some(format!("{} = {}{score}", coding.code, coding.display))
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            ],
            None => vec![
                question.clone(),
                String::new(),
                "as stored".into(),
                String::new(),
                String::new(),
            ],
        };
        rows.push(row);
    }
    for score in instrument.map(|i| i.scores()).unwrap_or_default() {
        let bands = score
            .bands
            .iter()
            .map(|band| format!("{}–{} = {}", band.from, band.to, band.label))
            .collect::<Vec<_>>()
            .join(" | ");
        rows.push(vec![
            format!("score:{}", score.name),
            format!("the {} of {}", score.method, score.items.join(", ")),
            "score".into(),
            "one".into(),
            String::new(),
        ]);
        rows.push(vec![
            format!("score:{}:band", score.name),
            format!("the band of score {}", score.name),
            "band".into(),
            "one".into(),
            bands,
        ]);
    }
    Table {
        header: HEADER.iter().map(|c| (*c).to_owned()).collect(),
        rows,
    }
}
