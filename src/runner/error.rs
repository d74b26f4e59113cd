//! Why a run (or a phase) failed.

use crate::llm::LlmError;
use crate::store::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    /// The LLM provider failed after retries.
    #[error("{0}")]
    Provider(#[from] LlmError),
    /// `--max-cost` would be exceeded.
    #[error("stop: the session has spent ${spent:.4}, over the --max-cost limit of ${limit:.4}")]
    CostLimit { spent: f64, limit: f64 },
    /// A phase failed (tool error, template error, missing handoff, ...).
    #[error("phase `{phase}` failed: {message}")]
    Phase { phase: String, message: String },
    /// A phase was entered more often than `WINDLASS_MAX_PHASE_VISITS`.
    #[error(
        "phase `{phase}` ran {visits} times, over the limit of {limit} (WINDLASS_MAX_PHASE_VISITS); the cascade loops"
    )]
    VisitLimit { phase: String, visits: u32, limit: u32 },
    /// A feature the cascade uses that this build cannot run.
    #[error("phase `{phase}` uses {feature}, which this build cannot run")]
    Unsupported { phase: String, feature: String },
    /// A blocking ward failed.
    #[error("phase `{phase}`: blocking ward `{validator}` failed: {reason}")]
    Blocked { phase: String, validator: String, reason: String },
    /// The run was cancelled.
    #[error("the session was cancelled{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Cancelled { reason: Option<String> },
    /// Stopped by SIGINT/SIGTERM.
    #[error("interrupted")]
    Interrupted,
    /// A checkpoint could not be saved: nothing durable, the run stops. The store's error
    /// keeps its kind (unavailable or rejected), which decides retries and the exit code.
    #[error("save a checkpoint: {0}")]
    Store(#[source] StoreError),
    /// Another process claimed the session (a later epoch): this one stops writing.
    #[error("another process took the session over (epoch {by}, this process held {epoch}); this process stops")]
    Fenced { epoch: u64, by: u64 },
}

impl RunError {
    pub fn phase(phase: &str, message: impl Into<String>) -> Self {
        RunError::Phase { phase: phase.to_string(), message: message.into() }
    }
}
