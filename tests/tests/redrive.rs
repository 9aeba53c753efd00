//! `make redrive` against a stack found by name, as an operator runs it on AWS: the queues come from the
//! CloudFormation stack's outputs, and dead letters too large to send ten at a time are all moved. Its own test
//! binary, so that it cannot redrive the poison another test is waiting to see dead-lettered.

use std::time::Duration;

use futures::StreamExt;

use intake::testing::example;
use intake::testing::example::largest;
use intake_e2e::deployed::{Deployed, fresh_trial};
use intake_ops::Stack;
use intake_ops::redrive::{Action, Method, redrive};
use uuid::Uuid;

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn the_largest_dead_letters_are_redriven_by_stack_name_and_each_stored_once() {
    let Deployed { stack, aws, .. } = Deployed::load().await;
    let name = std::env::var("STACK_NAME").unwrap_or_else(|_| "epro-intake-local".into());
    let by_name = Stack::from_cloudformation(&aws.cloudformation, &name)
        .await
        .expect("the stack's outputs, from CloudFormation");
    assert_eq!(by_name.dead_letter_queue_url, stack.dead_letter_queue_url);
    assert_eq!(by_name.queue_url, stack.queue_url);

    // Dead letters of the largest valid body: ten of them are several times SQS's batch limit.
    let trial = fresh_trial("REDRIVE");
    let ids: Vec<(String, Uuid)> = (0..10)
        .map(|n| (format!("P-{:06}", 900 + n), Uuid::new_v4()))
        .collect();
    for (patient, id) in &ids {
        let envelope = largest(example().trial(&trial).patient(patient).id(id)).envelope();
        let body = envelope.encode();
        assert!(body.len() * 10 > 2 * 1_048_576, "{} bytes", body.len());
        aws.sqs
            .send_message()
            .queue_url(&by_name.dead_letter_queue_url)
            .message_body(body)
            .send()
            .await
            .expect("dead letter planted");
    }

    let report = redrive(
        &aws.sqs,
        &by_name.dead_letter_queue_url,
        &by_name.queue_url,
        Action::Move(Method::Auto),
    )
    .await
    .expect("nothing aborts the redrive");
    eprintln!("[redrive] {report:?}");
    assert!(report.moved >= ids.len(), "{report:?}");
    assert_eq!(report.left, 0);
    assert_eq!(
        report.method,
        Some("receive, send, delete"),
        "the local SQS lacks StartMessageMoveTask, so auto falls back"
    );

    aws.wait_until_drained(&stack.queue_url, Duration::from_secs(120), |_| {})
        .await
        .unwrap();
    for (patient, id) in &ids {
        let records = aws
            .patient_answer_records(&stack, &trial, patient)
            .await
            .unwrap();
        let keys: Vec<&String> = records.keys().collect();
        assert_eq!(keys, [&format!("SUBMISSION#{id}")], "{patient}");
    }
}

/// A dead-letter queue far larger than one visibility timeout can read: every message counted once, and every one
/// still there, visible, when the count ends. (A queue of its own, so the redrive above cannot move them.)
#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_dry_run_counts_five_thousand_dead_letters_exactly_and_leaves_them_all() {
    const DEAD: usize = 5_000;
    let Deployed { aws, .. } = Deployed::load().await;
    let name = format!("redrive-count-{}", Uuid::new_v4().simple());
    let queue = aws
        .sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    // Valid envelopes and a few undecodable ones, sent ten to a call, eight calls at once.
    let envelope = example().envelope().encode();
    let batches = (0..DEAD / 10).map(|batch| {
        let (sqs, queue, envelope) = (aws.sqs.clone(), queue.clone(), envelope.clone());
        async move {
            let entries = (0..10).map(|n| {
                let body = if batch % 50 == 0 && n == 0 {
                    "not an envelope".to_owned()
                } else {
                    envelope.clone()
                };
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .message_body(body)
                    .build()
                    .unwrap()
            });
            let sent = sqs
                .send_message_batch()
                .queue_url(&queue)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .unwrap();
            assert!(sent.failed().is_empty());
        }
    });
    futures::stream::iter(batches)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;

    let started = std::time::Instant::now();
    let report = redrive(&aws.sqs, &queue, &queue, Action::Count)
        .await
        .expect("the count finishes");
    eprintln!(
        "[redrive] counted {} dead letters in {:.1} s: {:?}",
        report.found,
        started.elapsed().as_secs_f64(),
        report.by_kind
    );
    assert_eq!(report.found, DEAD);
    assert_eq!(report.by_kind["undecodable: not JSON"], DEAD / 500);
    assert_eq!(report.by_kind["submission"], DEAD - DEAD / 500);
    assert_eq!(report.moved, 0);
    // Nothing consumed, nothing left hidden: a second count sees every one again.
    let again = redrive(&aws.sqs, &queue, &queue, Action::Count)
        .await
        .unwrap();
    assert_eq!(again.found, DEAD);
    aws.sqs
        .delete_queue()
        .queue_url(&queue)
        .send()
        .await
        .unwrap();
}
