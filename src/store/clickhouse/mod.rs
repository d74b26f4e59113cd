//! The ClickHouse backend of [`Store`]: many workers on many machines share one server
//! (store.md). Talks HTTP through the official `clickhouse` crate, RowBinary for inserts and
//! `SELECT ?fields` for reads, with the crate's schema validation off (ClickHouse 18.16 does
//! not know the setting it relies on).
//!
//! - Every value reaches the server bound client-side (`?` in the crate's query builder), never
//!   formatted into SQL text: 18.16 has no server-side query parameters.
//! - Reads de-duplicate (`FINAL`, `LIMIT 1 BY`, or `ORDER BY ... LIMIT 1`), so a row sent
//!   twice by a retry or by the spool is read once.
//! - Log inserts go through a local [`Spool`] when the server is away
//!   ([`ClickHouseStore::flush_spool`]); checkpoints and session rows do not: their failure
//!   is the caller's to see.
//! - With replication (`WINDLASS_CLICKHOUSE_CLUSTER`, [`Replication`]) the tables are
//!   `Replicated`, session rows, checkpoints and signals are inserted with `insert_quorum`
//!   and read with `select_sequential_consistency=1`, and log rows replicate asynchronously
//!   (replication.rs says why that is enough).
//! - Credentials live only in the crate's client (sent as headers); they are in no error,
//!   `Debug` output or [`Store::describe`].

mod error;
mod json;
mod logs;
mod mutations;
mod replication;
mod request;
mod schema;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ::clickhouse::sql::Identifier;
use ::clickhouse::Client;
use async_trait::async_trait;

use crate::session_id::SessionId;
use crate::settings::{ClickHouseSettings, Replication};
use crate::store::spool::Spool;
use crate::store::{
    is_read_only, CascadeSessionRow, CheckpointRow, LogRow, QueryResult, SessionFilter, SessionStateRow, SignalRow,
    Store, StoreError, TABLES,
};
use error::{exception_code, Failure};
use request::spool_error;

pub use logs::FlushReport;

/// How patient the store is with the server.
#[derive(Debug, Clone)]
pub struct ClickHouseOptions {
    /// The longest one request may take, connecting included; a request that takes longer
    /// counts as the server being unreachable.
    pub request_timeout: Duration,
    /// Tries per read or synchronous write when the server is unreachable (rows are
    /// idempotent, so a retry is safe). Log inserts are tried once, then spooled.
    pub attempts: u32,
}

impl Default for ClickHouseOptions {
    fn default() -> Self {
        ClickHouseOptions { request_timeout: Duration::from_secs(30), attempts: 3 }
    }
}

/// The store in a ClickHouse database. Cheap to share behind an `Arc`.
pub struct ClickHouseStore {
    /// Requests against the store's database.
    client: Client,
    /// Inserts of session rows, checkpoints and signals: `client`, with the insert quorum
    /// when replicated.
    durable: Client,
    /// Reads of session rows, checkpoints and signals: `client`, sequentially consistent when
    /// replicated.
    consistent: Client,
    replication: Option<Replication>,
    /// Requests that must not name a database (creating it).
    server: Client,
    url: String,
    database: String,
    options: ClickHouseOptions,
    spool: Arc<Spool>,
    /// One flush at a time within this process (the spool's file lock covers other processes).
    flushing: tokio::sync::Mutex<()>,
}

impl fmt::Debug for ClickHouseStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouseStore")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("spool", &self.spool.dir())
            .finish_non_exhaustive()
    }
}

impl ClickHouseStore {
    /// A store for `settings`, spooling log rows under `spool_dir` (in a folder named for the
    /// server and database, so batches never reach another server). Does not contact the
    /// server: a run must start even when ClickHouse is away.
    pub fn connect(settings: &ClickHouseSettings, spool_dir: &Path) -> Result<Self, StoreError> {
        Self::connect_with(settings, spool_dir, ClickHouseOptions::default())
    }

