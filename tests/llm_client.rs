//! The OpenAI-compatible client against a fake server on loopback: what it sends, what it makes
//! of answers, when it retries, and which error each failure becomes.

mod support;

use serde_json::json;
use std::ffi::OsString;
use std::time::{Duration, Instant};
use support::{FakeLlm, Reply};
use windlass::llm::{
    ChatRequest, ClientOptions, LlmClient, LlmError, Message, OpenAiClient, Provider, RetryPolicy, ToolCall, ToolSpec,
    Usage,
};
use windlass::settings::{Overrides, Secret, Settings, Sources};

/// Retries without real waiting, and a timeout short enough to test.
fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(10),
    }
}

fn client(llm: &FakeLlm, key: Option<&str>, retry: RetryPolicy) -> OpenAiClient {
    let url = llm.url().parse().unwrap();
    OpenAiClient::new(&url, key.map(Secret::new), ClientOptions { retry, streaming: false })
}

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::system("be brief"), Message::user("hi")],
        tools: vec![],
        temperature: None,
        max_tokens: None,
    }
}

#[tokio::test]
async fn a_plain_completion_brings_content_usage_and_cost() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("hello").with_usage(12, 3, Some(0.0042)).with_model("fake/answering"));

    let answer = client(&llm, None, fast()).chat(&request("fake/model")).await.unwrap();

    assert_eq!(answer.content, "hello");
    assert_eq!(answer.model, "fake/answering");
    assert_eq!(answer.usage, Usage { tokens_in: 12, tokens_out: 3, cost: Some(0.0042) });
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    assert!(answer.id.is_some_and(|id| id.starts_with("chatcmpl-fake")));
    assert_eq!(answer.attempts, 1);
    let sent = &llm.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("x-title"), Some("windlass"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.body,
        json!({
            "model": "fake/model",
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
            "usage": {"include": true},
        })
    );
}

#[tokio::test]
async fn native_tool_calls_are_offered_and_decoded() {
    let llm = FakeLlm::start();
    llm.push(
        Reply::tool_call("call_1", "add", json!({"a": 1, "b": 2})).with_raw_tool_call("call_2", "echo", "not json"),
    );
    let mut chat = request("fake/model");
    chat.tools = vec![ToolSpec {
        name: "add".into(),
        description: "add two numbers".into(),
        parameters: json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}),
    }];

    let answer = client(&llm, None, fast()).chat(&chat).await.unwrap();

    assert_eq!(answer.content, "");
    assert_eq!(answer.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        answer.tool_calls,
        vec![
            ToolCall { id: "call_1".into(), name: "add".into(), arguments: json!({"a": 1, "b": 2}) },
            ToolCall { id: "call_2".into(), name: "echo".into(), arguments: json!("not json") },
        ]
    );
    assert_eq!(
        llm.requests()[0].body["tools"],
        json!([{"type": "function", "function": {
            "name": "add",
            "description": "add two numbers",
            "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
        }}])
    );
}

#[tokio::test]
async fn the_reasoning_suffix_is_sent_as_the_reasoning_field() {
    let llm = FakeLlm::start();
    let mut chat = request("fake/model::high(16000)");
    chat.temperature = Some(0.5);
    chat.max_tokens = Some(100);

    client(&llm, None, fast()).chat(&chat).await.unwrap();

    let body = &llm.requests()[0].body;
    assert_eq!(body["model"], "fake/model");
    assert_eq!(body["reasoning"], json!({"effort": "high", "max_tokens": 16000}));
    assert_eq!(body["usage"], json!({"include": true}));
    assert_eq!((body["temperature"].clone(), body["max_tokens"].clone()), (json!(0.5), json!(100)));
}

