//! The embedded store: one DuckDB file, `<data dir>/store.duckdb`, shared by every windlass
//! process on the machine.
//!
//! DuckDB lets one process at a time open a file, so the file is handed between
//! processes on request (`handover`): a run keeps it open while it
//! writes, and `windlass sessions`, `logs`, `signal` or another run get it within one operation.
//! Every call runs on a blocking thread. Rows are only appended; reads take the newest version
//! of a session row and drop duplicate log rows by `message_id`. User queries run on a
//! read-only instance with external access off, so `windlass sql` cannot write or read files.

mod group;
mod handover;
mod json;
mod logs;
mod open;
mod schema;

use self::group::{Append, Committer};
use self::handover::{Access, Handover, Hooks};
use crate::session_id::SessionId;
use crate::store::{
    is_read_only, CascadeSessionRow, CheckpointRow, LogRow, QueryResult, SessionFilter, SessionStateRow, SignalRow,
    Store, StoreError, TABLES,
};
use ::duckdb::{params, params_from_iter, Connection, OptionalExt};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use self::handover::HandoverOptions as DuckOptions;

/// The database file inside the data dir.
pub const FILE_NAME: &str = "store.duckdb";

/// Fold the write-ahead log into the database file after a commit once it is this big. DuckDB's
/// own automatic checkpoint (at 16 MB by default) would run inside a commit; this one runs after
/// it, on the commit thread, so a log batch pays for it, not the caller waiting on a checkpoint.
const FOLD_AFTER_COMMIT_BYTES: u64 = 16 << 20;

/// Fold a log of this size when the file has been idle a moment, so the close that hands the
/// file to another process stays short (its cost grows with the log: about 30-50 ms per MB in
/// the dev profile here). Sustained ingest is never idle and folds at
/// [`FOLD_AFTER_COMMIT_BYTES`], as often as a plain DuckDB appender would.
const FOLD_WHEN_IDLE_BYTES: u64 = 4 << 20;

/// The DuckDB backend of [`Store`]. Cheap to clone; clones share the open file.
#[derive(Clone)]
pub struct DuckStore {
    file: Arc<Handover>,
    /// Appends go through group commit (see `group`).
    committer: Arc<Committer>,
}

impl std::fmt::Debug for DuckStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckStore").field("path", &self.file.db_path()).finish()
    }
}

impl DuckStore {
    /// The store in `data_dir` (created if missing). Opens nothing yet: the file is opened by
    /// the first operation, and the tables are created then if they are missing.
    pub fn open(data_dir: &Path) -> Result<DuckStore, StoreError> {
        DuckStore::open_with(data_dir, DuckOptions::default())
    }

    /// [`DuckStore::open`] with other hand-over timings. Stores of one process on the same
    /// file share one hand-over; the first one's options stay.
    pub fn open_with(data_dir: &Path, opts: DuckOptions) -> Result<DuckStore, StoreError> {
        let hooks = Hooks { create: schema::create_tables, on_open: prepare_connection, on_idle: fold_log_when_idle };
        let file = Handover::get(&data_dir.join(FILE_NAME), opts, hooks)?;
        let committer = Arc::new(Committer::start(file.clone(), checkpoint_grown_log));
        Ok(DuckStore { file, committer })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.file.db_path()
    }

    /// Close the file now so other processes need not ask for it (before exiting, or before a
    /// long wait). The next operation opens it again. Dropping the last store of a file closes
    /// it too, but on the dropping thread; this runs on a blocking thread.
    pub async fn release(&self) {
        let file = self.file.clone();
        // A panic while closing leaves nothing to report: the file is closed either way.
        let _ = tokio::task::spawn_blocking(move || file.release()).await;
    }

    /// Warnings since the last call: a write-ahead log that could not be replayed after a crash
    /// and was set aside (also printed to stderr when it happens).
    pub fn take_warnings(&self) -> Vec<String> {
        self.file.take_warnings()
    }

