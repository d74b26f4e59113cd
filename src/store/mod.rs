//! The store: where everything another process may need lives (store.md). One [`Store`]
//! trait, two backends with the same tables and column names: DuckDB (embedded, the
//! default, under `WINDLASS_DATA_DIR`) and ClickHouse (when `WINDLASS_CLICKHOUSE_HOST` is set).
//!
//! Rows are only ever appended; the newest version of a session row wins, readers ignore
//! duplicates by id. The trait is small on purpose: sessions, claims, signals and cleanup
//! are built on it in `crate::session`.

pub mod batched;
pub mod clickhouse;
mod coalesce;
pub mod duckdb;
pub mod open;
pub mod rows;
pub mod spool;
pub mod timed;

pub use self::batched::Batched;
pub use self::clickhouse::{ClickHouseOptions, ClickHouseStore, FlushReport};
pub use self::duckdb::{DuckOptions, DuckStore};
pub use open::open;
pub use rows::{CascadeSessionRow, CheckpointRow, LogRow, SessionStateRow, SessionStatus, SignalRow};
pub use timed::{OperationTimes, Timed};

use crate::session_id::SessionId;

use async_trait::async_trait;
use serde_json::Value;

/// The table names, the same on both backends.
pub const TABLES: [&str; 5] = ["unified_logs", "session_state", "cascade_sessions", "checkpoints", "signals"];

/// Why a store operation failed. Messages name the store (URL without credentials, or file).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached right now (connection refused, timeout, file locked).
    #[error("reach the store {store}: {detail}")]
    Unavailable { store: String, detail: String },
    /// The store answered with an error (bad SQL, type error, missing table).
    #[error("{action} in the store {store}: {detail}")]
    Rejected { store: String, action: String, detail: String },
    /// `windlass sql` was given something that is not a read-only query.
    #[error("only read-only queries (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) are allowed: {0}")]
    NotReadOnly(String),
}

/// Filters for listing sessions. Every backend lists newest first by
/// [`SessionStateRow::sort_at`], then by session id, and applies all of these in the store, so
/// a page deep in a long list costs one query of `limit` rows.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub status: Option<SessionStatus>,
    pub cascade_id: Option<String>,
    /// Only sessions whose `sort_at` is at or after this (epoch seconds).
    pub since: Option<f64>,
    /// Only sessions after this one in the list's order (where the previous page ended).
    pub after: Option<ListCursor>,
    /// At most this many; 0 means no limit.
    pub limit: usize,
}

/// A place in the newest-first session list: the last row of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListCursor {
    pub sort_at: f64,
    pub session_id: SessionId,
}

impl ListCursor {
    /// The cursor that continues after `row`.
    pub fn after(row: &SessionStateRow) -> ListCursor {
        ListCursor { sort_at: row.sort_at(), session_id: row.session_id.clone() }
    }
}

/// The result of a read-only query: column names and rows of JSON values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// What both backends provide. All methods are safe to call from several processes at once.
#[async_trait]
pub trait Store: Send + Sync {
    /// `duckdb` or `clickhouse`.
    fn backend(&self) -> &'static str;
    /// Where the store is, for messages: a file path, or a URL without credentials.
    fn describe(&self) -> String;

    /// Create the database and tables if they are missing. Idempotent, any process.
    async fn init(&self) -> Result<(), StoreError>;

    /// Append log rows (one batch). Rows whose `message_id` is already stored may be
    /// stored again; readers de-duplicate by id.
    async fn insert_logs(&self, rows: &[LogRow]) -> Result<(), StoreError>;
    /// A session's log rows in time order, de-duplicated, after `after` (a timestamp).
    async fn logs(&self, session_id: &SessionId, after: Option<f64>, limit: usize) -> Result<Vec<LogRow>, StoreError>;

