//! Loopback stand-ins for what a Lambda binary talks to, so benchmarks can run it as a plain process:
//! - [`RuntimeApi`]: the Lambda Runtime API (hands out events, takes responses, notes the first `GET /next`);
//! - [`accept_all`]: a service endpoint that answers every request `200 {}` (DynamoDB's reply to a `PutItem`);
//! - [`RecordingProxy`]: forwards every request unchanged to a real endpoint and keeps a copy of each request.
//!
//! HTTP/1.1 with keep-alive and `Content-Length` bodies only: all these clients send.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one request (head and body); `None` when the client closed the connection.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.ok()?;
        head.push(byte);
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn respond(
    stream: &mut BufReader<TcpStream>,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> bool {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // One write: head and body in two would wait out the client's delayed ACK (40 ms) under Nagle's algorithm.
    let mut answer = head.into_bytes();
    answer.extend_from_slice(body);
    stream.get_mut().write_all(&answer).await.is_ok()
}

/// Answers every request `200 {}` until the runtime ends. Returns its address.
pub async fn accept_all() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                while read_request(&mut stream).await.is_some() {
                    let headers = [("content-type", "application/x-amz-json-1.0".to_owned())];
                    if !respond(&mut stream, "200 OK", &headers, b"{}").await {
                        break;
                    }
                }
            });
        }
    });
    Ok(address)
}

/// One request that went through a [`RecordingProxy`], with the answer it got.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The `x-amz-target` header (`DynamoDB_20120810.PutItem`), if any.
    pub target: Option<String>,
    pub body: Vec<u8>,
    /// The answer's body (what a read returned).
    pub response: Vec<u8>,
}

/// A proxy in front of a real endpoint (the local AWS): forwards each request as it came, Host header and signature
/// included, answers with the endpoint's answer, and keeps a copy of each request and its answer, to count what a
/// client sends and reads.
#[derive(Clone)]
pub struct RecordingProxy {
    pub address: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl RecordingProxy {
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = RecordingProxy {
            address: listener.local_addr()?,
            recorded: Arc::default(),
        };
        let (upstream, recorded) = (
            upstream.trim_end_matches('/').to_owned(),
            proxy.recorded.clone(),
        );
        let client = reqwest::Client::new();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, recorded, client) =
                    (upstream.clone(), recorded.clone(), client.clone());
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    while let Some(request) = read_request(&mut stream).await {
                        let target = request
                            .headers
                            .iter()
                            .find(|(name, _)| name == "x-amz-target")
                            .map(|(_, value)| value.clone());
                        let sent = request.body.clone();
                        let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes())
                        else {
                            break;
                        };
                        let mut forward =
                            client.request(method, format!("{upstream}{}", request.path));
                        for (name, value) in &request.headers {
                            if name != "content-length" && name != "connection" {
                                forward = forward.header(name, value);
                            }
                        }
                        let Ok(answer) = forward.body(request.body).send().await else {
                            break;
                        };
                        let status = answer.status();
                        let headers: Vec<(String, String)> = answer
                            .headers()
                            .iter()
                            .filter(|(name, _)| {
                                !matches!(
                                    name.as_str(),
                                    "content-length" | "transfer-encoding" | "connection"
                                )
                            })
                            .filter_map(|(name, value)| {
                                Some((name.to_string(), value.to_str().ok()?.to_owned()))
                            })
                            .collect();
                        let body = answer.bytes().await.unwrap_or_default();
                        recorded
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(Recorded {
                                target,
                                body: sent,
                                response: body.to_vec(),
                            });
                        let headers: Vec<(&str, String)> = headers
                            .iter()
                            .map(|(name, value)| (name.as_str(), value.clone()))
                            .collect();
                        let status = format!(
                            "{} {}",
                            status.as_str(),
                            status.canonical_reason().unwrap_or("")
                        );
                        if !respond(&mut stream, &status, &headers, &body).await {
                            break;
                        }
                    }
                });
            }
        });
        Ok(proxy)
    }

    /// Every request so far, in arrival order; forgets them.
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.recorded.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Default)]
struct State {
    events: VecDeque<String>,
    first_next: Option<Instant>,
    /// When each invocation was handed out: `request-<n>` is the n-th.
    handed_out: Vec<Instant>,
    /// Per answered invocation: how long from hand-out to answer, and the answer's body.
    answered: Vec<(Duration, Vec<u8>)>,
    responses: Vec<String>,
    errors: usize,
}

