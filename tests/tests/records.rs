//! A trial's record over time on the deployed stack: a nurse enrols a patient and acknowledges an alert (a
//! colleague's second acknowledgement changes nothing); a site investigator corrects the report's answers (a new
//! version beside the original, the alert newly due raised and the one raised before not again, a stale version
//! refused), excludes another submission entered in error, restores it and excludes it again (a double tap and a
//! stale If-Match changing nothing); the patient is withdrawn and a dangerous answer sent afterwards is still
//! alerted on. The audit trail lists each of those actions once, with who, under which scope, when and why; no
//! stored submission changed; and the export holds the corrected report as its current version (amended, its
//! first version in the history, both valid FHIR) and keeps the excluded and the post-withdrawal submissions apart
//! from the research files, with the audit trail beside them. A corrected pain report is compared again with the
//! report after it, which now raises the worsening alert; and a correction making the record what the patient
//! resent under the same id pages nobody again.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use intake::instrument::Catalogue;
use intake::testing::example::phq9_answers;
use intake_e2e::deployed::{Deployed, eventually, fresh_trial};
use intake_e2e::fhir::valid_fhir_lines;
use intake_e2e::staff::{accepted, correction, exclusion, token};
use intake_e2e::{Survey, get_from, json_to, post_to};
use intake_ops::export::{self, Standing, audit, load, versions, withdrawals, write};
use reqwest::Method;
use serde_json::{Value, json};

const NURSE: &str = "epro/enrolment.write epro/alerts.read epro/alerts.acknowledge epro/flags.read";
const INVESTIGATOR: &str = "epro/data.correct epro/audit.read";

/// A PHQ-9 of P-1 at `timepoint` (each report its own timepoint: a second one at the same timepoint would be a
/// repeat, whose alerts are the first one's).
fn phq9(trial: &str, timepoint: &str, item9: &str) -> Survey {
    let mut survey = Survey::of("phq-9", trial, "P-1", timepoint, &mut fastrand::Rng::new());
    survey.body["answers"] = phq9_answers(item9);
    survey
}

/// The trial's alerts, as staff list them.
async fn alerts(deployed: &Deployed, token: &str, trial: &str) -> Vec<Value> {
    let path = format!("/v1/trials/{trial}/alerts?limit=200");
    let reply = get_from(&deployed.http, &deployed.stack, &path, Some(token))
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["alerts"].as_array().unwrap().clone()
}

