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
    Catalogue::embedded()
}

#[test]
fn each_instrument_version_is_a_table_with_a_column_per_item_in_questionnaire_order_then_the_scores()
 {
    let items = [
        phq9(2, "LA6568-5", "2026-11-22T08:00:02.000Z"),
        phq9(1, "LA6569-3", "2026-11-22T08:00:01.000Z"),
        stored(example().envelope(), "2026-11-22T08:00:03.000Z"),
    ];
    let tables = table::tables(&items, catalogue(), &Default::default());
    assert_eq!(
        tables.keys().collect::<Vec<_>>(),
        ["phq-9-v1", "qol-daily-v2"]
    );
    let phq = &tables["phq-9-v1"].data;
    let header: Vec<&str> = phq.header.iter().map(String::as_str).collect();
    let fixed: Vec<&str> = table::FIXED.iter().map(|(column, _)| *column).collect();
    let first = fixed.len();
    assert_eq!(&header[..first], fixed);
    assert_eq!(header[first], "44250-9", "the display item has no column");
    assert_eq!(header[first + 8], "44260-8");
    assert_eq!(header[first + 9], "69722-7");
    assert!(header.contains(&"score:total"), "{header:?}");
    assert_eq!(phq.rows.len(), 2);
    assert_eq!(phq.rows[0][1], "P-000001", "arrival order");
    assert_eq!(phq.rows[0][2], "1", "the instrument version");
    assert_eq!(phq.rows[0][first + 8], "LA6569-3");
    assert_eq!(phq.rows[1][first + 8], "LA6568-5");
    assert_eq!(
        phq.rows[0][first + 9],
        "",
        "an unanswered item is an empty cell"
    );
    let total = header.iter().position(|h| *h == "score:total").unwrap();
    assert_eq!(phq.rows[0][total], "9", "eight items at 1 and item 9 at 1");
    assert!(phq.rows.iter().all(|r| r.len() == header.len()));
    let qol = &tables["qol-daily-v2"].data;
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
    let tables = table::tables(&items, catalogue(), &Default::default());
    let unversioned = &tables["qol-daily-unversioned"].data;
    assert_eq!(
        &unversioned.header[table::FIXED.len()..],
        ["comment", "fatigue", "nausea", "pain", "symptoms"]
    );
    let (lines, not_fhir) = fhir::ndjson(&items, catalogue(), &Default::default());
    assert_eq!((lines.len(), not_fhir), (1, 1));
    let resource: Value = serde_json::from_str(lines[0].trim_end()).unwrap();
    assert_eq!(resource["resourceType"], "QuestionnaireResponse");
    assert_eq!(
        resource["identifier"]["value"],
        "urn:uuid:00000000-0000-4000-8000-000000000001"
    );
    assert!(lines[0].ends_with('\n') && !lines[0].trim_end().contains('\n'));
}

#[test]
fn several_entries_stay_several_whatever_they_contain() {
    let envelope = example()
        .survey(
            "ae-diary",
            serde_json::json!({"events": ["headache; then nausea", "fell", "a \\ b"]}),
        )
        .envelope();
    let tables = table::tables(
        &[stored(envelope, "2026-11-22T08:00:01.000Z")],
        catalogue(),
        &Default::default(),
    );
    let diary = &tables.values().next().unwrap().data;
    let events = diary.header.iter().position(|h| h == "events").unwrap();
    let cell = &diary.rows[0][events];
    assert_eq!(cell, "headache\\; then nausea;fell;a \\\\ b");
    // Split on the unescaped separators only: three entries, the first with its semicolon.
    let mut entries = vec![String::new()];
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => entries.last_mut().unwrap().extend(chars.next()),
            ';' => entries.push(String::new()),
            other => entries.last_mut().unwrap().push(other),
        }
    }
    assert_eq!(entries, ["headache; then nausea", "fell", "a \\ b"]);
}

