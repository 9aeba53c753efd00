//! The same hello world on tokio's current-thread scheduler, as our functions run: the baseline without the worker
//! threads a default `#[tokio::main]` starts, so `make bench` shows what that choice alone is worth.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
