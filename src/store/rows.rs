//! The rows of the five tables, the same on both backends (store.md, "Tables").
//!
//! Times are `f64` seconds since the Unix epoch; JSON is text. Column names are the field
//! names, so `windlass sql` queries work unchanged on either backend. `clickhouse::Row`
//! gives the ClickHouse backend those names for RowBinary inserts and `SELECT ?fields`.

use serde::{Deserialize, Serialize};

/// `unified_logs`: one row per engine event. Append-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct LogRow {
    /// Deterministic (`<session>:<epoch>:<seq>`), so a retried insert is recognisable.
    pub message_id: String,
    pub session_id: String,
    pub parent_session_id: String,
    pub cascade_id: String,
    pub phase_name: String,
    /// -1 outside soundings.
    pub sounding_index: i32,
    pub attempt: u32,
    pub turn: u32,
    /// The event name (`phase_started`, `llm_response`, ...).
    pub node_type: String,
    /// `system`, `user`, `assistant`, `tool`, or empty.
    pub role: String,
    pub timestamp: f64,
    pub model: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost: f64,
    pub duration_ms: u64,
    pub request_hash: String,
    /// The whole event as JSON.
    pub content: String,
}

/// A session's status (store.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Queued,
    Starting,
    Running,
    Blocked,
    Completed,
    Error,
    Cancelled,
    Orphaned,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 8] = [
        SessionStatus::Queued,
        SessionStatus::Starting,
        SessionStatus::Running,
        SessionStatus::Blocked,
        SessionStatus::Completed,
        SessionStatus::Error,
        SessionStatus::Cancelled,
        SessionStatus::Orphaned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Queued => "queued",
            SessionStatus::Starting => "starting",
            SessionStatus::Running => "running",
            SessionStatus::Blocked => "blocked",
            SessionStatus::Completed => "completed",
            SessionStatus::Error => "error",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Orphaned => "orphaned",
        }
    }

    pub fn parse(s: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Still owned by a live process (judged by heartbeat and lease).
    pub fn is_live(self) -> bool {
        matches!(self, SessionStatus::Starting | SessionStatus::Running | SessionStatus::Blocked)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, SessionStatus::Completed | SessionStatus::Error | SessionStatus::Cancelled)
    }
}

/// `session_state`: one logical row per session; the highest `version` wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct SessionStateRow {
    pub session_id: String,
    /// Monotonic per session (ClickHouse: the ReplacingMergeTree version column).
    pub version: u64,
    pub status: String,
    pub cascade_id: String,
    pub parent_session_id: String,
    pub current_phase: String,
    pub blocked_on: String,
    pub heartbeat_at: f64,
    pub lease_seconds: f64,
    pub owner: String,
    /// Fencing token: rows from a lower epoch than the session's highest are ignored.
    pub owner_epoch: u64,
    pub cancel_requested: u8,
    pub error_message: String,
    pub started_at: f64,
    pub updated_at: f64,
    pub completed_at: f64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost: f64,
}

/// `cascade_sessions`: the definition and input of every session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct CascadeSessionRow {
    pub session_id: String,
    pub cascade_id: String,
    /// Where the file was when the session started (for messages only).
    pub cascade_path: String,
    /// The raw text of the cascade file.
    pub definition: String,
    /// SHA-256 of `definition`, hex.
    pub definition_hash: String,
    /// JSON object.
    pub input: String,
    pub parent_session_id: String,
    pub created_at: f64,
}

/// `checkpoints`: one row per completed phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct CheckpointRow {
    pub session_id: String,
    pub seq: u64,
    pub phase: String,
    /// Empty when the cascade ended after this phase.
    pub next_phase: String,
    /// JSON of the engine's `RunState` (state, lineage, outputs, conversations, totals).
    pub state: String,
    pub cascade_hash: String,
    pub owner_epoch: u64,
    pub created_at: f64,
}

/// `signals`: a message or named signal addressed to a session, and its consumption.
/// Append-only: consuming appends a row with `kind = consumed` and the same `signal_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct SignalRow {
    pub signal_id: String,
    pub session_id: String,
    /// `message`, `named`, `cancel` or `consumed`.
    pub kind: String,
    /// Signal name for `named`; empty otherwise.
    pub name: String,
    /// JSON (a message is a JSON string).
    pub payload: String,
    pub created_at: f64,
}
