//! The store contract: what every backend of [`Store`] promises, checked through `&dyn Store`
//! on DuckDB always and on ClickHouse when the test server is set (`tests/support/clickhouse.rs`:
//! CI sets `WINDLASS_TEST_REQUIRE_CLICKHOUSE=1`, so there it is never skipped). Every trait
//! method round-trips, the newest session version wins, duplicate rows are read once, hostile
//! ids stay data, and `query` only reads.
//!
//! What one backend does on its own (DuckDB's file sharing and query types, ClickHouse's spool
//! and server-side guard) is in `store_duckdb.rs` and `store_clickhouse.rs`.

#[path = "support/store_rows.rs"]
mod store_rows;
mod support;

use serde_json::json;
use std::sync::Arc;
use store_rows::{cascade, checkpoint, log, logs, sid, signal, state};
use support::clickhouse::{drop_database, raw_client, test_server};
use windlass::settings::ClickHouseSettings;
use windlass::store::{
    CascadeSessionRow, ClickHouseStore, DuckStore, ListCursor, SessionFilter, SessionStateRow, SessionStatus, Store,
    StoreError, TABLES,
};

/// One backend under test, initialised, on its own file or database.
struct Subject {
    name: &'static str,
    store: Arc<dyn Store>,
    /// The ClickHouse database, to count rows without the code under test and to drop it.
    clickhouse: Option<ClickHouseSettings>,
    /// The DuckDB data dir, or the ClickHouse spool.
    _dir: tempfile::TempDir,
}

impl Subject {
    fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// A `count(*)` query: through the bare crate client on ClickHouse, through the store on
    /// DuckDB (nothing else may open its file while the store has it).
    async fn count(&self, sql: &str) -> u64 {
        match &self.clickhouse {
            Some(settings) => {
                raw_client(settings).query(sql).fetch_one::<u64>().await.unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            None => self.store.query(sql).await.unwrap().rows[0][0].as_u64().unwrap(),
        }
    }

    /// Drop the ClickHouse database (only after the test passed: a failed one is left to
    /// look at).
    async fn finish(self) {
        if let Some(settings) = &self.clickhouse {
            drop_database(settings).await;
        }
    }
}

/// DuckDB, then ClickHouse if there is a server; `test` names the ClickHouse database.
async fn subjects(test: &str) -> Vec<Subject> {
    let dir = tempfile::tempdir().unwrap();
    let duck = DuckStore::open(dir.path()).unwrap();
    duck.init().await.unwrap();
    let mut out = vec![Subject { name: "duckdb", store: Arc::new(duck), clickhouse: None, _dir: dir }];
    if let Some(settings) = test_server(test) {
        let spool = tempfile::tempdir().unwrap();
        let store = ClickHouseStore::connect(&settings, spool.path()).expect("connect");
        store.init().await.expect("init");
        out.push(Subject { name: "clickhouse", store: Arc::new(store), clickhouse: Some(settings), _dir: spool });
    }
    out
}

/// Run one part of the contract on every backend, saying which one is under test.
macro_rules! on_every_backend {
    ($test:ident) => {
        #[tokio::test]
        async fn $test() {
            for subject in subjects(stringify!($test)).await {
                eprintln!("{}: on {}", stringify!($test), subject.name);
                contract::$test(&subject).await;
                subject.finish().await;
            }
        }
    };
}

on_every_backend!(every_method_round_trips);
on_every_backend!(newest_session_version_wins);
on_every_backend!(pages_follow_the_cursor_in_the_store);
on_every_backend!(duplicates_are_read_once);
on_every_backend!(hostile_session_ids_stay_values);
on_every_backend!(queries_only_read);

mod contract {
    use super::*;

