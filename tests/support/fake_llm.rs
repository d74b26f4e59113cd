//! A fake OpenAI-compatible chat-completions server on loopback, for tests and benches.
//!
//! It runs on its own thread and tokio runtime, so sync tests, `#[tokio::test]`s and benches
//! can all use it, and it outlives any one test runtime. Replies are scripted in order
//! ([`FakeLlm::push`]); when the script is empty, a responder closure answers if one is set,
//! else the fallback (`"ok"` unless changed). Every request is recorded. `POST .../embeddings`
//! answers one vector per input ([`FakeLlm::embed_with`]; by default the counts of the letters
//! a to z), without touching the chat script.
//!
//! ```ignore
//! let llm = FakeLlm::start();
//! llm.push(Reply::status(429, "slow down").with_retry_after("0"));
//! llm.push(Reply::text("hello").with_usage(12, 3, Some(0.001)));
//! // ... point the client at llm.url() ...
//! assert_eq!(llm.request_count(), 2);
//! ```
//!
//! Self-contained (hyper, tokio, serde_json, futures only) so a bench can include it with
//! `#[path = "../tests/support/fake_llm.rs"] mod fake_llm;`.

#![allow(dead_code)] // each test binary uses a different part of this

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

type Body = BoxBody<Bytes, Infallible>;
type Responder = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;
type Embedder = Arc<dyn Fn(&str) -> Vec<f32> + Send + Sync>;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `None` sends `"content": null`.
    content: Option<String>,
    /// (id, name, arguments exactly as sent: a JSON string, or any text).
    tool_calls: Vec<(String, String, String)>,
    status: u16,
    /// Sent as the whole body instead of a completion (an error, or anything malformed).
    raw_body: Option<String>,
    headers: Vec<(String, String)>,
    delay: Duration,
    usage: (u64, u64, Option<f64>),
    model: Option<String>,
    finish_reason: Option<String>,
    disconnect: bool,
}

impl Reply {
    /// A 200 with this content.
    pub fn text(content: impl Into<String>) -> Reply {
        Reply {
            content: Some(content.into()),
            tool_calls: Vec::new(),
            status: 200,
            raw_body: None,
            headers: Vec::new(),
            delay: Duration::ZERO,
            usage: (10, 5, None),
            model: None,
            finish_reason: None,
            disconnect: false,
        }
    }

    /// A 200 whose message has `content: null` and one native tool call.
    pub fn tool_call(id: &str, name: &str, arguments: Value) -> Reply {
        Reply { content: None, ..Reply::text("") }.with_tool_call(id, name, arguments)
    }

    /// Another tool call in the same message; arguments are sent as a JSON string.
    pub fn with_tool_call(self, id: &str, name: &str, arguments: Value) -> Reply {
        self.with_raw_tool_call(id, name, &arguments.to_string())
    }

    /// A tool call whose `arguments` string is sent as given (e.g. not JSON at all).
    pub fn with_raw_tool_call(mut self, id: &str, name: &str, arguments: &str) -> Reply {
        self.tool_calls.push((id.to_owned(), name.to_owned(), arguments.to_owned()));
        self
    }

    /// `status` with `body` exactly as given (JSON or not): errors, or a 200 that is not a
    /// completion.
    pub fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, raw_body: Some(body.into()), ..Reply::text("") }
    }

    /// An error in OpenAI's shape: `{"error": {"message": ..., "code": status}}`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::status(status, json!({"error": {"message": message, "code": status}}).to_string())
    }

    /// Close the connection without answering (a reset, as far as the client can tell).
    pub fn disconnect() -> Reply {
        Reply { disconnect: true, ..Reply::text("") }
    }

    pub fn with_retry_after(self, value: &str) -> Reply {
        self.with_header("retry-after", value)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Wait this long before answering (the request is recorded at once).
    pub fn with_delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// `usage.prompt_tokens`, `completion_tokens` and, when given, OpenRouter's `cost`.
    pub fn with_usage(mut self, prompt_tokens: u64, completion_tokens: u64, cost: Option<f64>) -> Reply {
        self.usage = (prompt_tokens, completion_tokens, cost);
        self
    }

    /// The answering model's name (default: the requested one).
    pub fn with_model(mut self, model: &str) -> Reply {
        self.model = Some(model.to_owned());
        self
    }

    /// Default: `tool_calls` when there are tool calls, else `stop`.
    pub fn with_finish_reason(mut self, reason: &str) -> Reply {
        self.finish_reason = Some(reason.to_owned());
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The JSON body; `Null` when it was not JSON.
    pub body: Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str())
    }
}

