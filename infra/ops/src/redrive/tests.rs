//! The redrive's decisions against the SDK's mocks: the move task on AWS, the fallback where SQS lacks it, and
//! batches SQS finds too long. (The copy method also runs end to end against the local stack.)

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::ErrorMetadata;
use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchOutput;
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
use aws_sdk_sqs::operation::list_message_move_tasks::ListMessageMoveTasksOutput;
use aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput;
use aws_sdk_sqs::operation::send_message_batch::{SendMessageBatchError, SendMessageBatchOutput};
use aws_sdk_sqs::operation::start_message_move_task::{
    StartMessageMoveTaskError, StartMessageMoveTaskOutput,
};
use aws_sdk_sqs::types::error::BatchRequestTooLong;
use aws_sdk_sqs::types::{
    DeleteMessageBatchResultEntry, ListMessageMoveTasksResultEntry, Message, QueueAttributeName,
    SendMessageBatchResultEntry,
};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};

use super::{Action, Method, redrive};

const DLQ: &str = "https://sqs.example/1/dlq";
const QUEUE: &str = "https://sqs.example/1/queue";

fn arns() -> Rule {
    mock!(Client::get_queue_attributes).then_compute_output(|request| {
        let name = request.queue_url().unwrap().rsplit('/').next().unwrap();
        GetQueueAttributesOutput::builder()
            .attributes(
                QueueAttributeName::QueueArn,
                format!("arn:aws:sqs:eu-west-1:1:{name}"),
            )
            .build()
    })
}

fn task(status: &str, moved: i64) -> ListMessageMoveTasksOutput {
    ListMessageMoveTasksOutput::builder()
        .results(
            ListMessageMoveTasksResultEntry::builder()
                .status(status)
                .approximate_number_of_messages_moved(moved)
                .approximate_number_of_messages_to_move(7)
                .build(),
        )
        .build()
}

fn started() -> Rule {
    mock!(Client::start_message_move_task)
        .match_requests(|r| {
            r.source_arn() == Some("arn:aws:sqs:eu-west-1:1:dlq")
                && r.destination_arn() == Some("arn:aws:sqs:eu-west-1:1:queue")
        })
        .then_output(|| {
            StartMessageMoveTaskOutput::builder()
                .task_handle("h")
                .build()
        })
}

fn no_move_tasks() -> Rule {
    mock!(Client::start_message_move_task).then_error(|| {
        StartMessageMoveTaskError::generic(ErrorMetadata::builder().code("InvalidAction").build())
    })
}

fn messages(bodies: &'static [&'static str]) -> Rule {
    mock!(Client::receive_message)
        .sequence()
        .output(move || {
            ReceiveMessageOutput::builder()
                .set_messages(Some(
                    bodies
                        .iter()
                        .enumerate()
                        .map(|(i, body)| {
                            Message::builder()
                                .body(*body)
                                .receipt_handle(format!("r{i}"))
                                .build()
                        })
                        .collect(),
                ))
                .build()
        })
        .output(|| ReceiveMessageOutput::builder().build())
        .repeatedly()
        .build()
}

/// Accepts batches of at most `most` entries, refuses larger ones as too long.
fn sends(most: usize) -> Rule {
    mock!(Client::send_message_batch).then_compute_response(move |request| {
        if request.entries().len() > most {
            return MockResponse::Error(SendMessageBatchError::BatchRequestTooLong(
                BatchRequestTooLong::builder().build(),
            ));
        }
        let mut output = SendMessageBatchOutput::builder().set_failed(Some(vec![]));
        for entry in request.entries() {
            output = output.successful(
                SendMessageBatchResultEntry::builder()
                    .id(entry.id())
                    .message_id("m")
                    .md5_of_message_body("x")
                    .build()
                    .unwrap(),
            );
        }
        MockResponse::Output(output.build().unwrap())
    })
}

fn deletes() -> Rule {
    mock!(Client::delete_message_batch).then_compute_output(|request| {
        let mut output = DeleteMessageBatchOutput::builder().set_failed(Some(vec![]));
        for entry in request.entries() {
            output = output.successful(
                DeleteMessageBatchResultEntry::builder()
                    .id(entry.id())
                    .build()
                    .unwrap(),
            );
        }
        output.build().unwrap()
    })
}

#[tokio::test(start_paused = true)]
async fn on_aws_the_move_task_moves_them_and_its_own_count_is_reported() {
    let (arns, started) = (arns(), started());
    let progress = mock!(Client::list_message_move_tasks)
        .sequence()
        .output(|| task("RUNNING", 3))
        .output(|| task("COMPLETED", 7))
        .build();
    let receive = messages(&[]);
    let sqs = mock_client!(
        aws_sdk_sqs,
        RuleMode::MatchAny,
        [&arns, &started, &progress, &receive]
    );
    let report = redrive(&sqs, DLQ, QUEUE, Action::Move(Method::Auto))
        .await
        .unwrap();
    assert_eq!((report.found, report.moved, report.left), (7, 7, 0));
    assert_eq!(report.method, Some("StartMessageMoveTask"));
    assert_eq!(started.num_calls(), 1);
    assert_eq!(receive.num_calls(), 0, "SQS moved them; we read none");
}