    pub fn connect_with(
        settings: &ClickHouseSettings,
        spool_dir: &Path,
        options: ClickHouseOptions,
    ) -> Result<Self, StoreError> {
        let url = settings.url();
        if !is_plain_name(&settings.database) {
            return Err(StoreError::Rejected {
                store: url,
                action: "use the database".into(),
                detail: format!("{:?} is not a database name (letters, digits and _ only)", settings.database),
            });
        }
        let mut server = Client::default().with_url(&url).with_validation(false);
        if !settings.user.is_empty() {
            server = server.with_user(&settings.user);
        }
        if !settings.password.expose().is_empty() {
            server = server.with_password(settings.password.expose());
        }
        let client = server.clone().with_database(&settings.database);
        if let Some(cluster) = settings.replication.as_ref().map(|r| &r.cluster).filter(|c| !is_plain_name(c)) {
            return Err(StoreError::Rejected {
                store: url,
                action: "use the cluster".into(),
                detail: format!("{cluster:?} is not a cluster name (letters, digits and _ only)"),
            });
        }
        let (durable, consistent) = replication::clients(&client, settings.replication.as_ref(), &options);
        let spool_dir = spool_dir.join(spool_folder(settings));
        let spool = Spool::open(&spool_dir).map_err(spool_error)?;
        Ok(ClickHouseStore {
            client,
            durable,
            consistent,
            replication: settings.replication.clone(),
            server,
            url,
            database: settings.database.clone(),
            options,
            spool: Arc::new(spool),
            flushing: tokio::sync::Mutex::new(()),
        })
    }

    /// The spool of log batches waiting for the server.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// Run a query with the server's `readonly=1` guard but without the client-side
    /// [`is_read_only`] check. [`Store::query`] is this plus that check; this exists so tests
    /// can show that the server refuses writes on its own.
    pub async fn query_guarded(&self, sql: &str) -> Result<QueryResult, StoreError> {
        // `is_read_only` lets trailing semicolons through; the server takes one statement.
        let sql = sql.trim().trim_end_matches(';').trim_end();
        let body = self
            .run(|| async {
                // `readonly=1` also forbids changing settings, so the query cannot lift it.
                let mut cursor = self.client.query_raw(sql).with_setting("readonly", "1").fetch_bytes("JSONCompact")?;
                cursor.collect().await
            })
            .await
            .map_err(self.fail("run the query"))?;
        json::parse_json_compact(&body).map_err(|e| StoreError::Rejected {
            store: self.describe(),
            action: "read the answer to the query".into(),
            detail: format!("{e} (the answer must be JSONCompact: leave out FORMAT)"),
        })
    }
}

