//! What a de-identified export guarantees: no patient or submission id, original date or free text survives in any
//! file, intervals do, and pseudonyms are stable under the trial's key and unguessable without it.

use std::collections::BTreeMap;

use intake::instrument::Catalogue;
use intake::item::SubmissionItem;
use intake::testing::example::example;
use serde_json::json;

use super::deidentify::{Deidentifier, Precision};

const CANARY: &str = "canary: my husband hits me";
const DIARY: &str = "canary: fell; the knee is swollen";

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

/// Two patients, two daily reports each a week and three hours apart (with a comment), and a diary entry.
fn items() -> Vec<SubmissionItem> {
    let mut items = Vec::new();
    for (n, patient) in ["P-000001", "P-000002"].iter().enumerate() {
        for (week, completed) in [
            ("2026-11-22T09:15:00+01:00", 0),
            ("2026-11-29T12:15:00+01:00", 1),
        ]
        .iter()
        .map(|(at, w)| (w, at))
        {
            let envelope = example()
                .id(format!("00000000-0000-4000-8000-0000000{n}{week}000"))
                .patient(patient)
                .set("completedAt", json!(completed))
                .answer("comment", json!(CANARY))
                .envelope();
            let mut item = SubmissionItem::new(envelope, "2026-11-29T11:15:00.123Z".into());
            item.received_at = completed.replace("+01:00", "Z");
            items.push(item);
        }
    }
    let diary = example()
        .id("00000000-0000-4000-8000-000000000999")
        .patient("P-000001")
        .survey("ae-diary", json!({"events": [DIARY, "canary two"]}))
        .envelope();
    items.push(SubmissionItem::new(
        diary,
        "2026-11-30T08:00:00.000Z".into(),
    ));
    items
}

fn everything_written(items: &[SubmissionItem]) -> String {
    let folder = std::env::temp_dir().join(format!(
        "deidentified-{}-{}",
        std::process::id(),
        items.len()
    ));
    let _ = std::fs::remove_dir_all(&folder);
    let written = super::write(
        &folder,
        items,
        catalogue(),
        (true, true),
        &Default::default(),
    )
    .unwrap();
    assert!(written.files.len() >= 5, "{:?}", written.files);
    let text = written
        .files
        .iter()
        .map(|(path, _)| std::fs::read_to_string(path).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::remove_dir_all(folder).unwrap();
    text
}

#[test]
fn no_identifier_original_date_or_free_text_survives_in_any_file() {
    let originals = items();
    let plain = everything_written(&originals);
    let deidentifier = Deidentifier::new(b"the trial's key", Precision::Day);
    let deidentified: Vec<SubmissionItem> = originals
        .iter()
        .map(|item| deidentifier.item(item, catalogue()))
        .collect();
    let text = everything_written(&deidentified);

    let mut secrets = vec![
        "P-000001".to_owned(),
        "P-000002".to_owned(),
        "canary".to_owned(),
        "2026-11-22".to_owned(),
        "2026-11-29".to_owned(),
        "2026-11-30".to_owned(),
    ];
    secrets.extend(
        originals
            .iter()
            .map(|i| i.submission.submission_id.to_string()),
    );
    for secret in &secrets {
        // Each one is in the plain export: the check would see it.
        assert!(
            plain.contains(secret.as_str()),
            "the plain export lacks {secret}"
        );
        assert!(
            !text.contains(secret.as_str()),
            "{secret} survived:\n{text}"
        );
    }
    assert!(
        text.contains("headache") || !text.contains("events"),
        "a code or nothing, never free text"
    );
}

#[test]
fn intervals_survive_and_each_patient_has_one_shift() {
    let deidentifier = Deidentifier::new(b"the trial's key", Precision::Day);
    let mut dates: BTreeMap<String, Vec<jiff::civil::Date>> = BTreeMap::new();
    for item in items()
        .iter()
        .filter(|i| i.submission.survey_id == "qol-daily")
    {
        let out = deidentifier.item(item, catalogue());
        dates
            .entry(out.submission.patient_id)
            .or_default()
            .push(out.submission.completed_at.parse().unwrap());
    }
    assert_eq!(dates.len(), 2, "one pseudonym per patient");
    for (patient, days) in &dates {
        assert_eq!(
            (days[1] - days[0]).get_days(),
            7,
            "{patient}: a week apart, as reported"
        );
    }
    let shifts: Vec<i64> = ["P-000001", "P-000002"]
        .iter()
        .map(|p| deidentifier.shift_days(p))
        .collect();
    assert!(shifts.iter().all(|d| (1..=364).contains(d)), "{shifts:?}");
}

#[test]
fn pseudonyms_are_stable_under_the_trials_key_and_differ_under_another() {
    let one = Deidentifier::new(b"key one", Precision::Hour);
    let again = Deidentifier::new(b"key one", Precision::Hour);
    let other = Deidentifier::new(b"key two", Precision::Hour);
    assert_eq!(one.patient("P-000001"), again.patient("P-000001"));
    assert_ne!(one.patient("P-000001"), other.patient("P-000001"));
    assert_ne!(one.patient("P-000001"), one.patient("P-000002"));
    let id = uuid::Uuid::nil();
    assert_eq!(one.submission(id), again.submission(id));
    assert_eq!(one.submission(id).get_version_num(), 4, "still a UUID");
    let at = one.time("P-000001", "2026-11-22T09:15:42.123Z");
    assert!(at.ends_with(":00:00Z") && at.len() == 20, "{at}");
    assert_eq!(one.time("P-000001", "not a time"), "", "never the original");
}
