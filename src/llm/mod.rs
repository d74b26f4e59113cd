//! Talking to models: a small [`Provider`] trait (one required method) and the
//! OpenAI-compatible client behind it.
//!
//! The runner only ever sees [`Provider`]; the client owns HTTP, retries, model routing
//! (`ollama/<m>`), the reasoning suffix (`model::high`) and usage accounting.

pub mod types;

pub use types::{ChatRequest, ChatResponse, LlmError, Message, Reasoning, Role, ToolCall, ToolSpec, Usage};

use async_trait::async_trait;

/// Something that answers chat completions.
#[async_trait]
pub trait Provider: Send + Sync {
    /// One chat completion (retries, if any, happen inside).
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;
}