    async fn run<T: Send + 'static>(
        &self,
        access: Access,
        action: &'static str,
        f: impl FnOnce(&mut Connection) -> ::duckdb::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || file.with_conn(access, action, f)).await.map_err(|e| {
            StoreError::Unavailable { store: self.describe(), detail: format!("the database task stopped: {e}") }
        })?
    }

    async fn write(
        &self,
        action: &'static str,
        f: impl FnOnce(&mut Connection) -> ::duckdb::Result<()> + Send + 'static,
    ) -> Result<(), StoreError> {
        self.run(Access::ReadWrite, action, f).await
    }

    /// Append `rows` with `insert`, durably, sharing the commit with concurrent appends.
    async fn append<R: Clone + Send + 'static>(
        &self,
        action: &'static str,
        rows: &[R],
        insert: fn(&Connection, &[R]) -> ::duckdb::Result<()>,
    ) -> Result<(), StoreError> {
        let rows = rows.to_vec();
        let append: Append = Box::new(move |conn| insert(conn, &rows));
        self.committer.append(action, append).await
    }

    async fn read<T: Send + 'static>(
        &self,
        action: &'static str,
        f: impl FnOnce(&mut Connection) -> ::duckdb::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        // Reads use the read-write instance too: a process that writes keeps one open, and
        // switching instances costs a reopen. Only user queries get a read-only one.
        self.run(Access::ReadWrite, action, f).await
    }
}

/// A freshly opened connection: the log batch scan, and room for every statement this
/// store prepares (re-planning a query costs more than running it on small tables).
fn prepare_connection(conn: &Connection) -> ::duckdb::Result<()> {
    conn.set_prepared_statement_cache_capacity(64);
    logs::register(conn)
}

/// After a commit: fold a write-ahead log grown past [`FOLD_AFTER_COMMIT_BYTES`] into the
/// database file. A failure is harmless (the log stays).
fn checkpoint_grown_log(file: &Handover, conn: &mut Connection) {
    if file.wal_len() > FOLD_AFTER_COMMIT_BYTES {
        let _ = conn.execute_batch("CHECKPOINT");
    }
}

/// While the file is idle: fold a log past [`FOLD_WHEN_IDLE_BYTES`], before anyone knocks.
fn fold_log_when_idle(file: &Handover, conn: &mut Connection) {
    if file.wal_len() > FOLD_WHEN_IDLE_BYTES {
        let _ = conn.execute_batch("CHECKPOINT");
    }
}

/// `session_id IN` a list bound as one parameter (see [`id_list`]), so the statement is the
/// same however many ids it names, and stays prepared.
const IN_IDS: &str = "session_id IN (SELECT unnest(?::VARCHAR[]))";

/// Session ids as one list parameter for [`IN_IDS`].
fn id_list(ids: &[SessionId]) -> ::duckdb::types::Value {
    ::duckdb::types::Value::List(ids.iter().map(|id| ::duckdb::types::Value::Text(id.to_string())).collect())
}

/// `LIMIT n`, where 0 means no limit. A number from code, never user text.
fn limit(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("LIMIT {n}")
    }
}