    /// Append a new version of a session's row.
    async fn put_session_state(&self, row: &SessionStateRow) -> Result<(), StoreError>;
    /// Append a heartbeat (a session row with only its times changed): like
    /// [`put_session_state`](Store::put_session_state), but it may wait a moment to share one
    /// write with the heartbeats of the process's other sessions.
    async fn put_heartbeat(&self, row: &SessionStateRow) -> Result<(), StoreError> {
        self.put_session_state(row).await
    }
    /// The newest version of a session's row.
    async fn session_state(&self, session_id: &SessionId) -> Result<Option<SessionStateRow>, StoreError>;
    /// The newest version of the row of each of these sessions that has one (any order).
    async fn session_states(&self, session_ids: &[SessionId]) -> Result<Vec<SessionStateRow>, StoreError>;
    /// Append several session rows in one write.
    async fn put_session_states(&self, rows: &[SessionStateRow]) -> Result<(), StoreError>;
    /// The newest version of each session's row, newest sessions first.
    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionStateRow>, StoreError>;

    async fn put_cascade_session(&self, row: &CascadeSessionRow) -> Result<(), StoreError>;
    /// Several cascade rows in one write.
    async fn put_cascade_sessions(&self, rows: &[CascadeSessionRow]) -> Result<(), StoreError>;
    async fn cascade_session(&self, session_id: &SessionId) -> Result<Option<CascadeSessionRow>, StoreError>;
    /// The stored cascade of each of these sessions that has one (any order).
    async fn cascade_sessions(&self, session_ids: &[SessionId]) -> Result<Vec<CascadeSessionRow>, StoreError>;

    /// Durable when this returns (the next phase starts only after it).
    async fn put_checkpoint(&self, row: &CheckpointRow) -> Result<(), StoreError>;
    /// Several checkpoints in one write, all durable when this returns.
    async fn put_checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError>;
    /// The checkpoint with the highest `seq` among rows of epoch >= `min_epoch`.
    async fn latest_checkpoint(
        &self,
        session_id: &SessionId,
        min_epoch: u64,
    ) -> Result<Option<CheckpointRow>, StoreError>;

    async fn put_signal(&self, row: &SignalRow) -> Result<(), StoreError>;
    /// Several signal rows in one write.
    async fn put_signals(&self, rows: &[SignalRow]) -> Result<(), StoreError>;
    /// Every signal row of a session (including `consumed` markers), oldest first.
    async fn signals(&self, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError>;
    /// Every signal row of these sessions, oldest first.
    async fn signals_of(&self, session_ids: &[SessionId]) -> Result<Vec<SignalRow>, StoreError>;
    /// Every signal row of any session created after `after` (epoch seconds), oldest first.
    /// One query however many sessions a process runs; rows may repeat (de-duplicate by id).
    async fn signals_since(&self, after: f64) -> Result<Vec<SignalRow>, StoreError>;

    /// Run a read-only query (the same table names on both backends).
    async fn query(&self, sql: &str) -> Result<QueryResult, StoreError>;

    /// The store's clock, in epoch seconds: leases are judged by it (ClickHouse: the
    /// server's `now()`; DuckDB: this machine's clock).
    async fn now(&self) -> Result<f64, StoreError>;

    /// Delete every row of these sessions from every table (`cleanup --logs`).
    async fn delete_sessions(&self, session_ids: &[SessionId]) -> Result<(), StoreError>;
}

/// Whether a query only reads: one statement starting with a reading keyword.
pub fn is_read_only(sql: &str) -> bool {
    let s = sql.trim().trim_end_matches(';').trim();
    if s.contains(';') {
        return false;
    }
    let first = s.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    matches!(first.as_str(), "SELECT" | "WITH" | "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN" | "FROM" | "(")
}

#[cfg(test)]
mod tests {
    #[test]
    fn read_only_queries() {
        assert!(super::is_read_only("select 1"));
        assert!(super::is_read_only("  WITH x AS (SELECT 1) SELECT * FROM x;"));
        assert!(!super::is_read_only("DELETE FROM unified_logs"));
        assert!(!super::is_read_only("SELECT 1; DROP TABLE signals"));
        assert!(!super::is_read_only("INSERT INTO signals VALUES (1)"));
    }
}
