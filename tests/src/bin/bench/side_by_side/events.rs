//! The events both stacks' functions are handed on this machine: API Gateway requests for submit, SQS batches for
//! process.

use intake_e2e::Survey;
use serde_json::{Value, json};

use crate::workload::{as_records, bodies};

/// Records per process invocation, as the local stacks' event sources hand them out.
pub const BATCH: usize = 10;

/// `count` API Gateway (HTTP API, payload 2.0) events of valid generated surveys in the v1 JSON form, each with the
/// claims the JWT authorizer passes on for its patient.
pub(super) fn api_events(count: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(7);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (0..count)
        .map(|i| {
            let survey = Survey::generate("BENCH", &format!("P-{i:06}"), "day-7", &mut rng);
            let (path, content_type, body) = survey.request();
            json!({
                "version": "2.0",
                "routeKey": format!("POST {path}"),
                "rawPath": path,
                "rawQueryString": "",
                "headers": {"content-type": content_type, "host": "api.example"},
                "requestContext": {
                    "accountId": "000000000000", "apiId": "bench", "domainName": "api.example",
                    "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "bench"},
                    "requestId": format!("bench-{i}"), "routeKey": format!("POST {path}"), "stage": "$default",
                    "time": "30/Nov/2026:08:00:00 +0000", "timeEpoch": now * 1000,
                    "authorizer": {"jwt": {"claims": {
                        "sub": format!("user-{}", survey.patient_id), "patient_id": survey.patient_id,
                        "trial_id": survey.trial_id, "iat": now.to_string(), "exp": (now + 600).to_string(),
                    }, "scopes": null}},
                },
                "body": body,
                "isBase64Encoded": false,
            })
            .to_string()
        })
        .collect()
}

/// SQS events of `count` queue messages (envelopes of fresh generated surveys), `BATCH` a batch; and the mean
/// message size in bytes.
pub(super) fn sqs_events(count: usize) -> (Vec<String>, f64) {
    let bodies = bodies(count, true);
    let mean = bodies.iter().map(String::len).sum::<usize>() as f64 / count.max(1) as f64;
    let events = as_records(bodies)
        .chunks(BATCH)
        .map(|records| {
            let records: Vec<Value> = records
                .iter()
                .map(|record| {
                    json!({
                        "messageId": record.message_id, "receiptHandle": "r", "body": record.body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795334404000",
                                       "SenderId": "bench", "ApproximateFirstReceiveTimestamp": "1795334404000"},
                        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:bench", "awsRegion": "us-east-1",
                    })
                })
                .collect();
            json!({ "Records": records }).to_string()
        })
        .collect();
    (events, mean)
}
