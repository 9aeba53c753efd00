//! The local function loop Rust Lambda developers expect: `cargo lambda watch` serves both functions against the
//! local AWS, and `cargo lambda invoke` with the sample events in `functions/*/events/` gets the answers the
//! README promises. `make watch` starts the same server by hand.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use intake::testing::example;
use intake_e2e::deployed::Deployed;
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const PORT: u16 = 9301;

/// `cargo lambda watch`, stopped when dropped.
struct Watch(std::process::Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn watch(deployed: &Deployed) -> Watch {
    let variables = format!(
        "QUEUE_URL={},TABLE_NAME={}",
        deployed.stack.queue_url, deployed.stack.table_name
    );
    let child = Command::new("cargo")
        .args(["lambda", "watch", "--quiet", "--ignore-changes"])
        .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
        .arg(PORT.to_string())
        .args(["--env-var", &variables])
        .current_dir(ROOT)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo lambda is on PATH (make setup installs it)");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", PORT)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cargo lambda watch did not listen"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Watch(child)
}

/// `cargo lambda invoke <function> --data-file <event>`: the function's answer as JSON. The first invoke of each
/// function compiles it.
fn invoke(function: &str, event: &str) -> Value {
    let event = Path::new(ROOT).join("functions").join(function).join(event);
    let output = Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            function,
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &PORT.to_string(), "--data-file"])
        .arg(&event)
        .current_dir(ROOT)
        .output()
        .expect("cargo lambda invoke runs");
    assert!(
        output.status.success(),
        "invoke {function}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "invoke {function} answered {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[tokio::test]
#[ignore = "needs a deployed stack and cargo-lambda: run `make e2e`"]
async fn cargo_lambda_invokes_both_functions_with_the_sample_events() {
    let deployed = Deployed::load().await;
    let _watch = watch(&deployed);

    let answer = invoke("submit", "events/submission.json");
    assert_eq!(answer["statusCode"], 202, "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().expect("a body")).unwrap();
    assert_eq!(body["submissionId"], example::SUBMISSION_ID);
    assert_eq!(body["status"], "accepted");

    // A valid record, the same submission again, and one that is not an envelope: only the last comes back.
    let answer = invoke("process", "events/batch.json");
    assert_eq!(
        answer,
        json!({ "batchItemFailures": [{ "itemIdentifier": "poison-1" }] })
    );
    let stored = deployed
        .aws
        .patient_answer_records(&deployed.stack, example::TRIAL_ID, example::PATIENT_ID)
        .await
        .unwrap();
    assert!(stored.contains_key(&format!("SUBMISSION#{}", example::SUBMISSION_ID)));
}
