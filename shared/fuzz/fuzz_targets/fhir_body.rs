//! The FHIR submit entry point: any bytes as a `QuestionnaireResponse` body (read, judge, envelope, item, render).
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| intake::invariants::fhir_body(body));