    pub async fn every_method_round_trips(s: &Subject) {
        let store = s.store();
        assert_eq!(store.backend(), s.name);
        store.init().await.expect("init is idempotent");

        // Logs: time order whatever the insert order, `after`, `limit`; an empty batch is fine.
        let rows = logs("s1", 0, 10);
        store.insert_logs(&rows[5..]).await.unwrap();
        store.insert_logs(&rows[..5]).await.unwrap();
        store.insert_logs(&logs("other", 0, 3)).await.unwrap();
        store.insert_logs(&[]).await.unwrap();
        assert_eq!(store.logs(&sid("s1"), None, 0).await.unwrap(), rows);
        assert_eq!(store.logs(&sid("s1"), None, 4).await.unwrap(), rows[..4]);
        assert_eq!(store.logs(&sid("s1"), Some(rows[6].timestamp), 0).await.unwrap(), rows[7..]);
        assert!(store.logs(&sid("nobody"), None, 0).await.unwrap().is_empty());

        // Session state: the newest version wins, whatever the insert order.
        assert_eq!(store.session_state(&sid("s1")).await.unwrap(), None);
        let first = state("s1", 1, SessionStatus::Running);
        store.put_session_state(&first).await.unwrap();
        assert_eq!(store.session_state(&sid("s1")).await.unwrap(), Some(first));
        for version in [3, 2] {
            store.put_session_state(&state("s1", version, SessionStatus::Running)).await.unwrap();
        }
        let done = SessionStateRow {
            completed_at: 1_700_000_010.0,
            cancel_requested: true,
            ..state("s1", 4, SessionStatus::Completed)
        };
        store.put_session_state(&done).await.unwrap();
        assert_eq!(store.session_state(&sid("s1")).await.unwrap(), Some(done));
        assert_eq!(store.session_state(&sid("nobody")).await.unwrap(), None);

        // Cascade definition and input.
        assert_eq!(store.cascade_session(&sid("s1")).await.unwrap(), None);
        let c = CascadeSessionRow { input: json!({"topic": "ünïcödé"}).to_string(), ..cascade("s1") };
        store.put_cascade_session(&c).await.unwrap();
        assert_eq!(store.cascade_session(&sid("s1")).await.unwrap(), Some(c));
        assert_eq!(store.cascade_session(&sid("nobody")).await.unwrap(), None);

        // Checkpoints: the highest seq among rows of the allowed epochs.
        assert_eq!(store.latest_checkpoint(&sid("s1"), 0).await.unwrap(), None);
        let (c0, c1, c2_old_epoch) =
            (checkpoint("s1", 0, 2, 100), checkpoint("s1", 1, 2, 100), checkpoint("s1", 2, 1, 100));
        for c in [&c0, &c1, &c2_old_epoch] {
            store.put_checkpoint(c).await.unwrap();
        }
        assert_eq!(store.latest_checkpoint(&sid("s1"), 0).await.unwrap(), Some(c2_old_epoch));
        assert_eq!(store.latest_checkpoint(&sid("s1"), 2).await.unwrap(), Some(c1));
        assert_eq!(store.latest_checkpoint(&sid("s1"), 3).await.unwrap(), None);
        for (seq, epoch) in [(1, 1), (2, 1), (3, 1), (2, 2)] {
            store.put_checkpoint(&checkpoint("s2", seq, epoch, 100)).await.unwrap();
        }
        assert_eq!(store.latest_checkpoint(&sid("s2"), 0).await.unwrap(), Some(checkpoint("s2", 3, 1, 100)));
        assert_eq!(store.latest_checkpoint(&sid("s2"), 2).await.unwrap(), Some(checkpoint("s2", 2, 2, 100)));
        assert_eq!(store.latest_checkpoint(&sid("s2"), 3).await.unwrap(), None);

        // Signals and their consumption markers, oldest first.
        let sigs = [
            signal("s1", "a", "message", 10.0),
            signal("s1", "b", "named", 11.0),
            signal("s1", "a", "consumed", 12.0),
            signal("s1", "c", "cancel", 12.0),
        ];
        // Appended out of time order: read back oldest first, ties in append order.
        for s in [&sigs[1], &sigs[0], &sigs[2], &sigs[3]] {
            store.put_signal(s).await.unwrap();
        }
        store.put_signal(&signal("s2", "z", "message", 1.0)).await.unwrap();
        assert_eq!(store.signals(&sid("s1")).await.unwrap(), sigs);

        // Read-only queries see the same table names; 64-bit integers come back as numbers.
        let result = store
            .query("SELECT session_id, count(*) AS n, sum(tokens_in) AS t FROM unified_logs GROUP BY session_id ORDER BY session_id;")
            .await
            .unwrap();
        assert_eq!(result.columns, ["session_id", "n", "t"]);
        assert_eq!(
            result.rows,
            vec![vec![json!("other"), json!(3), json!(360)], vec![json!("s1"), json!(10), json!(1200)]]
        );

        // The store's clock (this machine's, or a server on it: they agree).
        let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        let now = store.now().await.unwrap();
        assert!((now - before).abs() < 5.0, "{now} vs {before}");

        // Deleting: once `delete_sessions` returns the rows are gone for every reader (on
        // ClickHouse a background mutation the store waits for); other sessions stay.
        store.put_session_state(&state("s2", 1, SessionStatus::Queued)).await.unwrap();
        store.delete_sessions(&[sid("s1")]).await.unwrap();
        for table in TABLES {
            let left = s.count(&format!("SELECT count(*) FROM {table} WHERE session_id = 's1'")).await;
            assert_eq!(left, 0, "{left} rows of s1 still in {table}");
        }
        assert_eq!(store.signals(&sid("s2")).await.unwrap().len(), 1);
        assert_eq!(store.logs(&sid("other"), None, 0).await.unwrap().len(), 3, "other sessions stay");
        assert_eq!(store.session_state(&sid("s2")).await.unwrap().map(|s| s.version), Some(1));
        store.delete_sessions(&[]).await.unwrap();
    }

