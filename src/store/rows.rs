//! The rows of the five tables, the same on both backends (store.md, "Tables").
//!
//! Times are `f64` seconds since the Unix epoch; JSON is text. Column names are the field
//! names, so `windlass sql` queries work unchanged on either backend. `clickhouse::Row`
//! gives the ClickHouse backend those names for RowBinary inserts and `SELECT ?fields`.

use crate::session_id::SessionId;
use serde::{Deserialize, Serialize};

/// `unified_logs`: one row per engine event. Append-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct LogRow {
    /// Deterministic (`<session>:<epoch>:<seq>`), so a retried insert is recognisable.
    pub message_id: String,
    pub session_id: SessionId,
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

impl LogRow {
    /// A row with only its identity, event and time: no parent, phase, role, model or request
    /// hash, outside soundings (-1), and zero attempt, turn, tokens, cost and duration. Callers
    /// set what their event carries (`LogRow { model, ..LogRow::new(...) }`).
    pub fn new(
        message_id: impl Into<String>,
        session_id: impl Into<SessionId>,
        node_type: impl Into<String>,
        timestamp: f64,
        content: impl Into<String>,
    ) -> LogRow {
        LogRow {
            message_id: message_id.into(),
            session_id: session_id.into(),
            parent_session_id: String::new(),
            cascade_id: String::new(),
            phase_name: String::new(),
            sounding_index: -1,
            attempt: 0,
            turn: 0,
            node_type: node_type.into(),
            role: String::new(),
            timestamp,
            model: String::new(),
            tokens_in: 0,
            tokens_out: 0,
            cost: 0.0,
            duration_ms: 0,
            request_hash: String::new(),
            content: content.into(),
        }
    }
}

/// A session's status (store.md), stored as its name (`queued`, `running`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Queued,
    Starting,
    Running,
    Blocked,
    Completed,
    Error,
    Cancelled,
    Orphaned,
    /// A name this build does not know (a newer windlass wrote it). Such a session is never
    /// removed by cleanup and counts as neither live nor finished.
    Unknown,
}

impl SessionStatus {
    /// Every status a session can be given (not [`SessionStatus::Unknown`]).
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
            SessionStatus::Unknown => "unknown",
        }
    }

    /// One of [`SessionStatus::ALL`] by name.
    pub fn parse(s: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A stored name: [`SessionStatus::Unknown`] when this build does not know it.
    pub fn from_stored(s: &str) -> SessionStatus {
        SessionStatus::parse(s).unwrap_or(SessionStatus::Unknown)
    }

    /// Still owned by a live process (judged by heartbeat and lease).
    pub fn is_live(self) -> bool {
        matches!(self, SessionStatus::Starting | SessionStatus::Running | SessionStatus::Blocked)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, SessionStatus::Completed | SessionStatus::Error | SessionStatus::Cancelled)
    }
}

impl std::fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// As text, so both backends keep the `status` column a string (`windlass sql` compares it
// with names) and an unknown name reads back as `Unknown` instead of failing the row.
impl Serialize for SessionStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SessionStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(SessionStatus::from_stored(&String::deserialize(deserializer)?))
    }
}

/// `session_state`: one logical row per session; the highest `version` wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct SessionStateRow {
    pub session_id: SessionId,
    /// Monotonic per session (ClickHouse: the ReplacingMergeTree version column).
    pub version: u64,
    pub status: SessionStatus,
    pub cascade_id: String,
    pub parent_session_id: String,
    pub current_phase: String,
    pub blocked_on: String,
    pub heartbeat_at: f64,
    pub lease_seconds: f64,
    pub owner: String,
    /// Fencing token: rows from a lower epoch than the session's highest are ignored.
    pub owner_epoch: u64,
    /// Stored as 0 or 1 (`UInt8`/`UTINYINT`).
    pub cancel_requested: bool,
    pub error_message: String,
    pub started_at: f64,
    pub updated_at: f64,
    pub completed_at: f64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost: f64,
}

impl SessionStateRow {
    /// Where the session sorts in a newest-first list: its start, or when it was queued.
    pub fn sort_at(&self) -> f64 {
        if self.started_at > 0.0 {
            self.started_at
        } else {
            self.updated_at
        }
    }

    /// Version 0 of a session's row: owned by nobody (epoch 0), no phase, heartbeat, times,
    /// tokens or cost yet. Callers set the rest (`SessionStateRow { owner, ..SessionStateRow::new(...) }`).
    pub fn new(
        session_id: impl Into<SessionId>,
        status: SessionStatus,
        cascade_id: impl Into<String>,
    ) -> SessionStateRow {
        SessionStateRow {
            session_id: session_id.into(),
            version: 0,
            status,
            cascade_id: cascade_id.into(),
            parent_session_id: String::new(),
            current_phase: String::new(),
            blocked_on: String::new(),
            heartbeat_at: 0.0,
            lease_seconds: 0.0,
            owner: String::new(),
            owner_epoch: 0,
            cancel_requested: false,
            error_message: String::new(),
            started_at: 0.0,
            updated_at: 0.0,
            completed_at: 0.0,
            tokens_in: 0,
            tokens_out: 0,
            cost: 0.0,
        }
    }
}

/// `cascade_sessions`: the definition and input of every session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct CascadeSessionRow {
    pub session_id: SessionId,
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
    pub session_id: SessionId,
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
    pub session_id: SessionId,
    /// `message`, `named`, `cancel` or `consumed`.
    pub kind: String,
    /// Signal name for `named`; empty otherwise.
    pub name: String,
    /// JSON (a message is a JSON string).
    pub payload: String,
    pub created_at: f64,
}
