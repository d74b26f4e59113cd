//! [`OpenAiClient`]: chat completions against one OpenAI-compatible endpoint (OpenRouter, OpenAI,
//! Ollama, vLLM, ...), with bounded retries and typed errors.

use super::failure::{Cause, Failure, Target};
use super::http::Http;
use super::model::{self, ModelRef};
use super::stream::{Accumulator, StreamError};
use super::wire::{self, Answer};
use super::{ChatRequest, ChatResponse, LlmError, Provider, RetryPolicy};
use crate::settings::{redact_credentials, HttpUrl, Secret};
use async_trait::async_trait;
use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use std::fmt;

/// How a client talks to its endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    pub retry: RetryPolicy,
    /// Ask for the answer as a stream of chunks (`stream: true`). The answer returned is the
    /// same; the timeout then bounds silence between chunks instead of the whole answer.
    pub streaming: bool,
}

/// A client for one OpenAI-compatible endpoint. Cloning shares the connection pool.
#[derive(Clone)]
pub struct OpenAiClient {
    pub(super) http: Http,
    /// `{base}/chat/completions`, credentials in the URL included, for the HTTP client only.
    pub(super) chat_url: String,
    /// The same without credentials: the one used in errors.
    shown_url: String,
    pub(super) key: Option<Secret>,
    /// `Bearer <key>`, built once and marked sensitive; `Err` when the key cannot be a header.
    pub(super) authorization: Option<Result<HeaderValue, ()>>,
    openrouter: bool,
    pub(super) options: ClientOptions,
}

impl OpenAiClient {
    /// A client for `base_url` (e.g. `https://openrouter.ai/api/v1`) with its own connection pool.
    pub fn new(base_url: &HttpUrl, api_key: Option<Secret>, options: ClientOptions) -> OpenAiClient {
        OpenAiClient::with_http(Http::new(&options.retry), base_url, api_key, options)
    }

