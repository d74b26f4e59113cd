//! Tools: the [`Tool`] trait, the registry, and the built-in tools.
//!
//! A tool never reaches into the engine: it returns text for the model, a structured value,
//! and [`Effect`]s (set a state key, choose a route) that the engine applies.

mod args;
pub mod builtin;
pub mod context;
pub mod data;
pub mod declarative;
pub mod demo;
pub mod files;
mod paths;
pub mod shell;
pub mod sql;
pub mod state;
pub(crate) mod subprocess;
#[cfg(test)]
mod testing;

pub use builtin::builtin_registry;
pub use context::ToolContext;

use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a tool asks the engine to do besides returning a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `state[key] = value`
    SetState { key: String, value: Value },
    /// Choose the next phase (validated against the handoffs by the engine).
    Route { target: String },
}

/// The result of a tool call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolOutput {
    /// What the model sees.
    pub text: String,
    /// The structured result (deterministic phases use it for routing and outputs).
    pub value: Value,
    pub effects: Vec<Effect>,
}

impl ToolOutput {
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        ToolOutput { value: Value::String(text.clone()), text, effects: Vec::new() }
    }
    pub fn value(value: Value) -> Self {
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ToolOutput { text, value, effects: Vec::new() }
    }
    pub fn with_effect(mut self, effect: Effect) -> Self {
        self.effects.push(effect);
        self
    }
}

/// Why a tool call failed; the message goes back to the model (or fails a deterministic phase).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ToolError {
    #[error("{0}")]
    InvalidArguments(String),
    #[error("{0}")]
    Failed(String),
    /// The tool needs a switch that is off (for example `--allow-shell`).
    #[error("{0}")]
    NotAllowed(String),
    #[error("tool `{tool}` timed out after {seconds}s")]
    Timeout { tool: String, seconds: u64 },
    /// Known from the original project, not provided by this build.
    #[error("{0}")]
    Unsupported(String),
}

/// A callable tool.
#[async_trait]
pub trait Tool: Send + Sync {
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// JSON Schema of the arguments object.
    fn parameters(&self) -> Value;
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError>;
}

/// Tools by name.
#[derive(Clone, Default)]
pub struct Registry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        self.tools.insert(tool.name().to_string(), tool);
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.values()
    }
}