#[test]
fn each_table_has_a_codebook_with_every_column_its_question_and_its_coded_options() {
    let tables = table::tables(
        &[phq9(1, "LA6569-3", "2026-11-22T08:00:01.000Z")],
        catalogue(),
        &Default::default(),
    );
    let sheet = &tables["phq-9-v1"];
    let described: Vec<&str> = sheet.codebook.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        described,
        sheet
            .data
            .header
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        "one codebook row per column, in order"
    );
    let item9 = sheet
        .codebook
        .rows
        .iter()
        .find(|r| r[0] == "44260-8")
        .unwrap();
    assert!(item9[1].contains("better off dead"), "{item9:?}");
    assert_eq!(item9[2], "choice");
    assert!(
        item9[4].contains("LA6569-3 = Several days [score 1]"),
        "{item9:?}"
    );
    let band = sheet
        .codebook
        .rows
        .iter()
        .find(|r| r[0] == "score:total:band")
        .unwrap();
    assert!(band[4].contains("20–27 = severe"), "{band:?}");
}

#[test]
fn an_export_folder_has_a_manifest_naming_each_file_with_its_rows_and_sha256_and_no_live_formula() {
    let folder = std::env::temp_dir().join(format!("export-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let envelope = example()
        .answer(
            "comment",
            serde_json::json!("=HYPERLINK(\"http://evil\",\"see\")"),
        )
        .envelope();
    let items = [stored(envelope, "2026-11-22T08:00:01.000Z")];
    let written = super::write(
        &folder,
        &items,
        catalogue(),
        (true, false),
        &Default::default(),
    )
    .unwrap();
    let made = ("T-1", "export --trial T-1", "2026-12-05T04:00:00Z");
    let path = super::manifest::write(&folder, made, &written.files, &[]).unwrap();
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{manifest}");
    for file in files {
        let bytes = std::fs::read(folder.join(file["name"].as_str().unwrap())).unwrap();
        use sha2::Digest;
        assert_eq!(file["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    }
    assert_eq!(files[0]["name"], "qol-daily-v2.csv");
    assert_eq!(files[0]["rows"], 1);
    assert_eq!(manifest["command"], "export --trial T-1");
    assert!(manifest["transforms"].as_array().unwrap().len() >= 2);
    let data = std::fs::read_to_string(folder.join("qol-daily-v2.csv")).unwrap();
    assert!(data.contains("'=HYPERLINK"), "{data}");
    assert!(
        !data.contains(",=HYPERLINK") && !data.contains(",\"=HYPERLINK"),
        "{data}"
    );
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn a_submission_after_withdrawal_is_kept_apart_in_quarantine_never_in_the_research_files() {
    let folder = std::env::temp_dir().join(format!("export-quarantine-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let before = phq9(1, "LA6569-3", "2026-11-22T08:00:01.000Z");
    let mut after = phq9(2, "LA6568-5", "2026-11-23T08:00:01.000Z");
    after.schedule = Some(intake::item::SchedulePlacement {
        timing: intake::schedule::Timing::AfterWithdrawal,
        occurrence_id: None,
        opens: None,
        closes: None,
        placed_at: "2026-11-23T08:00:00.000Z".into(),
        schedule: None,
        enrolment_revision: Some(2),
    });
    let written = super::write(
        &folder,
        &[before, after],
        catalogue(),
        (true, true),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(written.quarantined, 1);
    let research = std::fs::read_to_string(folder.join("phq-9-v1.csv")).unwrap();
    let apart = std::fs::read_to_string(folder.join("quarantined/phq-9-v1.csv")).unwrap();
    assert!(
        research.contains("P-000001") && !research.contains("P-000002"),
        "{research}"
    );
    assert!(
        apart.contains("P-000002") && apart.contains("after-withdrawal"),
        "{apart}"
    );
    let ndjson = std::fs::read_to_string(folder.join("QuestionnaireResponse.ndjson")).unwrap();
    assert_eq!(ndjson.lines().count(), 1);
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn a_submission_excluded_from_analysis_is_kept_apart_and_a_restored_one_is_back() {
    let folder = std::env::temp_dir().join(format!("export-excluded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let kept = phq9(1, "LA6569-3", "2026-11-22T08:00:01.000Z");
    let excluded = phq9(2, "LA6568-5", "2026-11-23T08:00:01.000Z");
    let ids = super::Excluded::from([excluded.submission.submission_id]);
    let written = super::write(
        &folder,
        &[kept, excluded],
        catalogue(),
        (true, true),
        &super::Standing {
            excluded: ids,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((written.excluded, written.quarantined), (1, 0));
    let research = std::fs::read_to_string(folder.join("phq-9-v1.csv")).unwrap();
    let apart = std::fs::read_to_string(folder.join("excluded/phq-9-v1.csv")).unwrap();
    assert!(
        research.contains("P-000001") && !research.contains("P-000002"),
        "{research}"
    );
    assert!(apart.contains("P-000002"), "{apart}");
    let ndjson =
        std::fs::read_to_string(folder.join("excluded/QuestionnaireResponse.ndjson")).unwrap();
    assert_eq!(ndjson.lines().count(), 1);
    std::fs::remove_dir_all(folder).unwrap();
}

#[test]
fn a_withdrawal_recorded_after_the_submission_was_placed_still_quarantines_what_it_covers() {
    let before = phq9(1, "LA6569-3", "2026-11-22T08:00:01.000Z");
    let after = phq9(1, "LA6568-5", "2026-11-23T08:00:01.000Z");
    let withdrawals =
        super::Withdrawals::from([("P-000001".to_owned(), after.submission.completed_at.clone())]);
    assert!(!super::is_quarantined(&before, &Default::default()));
    assert!(
        super::is_quarantined(&after, &withdrawals),
        "completed at the withdrawal"
    );
    let earlier =
        super::Withdrawals::from([("P-000001".to_owned(), "2099-01-01T00:00:00Z".to_owned())]);
    assert!(
        !super::is_quarantined(&after, &earlier),
        "completed before it"
    );
    let unreadable = super::Withdrawals::from([("P-000001".to_owned(), "not a time".to_owned())]);
    assert!(
        super::is_quarantined(&before, &unreadable),
        "when in doubt, apart"
    );
}

#[test]
fn a_corrected_submission_is_exported_as_its_current_version_amended_with_the_earlier_ones_in_its_history()
 {
    let original = phq9(1, "LA6568-5", "2026-11-22T08:00:01.000Z");
    let untouched = phq9(2, "LA6568-5", "2026-11-22T08:00:02.000Z");
    let mut corrected = original.submission.clone();
    corrected.answers = serde_json::from_value(phq9_answers("LA6569-3")).unwrap();
    let judged = intake::instrument::judge(catalogue(), corrected).unwrap();
    let version = intake::item::VersionItem::new(
        &original,
        1,
        (judged.submission, judged.scores),
        (
            "investigator-1",
            "2026-11-23T09:00:00.000Z",
            "misread item 9",
        ),
    );
    let versions =
        super::versions::Versions::from([(original.submission.submission_id, vec![version])]);
    let items = [original.clone(), untouched];
    let (current, numbers, history) = super::versions::current(&items, &versions);

    let tables = table::tables(&current, catalogue(), &numbers);
    let phq = &tables["phq-9-v1"].data;
    let column = |name: &str| phq.header.iter().position(|h| h == name).unwrap();
    let row = |n: usize| &phq.rows[n];
    assert_eq!(
        (
            row(0)[column("version")].as_str(),
            row(1)[column("version")].as_str()
        ),
        ("2", "1")
    );
    assert_eq!(row(0)[column("44260-8")], "LA6569-3", "the current answers");
    assert_eq!(row(0)[column("score:total")], "9", "scored again");

    let (lines, _) = fhir::ndjson(&current, catalogue(), &numbers);
    let resources: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        (
            resources[0]["status"].as_str(),
            resources[0]["meta"]["versionId"].as_str()
        ),
        (Some("amended"), Some("2"))
    );
    assert_eq!(
        (
            resources[1]["status"].as_str(),
            resources[1]["meta"]["versionId"].as_str()
        ),
        (Some("completed"), Some("1"))
    );
    let folder = std::env::temp_dir().join(format!("export-history-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let (path, count) = super::versions::write_history(&folder, &current, &history, catalogue())
        .unwrap()
        .unwrap();
    assert_eq!(count, 1, "version 1 of the one corrected submission");
    let past: Value = serde_json::from_str(std::fs::read_to_string(path).unwrap().trim()).unwrap();
    assert_eq!(past["id"], resources[0]["id"], "the same resource");
    assert_eq!(
        (past["status"].as_str(), past["meta"]["versionId"].as_str()),
        (Some("completed"), Some("1"))
    );
    assert!(
        past.to_string().contains("LA6568-5"),
        "what was replaced is kept"
    );
    std::fs::remove_dir_all(folder).unwrap();
}
