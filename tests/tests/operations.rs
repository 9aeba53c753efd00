//! Operations on the deployed stack: a trial's export holds every submission in its instrument's table and as
//! FHIR an independent model accepts, and the functions' counts reach their logs as embedded metric format that
//! CloudWatch would turn into the dashboard's metrics.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use futures::future::join_all;
use intake::instrument::Catalogue;
use intake::metrics::{FUNCTION, Metric, NAMESPACE, REASON};
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::fhir::valid_fhir_lines;
use intake_e2e::{Survey, TokenRequest, mint_token, post, send};
use intake_ops::export::deidentify::{Deidentifier, Precision};
use intake_ops::export::{load, secret, write};
use serde_json::Value;
use time::OffsetDateTime;

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .map(str::to_owned)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs the local stack: run `make e2e`"]
async fn a_trials_export_has_each_submission_once_in_its_instruments_table_and_as_valid_fhir() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("EXPORT");
    let mut rng = fastrand::Rng::with_seed(13);
    let surveys: Vec<Survey> = [("phq-9", 3), ("gad-7", 2), ("pain-nrs", 1)]
        .iter()
        .flat_map(|(instrument, count)| {
            (0..*count)
                .map(|n| Survey::of(instrument, &trial, &format!("P-{n:06}"), "day-7", &mut rng))
                .collect::<Vec<_>>()
        })
        .collect();
    let replies = join_all(
        surveys
            .iter()
            .map(|s| send(&deployed.http, &deployed.stack, s)),
    )
    .await;
    assert!(replies.iter().all(|r| r.as_ref().unwrap().status == 202));
    deployed.drained().await;

    let items = load(&deployed.aws, &deployed.stack, &trial, |_| {}, |_, _| {})
        .await
        .unwrap();
    assert_eq!(items.len(), surveys.len());
    let folder = std::env::temp_dir().join(format!("export-{trial}"));
    let written = write(
        &folder,
        &items,
        Catalogue::embedded(),
        (true, true),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(written.not_fhir, 0);

    for (instrument, count) in [("phq-9", 3), ("gad-7", 2), ("pain-nrs", 1)] {
        let rows = csv_rows(&folder.join(format!("{instrument}-v1.csv")));
        assert_eq!(rows.len(), count, "{instrument}");
        let codebook = csv_rows(&folder.join(format!("{instrument}-v1.codebook.csv")));
        assert_eq!(
            codebook.len(),
            rows[0].len(),
            "{instrument}: a codebook row per column"
        );
        for survey in surveys.iter().filter(|s| s.body["surveyId"] == instrument) {
            let row = rows
                .iter()
                .find(|r| r["submissionId"] == survey.submission_id.to_string())
                .unwrap_or_else(|| panic!("{} missing from {instrument}", survey.submission_id));
            assert_eq!(row["surveyVersion"], "1", "{instrument}");
            assert!(!row["storedAt"].is_empty(), "{instrument}");
            for (link_id, answer) in survey.body["answers"].as_object().unwrap() {
                let expected = match answer {
                    Value::String(text) => text.clone(),
                    Value::Array(choices) => choices
                        .iter()
                        .map(|c| c.as_str().unwrap().to_owned())
                        .collect::<Vec<_>>()
                        .join(";"),
                    other => other.to_string(),
                };
                assert_eq!(row[link_id], expected, "{instrument} {link_id}");
            }
        }
    }

    // FHIR: one resource per line, each a QuestionnaireResponse that fhir.resources accepts.
    let ndjson = valid_fhir_lines(&folder.join("QuestionnaireResponse.ndjson"));
    assert_eq!(ndjson.lines().count(), surveys.len());
    std::fs::remove_dir_all(&folder).unwrap();

    // De-identified: the trial's key is created in Secrets Manager on the first export and the same after it; the
    // NDJSON stays valid FHIR, and names no patient.
    let (secrets, namespace) = (&deployed.aws.secrets, &deployed.stack.table_name);
    let key = secret::trial_key(secrets, namespace, &trial).await.unwrap();
    assert!(key.len() >= 32, "{} bytes", key.len());
    let again = secret::trial_key(secrets, namespace, &trial).await.unwrap();
    assert_eq!(key, again, "one key per trial: pseudonyms stay stable");
    let deidentifier = Deidentifier::new(&key, Precision::Day);
    let deidentified: Vec<_> = items
        .iter()
        .map(|item| deidentifier.item(item, Catalogue::embedded()))
        .collect();
    let folder = std::env::temp_dir().join(format!("export-{trial}-deidentified"));
    write(
        &folder,
        &deidentified,
        Catalogue::embedded(),
        (true, true),
        &Default::default(),
    )
    .unwrap();
    let ndjson = valid_fhir_lines(&folder.join("QuestionnaireResponse.ndjson"));
    assert_eq!(ndjson.lines().count(), surveys.len());
    for survey in &surveys {
        assert!(!ndjson.contains(survey.body["patientId"].as_str().unwrap()));
        assert!(!ndjson.contains(&survey.submission_id.to_string()));
    }
    std::fs::remove_dir_all(&folder).unwrap();
}