struct State {
    script: Mutex<VecDeque<Reply>>,
    responder: Mutex<Option<Responder>>,
    fallback: Mutex<Reply>,
    embedder: Mutex<Embedder>,
    requests: Mutex<Vec<RecordedRequest>>,
    served: AtomicUsize,
    /// Chat requests being answered now, and the most there ever were at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not take the server down with it.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    fn next_reply(&self, body: &Value) -> Reply {
        if let Some(reply) = lock(&self.script).pop_front() {
            return reply;
        }
        let responder = lock(&self.responder).clone();
        match responder {
            Some(responder) => responder(body),
            None => lock(&self.fallback).clone(),
        }
    }
}

/// The running server; stops when dropped.
pub struct FakeLlm {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeLlm {
    /// Bind a random loopback port and serve on a thread of its own.
    pub fn start() -> FakeLlm {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for the fake LLM");
        listener.set_nonblocking(true).expect("make the fake LLM's listener non-blocking");
        let addr = listener.local_addr().expect("read the fake LLM's port");
        let state = Arc::new(State {
            script: Mutex::new(VecDeque::new()),
            responder: Mutex::new(None),
            fallback: Mutex::new(Reply::text("ok")),
            embedder: Mutex::new(Arc::new(letter_counts)),
            requests: Mutex::new(Vec::new()),
            served: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let server_state = state.clone();
        let thread = std::thread::Builder::new()
            .name("fake-llm".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("start the fake LLM's runtime");
                runtime.block_on(serve(listener, server_state, stopped));
            })
            .expect("spawn the fake LLM thread");
        FakeLlm { addr, state, stop: Some(stop), thread: Some(thread) }
    }

    /// The base URL to configure: `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Script the next reply (replies are used in the order pushed).
    pub fn push(&self, reply: Reply) -> &Self {
        lock(&self.state.script).push_back(reply);
        self
    }

    /// Answer from the request body once the script is empty (before the fallback).
    pub fn respond_with(&self, responder: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        *lock(&self.state.responder) = Some(Arc::new(responder));
    }

    /// How `/embeddings` turns each input text into a vector (default: letter counts).
    pub fn embed_with(&self, embedder: impl Fn(&str) -> Vec<f32> + Send + Sync + 'static) {
        *lock(&self.state.embedder) = Arc::new(embedder);
    }

    /// The reply once the script is empty and no responder is set (default: `"ok"`).
    pub fn set_fallback(&self, reply: Reply) {
        *lock(&self.state.fallback) = reply;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.served.load(Ordering::SeqCst)
    }

    /// The most chat requests that were ever being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Scripted replies not used yet.
    pub fn pending(&self) -> usize {
        lock(&self.state.script).len()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: std::net::TcpListener, state: Arc<State>, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("register the fake LLM's listener");
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors, most likely: let some connections close.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(state.clone(), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        }
    }
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Body>, std::io::Error> {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let bytes = request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    lock(&state.requests).push(RecordedRequest { method, path: path.clone(), headers, body: body.clone() });
    state.served.fetch_add(1, Ordering::SeqCst);

    if path.ends_with("/embeddings") {
        return Ok(embeddings(&state, &body));
    }
    if !path.ends_with("/chat/completions") {
        return Ok(json_response(404, json!({"error": {"message": format!("no route {path}")}}).to_string(), &[]));
    }
    let reply = state.next_reply(&body);
    if !reply.delay.is_zero() {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(reply.delay).await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
    } else {
        let now = state.in_flight.load(Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    }
    if reply.disconnect {
        return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "scripted disconnect"));
    }
    if let Some(raw) = &reply.raw_body {
        return Ok(json_response(reply.status, raw.clone(), &reply.headers));
    }
    let model = reply.model.clone().unwrap_or_else(|| body["model"].as_str().unwrap_or("fake-model").to_owned());
    let id = format!("chatcmpl-fake-{}", state.served.load(Ordering::SeqCst));
    if body["stream"] == json!(true) {
        return Ok(stream_response(&reply, &model, &id));
    }
    let mut message = json!({"role": "assistant", "content": reply.content});
    if !reply.tool_calls.is_empty() {
        message["tool_calls"] =
            reply.tool_calls.iter().map(|(id, name, arguments)| tool_call(id, name, arguments)).collect();
    }
    let answer = json!({
        "id": id,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(&reply)}],
        "usage": usage(&reply),
    });
    Ok(json_response(200, answer.to_string(), &reply.headers))
}

