//! No PHI in the logs: answers, free text, patient ids and bearer tokens travel through every function on every
//! path that logs (accepted, invalid, forbidden, conflicting resend; a dangerous answer through notify and the
//! timeline; the catalogue; a nurse's alert list and enrolment with a typed reason; an exclusion with a typed reason
//! and the audit trail; the sweeps), with the stack at
//! its most verbose level (`TRACE`), and then not one of them may appear in any of the stack's log groups. Only
//! submission, request and trial ids and counts may. The test first proves it is reading the right logs: it waits
//! until they name every accepted id and every function has written.
//!
//! The deployed functions are release builds, which carry no call site below `INFO` (the workspace's static levels):
//! `TRACE` here checks that nothing below `INFO` reaches the logs at all, that static cap included. The run-time cap
//! behind it (libraries at `INFO` whatever the level) is exercised at `TRACE` by `intake::logging`'s unit tests,
//! in debug builds, where every call site is still compiled in.

use std::time::Duration;

use intake_e2e::deployed::Deployed;
use intake_e2e::{
    Survey, TokenRequest, get_from, json_to, mint_token, post, post_to, send, submit,
};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn no_answer_or_free_text_reaches_the_logs() {
    let deployed = Deployed::load().await;
    let (stack, aws, http) = (&deployed.stack, &deployed.aws, &deployed.http);
    let run = Uuid::new_v4().simple().to_string()[..10].to_owned();
    let trial = format!("LOGS-{run}");
    let since = OffsetDateTime::now_utc() - time::Duration::seconds(5);

    // Values found nowhere else: a sentence, a diary entry, a number with many digits, a would-be choice.
    let comment = format!("canary {run}: the wound on my left leg still weeps");
    let entry = format!("canary {run}: fell on the stairs at night");
    let hours = 7.391_827_4;
    let choice = format!("canary-{run}-symptom");
    let mut canaries = vec![
        comment.clone(),
        entry.clone(),
        hours.to_string(),
        choice.clone(),
    ];
    // Patient ids found nowhere else: the policy is the same on both paths, ids of submissions, never of people.
    let patient = |n: u32| format!("PT{run}-{n}");
    canaries.extend((0..10).map(patient));
    let with_phi = |patient: &str, seed: u64| {
        let mut survey = Survey::new(&trial, patient, seed);
        survey.body["answers"]["comment"] = json!(comment);
        survey.body["answers"]["sleepHours"] = json!(hours);
        survey
    };

    let mut accepted = Vec::new();
    for n in 0..6 {
        let survey = with_phi(&patient(n), n.into());
        let reply = submit(http, stack, &survey.body).await.unwrap();
        assert_eq!(reply.status, 202, "{}", reply.body);
        accepted.push(survey);
    }
    // The FHIR route: a diary of free-text entries, as a QuestionnaireResponse.
    let mut diary = Survey::of(
        "ae-diary",
        &trial,
        &patient(6),
        "day-7",
        &mut fastrand::Rng::with_seed(4),
    )
    .as_fhir();
    diary.body["answers"] = json!({"events": [entry, "a second event"]});
    let reply = send(http, stack, &diary).await.unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
    accepted.push(diary.clone());
    // Refused by the instrument: a choice that is not an option.
    let mut not_an_option = with_phi(&patient(7), 52);
    not_an_option.body["answers"]["symptoms"] = json!([choice]);
    assert_eq!(
        submit(http, stack, &not_an_option.body)
            .await
            .unwrap()
            .status,
        400
    );
    // Refused by the questionnaire, in the FHIR form: an item it does not have, carrying the canary.
    let (path, content_type, body) = diary.request();
    let mut response: serde_json::Value = serde_json::from_str(&body).unwrap();
    response["identifier"]["value"] = json!(format!("urn:uuid:{}", Uuid::new_v4()));
    response["item"]
        .as_array_mut()
        .unwrap()
        .push(json!({"linkId": "not-an-item", "answer": [{"valueString": entry}]}));
    let token = mint_token(http, stack, &TokenRequest::patient(&patient(6), &trial))
        .await
        .unwrap();
    canaries.push(token.rsplit('.').next().unwrap().to_owned());
    let reply = post_to(
        http,
        stack,
        path,
        Some(&token),
        content_type,
        response.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 422, "{}", reply.body);
    // A conflicting resend: the process function logs a warning about it.
    let mut changed = accepted[0].clone();
    changed.body["answers"]["comment"] = json!(format!("{comment}, and now it is worse"));
    assert_eq!(
        submit(http, stack, &changed.body).await.unwrap().status,
        202
    );
    // Refusals log too: invalid (a control character in the text), forbidden, malformed.
    let mut invalid = with_phi(&patient(8), 50).body;
    invalid["answers"]["comment"] = json!(format!("{comment}\u{0}"));
    assert_eq!(submit(http, stack, &invalid).await.unwrap().status, 400);
    let token = mint_token(http, stack, &TokenRequest::patient(&patient(9), &trial))
        .await
        .unwrap();
    canaries.push(token.rsplit('.').next().unwrap().to_owned());
    let someone_else = with_phi(&patient(5), 51).body.to_string();
    let reply = post(
        http,
        stack,
        Some(&token),
        "application/json",
        someone_else.clone(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 403);
    let truncated = someone_else[..someone_else.len() - 3].to_owned();
    let reply = post(http, stack, Some(&token), "application/json", truncated)
        .await
        .unwrap();
    assert_eq!(reply.status, 400);

    // The other functions, each on a path that carries the canaries.
    let token = mint_token(http, stack, &TokenRequest::patient(&patient(0), &trial))
        .await
        .unwrap();
    let questionnaire = get_from(
        http,
        stack,
        "/v1/fhir/Questionnaire/postop-recovery",
        Some(&token),
    )
    .await
    .unwrap();
    assert_eq!(questionnaire.status, 200, "the catalogue");
    // A dangerous answer with free text: notify delivers its alerts, the timeline places the report.
    let mut fever = Survey::of(
        "postop-recovery",
        &trial,
        &patient(1),
        "day-7",
        &mut fastrand::Rng::with_seed(5),
    );
    fever.body["answers"] =
        json!({"temperature": 39.4, "wound": ["discharge"], "nausea": false, "notes": comment});
    assert_eq!(submit(http, stack, &fever.body).await.unwrap().status, 202);
    accepted.push(fever);
    // A pain report: its rules compare it with the previous one, so the timeline function places it.
    let mut pain = Survey::of(
        "pain-nrs",
        &trial,
        &patient(1),
        "day-7",
        &mut fastrand::Rng::with_seed(6),
    );
    pain.body["answers"] = json!({"pain": 3});
    assert_eq!(submit(http, stack, &pain.body).await.unwrap().status, 202);
    accepted.push(pain);
    // A nurse enrols a patient with a typed reason, and reads the trial's alerts and compliance.
    let nurse = mint_token(
        http,
        stack,
        &TokenRequest::staff(
            "nurse-logs",
            &[&trial],
            "epro/alerts.read epro/enrolment.write epro/enrolment.read",
        ),
    )
    .await
    .unwrap();
    canaries.push(nurse.rsplit('.').next().unwrap().to_owned());
    let anchor = OffsetDateTime::now_utc() - time::Duration::seconds(150);
    let enrolment = json!({
        "patientId": patient(2), "scheduleId": "burst-drill", "timeZone": "Europe/Berlin",
        "anchors": { "enrolment": anchor.format(&time::format_description::well_known::Rfc3339).unwrap() },
        "reason": entry
    });
    let path = format!("/v1/trials/{trial}/enrolments");
    let enrolled = json_to(
        http,
        stack,
        (reqwest::Method::POST, &path),
        Some(&nurse),
        None,
        &enrolment,
    )
    .await
    .unwrap();
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    let schedule = mint_token(http, stack, &TokenRequest::patient(&patient(2), &trial))
        .await
        .unwrap();
    let mine = get_from(http, stack, "/v1/patients/me/schedule", Some(&schedule))
        .await
        .unwrap();
    assert_eq!(mine.status, 200, "{}", mine.body);

    deployed.drained().await;
    for path in [
        format!("/v1/trials/{trial}/alerts"),
        format!("/v1/trials/{trial}/compliance"),
    ] {
        let read = get_from(http, stack, &path, Some(&nurse)).await.unwrap();
        assert_eq!(read.status, 200, "{path}: {}", read.body);
    }
    // A site investigator excludes the pain report with a typed reason, and a monitor reads the audit trail.
    let investigator = mint_token(
        http,
        stack,
        &TokenRequest::staff(
            "investigator-logs",
            &[&trial],
            "epro/data.correct epro/audit.read",
        ),
    )
    .await
    .unwrap();
    let why = format!("canary {run}: the patient's daughter filled it in");
    canaries.push(why.clone());
    let report = accepted.last().unwrap();
    let path = format!(
        "/v1/trials/{trial}/submissions/{}/exclusion",
        report.submission_id
    );
    let excluded = json_to(
        http,
        stack,
        (reqwest::Method::PUT, &path),
        Some(&investigator),
        None,
        &json!({ "patientId": report.patient_id, "excluded": true, "reason": why }),
    )
    .await
    .unwrap();
    assert_eq!(excluded.status, 200, "{}", excluded.body);
    let path = format!("/v1/trials/{trial}/audit");
    let trail = get_from(http, stack, &path, Some(&investigator))
        .await
        .unwrap();
    assert_eq!(trail.status, 200, "{}", trail.body);
    let groups = log_groups();
    assert!(
        groups.len() >= 10,
        "every function's and the API's: {groups:?}"
    );

    // The logs arrive asynchronously, and the sweeps run once a minute: wait until the logs name every accepted
    // submission and the conflict, and every function has written.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    let lines = loop {
        let mut lines = Vec::new();
        let mut silent = Vec::new();
        for group in &groups {
            let written = aws.log_lines(group, since).await.unwrap();
            // (The API's access log is checked too, but the emulator may not write one.)
            if written.is_empty() && group.starts_with("/aws/lambda/") {
                silent.push(group.as_str());
            }
            lines.extend(written);
        }
        let every_id_logged = accepted.iter().all(|s| {
            lines
                .iter()
                .any(|line| line.contains(&s.submission_id.to_string()))
        });
        let conflict_logged = lines.iter().any(|line| line.contains("conflicting resend"));
        if every_id_logged && conflict_logged && silent.is_empty() {
            break lines;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the logs never named every accepted submission ({} lines read), or these groups stayed silent: \
             {silent:?}",
            lines.len()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    for canary in &canaries {
        let leaks: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains(canary.as_str()))
            .collect();
        assert!(
            leaks.is_empty(),
            "PHI in the logs ({canary:?}):\n{leaks:#?}"
        );
    }
    // At TRACE, only our own code may speak below INFO: the runtime, the SDK and the signer print events, requests
    // and headers there when their call sites are compiled in, which the release build's static level prevents.
    let verbose_libraries: Vec<&String> = lines
        .iter()
        .filter(|line| {
            let line: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            matches!(line["level"].as_str(), Some("DEBUG" | "TRACE"))
                && !line["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(intake::logging::OURS))
        })
        .collect();
    assert!(
        verbose_libraries.is_empty(),
        "a library logged below INFO:\n{verbose_libraries:#?}"
    );
    eprintln!(
        "{} log lines checked at TRACE, no answer, free text, patient id or token among them",
        lines.len()
    );
}

/// Every log group the stack declares (its outputs `*LogGroupName`): each function's, and the API's access log.
fn log_groups() -> Vec<String> {
    let path = std::env::var("STACK_OUTPUTS").expect("make e2e sets STACK_OUTPUTS");
    let outputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    outputs
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| key.ends_with("LogGroupName"))
        .map(|(_, group)| group.as_str().unwrap().to_owned())
        .collect()
}
