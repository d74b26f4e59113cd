//! Talking to models: a small [`Provider`] trait (one required method) and the
//! OpenAI-compatible client behind it.
//!
//! The runner only ever sees [`Provider`]; the client owns HTTP, retries, model routing
//! (`ollama/<m>`), the reasoning suffix (`model::high`) and usage accounting.
//!
//! - [`types`]: provider-neutral requests, answers and errors.
//! - [`model`]: reading a model string (route, name, reasoning suffix).
//! - [`LlmClient`] (`router.rs`): the provider built from settings; routes by model.
//! - [`OpenAiClient`] (`openai.rs`): one endpoint, the retry loop; `wire.rs` (the JSON),
//!   `stream.rs` (streamed answers), `failure.rs` (what each failure means), `retry.rs`
//!   ([`RetryPolicy`], `Retry-After`), `http.rs` (the shared connection pool), `limits.rs`
//!   (`WINDLASS_LIMITS`: requests in flight per model prefix, shared by the whole process).
//! - `embeddings.rs`: `POST {base}/embeddings` for [`Provider::embed`].
//! - [`cassette`]: recording and replaying model exchanges (a decorator of any provider);
//!   `request_hash.rs`: [`ChatRequest::hash`], shared with resume.

pub mod cassette;
mod embeddings;
mod failure;
mod http;
pub mod limits;
pub mod model;
mod openai;
mod request_hash;
mod retry;
mod router;
mod stream;
pub mod types;
mod wire;

pub use openai::{ClientOptions, OpenAiClient};
pub use retry::RetryPolicy;
pub use router::LlmClient;
pub use types::{ChatRequest, ChatResponse, LlmError, Message, Reasoning, Role, ToolCall, ToolSpec, Usage};

use async_trait::async_trait;

/// Something that answers chat completions.
#[async_trait]
pub trait Provider: Send + Sync {
    /// One chat completion (retries, if any, happen inside).
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;

    /// One embedding per input, in input order; `None` when this provider has no embeddings
    /// (the default, and cassettes: a recorded run and its replay then choose alike).
    async fn embed(&self, _model: &str, _inputs: &[String]) -> Option<Result<Vec<Vec<f32>>, LlmError>> {
        None
    }
}

/// Make rustls use the `ring` crypto provider. reqwest is built without a provider of its own
/// (one crypto library in the binary, not two) and panics without one; every client
/// constructor calls this first. Installing twice, or after someone else did, is fine.
pub fn init_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error only means a provider is already installed, which is all that is needed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
