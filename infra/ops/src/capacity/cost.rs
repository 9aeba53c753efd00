//! The cost of a million submissions on AWS, from figures measured per submission and the price table.

use serde::{Deserialize, Serialize};

use super::Prices;

/// What one accepted submission costs each service, as measured by `make bench` for one stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerSubmission {
    /// Mean billed duration of a submit invocation (each rounded up to the millisecond), ms.
    pub submit_billed_ms: f64,
    pub submit_memory_mb: f64,
    /// Mean billed duration of a process invocation divided by its batch size, ms.
    pub process_billed_ms_per_record: f64,
    pub process_memory_mb: f64,
    /// Records per process invocation.
    pub batch_size: f64,
    /// DynamoDB write request units, table and indexes.
    pub write_units: f64,
    /// DynamoDB read request units.
    pub read_units: f64,
    /// Bytes both functions log.
    pub log_bytes: f64,
    /// Size of the queue message (the request body is about the same), bytes.
    pub message_bytes: f64,
    /// Share of requests X-Ray records a trace of (0 without active tracing; 5 % under the default sampling rule at
    /// burst rates).
    pub traced_share: f64,
}

/// One line of a bill: what, how many units, the price named, and dollars.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub what: &'static str,
    pub units: f64,
    pub price: &'static str,
    pub usd: f64,
}

/// The cost of `submissions` accepted submissions, line by line (the arm64 Lambda prices: both stacks deploy arm64).
pub fn cost(figures: &PerSubmission, prices: &Prices, submissions: f64) -> Vec<LineItem> {
    let n = submissions;
    let gb_s = |ms: f64, mb: f64| ms / 1000.0 * mb / 1024.0;
    // API Gateway meters HTTP API requests in 512 KB steps, SQS requests in 64 KB steps.
    let api_requests = n * (figures.message_bytes / (512.0 * 1024.0)).ceil().max(1.0);
    let sqs_chunks = (figures.message_bytes / (64.0 * 1024.0)).ceil().max(1.0);
    // A send per submission; a receive and a batched delete per batch.
    let sqs_requests = n * sqs_chunks * (1.0 + 2.0 / figures.batch_size);
    let invocations = n * (1.0 + 1.0 / figures.batch_size);
    let line = |what, units: f64, price: &'static str| LineItem {
        what,
        units,
        price,
        usd: prices.get(price).of(units),
    };
    vec![
        line(
            "API Gateway HTTP API requests",
            api_requests,
            "apiHttpRequest",
        ),
        line(
            "Lambda invocations (submit + process)",
            invocations,
            "lambdaRequest",
        ),
        line(
            "Lambda duration, submit (GB-s)",
            n * gb_s(figures.submit_billed_ms, figures.submit_memory_mb),
            "lambdaArmGbSecond",
        ),
        line(
            "Lambda duration, process (GB-s)",
            n * gb_s(
                figures.process_billed_ms_per_record,
                figures.process_memory_mb,
            ),
            "lambdaArmGbSecond",
        ),
        line("SQS requests", sqs_requests, "sqsRequest"),
        line(
            "DynamoDB write request units",
            n * figures.write_units,
            "dynamodbWriteUnit",
        ),
        line(
            "DynamoDB read request units",
            n * figures.read_units,
            "dynamodbReadUnit",
        ),
        line(
            "CloudWatch Logs ingested (GB)",
            n * figures.log_bytes / 1e9,
            "logsIngestedGb",
        ),
        line("X-Ray traces", n * figures.traced_share, "xrayTrace"),
    ]
}

/// The cost of a million submissions.
pub fn per_million(figures: &PerSubmission, prices: &Prices) -> Vec<LineItem> {
    cost(figures, prices, 1e6)
}

/// The sum of a bill.
pub fn total(items: &[LineItem]) -> f64 {
    items.iter().map(|item| item.usd).sum()
}
