//! A function of either stack run as a plain process on this machine under a local Runtime API, as Lambda runs it:
//! the Rust binary itself, or a Python handler under `awslambdaric`, the runtime interface client Lambda's own
//! Python images use. Both are measured the same way: init from exec to the first `GET /next`, each invocation from
//! hand-out to answer, CPU time and peak memory from `/proc`, and what they write to stdout (Lambda's log stream).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use intake_e2e::Error;
use intake_e2e::stubs::{RuntimeApi, lambda_environment};
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::time::Instant;

/// How to start a function.
#[derive(Debug, Clone)]
pub enum Runtime {
    /// A `provided.al2023` bootstrap.
    Rust(PathBuf),
    /// `app.handler` in `code`, started with `python -m awslambdaric`.
    Python { python: PathBuf, code: PathBuf },
}

impl Runtime {
    fn command(&self) -> Command {
        match self {
            Runtime::Rust(bootstrap) => Command::new(bootstrap),
            Runtime::Python { python, code } => {
                let mut command = Command::new(python);
                command
                    .args(["-m", "awslambdaric", "app.handler"])
                    .current_dir(code)
                    .env("PYTHONPATH", code)
                    .env("LAMBDA_TASK_ROOT", code)
                    // Lambda's Python runtime does not write bytecode caches into the (read-only) package either.
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                command
            }
        }
    }
}

/// What one process did with its events.
#[derive(Debug)]
pub struct Run {
    /// Exec to the first `GET /next`.
    pub init: Duration,
    /// Hand-out to answer, per invocation, in order.
    pub durations: Vec<Duration>,
    /// Each invocation's answer.
    pub answers: Vec<Vec<u8>>,
    /// CPU time (user + system) spent on the invocations, init excluded.
    pub cpu: Duration,
    /// Peak resident set, KiB.
    pub peak_rss_kib: u64,
    /// Bytes written to stdout and stderr during the invocations (CloudWatch Logs ingests them).
    pub log_bytes: usize,
}

/// Starts `runtime` as function `name` with `env`, hands it `events` one at a time, and measures. Any invocation
/// that fails fails the run.
pub async fn run(
    runtime: &Runtime,
    name: &str,
    env: &[(String, String)],
    events: Vec<String>,
) -> Result<Run, Error> {
    let count = events.len();
    let api = RuntimeApi::start(events).await?;
    let started = Instant::now();
    let mut child = runtime
        .command()
        .envs(lambda_environment(api.address, name))
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let logs = count_output(&mut child);
    let first = api
        .first_next(Duration::from_secs(30))
        .await
        .ok_or_else(|| format!("{name}: no GET /next within 30 s"))?;
    let pid = child.id().ok_or_else(|| format!("{name} exited early"))?;
    let cpu_at_init = cpu_time(pid)?;
    let logged_at_init = logs.snapshot();
    let timeout = Duration::from_secs(30 + count as u64);
    let errors = api
        .wait_for_responses(count, timeout)
        .await
        .ok_or_else(|| format!("{name}: {count} invocations not answered in {timeout:?}"))?;
    if errors > 0 {
        return Err(format!("{name}: {errors} of {count} invocations failed").into());
    }
    let cpu = cpu_time(pid)?.saturating_sub(cpu_at_init);
    let peak_rss_kib = peak_rss(pid)?;
    child.kill().await?;
    let (durations, answers) = api.answered().into_iter().unzip();
    Ok(Run {
        init: first - started,
        durations,
        answers,
        cpu,
        peak_rss_kib,
        log_bytes: logs.snapshot() - logged_at_init,
    })
}

/// One function to start again and again.
pub struct Starting<'a> {
    /// How it runs.
    pub runtime: &'a Runtime,
    /// Its function name.
    pub function: &'a str,
    /// Its environment, beside the Lambda variables.
    pub env: &'a [(String, String)],
}

/// Median milliseconds from exec to the first `GET /next` over `runs` fresh processes of each function, with a
/// progress bar named `label`. Interleaved: each round starts every function once (the first one turning round by
/// round), so a busy stretch of the machine falls on all of them, not on one, and ratios between them hold.
pub async fn init_medians(
    functions: &[Starting<'_>],
    runs: usize,
    label: &str,
) -> Result<Vec<f64>, Error> {
    let bar = crate::workload::progress(runs * functions.len(), label);
    let mut samples = vec![Vec::with_capacity(runs); functions.len()];
    for round in 0..runs {
        for turn in 0..functions.len() {
            let index = (round + turn) % functions.len();
            let Starting {
                runtime,
                function,
                env,
            } = &functions[index];
            let init = run(runtime, function, env, Vec::new()).await?.init;
            samples[index].push(init.as_secs_f64() * 1000.0);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(samples
        .into_iter()
        .map(|mut sorted| {
            sorted.sort_by(f64::total_cmp);
            sorted[sorted.len() / 2]
        })
        .collect())
}

/// Counts what a child writes to its stdout and stderr, as it writes.
struct OutputCounter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl OutputCounter {
    fn snapshot(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn count_output(child: &mut tokio::process::Child) -> OutputCounter {
    let total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let streams: Vec<Box<dyn tokio::io::AsyncRead + Unpin + Send>> = [
        child.stdout.take().map(|s| Box::new(s) as _),
        child.stderr.take().map(|s| Box::new(s) as _),
    ]
    .into_iter()
    .flatten()
    .collect();
    for mut stream in streams {
        let total = total.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0; 64 * 1024];
            while let Ok(read) = stream.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                total.fetch_add(read, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    OutputCounter(total)
}

/// User + system CPU time of `pid` so far (`/proc/<pid>/stat` fields 14 and 15, in clock ticks).
fn cpu_time(pid: u32) -> Result<Duration, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after it are counted from its closing parenthesis.
    let after_name = stat
        .rsplit_once(')')
        .ok_or("unreadable /proc/<pid>/stat")?
        .1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second(),
    ))
}

/// `getconf CLK_TCK`: 100 on every Linux this runs on, asked rather than assumed.
fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `VmHWM` of `pid`, KiB.
fn peak_rss(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/<pid>/status".into())
}
