//! The process entry point: any bytes as an SQS message body (envelope decoder).
#![no_main]

libfuzzer_sys::fuzz_target!(|message: &[u8]| intake::invariants::queue_message(message));