    pub async fn newest_session_version_wins(s: &Subject) {
        let store = s.store();
        for (version, status) in
            [(1, SessionStatus::Running), (3, SessionStatus::Completed), (2, SessionStatus::Blocked)]
        {
            store.put_session_state(&state("a", version, status)).await.unwrap();
        }
        let mut b = state("b", 7, SessionStatus::Running);
        b.started_at += 100.0;
        b.cascade_id = "other".into();
        store.put_session_state(&b).await.unwrap();
        let c = SessionStateRow { started_at: b.started_at - 50.0, ..state("c", 1, SessionStatus::Running) };
        store.put_session_state(&c).await.unwrap();
        // Not started yet.
        let q = SessionStateRow {
            started_at: 0.0,
            updated_at: b.started_at + 100.0,
            cascade_id: "other".into(),
            ..state("q", 1, SessionStatus::Queued)
        };
        store.put_session_state(&q).await.unwrap();

        let newest = store.session_state(&sid("a")).await.unwrap().unwrap();
        assert_eq!((newest.version, newest.status), (3, SessionStatus::Completed));

        let ids = |rows: Vec<SessionStateRow>| rows.into_iter().map(|r| r.session_id).collect::<Vec<_>>();
        let all = store.list_sessions(&SessionFilter::default()).await.unwrap();
        let versions: Vec<_> = all.iter().map(|s| (s.session_id.as_str(), s.version)).collect();
        // One row per session, newest sessions first; a session not started yet is placed by
        // its `updated_at`, on every backend.
        assert_eq!(versions, [("q", 1), ("b", 7), ("c", 1), ("a", 3)], "one row per session, newest sessions first");

        // Filters look at the newest version only: "a" was running once, but is completed now.
        let running = SessionFilter { status: Some(SessionStatus::Running), ..Default::default() };
        assert_eq!(
            ids(store.list_sessions(&running).await.unwrap()),
            ["b", "c"],
            "a's old running rows must not match"
        );
        let demo = SessionFilter { cascade_id: Some("demo".into()), ..Default::default() };
        assert_eq!(ids(store.list_sessions(&demo).await.unwrap()), ["c", "a"]);
        let demo_one = SessionFilter { cascade_id: Some("demo".into()), limit: 1, ..Default::default() };
        assert_eq!(ids(store.list_sessions(&demo_one).await.unwrap()), ["c"]);
        let one = SessionFilter { limit: 1, ..Default::default() };
        assert_eq!(store.list_sessions(&one).await.unwrap().len(), 1);
    }

