//! Provider-neutral request and response types (OpenAI chat-completions shaped).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    /// The wire name: `system`, `user`, `assistant`, `tool`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Native tool calls made by the assistant in this message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `Role::Tool`: the call this message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message { role, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// About how many tokens this message costs a model: four characters a token of its text
    /// and tool calls, plus a little for the message itself. The one estimate windlass makes
    /// (token budgets, auto-context selection, tokens-per-minute limits), close enough to stay
    /// under a context window or a rate limit without a tokenizer per model.
    pub fn estimated_tokens(&self) -> u64 {
        let calls: usize = self.tool_calls.iter().map(|c| c.name.len() + c.arguments.to_string().len()).sum();
        4 + ((self.content.chars().count() + calls) as u64).div_ceil(4)
    }
}

/// [`Message::estimated_tokens`] of a conversation.
pub fn estimated_tokens(messages: &[Message]) -> u64 {
    messages.iter().map(Message::estimated_tokens).sum()
}

/// A tool call: native (from `tool_calls`) or parsed from the reply text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// Decoded arguments (an object; a string that is not JSON is kept as a string).
    pub arguments: Value,
}

/// A tool offered to the model in native mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
}

/// The provider's `reasoning` field, from a model suffix like `::high`, `::16000`,
/// `::high(16000)` or `::exclude`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reasoning {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exclude: bool,
}

/// One chat-completion request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// As written in the cascade (`ollama/llama3`, `openai/gpt-4o::high`); the client resolves it.
    pub model: String,
    pub messages: Vec<Message>,
    /// Native tools; empty in prompt mode.
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
}

impl ChatRequest {
    /// What this request may cost against a tokens-per-minute limit before the provider says:
    /// its messages, its tools' JSON (four characters a token) and the answer it may ask for.
    pub fn estimated_tokens(&self) -> u64 {
        let tools: usize = self.tools.iter().map(|t| serde_json::to_string(t).map(|t| t.len()).unwrap_or(0)).sum();
        estimated_tokens(&self.messages) + (tools as u64).div_ceil(4) + u64::from(self.max_tokens.unwrap_or(0))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// In US dollars, when the provider reports it (OpenRouter's usage accounting).
    pub cost: Option<f64>,
}

/// One chat-completion answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub content: String,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    /// The model that answered, as the provider names it.
    pub model: String,
    pub usage: Usage,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    /// How many HTTP attempts it took (1 without retries).
    #[serde(default)]
    pub attempts: u32,
}

/// Why a chat completion failed, after retries. URLs never carry credentials.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("reach the LLM endpoint {url}: {detail}; check WINDLASS_BASE_URL (or OLLAMA_HOST for ollama/ models) and that the server is up")]
    Unreachable { url: String, detail: String },
    #[error("authenticate with the LLM endpoint {url} (HTTP {status}): the API key was rejected; check OPENROUTER_API_KEY / WINDLASS_API_KEY")]
    Rejected { url: String, status: u16, detail: String },
    #[error("use model `{model}` at {url}: {detail}")]
    UnknownModel { url: String, model: String, detail: String },
    #[error("get an answer from {url} after {attempts} attempts: HTTP {status}: {detail}")]
    Server { url: String, status: u16, attempts: u32, detail: String },
    #[error("get an answer from {url} within {seconds}s after {attempts} attempts")]
    Timeout { url: String, seconds: u64, attempts: u32 },
    #[error("read the answer from {url}: {detail}")]
    BadResponse { url: String, detail: String },
    #[error("call the LLM endpoint {url}: no API key is set; set {variable} (or WINDLASS_API_KEY)")]
    MissingKey { url: String, variable: &'static str },
    #[error("--replay {path} has no recorded answer for the model call of {detail}\nRe-record with --record {path}, or use --replay-or-record {path} to record only what is missing")]
    CassetteMiss { path: String, detail: String },
    #[error("{detail}")]
    CassetteFile { detail: String },
    #[error("send the API key to {url}: it contains a character an HTTP header cannot carry (a line break or control character inside it); check OPENROUTER_API_KEY / WINDLASS_API_KEY")]
    InvalidKey { url: String },
}

impl LlmError {
    /// The provider kept failing after the retries (it is down, overloaded, rate limiting or
    /// too slow), as opposed to refusing this request: another model may answer. Wider than
    /// what is retried (`failure.rs`): a 501 or 505 is not worth asking the same provider
    /// again, but another model may still answer.
    pub fn is_the_providers(&self) -> bool {
        match self {
            LlmError::Unreachable { .. } | LlmError::Timeout { .. } => true,
            LlmError::Server { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}