#[tokio::test(start_paused = true)]
async fn a_move_task_that_fails_is_an_error_not_a_success() {
    let (arns, started) = (arns(), started());
    let failed = mock!(Client::list_message_move_tasks).then_output(|| {
        ListMessageMoveTasksOutput::builder()
            .results(
                ListMessageMoveTasksResultEntry::builder()
                    .status("FAILED")
                    .approximate_number_of_messages_moved(2)
                    .failure_reason("AccessDenied")
                    .build(),
            )
            .build()
    });
    let sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, [&arns, &started, &failed]);
    let error = redrive(&sqs, DLQ, QUEUE, Action::Move(Method::Auto))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("FAILED after moving 2: AccessDenied"),
        "{error}"
    );
}

#[tokio::test]
async fn where_sqs_lacks_move_tasks_they_are_sent_then_deleted() {
    let (arns, unsupported) = (arns(), no_move_tasks());
    let (receive, send, delete) = (messages(&["a", "b", "c"]), sends(10), deletes());
    let sqs = mock_client!(
        aws_sdk_sqs,
        RuleMode::MatchAny,
        [&arns, &unsupported, &receive, &send, &delete]
    );
    let report = redrive(&sqs, DLQ, QUEUE, Action::Move(Method::Auto))
        .await
        .unwrap();
    assert_eq!((report.found, report.moved, report.left), (3, 3, 0));
    assert_eq!(report.method, Some("receive, send, delete"));
    assert_eq!(report.by_kind.get("undecodable: not JSON"), Some(&3));
    assert_eq!((send.num_calls(), delete.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_forced_move_task_never_falls_back_silently() {
    let (arns, unsupported) = (arns(), no_move_tasks());
    let receive = messages(&["a"]);
    let sqs = mock_client!(
        aws_sdk_sqs,
        RuleMode::MatchAny,
        [&arns, &unsupported, &receive]
    );
    let error = redrive(&sqs, DLQ, QUEUE, Action::Move(Method::MoveTask))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("--method copy"), "{error}");
    assert_eq!(receive.num_calls(), 0);
}

#[tokio::test]
async fn a_batch_sqs_finds_too_long_is_halved_until_it_fits_and_nothing_is_left() {
    let (receive, send, delete) = (messages(&["a", "b", "c", "d", "e"]), sends(2), deletes());
    let sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, [&receive, &send, &delete]);
    let report = redrive(&sqs, DLQ, QUEUE, Action::Move(Method::Copy))
        .await
        .unwrap();
    assert_eq!((report.found, report.moved, report.left), (5, 5, 0));
    // 5 refused, then 3 refused and 2 sent, then 1 and 2 sent (halves of 3): five calls, none aborted.
    assert_eq!(send.num_calls(), 5);
}

#[tokio::test]
async fn a_message_too_long_even_alone_stays_in_the_dead_letter_queue_reported() {
    let (receive, send, delete) = (messages(&["a", "b"]), sends(0), deletes());
    let sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, [&receive, &send, &delete]);
    let report = redrive(&sqs, DLQ, QUEUE, Action::Move(Method::Copy))
        .await
        .unwrap();
    assert_eq!((report.found, report.moved, report.left), (2, 0, 2));
    assert_eq!(delete.num_calls(), 0, "nothing sent, nothing deleted");
}

/// Receives of ids `ids` (one receive each), then nothing.
fn receives(ids: &'static [&'static [&'static str]]) -> Rule {
    let mut rule = mock!(Client::receive_message).sequence();
    for batch in ids {
        rule = rule.output(move || {
            ReceiveMessageOutput::builder()
                .set_messages(Some(
                    batch
                        .iter()
                        .map(|id| {
                            Message::builder()
                                .message_id(*id)
                                .body(format!("body of {id}"))
                                .receipt_handle(format!("handle of {id}"))
                                .build()
                        })
                        .collect(),
                ))
                .build()
        });
    }
    rule.output(|| ReceiveMessageOutput::builder().build())
        .repeatedly()
        .build()
}

#[tokio::test]
async fn a_count_sees_each_message_once_even_delivered_twice_and_leaves_every_one_visible() {
    use aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchOutput;
    use std::sync::{Arc, Mutex};

    let released = Arc::new(Mutex::new(Vec::new()));
    let release = {
        let released = Arc::clone(&released);
        mock!(Client::change_message_visibility_batch).then_compute_output(move |request| {
            for entry in request.entries() {
                assert_eq!(
                    entry.visibility_timeout(),
                    Some(0),
                    "only the final release"
                );
                released
                    .lock()
                    .unwrap()
                    .push(entry.receipt_handle().to_owned());
            }
            ChangeMessageVisibilityBatchOutput::builder()
                .set_successful(Some(vec![]))
                .set_failed(Some(vec![]))
                .build()
                .unwrap()
        })
    };
    // Twelve messages; "m3" comes back in a later receive (SQS delivers at least once).
    let ids: &[&[&str]] = &[
        &["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"],
        &["m3", "m10", "m11"],
    ];
    let sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, [&receives(ids), &release]);
    let report = redrive(&sqs, DLQ, QUEUE, Action::Count).await.unwrap();
    assert_eq!(report.found, 12);
    assert_eq!(report.moved, 0);
    let mut released = released.lock().unwrap().clone();
    released.sort();
    released.dedup();
    assert_eq!(released.len(), 12, "every message made visible again");
}