    /// Paging through the list with the store's cursor: every session once, in order, with
    /// ties on the sort time broken by id, times that are not round numbers, old versions
    /// ignored, and `since` and the filters applied in the store together with the cursor.
    pub async fn pages_follow_the_cursor_in_the_store(s: &Subject) {
        let store = s.store();
        let base = 1_764_812_345.123_456_7_f64;
        let mut rows = Vec::new();
        for n in 0..23u32 {
            // Three sessions share each start time; the queued ones sort by `updated_at`.
            let at = base + f64::from(n / 3) * 0.017_3;
            let mut row = state(&format!("s{n:02}"), 2, SessionStatus::Running);
            if n % 5 == 0 {
                row.status = SessionStatus::Queued;
                row.started_at = 0.0;
                row.updated_at = at;
            } else {
                row.started_at = at;
            }
            // An older version that would sort first if it were read.
            let old = SessionStateRow { version: 1, started_at: base + 1000.0, ..row.clone() };
            rows.push(old);
            rows.push(row);
        }
        store.put_session_states(&rows).await.unwrap();
        let newest: Vec<&SessionStateRow> = rows.iter().filter(|r| r.version == 2).collect();
        let mut expected: Vec<(f64, String)> = newest.iter().map(|r| (r.sort_at(), r.session_id.to_string())).collect();
        expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

        let mut seen = Vec::new();
        let mut after = None;
        for _ in 0..20 {
            let filter = SessionFilter { after: after.clone(), limit: 4, ..Default::default() };
            let page = store.list_sessions(&filter).await.unwrap();
            assert!(page.len() <= 4);
            seen.extend(page.iter().map(|r| r.session_id.to_string()));
            match page.last() {
                Some(last) => after = Some(ListCursor::after(last)),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{}: pages in order, each session once", s.name);

        // `since`, the status filter and the cursor together.
        let since = base + 3.0 * 0.017_3;
        let running_since: Vec<String> = expected
            .iter()
            .filter(|id| {
                let r = newest.iter().find(|r| r.session_id.as_str() == id.as_str()).unwrap();
                r.status == SessionStatus::Running && r.sort_at() >= since
            })
            .cloned()
            .collect();
        let first = SessionFilter {
            status: Some(SessionStatus::Running),
            since: Some(since),
            limit: 2,
            after: None,
            ..Default::default()
        };
        let page = store.list_sessions(&first).await.unwrap();
        let ids: Vec<String> = page.iter().map(|r| r.session_id.to_string()).collect();
        assert_eq!(ids, running_since[..2], "{}", s.name);
        let rest = SessionFilter { after: Some(ListCursor::after(page.last().unwrap())), limit: 0, ..first };
        let ids: Vec<String> =
            store.list_sessions(&rest).await.unwrap().iter().map(|r| r.session_id.to_string()).collect();
        assert_eq!(ids, running_since[2..], "{}", s.name);
    }

    pub async fn duplicates_are_read_once(s: &Subject) {
        let store = s.store();
        let rows = logs("s", 0, 5);
        store.insert_logs(&rows).await.unwrap();
        // A retried batch, overlapping the first.
        store.insert_logs(&logs("s", 3, 4)).await.unwrap();
        let read = store.logs(&sid("s"), None, 0).await.unwrap();
        assert_eq!(read.len(), 7);
        let mut ids: Vec<_> = read.iter().map(|r| r.message_id.clone()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 7);
        assert_eq!(read[..5], rows[..]);
        let stored = s.count("SELECT count(*) FROM unified_logs WHERE session_id = 's'").await;
        assert_eq!(stored, 9, "stored twice, read once");

        // A batch sent three times over, as the spool may (ClickHouse: before parts merge).
        let rows = logs("dup", 0, 100);
        store.insert_logs(&rows).await.unwrap();
        store.insert_logs(&rows).await.unwrap();
        store.insert_logs(&rows[10..20]).await.unwrap();
        let stored = s.count("SELECT count(*) FROM unified_logs WHERE session_id = 'dup'").await;
        assert_eq!(stored, 210, "stored three times");
        assert_eq!(store.logs(&sid("dup"), None, 0).await.unwrap(), rows, "read once");

        for _ in 0..2 {
            store.put_session_state(&state("dup", 7, SessionStatus::Running)).await.unwrap();
            store.put_checkpoint(&checkpoint("dup", 1, 1, 10)).await.unwrap();
        }
        assert_eq!(store.list_sessions(&SessionFilter::default()).await.unwrap().len(), 1);
        assert_eq!(store.latest_checkpoint(&sid("dup"), 0).await.unwrap(), Some(checkpoint("dup", 1, 1, 10)));
    }

    pub async fn hostile_session_ids_stay_values(s: &Subject) {
        let store = s.store();
        let ids = [
            "x'); DROP TABLE signals; --",
            "\"; DELETE FROM session_state; \\' O'Brien",
            "x\\'; DROP TABLE signals; --",
            "a?b ?fields ??",
            "tab\there\nnewline",
        ];
        for id in ids {
            store.insert_logs(&[log(id, 1, 1.0)]).await.unwrap();
            store.put_session_state(&state(id, 1, SessionStatus::Running)).await.unwrap();
            store.put_cascade_session(&cascade(id)).await.unwrap();
            store.put_checkpoint(&checkpoint(id, 0, 1, 10)).await.unwrap();
            store.put_signal(&signal(id, "sig'1", "message", 1.0)).await.unwrap();
        }
        for id in ids {
            assert_eq!(store.logs(&sid(id), None, 0).await.unwrap()[0].session_id, id);
            assert_eq!(store.session_state(&sid(id)).await.unwrap().unwrap().session_id, id);
            assert_eq!(store.cascade_session(&sid(id)).await.unwrap().unwrap().session_id, id);
            assert_eq!(store.latest_checkpoint(&sid(id), 0).await.unwrap().unwrap().session_id, id);
            let signals = store.signals(&sid(id)).await.unwrap();
            assert_eq!(signals.len(), 1, "{id}");
            assert_eq!((signals[0].session_id.as_str(), signals[0].signal_id.as_str()), (id, "sig'1"));
        }
        for hostile in ["demo' OR '1'='1", "x' OR 1=1 --"] {
            let filter = SessionFilter { cascade_id: Some(hostile.into()), ..Default::default() };
            assert!(store.list_sessions(&filter).await.unwrap().is_empty(), "{hostile}");
        }
        assert_eq!(store.list_sessions(&SessionFilter::default()).await.unwrap().len(), ids.len());
        for table in TABLES {
            assert_eq!(s.count(&format!("SELECT count(*) FROM {table}")).await, 5, "{table} still there");
        }
        store.delete_sessions(&[sid(ids[0])]).await.unwrap();
        assert_eq!(s.count("SELECT count(*) FROM signals").await, 4);
        if let Some(settings) = &s.clickhouse {
            let tables = "SELECT count() FROM system.tables WHERE database = currentDatabase()";
            assert_eq!(raw_client(settings).query(tables).fetch_one::<u64>().await.unwrap(), 5);
        }
    }

    pub async fn queries_only_read(s: &Subject) {
        let store = s.store();
        store.insert_logs(&logs("s", 0, 3)).await.unwrap();
        store.put_signal(&signal("s", "a", "message", 1.0)).await.unwrap();
        for sql in [
            "DELETE FROM signals",
            "DELETE FROM signals WHERE 1",
            "INSERT INTO signals (signal_id) VALUES ('x')",
            "SELECT 1; DROP TABLE x",
            "SELECT 1; DROP TABLE signals",
            "DROP TABLE signals",
            "ALTER TABLE signals DELETE WHERE 1",
            "ATTACH '/tmp/x.duckdb' AS x",
            "COPY signals TO '/tmp/x.csv'",
        ] {
            let err = store.query(sql).await.unwrap_err();
            assert!(matches!(err, StoreError::NotReadOnly(_)), "{sql}: {err}");
        }
        assert!(!store.query("DESCRIBE unified_logs").await.unwrap().rows.is_empty());
        assert!(!store.query("SHOW TABLES").await.unwrap().rows.is_empty());
        let err = store.query("SELECT * FROM no_such_table").await.unwrap_err();
        assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
        assert_eq!(s.count("SELECT count(*) FROM signals").await, 1);
        // And writing works again afterwards.
        store.put_signal(&signal("s", "b", "message", 2.0)).await.unwrap();
        assert_eq!(store.signals(&sid("s")).await.unwrap().len(), 2);
    }
}