/// The whole audit trail through the API, two records a page.
async fn trail(deployed: &Deployed, token: &str, trial: &str) -> Vec<Value> {
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/trials/{trial}/audit?limit=2");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let reply = get_from(&deployed.http, &deployed.stack, &path, Some(token))
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        records.extend(reply.body["records"].as_array().unwrap().iter().cloned());
        match reply.body["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return records,
        }
    }
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    csv::Reader::from_path(path)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
#[ignore = "needs the deployed stack: make local-up"]
async fn every_change_a_person_makes_is_audited_once_and_no_submission_ever_changes() {
    // The local issuer's subject (the staff claim) is `user-<staff_id>`.
    let deployed = Deployed::load().await;
    let (stack, http) = (&deployed.stack, &deployed.http);
    let trial = fresh_trial("RECORD");
    let nurse = token(&deployed, "nurse-1", &trial, NURSE).await;
    let colleague = token(&deployed, "nurse-2", &trial, NURSE).await;
    let investigator = token(&deployed, "investigator-1", &trial, INVESTIGATOR).await;

    let enrolment = json!({
        "patientId": "P-1", "scheduleId": "postop-followup", "anchors": { "surgery": "2027-01-10" },
        "timeZone": "Europe/Berlin", "reason": "consented"
    });
    let path = format!("/v1/trials/{trial}/enrolments");
    let reply = post_to(
        http,
        stack,
        &path,
        Some(&nurse),
        "application/json",
        enrolment.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.body);

    // A dangerous answer, and a plain one entered in error.
    let dangerous = phq9(&trial, "day-7", "LA6570-1");
    let in_error = phq9(&trial, "day-30", "LA6568-5");
    accepted(&deployed, &dangerous).await;
    accepted(&deployed, &in_error).await;
    deployed.drained().await;
    let stored_before = [
        deployed.stored_item(&dangerous).await,
        deployed.stored_item(&in_error).await,
    ];
    let alert = eventually(Duration::from_secs(60), || async {
        Ok::<_, intake_ops::Error>(alerts(&deployed, &nurse, &trial).await.pop())
    })
    .await;
    let acknowledgement = format!(
        "/v1/alerts/{}/acknowledgement",
        alert["alertId"].as_str().unwrap()
    );
    for who in [&nurse, &colleague] {
        let reply = post_to(
            http,
            stack,
            &acknowledgement,
            Some(who),
            "application/json",
            "{}",
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.body["acknowledgedBy"], "user-nurse-1",
            "the first acknowledgement stands"
        );
    }

    // Corrected: every item re-entered at its worst from the paper form. The total is now severe, an alert of its
    // own; item 9's alert exists already and is not raised again. A correction of the replaced version is stale.
    let mut worst = phq9_answers("LA6571-9");
    for answer in worst.as_object_mut().unwrap().values_mut() {
        *answer = json!("LA6571-9");
    }
    let correct = |replaces: u32| json!({ "patientId": "P-1", "replaces": replaces, "answers": worst, "reason": "re-entered from the paper form" });
    let corrected = correction(&deployed, &investigator, &dangerous, &correct(1)).await;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    assert_eq!(corrected.body["version"], json!(2));
    assert_eq!(
        corrected.body["alertsRaised"].as_array().unwrap().len(),
        1,
        "{}",
        corrected.body
    );
    let stale = correction(&deployed, &investigator, &dangerous, &correct(1)).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    let severe = eventually(Duration::from_secs(60), || async {
        let alerts = alerts(&deployed, &nurse, &trial).await;
        Ok::<_, intake_ops::Error>(
            alerts
                .into_iter()
                .find(|a| a["ruleId"] == "phq9-total-severe"),
        )
    })
    .await;
    assert_eq!(
        (&severe["origin"], &severe["submissionId"]),
        (
            &json!("correction"),
            &json!(dangerous.submission_id.to_string())
        )
    );
    assert_eq!(
        alerts(&deployed, &nurse, &trial).await.len(),
        2,
        "item 9's alert is not raised again"
    );
    let versions = format!(
        "/v1/trials/{trial}/submissions/{}/versions",
        dangerous.submission_id
    );
    let every = get_from(
        http,
        stack,
        &format!("{versions}?patientId=P-1&all=true"),
        Some(&investigator),
    )
    .await
    .unwrap();
    assert_eq!(every.status, 200, "{}", every.body);
    let numbers: Vec<&Value> = every.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["version"])
        .collect();
    assert_eq!(numbers, [&json!(1), &json!(2)]);

    // Excluded; a double tap; restored only against the revision that stands; excluded again.
    let session = (investigator.as_str(), trial.as_str());
    let excluded = exclusion(
        &deployed,
        session,
        &in_error,
        (true, "entered for the wrong visit"),
        None,
    )
    .await;
    assert_eq!(
        (excluded.status, &excluded.body["revision"]),
        (200, &json!(1)),
        "{}",
        excluded.body
    );
    let again = exclusion(
        &deployed,
        session,
        &in_error,
        (true, "entered for the wrong visit"),
        None,
    )
    .await;
    assert_eq!(
        (again.status, &again.body),
        (200, &excluded.body),
        "a double tap is one action"
    );
    let stale = exclusion(
        &deployed,
        session,
        &in_error,
        (false, "right visit after all"),
        Some("\"0\""),
    )
    .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    let restored = exclusion(
        &deployed,
        session,
        &in_error,
        (false, "right visit after all"),
        Some("\"1\""),
    )
    .await;
    assert_eq!(
        (restored.status, &restored.body["excluded"]),
        (200, &json!(false)),
        "{}",
        restored.body
    );
    let excluded = exclusion(
        &deployed,
        session,
        &in_error,
        (true, "the site re-checked: wrong visit"),
        Some("\"2\""),
    )
    .await;
    assert_eq!(
        (excluded.status, &excluded.body["revision"]),
        (200, &json!(3)),
        "{}",
        excluded.body
    );
    let nobodys = exclusion(
        &deployed,
        session,
        &phq9(&trial, "day-90", "LA6568-5"),
        (true, "no such"),
        None,
    )
    .await;
    assert_eq!(nobodys.status, 404, "{}", nobodys.body);
    let forbidden = exclusion(
        &deployed,
        (&nurse, &trial),
        &dangerous,
        (true, "a nurse may not"),
        None,
    )
    .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);

    // Withdrawn; a dangerous answer sent afterwards is stored, flagged and alerted on all the same.
    let path = format!("/v1/trials/{trial}/enrolments/P-1/withdrawal");
    let reply = json_to(
        http,
        stack,
        (Method::POST, &path),
        Some(&nurse),
        None,
        &json!({"reason": "withdrew consent"}),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut after = phq9(&trial, "day-60", "LA6570-1");
    // Completed now: after the withdrawal (a survey's time is drawn from the last ten minutes).
    after.body["completedAt"] = json!(
        time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    accepted(&deployed, &after).await;
    deployed.drained().await;
    let alerted = eventually(Duration::from_secs(60), || async {
        let alerts = alerts(&deployed, &nurse, &trial).await;
        Ok::<_, intake_ops::Error>(
            alerts
                .into_iter()
                .find(|a| a["submissionId"] == after.submission_id.to_string()),
        )
    })
    .await;
    assert_eq!(
        alerted["status"], "open",
        "safety processing goes on after withdrawal"
    );

    let path = format!("/v1/trials/{trial}/flags?kind=after-withdrawal");
    let flags = get_from(http, stack, &path, Some(&nurse)).await.unwrap();
    let flagged: Vec<&str> = flags.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["submissionId"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, [after.submission_id.to_string()], "{}", flags.body);

    // The exclusion reads as it stands, for the investigator and the monitor alike.
    let path = format!(
        "/v1/trials/{trial}/submissions/{}/exclusion",
        in_error.submission_id
    );
    let state = get_from(http, stack, &path, Some(&investigator))
        .await
        .unwrap();
    assert_eq!(state.status, 200, "{}", state.body);
    assert_eq!(
        (&state.body["excluded"], &state.body["revision"]),
        (&json!(true), &json!(3))
    );

    // The audit trail: each action once, in order, with who, under which scope and why.
    let records = trail(&deployed, &investigator, &trial).await;
    let listed: Vec<(&str, &str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["by"].as_str().unwrap(),
                r["role"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "enrolled",
                "user-nurse-1",
                "epro/enrolment.write",
                "consented"
            ),
            (
                "alert-acknowledged",
                "user-nurse-1",
                "epro/alerts.acknowledge",
                ""
            ),
            (
                "submission-corrected",
                "user-investigator-1",
                "epro/data.correct",
                "re-entered from the paper form"
            ),
            (
                "submission-excluded",
                "user-investigator-1",
                "epro/data.correct",
                "entered for the wrong visit"
            ),
            (
                "submission-restored",
                "user-investigator-1",
                "epro/data.correct",
                "right visit after all"
            ),
            (
                "submission-excluded",
                "user-investigator-1",
                "epro/data.correct",
                "the site re-checked: wrong visit"
            ),
            (
                "withdrawn",
                "user-nurse-1",
                "epro/enrolment.write",
                "withdrew consent"
            ),
        ]
    );
    assert_eq!(records[1]["subjectId"], alert["alertId"]);
    assert_eq!(
        (&records[2]["before"], &records[2]["after"]),
        (&json!("version 1"), &json!("version 2"))
    );
    assert_eq!(records[5]["before"], "included (exclusion revision 2)");
    assert_eq!(records[5]["after"], "excluded (exclusion revision 3)");
    let reader = token(&deployed, "nurse-1", &trial, NURSE).await;
    let refused = get_from(
        http,
        stack,
        &format!("/v1/trials/{trial}/audit"),
        Some(&reader),
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 403, "the trail needs its own scope");

    // No submission changed, whatever happened around it.
    let stored_after = [
        deployed.stored_item(&dangerous).await,
        deployed.stored_item(&in_error).await,
    ];
    assert_eq!(stored_after, stored_before);

    // The export: the excluded and the post-withdrawal submissions apart, the audit trail beside them.
    let items = load(&deployed.aws, stack, &trial, |_| {}, |_, _| {})
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    let store =
        intake::aws::DynamoStore::new(deployed.aws.dynamodb.clone(), stack.table_name.clone());
    let withdrawn = withdrawals(&deployed.aws, stack, &trial, &items)
        .await
        .unwrap();
    let corrections = versions::corrections(&store, &trial, &items).await.unwrap();
    let (current, numbers, history) = versions::current(&items, &corrections);
    let standing = Standing {
        withdrawals: withdrawn,
        excluded: export::excluded(&store, &trial).await.unwrap(),
        versions: numbers,
        history,
    };
    let folder = std::env::temp_dir().join(format!("export-{trial}"));
    let catalogue = Catalogue::embedded();
    let written = write(&folder, &current, catalogue, (true, true), &standing).unwrap();
    // The corrected submission as its current version: amended, version 2, the severe answers; version 1 in the
    // history; both valid to fhir.resources.
    let research = csv_rows(&folder.join("phq-9-v1.csv"));
    assert_eq!(
        (
            research[0]["version"].as_str(),
            research[0]["44260-8"].as_str()
        ),
        ("2", "LA6571-9")
    );
    let resource: Value =
        serde_json::from_str(valid_fhir_lines(&folder.join("QuestionnaireResponse.ndjson")).trim())
            .unwrap();
    assert_eq!(
        (&resource["status"], &resource["meta"]["versionId"]),
        (&json!("amended"), &json!("2"))
    );
    let history = folder.join(versions::HISTORY);
    assert!(
        written
            .files
            .iter()
            .any(|(path, lines)| *path == history && *lines == 1)
    );
    assert!(
        !folder.join("excluded").join(versions::HISTORY).exists(),
        "nothing corrected there"
    );
    let past: Value = serde_json::from_str(valid_fhir_lines(&history).trim()).unwrap();
    assert_eq!(
        (&past["id"], &past["meta"]["versionId"]),
        (&resource["id"], &json!("1"))
    );
    assert_eq!((written.excluded, written.quarantined), (1, 1));
    let ids = |path: &Path| -> Vec<String> {
        csv_rows(path)
            .into_iter()
            .map(|row| row["submissionId"].clone())
            .collect()
    };
    assert_eq!(
        ids(&folder.join("phq-9-v1.csv")),
        [dangerous.submission_id.to_string()]
    );
    assert_eq!(
        ids(&folder.join("excluded/phq-9-v1.csv")),
        [in_error.submission_id.to_string()]
    );
    assert_eq!(
        ids(&folder.join("quarantined/phq-9-v1.csv")),
        [after.submission_id.to_string()]
    );
    let (path, rows) = audit::write(&folder, &audit::trail(&store, &trial).await.unwrap()).unwrap();
    assert_eq!(rows, records.len());
    let exported: Vec<(String, String)> = csv_rows(&path)
        .into_iter()
        .map(|row| (row["auditId"].clone(), row["action"].clone()))
        .collect();
    let api: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["auditId"].as_str().unwrap().to_owned(),
                r["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(exported, api, "the export's trail is the API's");
    std::fs::remove_dir_all(&folder).unwrap();
}

/// A pain report of P-2 on `day`, completed `hours` ago.
fn pain(trial: &str, day: u32, score: u32, hours: i64) -> Survey {
    let mut survey = Survey::of(
        "pain-nrs",
        trial,
        "P-2",
        &format!("day-{day}"),
        &mut fastrand::Rng::new(),
    );
    survey.body["answers"] = json!({ "pain": score });
    let completed = time::OffsetDateTime::now_utc() - time::Duration::hours(hours);
    survey.body["completedAt"] = json!(
        completed
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    survey
}

#[tokio::test]
#[ignore = "needs the deployed stack: make local-up"]
async fn a_corrected_report_is_compared_again_with_the_report_after_it() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("CORRECTED");
    let nurse = token(&deployed, "nurse-1", &trial, NURSE).await;
    let investigator = token(&deployed, "investigator-1", &trial, INVESTIGATOR).await;
    // Day 1 pain 6, day 2 pain 6: nothing worsened.
    let (day1, day2) = (pain(&trial, 1, 6, 48), pain(&trial, 2, 6, 24));
    accepted(&deployed, &day1).await;
    accepted(&deployed, &day2).await;
    deployed.drained().await;

    // Day 1 was 2 on the paper diary: day 2 is now 4 worse than the report before it. The correction raises nothing
    // of its own; the timeline function, reached through the table's stream, compares day 2 with it again.
    let body = json!({ "patientId": "P-2", "replaces": 1, "answers": { "pain": 2 }, "reason": "paper diary" });
    let corrected = correction(&deployed, &investigator, &day1, &body).await;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    assert_eq!(corrected.body["alertsRaised"], json!([]));
    let worse = eventually(Duration::from_secs(60), || async {
        let alerts = alerts(&deployed, &nurse, &trial).await;
        Ok::<_, intake_ops::Error>(alerts.into_iter().find(|a| a["ruleId"] == "pain-worsening"))
    })
    .await;
    assert_eq!(worse["submissionId"], json!(day2.submission_id.to_string()));
    assert_eq!(worse["comparedWith"], json!(day1.submission_id.to_string()));
    assert_eq!(
        worse["afterCorrectionOf"],
        json!(day1.submission_id.to_string())
    );
    assert_eq!(worse.get("lateArrival"), None, "nothing arrived late");
    assert_eq!(worse["origin"], json!("submission"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(alerts(&deployed, &nurse, &trial).await.len(), 1, "once");
}

#[tokio::test]
#[ignore = "needs the deployed stack: make local-up"]
async fn a_correction_to_what_the_patient_resent_pages_nobody_again() {
    let deployed = Deployed::load().await;
    let trial = fresh_trial("RESENT");
    let nurse = token(&deployed, "nurse-1", &trial, NURSE).await;
    let investigator = token(&deployed, "investigator-1", &trial, INVESTIGATOR).await;
    // Item 9 "not at all", then edited to "several days" and resent under the same id: a conflicting resend,
    // alerted on when it came.
    let sent = phq9(&trial, "day-7", "LA6568-5");
    accepted(&deployed, &sent).await;
    deployed.drained().await;
    let mut resent = sent.clone();
    resent.body["answers"] = phq9_answers("LA6569-3");
    accepted(&deployed, &resent).await;
    deployed.drained().await;
    let alerted = eventually(Duration::from_secs(60), || async {
        let alerts = alerts(&deployed, &nurse, &trial).await;
        Ok::<_, intake_ops::Error>((!alerts.is_empty()).then_some(alerts))
    })
    .await;
    assert_eq!(alerted.len(), 1);
    assert_eq!(alerted[0]["origin"], json!("conflicting-resend"));

    // The investigator, having called the patient, makes the resent answers the record's.
    let body = json!({ "patientId": "P-1", "replaces": 1, "answers": phq9_answers("LA6569-3"),
                       "reason": "the patient confirmed the resent answers" });
    let corrected = correction(&deployed, &investigator, &sent, &body).await;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    assert_eq!(corrected.body["alertsRaised"], json!([]));
    // A correction's alerts are written in its own transaction: none was, whatever the reply said.
    let ids =
        |alerts: &[Value]| -> Vec<Value> { alerts.iter().map(|a| a["alertId"].clone()).collect() };
    assert_eq!(ids(&alerts(&deployed, &nurse, &trial).await), ids(&alerted));
}