#[async_trait]
impl Store for DuckStore {
    fn backend(&self) -> &'static str {
        "duckdb"
    }

    fn describe(&self) -> String {
        self.file.db_path().display().to_string()
    }

    async fn init(&self) -> Result<(), StoreError> {
        self.write("create the tables", |conn| schema::create_tables(conn)).await
    }

    async fn insert_logs(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.append("write log rows", rows, logs::insert).await
    }

    async fn logs(
        &self,
        session_id: &SessionId,
        after: Option<f64>,
        limit_rows: usize,
    ) -> Result<Vec<LogRow>, StoreError> {
        let session_id = session_id.to_string();
        let after = after.unwrap_or(f64::NEG_INFINITY);
        // The first copy of each message wins; rows of the same time keep the order they were
        // appended in (rowid), not the text order of their ids (`s:0:10` < `s:0:2`).
        let sql = format!(
            "SELECT {cols} FROM (SELECT {cols}, rowid AS appended FROM unified_logs \
               WHERE session_id = ? AND timestamp > ? \
               QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY rowid) = 1) \
             ORDER BY timestamp, appended {}",
            limit(limit_rows),
            cols = schema::LOG_COLUMNS,
        );
        self.read("read log rows", move |conn| {
            conn.prepare_cached(&sql)?.query_map(params![session_id, after], schema::log_from)?.collect()
        })
        .await
    }

    async fn put_session_state(&self, row: &SessionStateRow) -> Result<(), StoreError> {
        self.append("write the session state", std::slice::from_ref(row), schema::insert_states).await
    }

    async fn session_state(&self, session_id: &SessionId) -> Result<Option<SessionStateRow>, StoreError> {
        let session_id = session_id.to_string();
        // Of two rows with the same version, the one appended last wins (rowid).
        let sql = format!(
            "SELECT {} FROM session_state WHERE session_id = ? ORDER BY version DESC, rowid DESC LIMIT 1",
            schema::STATE_COLUMNS
        );
        self.read("read the session state", move |conn| {
            conn.prepare_cached(&sql)?.query_row([session_id], schema::state_from).optional()
        })
        .await
    }

    async fn session_states(&self, session_ids: &[SessionId]) -> Result<Vec<SessionStateRow>, StoreError> {
        let ids = id_list(session_ids);
        let sql = format!(
            "SELECT {} FROM session_state WHERE {IN_IDS} \
             QUALIFY row_number() OVER (PARTITION BY session_id ORDER BY version DESC, rowid DESC) = 1",
            schema::STATE_COLUMNS
        );
        self.read("read session states", move |conn| {
            conn.prepare_cached(&sql)?.query_map([ids], schema::state_from)?.collect()
        })
        .await
    }

    async fn put_session_states(&self, rows: &[SessionStateRow]) -> Result<(), StoreError> {
        self.append("write session states", rows, schema::insert_states).await
    }

    /// Newest first: by `started_at`, or `updated_at` for sessions not started yet
    /// ([`SessionStateRow::sort_at`]), then by id. A `limit` of 0 means no limit.
    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionStateRow>, StoreError> {
        const SORT_AT: &str = "(CASE WHEN started_at > 0 THEN started_at ELSE updated_at END)";
        let mut conditions = vec!["TRUE".to_string()];
        let mut values: Vec<duckdb::types::Value> = Vec::new();
        if let Some(status) = filter.status {
            conditions.push("status = ?".into());
            values.push(status.as_str().to_string().into());
        }
        if let Some(cascade_id) = &filter.cascade_id {
            conditions.push("cascade_id = ?".into());
            values.push(cascade_id.clone().into());
        }
        if let Some(since) = filter.since {
            conditions.push(format!("{SORT_AT} >= ?"));
            values.push(since.into());
        }
        if let Some(after) = &filter.after {
            conditions.push(format!("({SORT_AT} < ? OR ({SORT_AT} = ? AND session_id > ?))"));
            values.extend([after.sort_at.into(), after.sort_at.into(), after.session_id.to_string().into()]);
        }
        let sql = format!(
            "SELECT {cols} FROM (SELECT {cols} FROM session_state \
               QUALIFY row_number() OVER (PARTITION BY session_id ORDER BY version DESC, rowid DESC) = 1) \
             WHERE {} ORDER BY {SORT_AT} DESC, session_id {}",
            conditions.join(" AND "),
            limit(filter.limit),
            cols = schema::STATE_COLUMNS,
        );
        self.read("list sessions", move |conn| {
            conn.prepare_cached(&sql)?.query_map(params_from_iter(values), schema::state_from)?.collect()
        })
        .await
    }

    async fn put_cascade_session(&self, row: &CascadeSessionRow) -> Result<(), StoreError> {
        self.append("write the cascade definition", std::slice::from_ref(row), schema::insert_cascades).await
    }

    async fn put_cascade_sessions(&self, rows: &[CascadeSessionRow]) -> Result<(), StoreError> {
        self.append("write cascade definitions", rows, schema::insert_cascades).await
    }

    async fn cascade_session(&self, session_id: &SessionId) -> Result<Option<CascadeSessionRow>, StoreError> {
        let session_id = session_id.to_string();
        let sql = format!(
            "SELECT {} FROM cascade_sessions WHERE session_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
            schema::CASCADE_COLUMNS
        );
        self.read("read the cascade definition", move |conn| {
            conn.prepare_cached(&sql)?.query_row([session_id], schema::cascade_from).optional()
        })
        .await
    }

    async fn cascade_sessions(&self, session_ids: &[SessionId]) -> Result<Vec<CascadeSessionRow>, StoreError> {
        let ids = id_list(session_ids);
        let sql = format!(
            "SELECT {} FROM cascade_sessions WHERE {IN_IDS} \
             QUALIFY row_number() OVER (PARTITION BY session_id ORDER BY created_at DESC, rowid DESC) = 1",
            schema::CASCADE_COLUMNS
        );
        self.read("read cascade definitions", move |conn| {
            conn.prepare_cached(&sql)?.query_map([ids], schema::cascade_from)?.collect()
        })
        .await
    }

    async fn put_checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError> {
        self.append("save checkpoints", rows, schema::insert_checkpoints).await
    }

    async fn put_checkpoint(&self, row: &CheckpointRow) -> Result<(), StoreError> {
        // Durable when this returns: its transaction committed (DuckDB syncs the log).
        self.append("save the checkpoint", std::slice::from_ref(row), schema::insert_checkpoints).await
    }

    async fn latest_checkpoint(
        &self,
        session_id: &SessionId,
        min_epoch: u64,
    ) -> Result<Option<CheckpointRow>, StoreError> {
        let session_id = session_id.to_string();
        let sql = format!(
            "SELECT {} FROM checkpoints WHERE session_id = ? AND owner_epoch >= ? \
             ORDER BY seq DESC, owner_epoch DESC, created_at DESC, rowid DESC LIMIT 1",
            schema::CHECKPOINT_COLUMNS
        );
        self.read("read the latest checkpoint", move |conn| {
            conn.prepare_cached(&sql)?.query_row(params![session_id, min_epoch], schema::checkpoint_from).optional()
        })
        .await
    }

    async fn put_signal(&self, row: &SignalRow) -> Result<(), StoreError> {
        self.append("write the signal", std::slice::from_ref(row), schema::insert_signals).await
    }

    async fn signals(&self, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError> {
        let session_id = session_id.to_string();
        // rowid breaks ties between rows of the same time in the order they were appended.
        let sql =
            format!("SELECT {} FROM signals WHERE session_id = ? ORDER BY created_at, rowid", schema::SIGNAL_COLUMNS);
        self.read("read signals", move |conn| {
            conn.prepare_cached(&sql)?.query_map([session_id], schema::signal_from)?.collect()
        })
        .await
    }

    async fn put_signals(&self, rows: &[SignalRow]) -> Result<(), StoreError> {
        self.append("write signals", rows, schema::insert_signals).await
    }

    async fn signals_of(&self, session_ids: &[SessionId]) -> Result<Vec<SignalRow>, StoreError> {
        let ids = id_list(session_ids);
        let sql = format!("SELECT {} FROM signals WHERE {IN_IDS} ORDER BY created_at, rowid", schema::SIGNAL_COLUMNS);
        self.read("read signals", move |conn| {
            conn.prepare_cached(&sql)?.query_map([ids], schema::signal_from)?.collect()
        })
        .await
    }

    async fn signals_since(&self, after: f64) -> Result<Vec<SignalRow>, StoreError> {
        let sql =
            format!("SELECT {} FROM signals WHERE created_at > ? ORDER BY created_at, rowid", schema::SIGNAL_COLUMNS);
        self.read("read signals", move |conn| {
            conn.prepare_cached(&sql)?.query_map([after], schema::signal_from)?.collect()
        })
        .await
    }

    async fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        if !is_read_only(sql) {
            return Err(StoreError::NotReadOnly(sql.to_string()));
        }
        let sql = sql.trim().trim_end_matches(';').to_string();
        self.run(Access::ReadOnly, "run the query", move |conn| json::run_query(conn, &sql)).await
    }

    async fn now(&self) -> Result<f64, StoreError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| StoreError::Unavailable { store: self.describe(), detail: format!("read the clock: {e}") })?;
        Ok(now.as_secs_f64())
    }

    async fn delete_sessions(&self, session_ids: &[SessionId]) -> Result<(), StoreError> {
        if session_ids.is_empty() {
            return Ok(());
        }
        let ids = session_ids.to_vec();
        self.write("delete sessions", move |conn| {
            let tx = conn.transaction()?;
            for table in TABLES {
                let mut stmt = tx.prepare(&format!("DELETE FROM {table} WHERE session_id = ?"))?;
                for id in &ids {
                    stmt.execute([id])?;
                }
            }
            tx.commit()
        })
        .await
    }
}
