use super::cost::{cost, total};
use super::plan::{Setup, Shape, Spike, Workload, recommend, simulate};
use super::rules::*;
use super::{PerSubmission, Prices};

fn figures() -> PerSubmission {
    PerSubmission {
        submit_billed_ms: 4.0,
        submit_memory_mb: 256.0,
        process_billed_ms_per_record: 2.0,
        process_memory_mb: 256.0,
        batch_size: 10.0,
        write_units: 7.0,
        read_units: 0.0,
        log_bytes: 500.0,
        message_bytes: 1_500.0,
        traced_share: 0.05,
    }
}

fn workload() -> Workload {
    Workload {
        submit_ms: 10.0,
        process_ms_per_record: 2.0,
        write_units: 7.0,
    }
}

fn spike(patients: f64, window_seconds: f64, shape: Shape) -> Spike {
    Spike {
        patients,
        surveys_each: 1.0,
        window_seconds,
        shape,
        trials: 1.0,
    }
}

#[test]
fn the_price_table_names_a_date_and_an_aws_source_for_every_price_the_cost_model_uses() {
    let prices = Prices::us_east_1();
    assert_eq!(prices.region, "us-east-1");
    assert!(
        time::Date::parse(
            &prices.entered,
            &time::format_description::well_known::Iso8601::DATE
        )
        .is_ok()
    );
    let items = cost(&figures(), &prices, 1.0);
    for item in &items {
        let price = prices.get(item.price);
        assert!(
            price.source.starts_with("https://aws.amazon.com/"),
            "{}: {}",
            item.price,
            price.source
        );
        assert!(price.usd > 0.0 && price.per > 0.0);
    }
}

#[test]
fn a_million_submissions_cost_each_service_by_its_own_unit() {
    let items = cost(&figures(), &Prices::us_east_1(), 1e6);
    let usd = |what: &str| {
        items
            .iter()
            .find(|i| i.what.starts_with(what))
            .map(|i| i.usd)
            .unwrap()
    };
    // One API request each ($1.00 a million); one send, and a receive and a delete per batch of 10 ($0.40 a million).
    assert!((usd("API Gateway") - 1.00).abs() < 1e-9);
    assert!((usd("SQS") - 1.2 * 0.40).abs() < 1e-9);
    // 7 write units each at $0.625 a million; 4 ms at 256 MB = 0.001 GB-s each.
    assert!((usd("DynamoDB write") - 7.0 * 0.625).abs() < 1e-9);
    assert!((usd("Lambda duration, submit") - 1e6 * 0.001 * 0.0000133334).abs() < 1e-9);
    assert!((total(&items) - items.iter().map(|i| i.usd).sum::<f64>()).abs() < 1e-12);
}

#[test]
fn a_peaked_wave_peaks_at_twice_its_mean_and_delivers_every_submission() {
    let wave = spike(60_000.0, 60.0, Shape::Peaked);
    assert_eq!(wave.peak_rate(), 2_000.0);
    let delivered: f64 = (0..60).map(|t| wave.arrivals(t as f64)).sum();
    assert!((delivered - 60_000.0).abs() < 1.0, "{delivered}");
}

#[test]
fn a_spike_within_every_default_passes_without_refusal_and_the_queue_keeps_up() {
    let outcome = simulate(
        &spike(30_000.0, 60.0, Shape::Uniform),
        &Setup::aws_defaults(),
        &workload(),
    );
    assert_eq!(outcome.api_throttled, 0.0);
    assert_eq!(outcome.submit_throttled, 0.0);
    // 500 a second at 7 write units is under a new table's 4,000; 50 invocations drain 25,000 a second.
    assert!(outcome.oldest_message_seconds <= 2.0, "{outcome:?}");
    assert!(outcome.drained_second <= 62.0, "{outcome:?}");
}

#[test]
fn requests_above_the_stage_throttle_are_refused_and_counted() {
    let outcome = simulate(
        &spike(1_200_000.0, 60.0, Shape::Uniform),
        &Setup::aws_defaults(),
        &workload(),
    );
    // 20,000 a second against the stage's 2,000: 18,000 of each second's arrivals.
    assert!(
        (outcome.api_throttled - 1_080_000.0).abs() < 1.0,
        "{}",
        outcome.api_throttled
    );
}