/// An OpenAI-shaped embeddings answer: one vector per `input` (a string or a list of them).
fn embeddings(state: &State, body: &Value) -> Response<Body> {
    let inputs: Vec<&str> = match &body["input"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return json_response(400, json!({"error": {"message": "input must be text"}}).to_string(), &[]),
    };
    let embedder = lock(&state.embedder).clone();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": embedder(text)}))
        .collect();
    let answer = json!({"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 0, "total_tokens": 0}});
    json_response(200, answer.to_string(), &[])
}

/// How often each letter a to z occurs in `text` (any case).
fn letter_counts(text: &str) -> Vec<f32> {
    let mut counts = vec![0.0; 26];
    for c in text.chars().filter(char::is_ascii_alphabetic) {
        counts[(c.to_ascii_lowercase() as u8 - b'a') as usize] += 1.0;
    }
    counts
}

fn json_response(status: u16, body: String, headers: &[(String, String)]) -> Response<Body> {
    let mut response = Response::builder().status(status).header("content-type", "application/json");
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response.body(Full::new(Bytes::from(body)).boxed()).expect("a valid scripted response")
}

fn tool_call(id: &str, name: &str, arguments: &str) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

fn finish_reason(reply: &Reply) -> String {
    let default = if reply.tool_calls.is_empty() { "stop" } else { "tool_calls" };
    reply.finish_reason.clone().unwrap_or_else(|| default.to_owned())
}

fn usage(reply: &Reply) -> Value {
    let (prompt, completion, cost) = reply.usage;
    let mut usage =
        json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion});
    if let Some(cost) = cost {
        usage["cost"] = json!(cost);
    }
    usage
}

/// The reply as server-sent events, cut into several chunks the way real servers stream.
fn stream_response(reply: &Reply, model: &str, id: &str) -> Response<Body> {
    let chunk = |delta: Value, finish: Option<String>| {
        json!({"id": id, "object": "chat.completion.chunk", "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    for piece in halves(reply.content.as_deref().unwrap_or("")) {
        events.push(chunk(json!({"content": piece}), None));
    }
    for (index, (call_id, name, arguments)) in reply.tool_calls.iter().enumerate() {
        let [first, second] = halves(arguments);
        let start =
            json!({"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": first}});
        events.push(chunk(json!({"tool_calls": [start]}), None));
        events.push(chunk(json!({"tool_calls": [{"index": index, "function": {"arguments": second}}]}), None));
    }
    events.push(chunk(json!({}), Some(finish_reason(reply))));
    events.push(
        json!({"id": id, "object": "chat.completion.chunk", "model": model, "choices": [], "usage": usage(reply)}),
    );
    let mut frames: Vec<Result<Frame<Bytes>, Infallible>> =
        events.iter().map(|event| Ok(Frame::data(Bytes::from(format!("data: {event}\n\n"))))).collect();
    frames.insert(0, Ok(Frame::data(Bytes::from_static(b": FAKE PROCESSING\n\n"))));
    frames.push(Ok(Frame::data(Bytes::from_static(b"data: [DONE]\n\n"))));
    let mut response = Response::builder().status(200).header("content-type", "text/event-stream");
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response.body(StreamBody::new(futures::stream::iter(frames)).boxed()).expect("a valid scripted stream")
}

/// `text` in two pieces split at a character boundary (either may be empty).
fn halves(text: &str) -> [&str; 2] {
    let middle = text.char_indices().nth(text.chars().count() / 2).map_or(text.len(), |(at, _)| at);
    [&text[..middle], &text[middle..]]
}