/// The EMF documents among `lines`, by metric name: (dimension names, value, the document).
fn emf(lines: &[String]) -> Vec<(String, Vec<String>, f64, Value)> {
    let mut found = Vec::new();
    for line in lines {
        let Ok(document) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(directive) = document["_aws"]["CloudWatchMetrics"].get(0) else {
            continue;
        };
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert!(document["_aws"]["Timestamp"].is_u64(), "{document}");
        let dimensions: Vec<String> = directive["Dimensions"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_owned())
            .collect();
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap().to_owned();
            // A counter is a number; a histogram, its values (EMF's Values form) or one number.
            let value = match &document[&name] {
                Value::Number(n) => n.as_f64().unwrap(),
                Value::Array(values) => values.iter().filter_map(Value::as_f64).sum(),
                Value::Object(values) => values["Values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_f64)
                    .sum(),
                other => panic!("{name}: no value in {other}"),
            };
            found.push((name, dimensions.clone(), value, document.clone()));
        }
    }
    found
}

#[tokio::test]
#[ignore = "needs the local stack: run `make e2e`"]
async fn the_functions_count_accepted_refused_and_stored_submissions_as_embedded_metrics() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let since = OffsetDateTime::now_utc() - time::Duration::seconds(5);
    let trial = fresh_trial("METRICS");
    let survey = Survey::of(
        "phq-9",
        &trial,
        "P-000001",
        "day-7",
        &mut fastrand::Rng::new(),
    );
    assert_eq!(send(http, stack, &survey).await.unwrap().status, 202);
    let token = mint_token(http, stack, &TokenRequest::patient("P-000001", &trial))
        .await
        .unwrap();
    let refused = post(
        http,
        stack,
        Some(&token),
        "application/json",
        "{not json".to_owned(),
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 400);
    deployed.drained().await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (submit, process) = loop {
        let submit = emf(&aws
            .log_lines(&stack.submit_log_group_name, since)
            .await
            .unwrap());
        let process = emf(&aws
            .log_lines(&stack.process_log_group_name, since)
            .await
            .unwrap());
        let stored = process
            .iter()
            .any(|(name, ..)| name == Metric::Stored.name());
        let accepted = submit
            .iter()
            .any(|(name, ..)| name == Metric::Accepted.name());
        let refused = submit
            .iter()
            .any(|(name, ..)| name == Metric::Refused.name());
        if stored && accepted && refused {
            break (submit, process);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no EMF document counted the submission: submit {submit:?}, process {process:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let metric = |found: &[(String, Vec<String>, f64, Value)],
                  metric: Metric|
     -> Vec<(Vec<String>, f64, Value)> {
        found
            .iter()
            .filter(|(name, ..)| name == metric.name())
            .map(|(_, d, v, doc)| (d.clone(), *v, doc.clone()))
            .collect()
    };
    let accepted = metric(&submit, Metric::Accepted);
    assert!(accepted.iter().map(|(_, v, _)| v).sum::<f64>() >= 1.0);
    for (dimensions, _, document) in &accepted {
        assert_eq!(dimensions, &[FUNCTION]);
        assert!(
            document[FUNCTION]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("submit"),
            "{document}"
        );
        assert!(
            document["requestId"].is_string(),
            "a metric leads to its request: {document}"
        );
    }
    let refused = metric(&submit, Metric::Refused);
    for (dimensions, _, _) in &refused {
        assert_eq!(
            dimensions,
            &[FUNCTION, REASON],
            "refusals are counted by reason"
        );
    }
    assert!(
        refused
            .iter()
            .any(|(_, _, document)| document[REASON] == "malformed_json"),
        "{refused:?}"
    );
    let stored = metric(&process, Metric::Stored);
    assert!(stored.iter().map(|(_, v, _)| v).sum::<f64>() >= 1.0);
    let latency = metric(&process, Metric::QueueToStoreLatency);
    assert!(
        !latency.is_empty(),
        "the queue-to-store latency is measured"
    );
    for (_, _, document) in &latency {
        let unit = document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Name"] == Metric::QueueToStoreLatency.name())
            .map(|m| m["Unit"].clone());
        assert_eq!(unit, Some(Value::from("Milliseconds")));
    }
}
