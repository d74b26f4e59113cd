//! What the engine reports while it runs. Renderers, the store logger and tests subscribe;
//! the engine never prints.
//!
//! Subscribers match every variant without a catch-all arm, so a new event makes each of
//! them decide what to do with it.

use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// One event with where and when it happened.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub session_id: Arc<str>,
    /// Increases by one per event of a session.
    pub seq: u64,
    /// Seconds since the Unix epoch.
    pub at: f64,
    /// 0 for the top-level cascade, +1 per sub-cascade level.
    pub depth: u32,
    #[serde(flatten)]
    pub event: RunEvent,
}

/// How a phase was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteReason {
    /// The model called `route_to`.
    RouteTo,
    /// A deterministic `routing` match.
    Routing,
    /// The first handoff.
    Handoff,
    /// The next phase in the file.
    Next,
    /// `on_error`.
    OnError,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Completed,
    Error,
    Cancelled,
    Blocked,
    Interrupted,
}

/// Everything the engine reports.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    CascadeStarted {
        cascade_id: String,
        phases: usize,
        input: Value,
        parent_session_id: Option<String>,
    },
    PhaseStarted {
        phase: String,
        /// `llm`, `deterministic` or `for_each_row`.
        kind: &'static str,
        model: Option<String>,
        visit: u32,
    },
    TurnStarted {
        phase: String,
        turn: u32,
        max_turns: u32,
        attempt: u32,
        max_attempts: u32,
    },
    LlmRequest {
        phase: String,
        model: String,
        messages: usize,
        /// Hash of the request (model + messages + tools): the same request, the same hash.
        request_hash: String,
        sounding_index: Option<u32>,
    },
    /// A model call waits for a free slot under `WINDLASS_LIMITS` before it is sent.
    LimitWait {
        phase: String,
        model: String,
        /// The matching prefix (empty: the catch-all `*`).
        prefix: String,
        /// The limit waited on, as written in `WINDLASS_LIMITS` (`*=4`, `openai/=rpm:60`).
        limit: String,
        /// The cap on requests in flight, when that is the limit.
        max_concurrent: Option<u32>,
        sounding_index: Option<u32>,
    },
    LlmResponse {
        phase: String,
        model_requested: String,
        model: String,
        tokens_in: u64,
        tokens_out: u64,
        cost: Option<f64>,
        duration_ms: u64,
        request_hash: String,
        content: String,
        tool_calls: usize,
        /// The native tool calls themselves (so a resume can replay this answer exactly).
        native_tool_calls: Vec<crate::llm::ToolCall>,
        /// Served from the session log on resume instead of calling the provider.
        replayed: bool,
        sounding_index: Option<u32>,
    },
    ToolCall {
        phase: String,
        tool: String,
        arguments: Value,
    },
    ToolResult {
        phase: String,
        tool: String,
        ok: bool,
        result: String,
        duration_ms: u64,
    },
    StateSet {
        phase: String,
        key: String,
        value: Value,
    },
    Routed {
        from: String,
        to: String,
        reason: RouteReason,
    },
    ValidatorVerdict {
        phase: String,
        /// `loop_until`, `ward:pre`, `ward:post`, `ward:turn`, `soundings`, `schema`.
        role: String,
        validator: String,
        valid: bool,
        reason: String,
        /// For wards: `blocking`, `retry` or `advisory`.
        mode: Option<String>,
    },
    AttemptFailed {
        phase: String,
        attempt: u32,
        max_attempts: u32,
        reason: String,
    },
    SoundingStarted {
        phase: String,
        index: u32,
        factor: u32,
        model: Option<String>,
        mutation: Option<String>,
    },
    SoundingFinished {
        phase: String,
        index: u32,
        ok: bool,
        output: String,
    },
    SoundingsEvaluated {
        phase: String,
        winner: Option<u32>,
        /// The evaluator's (or aggregator's) reply.
        reply: String,
        mode: String,
    },
    SubCascadeStarted {
        phase: String,
        child_session_id: String,
        cascade_id: String,
        r#async: bool,
    },
    SubCascadeFinished {
        phase: String,
        child_session_id: String,
        status: RunStatus,
    },
    HumanInputRequested {
        phase: String,
        prompt: String,
    },
    SignalReceived {
        phase: Option<String>,
        name: Option<String>,
        payload: Value,
    },
    /// A phase's `callouts`: a labelled piece of its output or messages, for later lookup.
    Callout {
        phase: String,
        label: String,
        content: String,
    },
    PhaseFinished {
        phase: String,
        output: String,
        duration_ms: u64,
    },
    Checkpoint {
        phase: String,
        seq: u64,
        next_phase: Option<String>,
    },
    Warning {
        phase: Option<String>,
        message: String,
    },
    PhaseFailed {
        phase: String,
        error: String,
    },
    CascadeFinished {
        status: RunStatus,
        output: String,
        error: Option<String>,
        tokens_in: u64,
        tokens_out: u64,
        cost: f64,
        duration_ms: u64,
    },
}

impl RunEvent {
    /// The event's name as it appears in NDJSON (`phase_started`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            RunEvent::CascadeStarted { .. } => "cascade_started",
            RunEvent::PhaseStarted { .. } => "phase_started",
            RunEvent::TurnStarted { .. } => "turn_started",
            RunEvent::LlmRequest { .. } => "llm_request",
            RunEvent::LimitWait { .. } => "limit_wait",
            RunEvent::LlmResponse { .. } => "llm_response",
            RunEvent::ToolCall { .. } => "tool_call",
            RunEvent::ToolResult { .. } => "tool_result",
            RunEvent::StateSet { .. } => "state_set",
            RunEvent::Routed { .. } => "routed",
            RunEvent::ValidatorVerdict { .. } => "validator_verdict",
            RunEvent::AttemptFailed { .. } => "attempt_failed",
            RunEvent::SoundingStarted { .. } => "sounding_started",
            RunEvent::SoundingFinished { .. } => "sounding_finished",
            RunEvent::SoundingsEvaluated { .. } => "soundings_evaluated",
            RunEvent::SubCascadeStarted { .. } => "sub_cascade_started",
            RunEvent::SubCascadeFinished { .. } => "sub_cascade_finished",
            RunEvent::HumanInputRequested { .. } => "human_input_requested",
            RunEvent::SignalReceived { .. } => "signal_received",
            RunEvent::Callout { .. } => "callout",
            RunEvent::PhaseFinished { .. } => "phase_finished",
            RunEvent::Checkpoint { .. } => "checkpoint",
            RunEvent::Warning { .. } => "warning",
            RunEvent::PhaseFailed { .. } => "phase_failed",
            RunEvent::CascadeFinished { .. } => "cascade_finished",
        }
    }
}

/// Receives every event of a run, synchronously and in order. Must be quick: anything slow
/// (the store) hands the event to a background task.
pub trait Subscriber: Send + Sync {
    fn on_event(&self, event: &Envelope);
}

/// The result document of a run (`--format json`, and the last line of `ndjson`).
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub session_id: String,
    pub cascade_id: String,
    pub status: RunStatus,
    /// The last phase's output, with its shape (outputs keep their shape).
    pub output: Value,
    pub state: serde_json::Map<String, Value>,
    pub lineage: Vec<LineageEntry>,
    pub errors: Vec<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost: f64,
    pub duration_ms: u64,
    /// The typed failure behind `errors`, for exit codes.
    #[serde(skip)]
    pub failure: Option<super::RunError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LineageEntry {
    pub phase: String,
    /// The phase's output: its text, or the value a deterministic, data or tool phase returned
    /// (a checkpoint written when this was always text still reads).
    pub output: Value,
}
