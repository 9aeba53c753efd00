use intake::envelope::Envelope;
use intake::instrument::Catalogue;
use intake::item::SubmissionItem;
use intake::testing::example::{example, phq9_answers};
use serde_json::Value;

use super::{fhir, table};

fn stored(envelope: Envelope, at: &str) -> SubmissionItem {
    let mut item = SubmissionItem::new(envelope, at.into());
    item.received_at = at.into();
    item
}

fn phq9(n: u32, item9: &str, at: &str) -> SubmissionItem {
    let envelope = example()
        .id(format!("00000000-0000-4000-8000-{n:012}"))
        .patient(&format!("P-{n:06}"))
        .survey("phq-9", phq9_answers(item9))
        .envelope();
    stored(envelope, at)
}

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded().unwrap()
}

#[test]
fn each_instrument_version_is_a_table_with_a_column_per_item_in_questionnaire_order_then_the_scores()
 {
    let items = [
        phq9(2, "LA6568-5", "2026-11-22T08:00:02.000Z"),
        phq9(1, "LA6569-3", "2026-11-22T08:00:01.000Z"),
        stored(example().envelope(), "2026-11-22T08:00:03.000Z"),
    ];
    let tables = table::tables(&items, catalogue());
    assert_eq!(
        tables.keys().collect::<Vec<_>>(),
        ["phq-9-v1", "qol-daily-v2"]
    );
    let phq = &tables["phq-9-v1"];
    let header: Vec<&str> = phq.header.iter().map(String::as_str).collect();
    assert_eq!(&header[..7], table::FIXED);
    assert_eq!(header[7], "44250-9", "the display item has no column");
    assert_eq!(header[15], "44260-8");
    assert_eq!(header[16], "69722-7");
    assert!(header.contains(&"score:total"), "{header:?}");
    assert_eq!(phq.rows.len(), 2);
    assert_eq!(phq.rows[0][1], "P-000001", "arrival order");
    assert_eq!(phq.rows[0][15], "LA6569-3");
    assert_eq!(phq.rows[1][15], "LA6568-5");
    assert_eq!(phq.rows[0][16], "", "an unanswered item is an empty cell");
    let total = header.iter().position(|h| *h == "score:total").unwrap();
    assert_eq!(phq.rows[0][total], "9", "eight items at 1 and item 9 at 1");
    assert!(phq.rows.iter().all(|r| r.len() == header.len()));
    let qol = &tables["qol-daily-v2"];
    let symptoms = qol.header.iter().position(|h| h == "symptoms").unwrap();
    assert_eq!(
        qol.rows[0][symptoms], "cough;fever",
        "several choices in one cell"
    );
}

#[test]
fn a_submission_from_before_instruments_gets_a_table_of_its_own_and_no_fhir_line() {
    let mut legacy = stored(example().envelope(), "2026-11-22T08:00:03.000Z");
    legacy.submission.survey_version = None;
    let items = [legacy, phq9(1, "LA6569-3", "2026-11-22T08:00:01.000Z")];
    let tables = table::tables(&items, catalogue());
    let unversioned = &tables["qol-daily-unversioned"];
    assert_eq!(
        &unversioned.header[7..],
        ["comment", "fatigue", "nausea", "pain", "symptoms"]
    );
    let (lines, not_fhir) = fhir::ndjson(&items, catalogue());
    assert_eq!((lines.len(), not_fhir), (1, 1));
    let resource: Value = serde_json::from_str(lines[0].trim_end()).unwrap();
    assert_eq!(resource["resourceType"], "QuestionnaireResponse");
    assert_eq!(
        resource["identifier"]["value"],
        "urn:uuid:00000000-0000-4000-8000-000000000001"
    );
    assert!(lines[0].ends_with('\n') && !lines[0].trim_end().contains('\n'));
}
