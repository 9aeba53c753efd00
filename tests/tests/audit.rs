//! The checks must be able to fail: after a clean burst each failure the auditor names is planted in the deployed
//! table (a doubled submission, a corrupted answer, a lost one), and a refused request is smuggled onto the queue,
//! and each check must see it.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use intake::item::{partition_key, submission_key, submission_sort_key};
use intake::testing::example::example;
use intake_e2e::audit::audit;
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_e2e::hostile::trace_of_refused;
use intake_e2e::load::{Kind, Plan, Tokens, run};
use uuid::Uuid;

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn each_audit_check_catches_the_failure_it_names() {
    let deployed = Deployed::load().await;
    let (aws, stack) = (&deployed.aws, &deployed.stack);
    let plan = Plan {
        trial_id: fresh_trial("AUDIT"),
        timepoint: "day-7".into(),
        patients: 12,
        requests: 60,
        resend_share: 0.1,
        repeat_share: 0.05,
        collision_share: 0.05,
        edit_share: 0.05,
        offline_share: 0.05,
        invalid_share: 0.05,
        fhir_share: 0.3,
        offset_resend_share: 0.25,
        window: Duration::from_secs(3),
        concurrency: 8,
        timeout: Duration::from_secs(10),
        retries: 3,
        seed: 11,
    };
    let schedule = plan.schedule();
    let tokens = std::sync::Arc::new(
        Tokens::mint(&deployed.http, stack, &schedule, 8)
            .await
            .unwrap(),
    );
    let outcomes = run(&deployed.http, stack, &plan, tokens, schedule, |_| {}).await;
    deployed.drained().await;
    let clean = audit(aws, stack, &plan.trial_id, &outcomes).await.unwrap();
    assert!(clean.passed(), "{} {clean:?}", clean.verdict());
    assert!(
        clean.repeats > 0 && clean.collisions > 0,
        "the plan exercised repeats and collisions: {clean:?}"
    );

    // One acknowledged new survey, and its stored item.
    let victim = outcomes
        .iter()
        .find(|o| {
            o.accepted()
                && o.scheduled.kind == Kind::New
                && o.scheduled.survey.body["surveyId"] == "qol-daily"
        })
        .expect("a daily survey was accepted");
    let survey = &victim.scheduled.survey;
    let key = submission_key(&survey.submission_id);
    let item = aws
        .get_items(stack, std::slice::from_ref(&key))
        .await
        .unwrap()
        .remove(&key)
        .unwrap();
    let put = |item: std::collections::HashMap<String, AttributeValue>| async {
        aws.dynamodb
            .put_item()
            .table_name(&stack.table_name)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    };

    // Doubled: the same id stored a second time, under another patient of the trial (as the layout before
    // 2026-12-06 would have put it).
    let mut copy = item.clone();
    let elsewhere = partition_key(&plan.trial_id, "P-PLANTED");
    let elsewhere_sk = submission_sort_key(&survey.submission_id);
    copy.insert("pk".into(), AttributeValue::S(elsewhere.clone()));
    copy.insert("sk".into(), AttributeValue::S(elsewhere_sk.clone()));
    put(copy).await;
    let planted = audit(aws, stack, &plan.trial_id, &outcomes).await.unwrap();
    assert_eq!(
        planted.doubled,
        [survey.submission_id],
        "{}",
        planted.verdict()
    );
    aws.dynamodb
        .delete_item()
        .table_name(&stack.table_name)
        .key("pk", AttributeValue::S(elsewhere))
        .key("sk", AttributeValue::S(elsewhere_sk))
        .send()
        .await
        .unwrap();

    // Corrupted: one answer changed in the stored item.
    let mut corrupt = item.clone();
    let mut answers = corrupt["answers"].as_m().unwrap().clone();
    answers.insert("pain".into(), AttributeValue::N("10".into()));
    if survey.body["answers"]["pain"] == 10 {
        answers.insert("pain".into(), AttributeValue::N("9".into()));
    }
    corrupt.insert("answers".into(), AttributeValue::M(answers));
    put(corrupt).await;
    let planted = audit(aws, stack, &plan.trial_id, &outcomes).await.unwrap();
    assert_eq!(
        planted.corrupted,
        [survey.submission_id],
        "{}",
        planted.verdict()
    );

    // Lost: the stored item gone.
    aws.dynamodb
        .delete_item()
        .table_name(&stack.table_name)
        .key("pk", AttributeValue::S(key.0.clone()))
        .key("sk", AttributeValue::S(key.1.clone()))
        .send()
        .await
        .unwrap();
    let planted = audit(aws, stack, &plan.trial_id, &outcomes).await.unwrap();
    assert_eq!(
        planted.lost,
        [survey.submission_id],
        "{}",
        planted.verdict()
    );
    put(item).await;
    assert!(
        audit(aws, stack, &plan.trial_id, &outcomes)
            .await
            .unwrap()
            .passed(),
        "restored"
    );

    // A refused request that reached the queue anyway: the hostile corpus's check must see its trace.
    let hostile = fresh_trial("HOSTILE");
    let dead_letters = aws.queue_depth(&stack.dead_letter_queue_url).await.unwrap();
    assert_eq!(
        trace_of_refused(&deployed, &hostile, "P-000666", dead_letters).await,
        None
    );
    let smuggled = example()
        .trial(&hostile)
        .patient("P-000666")
        .id(Uuid::new_v4())
        .envelope();
    aws.sqs
        .send_message()
        .queue_url(&stack.queue_url)
        .message_body(smuggled.encode())
        .send()
        .await
        .unwrap();
    deployed.drained().await;
    assert!(
        trace_of_refused(&deployed, &hostile, "P-000666", dead_letters)
            .await
            .is_some()
    );
}

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn each_alert_audit_check_catches_the_failure_it_names() {
    use intake::alert::alert_id;
    use intake::testing::example::phq9_answers;
    use intake_e2e::alert_audit::audit_alerts;
    use intake_e2e::inbox::AlertInbox;
    use intake_e2e::{Survey, submit};

    let deployed = Deployed::load().await;
    let (aws, stack, http) = (&deployed.aws, &deployed.stack, &deployed.http);
    let topic = stack.alert_topic_arn.clone().expect("an alert topic");
    let mut inbox = AlertInbox::subscribe(aws, &[&topic]).await.unwrap();
    let trial = fresh_trial("ALERT-AUDIT");
    let phq9 = |patient: &str, item9: &str| {
        let mut survey = Survey::of("phq-9", &trial, patient, "day-7", &mut fastrand::Rng::new());
        survey.body["answers"] = phq9_answers(item9);
        survey
    };
    let (urgent, also_urgent, clean) = (
        phq9("P-1", "LA6570-1"),
        phq9("P-2", "LA6569-3"),
        phq9("P-3", "LA6568-5"),
    );
    for survey in [&urgent, &also_urgent, &clean] {
        assert_eq!(submit(http, stack, &survey.body).await.unwrap().status, 202);
    }
    deployed.drained().await;
    let wait = Duration::from_secs(60);
    let sound = audit_alerts(aws, stack, &trial, &mut inbox, wait)
        .await
        .unwrap();
    assert!(sound.passed(), "{} {sound:?}", sound.verdict());
    assert_eq!((sound.demanded, sound.stored, sound.delivered), (2, 2, 2));

    // Lost: a raised alert removed. Spurious and undelivered: an alert for the clean survey, planted. Doubled: a
    // message for the other alert, published again.
    let rule = "phq9-item9-self-harm";
    let lost = alert_id(&urgent.submission_id, rule);
    let key = |id: &Uuid| {
        [
            ("pk".to_owned(), AttributeValue::S(format!("ALERT#{id}"))),
            ("sk".to_owned(), AttributeValue::S("ALERT".into())),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
    };
    let original = aws
        .dynamodb
        .get_item()
        .table_name(&stack.table_name)
        .set_key(Some(key(&lost)))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    aws.dynamodb
        .delete_item()
        .table_name(&stack.table_name)
        .set_key(Some(key(&lost)))
        .send()
        .await
        .unwrap();
    let spurious = alert_id(&clean.submission_id, rule);
    let mut planted = original.clone();
    planted.insert("pk".into(), AttributeValue::S(format!("ALERT#{spurious}")));
    planted.insert("alertId".into(), AttributeValue::S(spurious.to_string()));
    planted.insert(
        "submissionId".into(),
        AttributeValue::S(clean.submission_id.to_string()),
    );
    aws.dynamodb
        .put_item()
        .table_name(&stack.table_name)
        .set_item(Some(planted))
        .send()
        .await
        .unwrap();
    let twice = alert_id(&also_urgent.submission_id, rule);
    let sns = aws_sdk_sns::Client::new(&aws_config::load_from_env().await);
    let again = serde_json::json!({"kind": "alert", "alertId": twice, "trialId": trial});
    sns.publish()
        .topic_arn(&topic)
        .message(again.to_string())
        .send()
        .await
        .unwrap();

    let audit = audit_alerts(aws, stack, &trial, &mut inbox, wait)
        .await
        .unwrap();
    assert!(!audit.passed());
    assert_eq!(audit.not_stored, [lost], "{audit:?}");
    assert_eq!(audit.spurious, [spurious], "{audit:?}");
    assert_eq!(audit.not_delivered, [spurious], "{audit:?}");
    assert_eq!(audit.delivered_twice, [twice], "{audit:?}");
    assert_eq!(audit.verdict(), "alerts lost: 2, doubled: 1");
    inbox.close().await.unwrap();
}
