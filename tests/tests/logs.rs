//! No PHI in the logs: answers and free text travel through both functions on every path that logs (accepted,
//! invalid, forbidden, conflicting resend), and then not one of them may appear in CloudWatch Logs. Only ids and
//! counts may. The test first proves it is reading the right logs: it waits until they name every accepted id.

use std::time::Duration;

use intake_e2e::deployed::Deployed;
use intake_e2e::{Survey, TokenRequest, mint_token, post, submit};
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

    // Values found nowhere else: a sentence, a choice, a number with many digits.
    let comment = format!("canary {run}: the wound on my left leg still weeps");
    let choice = format!("canary-{run}-symptom");
    let score = 73.918_274_5;
    let canaries = [comment.clone(), choice.clone(), score.to_string()];
    let with_phi = |patient: &str, seed: u64| {
        let mut survey = Survey::new(&trial, patient, seed);
        survey.body["answers"]["comment"] = json!(comment);
        survey.body["answers"]["symptoms"] = json!([choice]);
        survey.body["answers"]["score"] = json!(score);
        survey
    };

    let mut accepted = Vec::new();
    for n in 0..6 {
        let survey = with_phi(&format!("P-00{n}100"), n);
        let reply = submit(http, stack, &survey.body).await.unwrap();
        assert_eq!(reply.status, 202, "{}", reply.body);
        accepted.push(survey);
    }
    // A conflicting resend: the process function logs a warning about it.
    let mut changed = accepted[0].clone();
    changed.body["answers"]["comment"] = json!(format!("{comment}, and now it is worse"));
    assert_eq!(
        submit(http, stack, &changed.body).await.unwrap().status,
        202
    );
    // Refusals log too: invalid (a control character in the text), forbidden, malformed.
    let mut invalid = with_phi("P-000200", 50).body;
    invalid["answers"]["comment"] = json!(format!("{comment}\u{0}"));
    assert_eq!(submit(http, stack, &invalid).await.unwrap().status, 400);
    let token = mint_token(http, stack, &TokenRequest::valid_for("P-000300"))
        .await
        .unwrap();
    let someone_else = with_phi("P-000301", 51).body.to_string();
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

    deployed.drained().await;

    // The logs arrive asynchronously: wait until they name every accepted submission and the conflict.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let lines = loop {
        let mut lines = aws
            .log_lines(&stack.submit_log_group_name, since)
            .await
            .unwrap();
        lines.extend(
            aws.log_lines(&stack.process_log_group_name, since)
                .await
                .unwrap(),
        );
        let every_id_logged = accepted.iter().all(|s| {
            lines
                .iter()
                .any(|line| line.contains(&s.submission_id.to_string()))
        });
        let conflict_logged = lines.iter().any(|line| line.contains("conflicting resend"));
        if every_id_logged && conflict_logged {
            break lines;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the logs never named every accepted submission ({} lines read)",
            lines.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
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
    eprintln!(
        "{} log lines checked, no answer or free text among them",
        lines.len()
    );
}