#[tokio::test]
async fn a_bad_suffix_fails_before_any_request() {
    let llm = FakeLlm::start();
    let err = client(&llm, None, fast()).chat(&request("fake/model::hgh")).await.unwrap_err();
    assert!(matches!(&err, LlmError::UnknownModel { model, .. } if model == "fake/model::hgh"), "{err:?}");
    assert_eq!(llm.request_count(), 0);
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_wait_the_server_asks_for() {
    let llm = FakeLlm::start();
    llm.push(Reply::error(429, "slow down").with_retry_after("1"));
    llm.push(Reply::text("done"));

    let started = Instant::now();
    let answer = client(&llm, None, RetryPolicy { max_delay: Duration::from_secs(5), ..fast() })
        .chat(&request("m"))
        .await
        .unwrap();

    assert_eq!((answer.content.as_str(), answer.attempts), ("done", 2));
    assert!(started.elapsed() >= Duration::from_millis(950), "Retry-After ignored: {:?}", started.elapsed());
    assert_eq!(llm.request_count(), 2);
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_retried() {
    let llm = FakeLlm::start();
    llm.push(Reply::error(500, "oops"));
    llm.push(Reply::status(502, "<html>Bad Gateway</html>"));
    llm.push(Reply::disconnect());
    llm.push(Reply::text("finally"));

    let answer = client(&llm, None, fast()).chat(&request("m")).await.unwrap();

    assert_eq!((answer.content.as_str(), answer.attempts), ("finally", 4));
    assert_eq!(llm.request_count(), 4);
}

#[tokio::test]
async fn an_error_object_in_a_200_is_treated_by_its_code() {
    // OpenRouter reports some upstream failures this way.
    let llm = FakeLlm::start();
    llm.push(Reply::status(200, r#"{"error":{"code":502,"message":"upstream fell over"}}"#));
    llm.push(Reply::text("ok now"));

    let answer = client(&llm, None, fast()).chat(&request("m")).await.unwrap();
    assert_eq!((answer.content.as_str(), answer.attempts), ("ok now", 2));
}

#[tokio::test]
async fn retries_are_bounded_and_the_error_counts_them() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::error(503, "overloaded"));

    let err = client(&llm, None, RetryPolicy { max_attempts: 3, ..fast() }).chat(&request("m")).await.unwrap_err();

    assert!(matches!(&err, LlmError::Server { status: 503, attempts: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("after 3 attempts: HTTP 503: overloaded"), "{err}");
    assert_eq!(llm.request_count(), 3);
}

#[tokio::test]
async fn a_rejected_key_is_not_retried() {
    let llm = FakeLlm::start();
    llm.push(Reply::error(401, "bad key"));
    let err = client(&llm, Some("sk-wrong"), fast()).chat(&request("m")).await.unwrap_err();
    assert!(matches!(&err, LlmError::Rejected { status: 401, .. }), "{err:?}");
    assert_eq!(llm.request_count(), 1);
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    let llm = FakeLlm::start();
    llm.push(Reply::error(402, "insufficient credits"));
    let err = client(&llm, None, fast()).chat(&request("m")).await.unwrap_err();
    assert!(matches!(&err, LlmError::Server { status: 402, attempts: 1, .. }), "{err:?}");
    assert_eq!(llm.request_count(), 1);
}

#[tokio::test]
async fn an_unknown_model_is_reported_as_such() {
    let llm = FakeLlm::start();
    llm.push(Reply::error(404, "model 'nope' not found"));
    llm.push(Reply::error(400, "nope/nope is not a valid model ID"));
    let client = client(&llm, None, fast());

    for _ in 0..2 {
        let err = client.chat(&request("nope")).await.unwrap_err();
        assert!(matches!(&err, LlmError::UnknownModel { model, .. } if model == "nope"), "{err:?}");
    }
    assert_eq!(llm.request_count(), 2);
}

#[tokio::test]
async fn a_dead_endpoint_is_unreachable_at_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/v1").parse().unwrap();
    let client = OpenAiClient::new(&url, None, ClientOptions { retry: RetryPolicy::default(), streaming: false });

    let started = Instant::now();
    let err = client.chat(&request("m")).await.unwrap_err();

    assert!(matches!(&err, LlmError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn openrouter_without_a_key_fails_before_any_request() {
    let url = "https://openrouter.ai/api/v1".parse().unwrap();
    let client = OpenAiClient::new(&url, None, ClientOptions::default());
    let started = Instant::now();

    let err = client.chat(&request("google/gemini-2.5-flash-lite")).await.unwrap_err();

    assert!(matches!(&err, LlmError::MissingKey { variable: "OPENROUTER_API_KEY", .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(100));
}

#[tokio::test]
async fn a_key_that_cannot_be_a_header_fails_before_any_request() {
    let llm = FakeLlm::start();
    let err = client(&llm, Some("sk-one\nsk-two"), fast()).chat(&request("m")).await.unwrap_err();
    assert!(matches!(&err, LlmError::InvalidKey { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("sk-one"));
    assert_eq!(llm.request_count(), 0);
}

#[tokio::test]
async fn the_key_is_sent_but_never_shown() {
    let key = "sk-or-v1-SECRET-0123456789";
    let llm = FakeLlm::start();
    llm.push(Reply::text("hi"));
    // A server that echoes the key back in its error.
    llm.push(Reply::error(401, &format!("Invalid key {key}")));
    llm.set_fallback(Reply::error(500, &format!("crashed on {key}")));
    let client = client(&llm, Some(key), RetryPolicy { max_attempts: 2, ..fast() });

    client.chat(&request("m")).await.unwrap();
    let rejected = client.chat(&request("m")).await.unwrap_err();
    let failed = client.chat(&request("m")).await.unwrap_err();

    assert_eq!(llm.requests()[0].header("authorization"), Some(format!("Bearer {key}").as_str()));
    for shown in [
        rejected.to_string(),
        format!("{rejected:?}"),
        failed.to_string(),
        format!("{failed:?}"),
        format!("{client:?}"),
    ] {
        assert!(!shown.contains(key) && !shown.contains("SECRET"), "the key leaked: {shown}");
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_after_the_attempts() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("too late").with_delay(Duration::from_secs(3)));
    let policy = RetryPolicy { max_attempts: 2, timeout: Duration::from_millis(200), ..fast() };

    let started = Instant::now();
    let err = client(&llm, None, policy).chat(&request("m")).await.unwrap_err();

    assert!(matches!(&err, LlmError::Timeout { attempts: 2, seconds: 1, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(llm.request_count(), 2);
}

#[tokio::test]
async fn a_streamed_answer_is_the_same_answer() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("Let me add that.").with_tool_call("call_9", "add", json!({"a": 1, "b": 2})).with_usage(
        20,
        8,
        Some(0.5),
    ));
    llm.push(Reply::error(429, "wait").with_retry_after("0"));
    llm.push(Reply::text("second"));
    let url = llm.url().parse().unwrap();
    let client = OpenAiClient::new(&url, None, ClientOptions { retry: fast(), streaming: true });

    let answer = client.chat(&request("fake/model")).await.unwrap();

    assert_eq!(answer.content, "Let me add that.");
    assert_eq!(
        answer.tool_calls,
        vec![ToolCall { id: "call_9".into(), name: "add".into(), arguments: json!({"a": 1, "b": 2}) }]
    );
    assert_eq!(answer.usage, Usage { tokens_in: 20, tokens_out: 8, cost: Some(0.5) });
    assert_eq!((answer.model.as_str(), answer.finish_reason.as_deref()), ("fake/model", Some("tool_calls")));
    let body = &llm.requests()[0].body;
    assert_eq!((body["stream"].clone(), body["stream_options"].clone()), (json!(true), json!({"include_usage": true})));

    let answer = client.chat(&request("fake/model")).await.unwrap();
    assert_eq!((answer.content.as_str(), answer.attempts), ("second", 2));
}

fn settings(vars: &[(&str, String)]) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    let env = |name: &str| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| OsString::from(value));
    let sources = Sources { env: &env, cwd: dir.path(), platform_data_dir: Some(dir.path().join("data")) };
    Settings::resolve(&Overrides::default(), &sources).unwrap()
}

#[tokio::test]
async fn ollama_models_go_to_ollama_without_the_key() {
    let (endpoint, ollama) = (FakeLlm::start(), FakeLlm::start());
    let settings = settings(&[
        ("WINDLASS_BASE_URL", endpoint.url()),
        ("OLLAMA_HOST", ollama.addr().to_string()),
        ("OPENROUTER_API_KEY", "sk-routed".to_owned()),
    ]);
    let client = LlmClient::from_settings(&settings, fast());

    client.chat(&request("ollama/llama3.2::low")).await.unwrap();
    client.chat(&request("vendor/big")).await.unwrap();

    let (to_ollama, to_endpoint) = (&ollama.requests()[0], &endpoint.requests()[0]);
    assert_eq!(to_ollama.path, "/v1/chat/completions");
    assert_eq!(to_ollama.body["model"], "llama3.2");
    assert_eq!(to_ollama.body["reasoning"], json!({"effort": "low"}));
    assert_eq!(to_ollama.header("authorization"), None);
    assert_eq!(to_endpoint.body["model"], "vendor/big");
    assert_eq!(to_endpoint.header("authorization"), Some("Bearer sk-routed"));
    assert_eq!((ollama.request_count(), endpoint.request_count()), (1, 1));
    assert_eq!(client.needs_key("vendor/big"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_share_the_pool() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| Reply::text(body["messages"][1]["content"].as_str().unwrap_or("?").to_uppercase()));
    let client = std::sync::Arc::new(client(&llm, None, fast()));

    let calls = (0..1000).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let mut chat = request("m");
            chat.messages[1] = Message::user(format!("call {i}"));
            client.chat(&chat).await.map(|answer| (i, answer.content))
        })
    });
    for call in futures::future::join_all(calls).await {
        let (i, content) = call.unwrap().unwrap();
        assert_eq!(content, format!("CALL {i}"));
    }
    assert_eq!(llm.request_count(), 1000);
}