#[async_trait]
impl Store for ClickHouseStore {
    fn backend(&self) -> &'static str {
        "clickhouse"
    }

    fn describe(&self) -> String {
        format!("{} (database {})", self.url, self.database)
    }

    async fn init(&self) -> Result<(), StoreError> {
        if self.replication.is_some() {
            self.create_on_cluster().await?;
        }
        let database = Identifier(&self.database);
        created(self.run(|| self.server.query("CREATE DATABASE IF NOT EXISTS ?").bind(database).execute()).await)
            .map_err(self.fail("create the database"))?;
        let cluster = self.replication.as_ref().map(|r| r.cluster.as_str());
        for (table, ddl) in schema::create_tables(&self.database, cluster) {
            created(self.run(|| self.client.query_raw(&ddl).execute()).await)
                .map_err(self.fail(&format!("create the table {table}")))?;
        }
        Ok(())
    }

    /// Sends the batch; when the server is unreachable the batch goes to the spool and this
    /// returns `Ok`. Batches already spooled are sent first, so order is kept. A batch the
    /// server cannot parse is set aside in the spool as poison and reported as `Rejected`;
    /// any other refusal (missing table, bad credentials) keeps the batch spooled and is
    /// reported too.
    async fn insert_logs(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        self.write_logs(rows).await
    }

    async fn logs(&self, session_id: &SessionId, after: Option<f64>, limit: usize) -> Result<Vec<LogRow>, StoreError> {
        // NaN cannot be bound (it would print as an identifier) and excludes nothing anyway.
        let after = after.filter(|t| !t.is_nan());
        let mut sql = String::from("SELECT ?fields FROM unified_logs FINAL WHERE session_id = ?");
        if after.is_some() {
            sql.push_str(" AND timestamp > ?");
        }
        sql.push_str(" ORDER BY timestamp, message_id");
        if limit > 0 {
            sql.push_str(" LIMIT ?");
        }
        self.run(|| {
            let mut query = self.client.query(&sql).bind(session_id);
            if let Some(after) = after {
                query = query.bind(after);
            }
            if limit > 0 {
                query = query.bind(limit as u64);
            }
            query.fetch_all::<LogRow>()
        })
        .await
        .map_err(self.fail("read the log"))
    }

    async fn put_session_state(&self, row: &SessionStateRow) -> Result<(), StoreError> {
        self.put("session_state", row, "write the session state").await
    }

    async fn session_state(&self, session_id: &SessionId) -> Result<Option<SessionStateRow>, StoreError> {
        // Parts may not have merged yet: pick the newest version explicitly.
        let sql = "SELECT ?fields FROM session_state WHERE session_id = ? \
                   ORDER BY version DESC, updated_at DESC LIMIT 1";
        self.run(|| self.consistent.query(sql).bind(session_id).fetch_optional::<SessionStateRow>())
            .await
            .map_err(self.fail("read the session state"))
    }

    async fn session_states(&self, session_ids: &[SessionId]) -> Result<Vec<SessionStateRow>, StoreError> {
        let sql = "SELECT ?fields FROM session_state WHERE session_id IN (SELECT arrayJoin(?)) \
                   ORDER BY version DESC, updated_at DESC LIMIT 1 BY session_id";
        self.by_ids(sql, session_ids, "read the session states").await
    }

    async fn put_session_states(&self, rows: &[SessionStateRow]) -> Result<(), StoreError> {
        self.put_all("session_state", rows, "write the session states").await
    }

    /// Newest first: by `started_at`, or `updated_at` for sessions not started yet
    /// ([`SessionStateRow::sort_at`]), then by id. A `limit` of 0 means no limit.
    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionStateRow>, StoreError> {
        // The filters must see each session's newest version only, so they sit outside the
        // de-duplicating subquery: a filter evaluated before de-duplication (on 18.16, a
        // PREWHERE next to FINAL is) matches stale versions.
        const SORT_AT: &str = "if(started_at > 0, started_at, updated_at)";
        let mut sql = String::from(
            "SELECT ?fields FROM (SELECT * FROM session_state \
             ORDER BY version DESC, updated_at DESC LIMIT 1 BY session_id) WHERE session_id != ''",
        );
        if filter.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if filter.cascade_id.is_some() {
            sql.push_str(" AND cascade_id = ?");
        }
        if filter.since.is_some() {
            sql.push_str(&format!(" AND {SORT_AT} >= ?"));
        }
        if filter.after.is_some() {
            sql.push_str(&format!(" AND ({SORT_AT} < ? OR ({SORT_AT} = ? AND session_id > ?))"));
        }
        sql.push_str(&format!(" ORDER BY {SORT_AT} DESC, session_id"));
        if filter.limit > 0 {
            sql.push_str(" LIMIT ?");
        }
        self.run(|| {
            let mut query = self.consistent.query(&sql);
            if let Some(status) = filter.status {
                query = query.bind(status.as_str());
            }
            if let Some(cascade_id) = &filter.cascade_id {
                query = query.bind(cascade_id.as_str());
            }
            if let Some(since) = filter.since {
                query = query.bind(since);
            }
            if let Some(after) = &filter.after {
                query = query.bind(after.sort_at).bind(after.sort_at).bind(after.session_id.as_str());
            }
            if filter.limit > 0 {
                query = query.bind(filter.limit as u64);
            }
            query.fetch_all::<SessionStateRow>()
        })
        .await
        .map_err(self.fail("list the sessions"))
    }

    async fn put_cascade_session(&self, row: &CascadeSessionRow) -> Result<(), StoreError> {
        self.put("cascade_sessions", row, "write the cascade of the session").await
    }

    async fn put_cascade_sessions(&self, rows: &[CascadeSessionRow]) -> Result<(), StoreError> {
        self.put_all("cascade_sessions", rows, "write the cascades of the sessions").await
    }

    async fn cascade_session(&self, session_id: &SessionId) -> Result<Option<CascadeSessionRow>, StoreError> {
        let sql = "SELECT ?fields FROM cascade_sessions FINAL WHERE session_id = ? LIMIT 1";
        self.run(|| self.consistent.query(sql).bind(session_id).fetch_optional::<CascadeSessionRow>())
            .await
            .map_err(self.fail("read the cascade of the session"))
    }

    async fn cascade_sessions(&self, session_ids: &[SessionId]) -> Result<Vec<CascadeSessionRow>, StoreError> {
        let sql = "SELECT ?fields FROM cascade_sessions FINAL WHERE session_id IN (SELECT arrayJoin(?)) \
                   LIMIT 1 BY session_id";
        self.by_ids(sql, session_ids, "read the cascades of the sessions").await
    }

    async fn put_checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError> {
        self.put_all("checkpoints", rows, "write the checkpoints").await
    }

    async fn put_checkpoint(&self, row: &CheckpointRow) -> Result<(), StoreError> {
        self.put("checkpoints", row, "write the checkpoint").await
    }

    async fn latest_checkpoint(
        &self,
        session_id: &SessionId,
        min_epoch: u64,
    ) -> Result<Option<CheckpointRow>, StoreError> {
        let sql = "SELECT ?fields FROM checkpoints WHERE session_id = ? AND owner_epoch >= ? \
                   ORDER BY seq DESC, owner_epoch DESC LIMIT 1";
        self.run(|| self.consistent.query(sql).bind(session_id).bind(min_epoch).fetch_optional::<CheckpointRow>())
            .await
            .map_err(self.fail("read the checkpoint"))
    }

    async fn put_signal(&self, row: &SignalRow) -> Result<(), StoreError> {
        self.put("signals", row, "write the signal").await
    }

    async fn signals(&self, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError> {
        let sql = "SELECT ?fields FROM signals FINAL WHERE session_id = ? ORDER BY created_at, signal_id, kind";
        self.run(|| self.consistent.query(sql).bind(session_id).fetch_all::<SignalRow>())
            .await
            .map_err(self.fail("read the signals"))
    }

    async fn put_signals(&self, rows: &[SignalRow]) -> Result<(), StoreError> {
        self.put_all("signals", rows, "write the signals").await
    }

    async fn signals_of(&self, session_ids: &[SessionId]) -> Result<Vec<SignalRow>, StoreError> {
        let sql = "SELECT ?fields FROM signals FINAL WHERE session_id IN (SELECT arrayJoin(?)) \
                   ORDER BY created_at, signal_id, kind";
        let mut rows: Vec<SignalRow> = self.by_ids(sql, session_ids, "read the signals").await?;
        // Chunks are each in order; together they need sorting again.
        rows.sort_by(|a, b| {
            a.created_at.total_cmp(&b.created_at).then_with(|| (&a.signal_id, &a.kind).cmp(&(&b.signal_id, &b.kind)))
        });
        Ok(rows)
    }

    async fn signals_since(&self, after: f64) -> Result<Vec<SignalRow>, StoreError> {
        let sql = "SELECT ?fields FROM signals WHERE created_at > ? ORDER BY created_at, signal_id, kind";
        self.run(|| self.consistent.query(sql).bind(after).fetch_all::<SignalRow>())
            .await
            .map_err(self.fail("read the signals"))
    }

    async fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        if !is_read_only(sql) {
            return Err(StoreError::NotReadOnly(sql.trim().chars().take(80).collect()));
        }
        self.query_guarded(sql).await
    }

    /// Whole seconds: `now()` on 18.16 has no fraction.
    async fn now(&self) -> Result<f64, StoreError> {
        let sql = "SELECT toFloat64(toUnixTimestamp(now()))";
        self.run(|| self.client.query(sql).fetch_one::<f64>()).await.map_err(self.fail("read the server's clock"))
    }

    /// Starts an `ALTER TABLE ... DELETE` mutation per table, then waits for them to finish
    /// (they run in the background, and 18.16 has no `mutations_sync`): once this returns,
    /// readers no longer see the rows.
    async fn delete_sessions(&self, session_ids: &[SessionId]) -> Result<(), StoreError> {
        if session_ids.is_empty() {
            return Ok(());
        }
        for chunk in session_ids.chunks(1000) {
            for table in TABLES {
                let sql = format!("ALTER TABLE {table} DELETE WHERE has(?, session_id)");
                self.run(|| self.client.query(&sql).bind(chunk).execute())
                    .await
                    .map_err(self.fail(&format!("delete sessions from {table}")))?;
            }
        }
        self.supersede_quorum_parts().await?;
        self.wait_for_mutations().await
    }
}