/// A Lambda Runtime API serving a fixed list of events, then holding `GET /next` open (as Lambda does while idle).
#[derive(Clone)]
pub struct RuntimeApi {
    pub address: SocketAddr,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

impl RuntimeApi {
    pub async fn start(events: Vec<String>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let api = RuntimeApi {
            address: listener.local_addr()?,
            state: Arc::new(Mutex::new(State {
                events: events.into(),
                ..State::default()
            })),
            changed: Arc::new(Notify::new()),
        };
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(stream));
            }
        });
        Ok(api)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn serve(self, stream: TcpStream) {
        let mut stream = BufReader::new(stream);
        while let Some(request) = read_request(&mut stream).await {
            if request.method == "GET" && request.path.ends_with("/invocation/next") {
                let (event, request_id) = {
                    let mut state = self.state();
                    state.first_next.get_or_insert_with(Instant::now);
                    let event = state.events.pop_front();
                    if event.is_some() {
                        state.handed_out.push(Instant::now());
                    }
                    (event, state.handed_out.len())
                };
                self.changed.notify_waiters();
                let Some(event) = event else {
                    std::future::pending::<()>().await;
                    return;
                };
                let deadline = SystemTime::now() + Duration::from_secs(60);
                let deadline_ms = deadline
                    .duration_since(UNIX_EPOCH)
                    .expect("after 1970")
                    .as_millis();
                let headers = [
                    ("content-type", "application/json".to_owned()),
                    (
                        "lambda-runtime-aws-request-id",
                        format!("request-{request_id}"),
                    ),
                    ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:000000000000:function:bench".to_owned(),
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000".to_owned(),
                    ),
                ];
                if !respond(&mut stream, "200 OK", &headers, event.as_bytes()).await {
                    return;
                }
            } else {
                {
                    let mut state = self.state();
                    if request.path.ends_with("/error") {
                        state.errors += 1;
                    }
                    // `/runtime/invocation/request-<n>/response`: the invocation handed out n-th.
                    let handed_out = request
                        .path
                        .split("request-")
                        .nth(1)
                        .and_then(|rest| rest.split('/').next())
                        .and_then(|n| n.parse::<usize>().ok())
                        .and_then(|n| state.handed_out.get(n - 1).copied());
                    if let Some(at) = handed_out {
                        state.answered.push((at.elapsed(), request.body));
                    }
                    state.responses.push(request.path);
                }
                self.changed.notify_waiters();
                if !respond(&mut stream, "202 Accepted", &[], b"").await {
                    return;
                }
            }
        }
    }

    /// When the binary first asked for an event: the end of its init.
    pub async fn first_next(&self, timeout: Duration) -> Option<Instant> {
        tokio::time::timeout(timeout, async {
            loop {
                let notified = self.changed.notified();
                if let Some(at) = self.state().first_next {
                    return at;
                }
                notified.await;
            }
        })
        .await
        .ok()
    }

    /// Each answered invocation's time from hand-out to answer, and its answer, in the order answered.
    pub fn answered(&self) -> Vec<(Duration, Vec<u8>)> {
        self.state().answered.clone()
    }

    /// Waits until `count` invocations have been answered (successfully or not); returns how many were errors.
    pub async fn wait_for_responses(&self, count: usize, timeout: Duration) -> Option<usize> {
        tokio::time::timeout(timeout, async {
            loop {
                let notified = self.changed.notified();
                {
                    let state = self.state();
                    if state.responses.len() >= count {
                        return state.errors;
                    }
                }
                notified.await;
            }
        })
        .await
        .ok()
    }
}

/// The environment Lambda gives a function, pointing at a local Runtime API.
pub fn lambda_environment(runtime: SocketAddr, name: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
