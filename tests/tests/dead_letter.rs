//! A poison message (one that can never be processed) is retried `maxReceiveCount` times, then lands in the
//! dead-letter queue, untouched. Its own test binary: while it waits out the retries the queue is not empty, which
//! would stall the drain checks of the other integration tests.

use std::time::{Duration, Instant};

use intake_e2e::deployed::Deployed;
use uuid::Uuid;

#[tokio::test]
#[ignore = "needs a deployed stack: run `make e2e`"]
async fn a_poison_message_ends_in_the_dead_letter_queue() {
    let Deployed { stack, aws, .. } = Deployed::load().await;
    let poison = format!(r#"{{"schemaVersion": 1, "poison": "{}"}}"#, Uuid::new_v4());
    aws.sqs
        .send_message()
        .queue_url(&stack.queue_url)
        .message_body(&poison)
        .send()
        .await
        .expect("poison sent");

    // Five receives, each followed by a visibility timeout (18 s on the local stack).
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let received = aws
            .sqs
            .receive_message()
            .queue_url(&stack.dead_letter_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(5)
            .send()
            .await
            .expect("DLQ readable");
        if let Some(message) = received
            .messages()
            .iter()
            .find(|m| m.body() == Some(poison.as_str()))
        {
            aws.sqs
                .delete_message()
                .queue_url(&stack.dead_letter_queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .expect("cleaned up");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the poison message did not reach the DLQ in time"
        );
    }
    assert_eq!(
        aws.queue_depth(&stack.queue_url).await.unwrap(),
        0,
        "nothing left behind in the source queue"
    );
}
