//! The submit entry point: any bytes as a request body (parse + validate + envelope + item).
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| intake::invariants::request_body(body));
