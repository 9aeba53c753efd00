//! Tools to drive and inspect a deployed intake stack (local or AWS): an API client, a submission generator, the
//! load generator and auditor, the hostile corpus, and the stand-ins the benchmarks run functions against. Used by
//! the integration tests, `make demo` and `make bench`. The stack's outputs and read-only views of its queues and
//! table come from the operations crate (`intake_ops`).

pub mod alert_audit;
pub mod api;
pub mod audit;
pub mod deployed;
pub mod drill;
pub mod faults;
pub mod fhir;
pub mod flow;
pub mod hostile;
pub mod inbox;
pub mod load;
pub mod report;
pub mod schedule_report;
pub mod staff;
pub mod stubs;
pub mod survey;

pub use api::{
    ApiReply, TokenRequest, get_from, http_client, json_to, mint_token, post, post_to, send, submit,
};
pub use intake_ops::{Aws, Error, Stack};
pub use survey::Survey;