    pub(crate) fn with_http(
        http: Http,
        base_url: &HttpUrl,
        api_key: Option<Secret>,
        options: ClientOptions,
    ) -> OpenAiClient {
        // A key read from a file often ends in a line break; an empty one is no key.
        let key = api_key.map(|key| Secret::new(key.expose().trim())).filter(|key| !key.expose().is_empty());
        let authorization = key.as_ref().map(|key| {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| ())?;
            value.set_sensitive(true);
            Ok(value)
        });
        let chat_url = format!("{}/chat/completions", base_url.as_str());
        OpenAiClient {
            http,
            shown_url: redact_credentials(&chat_url),
            chat_url,
            key,
            authorization,
            openrouter: is_openrouter(base_url),
            options,
        }
    }

    /// The variable to set when this endpoint needs a key and has none: OpenRouter always does;
    /// other endpoints may be local and keyless.
    pub fn missing_key(&self) -> Option<&'static str> {
        (self.openrouter && self.key.is_none()).then_some("OPENROUTER_API_KEY")
    }

    /// The chat-completions URL, without credentials.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// One chat completion for an already parsed model; retries inside.
    pub(crate) async fn complete(&self, request: &ChatRequest, model: &ModelRef<'_>) -> Result<ChatResponse, LlmError> {
        let url = || self.shown_url.clone();
        if let Some(variable) = self.missing_key() {
            return Err(LlmError::MissingKey { url: url(), variable });
        }
        let authorization = match &self.authorization {
            Some(Ok(value)) => Some(value),
            Some(Err(())) => return Err(LlmError::InvalidKey { url: url() }),
            None => None,
        };
        let client = match (&self.http.client, &self.http.tls_problem) {
            (Some(client), None) => client,
            (Some(client), Some(_)) if !self.chat_url.starts_with("https:") => client,
            (_, problem) => {
                let detail = problem.clone().unwrap_or_else(|| "no HTTP client could be built".to_owned());
                return Err(LlmError::Unreachable { url: url(), detail });
            }
        };
        let body = wire::body(request, model.name, model.reasoning.as_ref(), self.options.streaming);
        let body = Bytes::from(serde_json::to_vec(&body).map_err(|err| LlmError::BadResponse {
            url: url(),
            detail: format!("cannot encode the request: {err}"),
        })?);
        let target = Target { url: &self.shown_url, model: model.name, key: self.key.as_ref().map(Secret::expose) };
        let call = Call {
            client,
            url: &self.chat_url,
            authorization,
            body,
            target: &target,
            model: model.name,
            options: &self.options,
        };

        let policy = &self.options.retry;
        let mut attempt = 1;
        loop {
            match call.attempt().await {
                Ok(mut response) => {
                    response.attempts = attempt;
                    return Ok(response);
                }
                Err(Failure::Fatal(mut err)) => {
                    if let LlmError::Server { attempts, .. } = &mut err {
                        *attempts = attempt;
                    }
                    return Err(err);
                }
                Err(Failure::Retry { cause, .. }) if attempt >= policy.attempts() => {
                    return Err(target.exhausted(cause, attempt, policy.timeout));
                }
                Err(Failure::Retry { retry_after, .. }) => {
                    tokio::time::sleep(policy.delay(attempt, retry_after)).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// One chat call's fixed parts, shared by its attempts.
struct Call<'a> {
    client: &'a reqwest::Client,
    /// The real URL, credentials included; errors use `target.url`.
    url: &'a str,
    authorization: Option<&'a HeaderValue>,
    /// Encoded once; each attempt sends a cheap clone.
    body: Bytes,
    target: &'a Target<'a>,
    model: &'a str,
    options: &'a ClientOptions,
}

impl Call<'_> {
    async fn attempt(&self) -> Result<ChatResponse, Failure> {
        let timeout = self.options.retry.timeout;
        let mut request = self
            .client
            .post(self.url)
            .header(CONTENT_TYPE, "application/json")
            // OpenRouter's app attribution; other servers ignore them.
            .header("HTTP-Referer", "windlass")
            .header("X-Title", "windlass")
            .body(self.body.clone());
        if let Some(value) = self.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        let response = if self.options.streaming {
            // The whole-request timeout would cut long streams; bound each wait instead.
            tokio::time::timeout(timeout, request.send()).await.map_err(|_| timed_out())?
        } else {
            request.timeout(timeout).send().await
        };
        let mut response = response.map_err(|err| self.target.transport(err))?;
        let status = response.status();
        if !status.is_success() {
            let headers = std::mem::take(response.headers_mut());
            // The error body is only a detail: if it cannot be read, the status still says enough.
            // (The explicit timeout matters when streaming, where the request has none.)
            let body = tokio::time::timeout(timeout, response.bytes()).await.ok().and_then(Result::ok);
            let body = body.unwrap_or_default();
            return Err(self.target.status(status.as_u16(), &headers, &body));
        }
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if is_stream {
            self.read_stream(response).await
        } else {
            // A server that ignores `stream: true` answers whole, which is fine.
            let body = tokio::time::timeout(timeout, response.bytes()).await.map_err(|_| timed_out())?;
            let body = body.map_err(|err| self.target.transport(err))?;
            self.read_whole(&body)
        }
    }

    fn read_whole(&self, body: &[u8]) -> Result<ChatResponse, Failure> {
        let answer: Answer = serde_json::from_slice(body).map_err(|err| {
            let start = String::from_utf8_lossy(&body[..body.len().min(400)]).into_owned();
            self.bad(format!("the answer is not a chat completion ({err}); it starts: {start}"))
        })?;
        if answer.choices.is_empty() {
            if let Some(error) = &answer.error {
                return Err(self.target.error_object(error));
            }
        }
        wire::response(answer, self.model).map_err(|detail| self.bad(detail))
    }

    async fn read_stream(&self, mut response: reqwest::Response) -> Result<ChatResponse, Failure> {
        let mut accumulator = Accumulator::default();
        loop {
            let chunk = tokio::time::timeout(self.options.retry.timeout, response.chunk()).await;
            match chunk.map_err(|_| timed_out())?.map_err(|err| self.target.transport(err))? {
                Some(bytes) => accumulator.feed(&bytes).map_err(|err| self.stream_failure(err))?,
                // Read to the end, not just to `[DONE]`, so the connection goes back to the pool.
                None => break,
            }
        }
        accumulator.finish(self.model).map_err(|err| self.stream_failure(err))
    }

    fn stream_failure(&self, err: StreamError) -> Failure {
        match err {
            StreamError::Provider(error) => self.target.error_object(&error),
            StreamError::BadChunk(detail) => self.bad(format!("a streamed chunk is not JSON: {detail}")),
            StreamError::Truncated => Failure::Retry {
                retry_after: None,
                cause: Cause::Dropped { detail: "the stream ended before the answer was complete".to_owned() },
            },
        }
    }

    fn bad(&self, detail: String) -> Failure {
        Failure::Fatal(LlmError::BadResponse { url: self.target.url.to_owned(), detail: self.target.clean(&detail) })
    }
}

fn timed_out() -> Failure {
    Failure::Retry { retry_after: None, cause: Cause::Timeout }
}

#[async_trait]
impl Provider for OpenAiClient {
    /// The model's `ollama/` prefix and `::` suffix are read; the request goes to this client's
    /// endpoint whatever the prefix (routing is [`super::LlmClient`]'s job).
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let model = model::parse(&request.model).map_err(|err| LlmError::UnknownModel {
            url: self.shown_url.clone(),
            model: request.model.clone(),
            detail: err.to_string(),
        })?;
        self.complete(request, &model).await
    }
}

/// Shows where the client points and whether it has a key, never the key.
impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("url", &self.shown_url)
            .field("key", &self.key)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Whether `url` is OpenRouter, which needs a key (any other endpoint may be local and open).
fn is_openrouter(url: &HttpUrl) -> bool {
    let rest = url.as_str().split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = host_port.split(':').next().unwrap_or("").to_ascii_lowercase();
    host == "openrouter.ai" || host.ends_with(".openrouter.ai")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_openrouter_by_host() {
        let openrouter = |url: &str| is_openrouter(&url.parse().unwrap());
        assert!(openrouter("https://openrouter.ai/api/v1"));
        assert!(openrouter("https://user:pw@eu.openrouter.ai:443/api/v1"));
        assert!(!openrouter("http://localhost:8080/v1"));
        assert!(!openrouter("https://openrouter.ai.example.com/v1"));
        assert!(!openrouter("https://example.com/openrouter.ai"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let url = "https://me:pw@example.com/v1".parse().unwrap();
        let client = OpenAiClient::new(&url, Some(Secret::new("sk-very-secret\n")), ClientOptions::default());
        let debug = format!("{client:?}");
        assert!(!debug.contains("sk-very-secret") && !debug.contains("pw"), "{debug}");
        assert_eq!(client.url(), "https://***@example.com/v1/chat/completions");
        assert_eq!(client.missing_key(), None);
    }
}