/// Another process creating the same objects at the same moment may win the race: "already
/// exists" (of the database, the table, or on a replicated store the table's replica in
/// ZooKeeper) is then success.
fn created(result: Result<(), Failure>) -> Result<(), Failure> {
    match result {
        Err(Failure::Refused(detail)) if matches!(exception_code(&detail), Some(57 | 82 | 253)) => Ok(()),
        other => other,
    }
}

/// Database names go into DDL as identifiers; keep them plain.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The spool's folder for one server and database.
fn spool_folder(settings: &ClickHouseSettings) -> String {
    let raw = format!("clickhouse-{}-{}-{}", settings.host, settings.port, settings.database);
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;

    fn settings(database: &str) -> ClickHouseSettings {
        ClickHouseSettings {
            host: "db.example".into(),
            port: 8443,
            database: database.into(),
            user: "alice".into(),
            password: Secret::new("hunter2-secret"),
            secure: true,
            replication: None,
        }
    }

    #[test]
    fn never_shows_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClickHouseStore::connect(&settings("windlass"), dir.path()).unwrap();
        let shown = format!("{store:?} {}", store.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("alice"), "{shown}");
        assert_eq!(store.describe(), "https://db.example:8443 (database windlass)");
        assert!(store.spool().dir().ends_with("clickhouse-db.example-8443-windlass"));
    }

    #[test]
    fn refuses_odd_database_names() {
        let dir = tempfile::tempdir().unwrap();
        let err = ClickHouseStore::connect(&settings("a`; DROP"), dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
    }
}
