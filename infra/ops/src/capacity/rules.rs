//! AWS's documented scaling rules and default quotas, per hop of the intake. Each is a published figure; the model
//! in [`super::plan`] uses them as written and the plan names the ones a spike needs raised.

/// Synchronously invoked functions scale by 1,000 execution environments every 10 seconds, each function on its own.
/// <https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html> ("Concurrency scaling rate").
pub const LAMBDA_SCALE_STEP: f64 = 1_000.0;
pub const LAMBDA_SCALE_PERIOD_SECONDS: f64 = 10.0;

/// Concurrent executions per account and Region, by default (a quota to raise).
/// <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>
pub const LAMBDA_ACCOUNT_CONCURRENCY: f64 = 1_000.0;

/// Requests per second across all APIs of an account in a Region, by default (a quota to raise), and its burst.
/// <https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>
pub const API_ACCOUNT_RATE: f64 = 10_000.0;
pub const API_ACCOUNT_BURST: f64 = 5_000.0;

/// This template's API stage throttle by default (`ThrottlingRateLimit`, `ThrottlingBurstLimit`).
pub const TEMPLATE_STAGE_RATE: f64 = 2_000.0;

/// This template's bound on concurrent process invocations by default (`ProcessMaximumConcurrency`).
pub const TEMPLATE_PROCESS_CONCURRENCY: f64 = 50.0;

/// The SQS event source, standard mode: five concurrent batches to start, up to 300 more invocations a minute, up
/// to 1,250 concurrent invocations.
/// <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html>
pub const SQS_STANDARD_START: f64 = 5.0;
pub const SQS_STANDARD_RAMP_PER_MINUTE: f64 = 300.0;
pub const SQS_STANDARD_MAX: f64 = 1_250.0;

/// The SQS event source, provisioned mode: each event poller drives up to 10 concurrent invocations; pollers are
/// added at up to 1,000 concurrent invocations a minute, between the configured minimum and maximum pollers.
/// <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html> ("Provisioned mode").
pub const SQS_INVOCATIONS_PER_POLLER: f64 = 10.0;
pub const SQS_PROVISIONED_RAMP_PER_MINUTE: f64 = 1_000.0;

/// A new on-demand table serves up to 4,000 writes a second at once; beyond that (and up to twice a previous peak)
/// it adapts over minutes, unless warm throughput was set ahead. One table may take 40,000 write units a second by
/// default (a quota to raise); one partition, 1,000.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html>,
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html>,
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html>
pub const DYNAMODB_NEW_TABLE_WRITES: f64 = 4_000.0;
pub const DYNAMODB_TABLE_WRITE_QUOTA: f64 = 40_000.0;
pub const DYNAMODB_PARTITION_WRITES: f64 = 1_000.0;

/// Write units one submission's entry in the by-trial index costs: keys only, under 1 KB.
pub const INDEX_WRITE_UNITS_PER_SUBMISSION: f64 = 1.0;

/// Headroom the plan adds to every computed need.
pub const HEADROOM: f64 = 1.2;

/// How long before a reminder to start pre-warming: provisioned concurrency takes minutes to allocate.
/// <https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html>
pub const PREWARM_LEAD_MINUTES: f64 = 15.0;