#[test]
fn a_new_table_then_the_one_index_partition_bound_the_drain_until_warmed_and_sharded() {
    let wave = spike(600_000.0, 60.0, Shape::Uniform);
    let close = |got: f64, expected: f64| (got - expected).abs() / expected < 0.02;
    // 10,000 a second in; a new table takes 4,000 write units a second = 571 submissions a second out.
    let mut setup = Setup::aws_defaults();
    setup.api_rate = 1e9;
    setup.account_concurrency = 1e9;
    setup.index_shards = 1.0; // as the index was before it was sharded
    let outcome = simulate(&wave, &setup, &workload());
    assert_eq!(outcome.drain_limited_by, "table write throughput");
    assert!(
        close(
            outcome.drained_second,
            600_000.0 / (DYNAMODB_NEW_TABLE_WRITES / 7.0)
        ),
        "{outcome:?}"
    );
    // Warmed, the trial's one index partition (1,000 entries a second) is next.
    setup.table_writes = 1e9;
    let outcome = simulate(&wave, &setup, &workload());
    assert_eq!(outcome.drain_limited_by, "by-trial index partition");
    assert!(close(outcome.drained_second, 600.0), "{outcome:?}");
    // Sharded over 20 partitions, the queue keeps up.
    setup.index_shards = 20.0;
    let outcome = simulate(&wave, &setup, &workload());
    assert!(outcome.drained_second <= 62.0, "{outcome:?}");
}

#[test]
fn the_standard_event_source_ramps_by_300_a_minute_from_five() {
    let mut setup = Setup::aws_defaults();
    setup.event_source = super::EventSourceMode::Standard {
        maximum_concurrency: 1_000.0,
    };
    setup.table_writes = 1e9;
    setup.index_shards = 1e6;
    // Slow records (1 s each) make the event source the bound: a minute in, 5 + 300 invocations.
    let slow = Workload {
        submit_ms: 10.0,
        process_ms_per_record: 1_000.0,
        write_units: 1.0,
    };
    let outcome = simulate(&spike(600_000.0, 60.0, Shape::Uniform), &setup, &slow);
    assert_eq!(
        outcome.drain_limited_by,
        "process concurrency (event source)"
    );
    assert!(
        (outcome.process_peak_concurrency - 1_000.0).abs() < 1.0,
        "{outcome:?}"
    );
}

#[test]
fn the_plan_for_50_000_a_second_refuses_nothing_starts_nothing_cold_and_keeps_the_queue_short() {
    let wave = spike(1_500_000.0, 60.0, Shape::Peaked);
    assert_eq!(wave.peak_rate(), 50_000.0);
    let defaults = simulate(&wave, &Setup::aws_defaults(), &workload());
    assert!(
        defaults.api_throttled > 0.0 && defaults.oldest_message_seconds > 60.0,
        "{defaults:?}"
    );
    let setup = recommend(&wave, &workload());
    assert!(setup.api_rate >= 50_000.0 * HEADROOM);
    assert!(setup.table_writes >= 50_000.0 * 7.0);
    let planned = simulate(&wave, &setup, &workload());
    assert_eq!(
        planned.api_throttled + planned.submit_throttled,
        0.0,
        "{planned:?}"
    );
    assert_eq!(
        planned.submit_cold_starts, 0.0,
        "provisioned concurrency covers the peak: {planned:?}"
    );
    assert!(planned.oldest_message_seconds <= 5.0, "{planned:?}");
    assert!(planned.drained_second <= 65.0, "{planned:?}");
    // One trial at 50,000 a second needs 60 index partitions; the layout has 64.
    assert_eq!(super::plan::index_shards_needed(&wave), 60.0);
    assert!(f64::from(intake::item::BY_TRIAL_SHARDS) >= super::plan::index_shards_needed(&wave));
}

#[test]
fn the_printed_plan_for_50_000_a_second_names_each_quota_parameter_and_the_cost() {
    use super::report::{Inputs, plan, render};
    let figures = super::StackFigures {
        per_submission: figures(),
        submit_warm_p99_ms: 6.0,
    };
    let wave = spike(1_500_000.0, 60.0, Shape::Peaked);
    let prices = Prices::us_east_1();
    let inputs = Inputs {
        spike: &wave,
        figures: &figures,
        stack: "Rust",
        measured_on: "2026-11-30",
        duration_factor: 1.0,
        p99_target_ms: 100.0,
        prices: &prices,
    };
    let text = render(&inputs, &plan(&inputs));
    for expected in [
        "peak 50,000 submissions/s",
        "10,000 → 60,000",
        "ThrottlingRateLimit=60000",
        "TableWarmWriteUnitsPerSecond=420000",
        "SubmitProvisionedConcurrency=",
        "ProcessMinimumPollers=",
        "has 64 shards a trial; this wave needs 60: enough",
        "0 refused and 0 cold starts",
        "Cost of the wave: $",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("NOT"), "{text}");
}
