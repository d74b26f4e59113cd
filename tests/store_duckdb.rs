//! The DuckDB store, one process: every trait method round-trips, the newest session version
//! wins, duplicate log rows are read once, hostile ids stay data, and `query` cannot write.

#[path = "support/store_rows.rs"]
mod store_rows;

use store_rows::{cascade, checkpoint, log, logs, signal, state};
use windlass::store::{DuckStore, SessionFilter, SessionStatus, Store, StoreError, TABLES};

fn store() -> (tempfile::TempDir, DuckStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckStore::open(dir.path()).unwrap();
    (dir, store)
}

async fn count(store: &DuckStore, sql: &str) -> i64 {
    let r = store.query(sql).await.unwrap();
    r.rows[0][0].as_i64().unwrap()
}

#[tokio::test]
async fn every_method_round_trips() {
    let (dir, store) = store();
    assert_eq!(store.backend(), "duckdb");
    assert!(store.describe().ends_with("store.duckdb"), "{}", store.describe());
    store.init().await.unwrap();
    store.init().await.unwrap(); // idempotent
    assert!(dir.path().join("store.duckdb").exists());

    let rows = logs("s1", 0, 10);
    store.insert_logs(&rows).await.unwrap();
    store.insert_logs(&logs("other", 0, 3)).await.unwrap();
    store.insert_logs(&[]).await.unwrap();
    assert_eq!(store.logs("s1", None, 0).await.unwrap(), rows);
    assert_eq!(store.logs("s1", None, 4).await.unwrap(), rows[..4]);
    assert_eq!(store.logs("s1", Some(rows[6].timestamp), 0).await.unwrap(), rows[7..]);
    assert!(store.logs("nobody", None, 0).await.unwrap().is_empty());

    assert_eq!(store.session_state("s1").await.unwrap(), None);
    let s = state("s1", 1, "running");
    store.put_session_state(&s).await.unwrap();
    assert_eq!(store.session_state("s1").await.unwrap(), Some(s.clone()));

    assert_eq!(store.cascade_session("s1").await.unwrap(), None);
    let c = cascade("s1");
    store.put_cascade_session(&c).await.unwrap();
    assert_eq!(store.cascade_session("s1").await.unwrap(), Some(c));

    assert_eq!(store.latest_checkpoint("s1", 0).await.unwrap(), None);
    let (c0, c1, c2_old_epoch) =
        (checkpoint("s1", 0, 2, 100), checkpoint("s1", 1, 2, 100), checkpoint("s1", 2, 1, 100));
    for c in [&c0, &c1, &c2_old_epoch] {
        store.put_checkpoint(c).await.unwrap();
    }
    assert_eq!(store.latest_checkpoint("s1", 0).await.unwrap(), Some(c2_old_epoch));
    assert_eq!(store.latest_checkpoint("s1", 2).await.unwrap(), Some(c1));
    assert_eq!(store.latest_checkpoint("s1", 3).await.unwrap(), None);

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
    assert_eq!(store.signals("s1").await.unwrap(), sigs);

    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let now = store.now().await.unwrap();
    assert!((now - before).abs() < 5.0, "{now} vs {before}");

    store.put_session_state(&state("s2", 1, "queued")).await.unwrap();
    store.delete_sessions(&["s1".to_string()]).await.unwrap();
    for table in TABLES {
        assert_eq!(count(&store, &format!("SELECT count(*) FROM {table} WHERE session_id = 's1'")).await, 0, "{table}");
    }
    assert_eq!(store.signals("s2").await.unwrap().len(), 1);
    assert_eq!(store.logs("other", None, 0).await.unwrap().len(), 3);
    assert!(store.session_state("s2").await.unwrap().is_some());
    assert!(store.take_warnings().is_empty());
}

#[tokio::test]
async fn newest_session_version_wins() {
    let (_dir, store) = store();
    for (version, status) in [(1, "running"), (3, "completed"), (2, "blocked")] {
        store.put_session_state(&state("a", version, status)).await.unwrap();
    }
    let mut b = state("b", 7, "running");
    b.started_at += 100.0;
    b.cascade_id = "other".into();
    store.put_session_state(&b).await.unwrap();

    let newest = store.session_state("a").await.unwrap().unwrap();
    assert_eq!((newest.version, newest.status.as_str()), (3, "completed"));

    let all = store.list_sessions(&SessionFilter::default()).await.unwrap();
    let ids: Vec<_> = all.iter().map(|s| (s.session_id.as_str(), s.version)).collect();
    assert_eq!(ids, [("b", 7), ("a", 3)], "one row per session, newest sessions first");

    // Filters look at the newest version only: "a" was running once, but is completed now.
    let running = SessionFilter { status: Some(SessionStatus::Running), ..Default::default() };
    let ids: Vec<_> = store.list_sessions(&running).await.unwrap().into_iter().map(|s| s.session_id).collect();
    assert_eq!(ids, ["b"]);
    let demo = SessionFilter { cascade_id: Some("demo".into()), ..Default::default() };
    assert_eq!(store.list_sessions(&demo).await.unwrap().len(), 1);
    let one = SessionFilter { limit: 1, ..Default::default() };
    assert_eq!(store.list_sessions(&one).await.unwrap().len(), 1);
}

#[tokio::test]
async fn duplicate_message_ids_are_read_once() {
    let (_dir, store) = store();
    let rows = logs("s", 0, 5);
    store.insert_logs(&rows).await.unwrap();
    // A retried batch, overlapping the first.
    store.insert_logs(&logs("s", 3, 4)).await.unwrap();
    let read = store.logs("s", None, 0).await.unwrap();
    assert_eq!(read.len(), 7);
    let mut ids: Vec<_> = read.iter().map(|r| r.message_id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 7);
    assert_eq!(read[..5], rows[..]);
    assert_eq!(count(&store, "SELECT count(*) FROM unified_logs").await, 9, "stored twice, read once");
}

#[tokio::test]
async fn rows_of_the_same_time_keep_their_order() {
    let (_dir, store) = store();
    let rows: Vec<_> = (0..12).map(|seq| log("s", seq, 5.0)).collect();
    store.insert_logs(&rows[..6]).await.unwrap();
    store.insert_logs(&rows[6..]).await.unwrap();
    store.insert_logs(&rows[..3]).await.unwrap(); // a retry, appended later
    let ids: Vec<_> = store.logs("s", None, 0).await.unwrap().into_iter().map(|r| r.message_id).collect();
    let expected: Vec<_> = rows.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn hostile_session_ids_are_only_data() {
    let (_dir, store) = store();
    let id = "x'); DROP TABLE signals; --";
    let quoted = "\"; DELETE FROM session_state; \\' O'Brien";
    for id in [id, quoted] {
        store.insert_logs(&[log(id, 1, 1.0)]).await.unwrap();
        store.put_session_state(&state(id, 1, "running")).await.unwrap();
        store.put_cascade_session(&cascade(id)).await.unwrap();
        store.put_checkpoint(&checkpoint(id, 0, 1, 10)).await.unwrap();
        store.put_signal(&signal(id, "sig'1", "message", 1.0)).await.unwrap();
    }
    for id in [id, quoted] {
        assert_eq!(store.logs(id, None, 0).await.unwrap()[0].session_id, id);
        assert_eq!(store.session_state(id).await.unwrap().unwrap().session_id, id);
        assert_eq!(store.cascade_session(id).await.unwrap().unwrap().session_id, id);
        assert_eq!(store.latest_checkpoint(id, 0).await.unwrap().unwrap().session_id, id);
        assert_eq!(store.signals(id).await.unwrap()[0].signal_id, "sig'1");
    }
    let filter = SessionFilter { cascade_id: Some("demo' OR '1'='1".into()), ..Default::default() };
    assert!(store.list_sessions(&filter).await.unwrap().is_empty());
    assert_eq!(store.list_sessions(&SessionFilter::default()).await.unwrap().len(), 2);
    for table in TABLES {
        assert_eq!(count(&store, &format!("SELECT count(*) FROM {table}")).await, 2, "{table} still there");
    }
    store.delete_sessions(&[id.to_string()]).await.unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM signals").await, 1);
}

#[tokio::test]
async fn query_reads_and_nothing_else() {
    let (_dir, store) = store();
    store.insert_logs(&logs("s", 0, 3)).await.unwrap();
    store.put_signal(&signal("s", "a", "message", 1.0)).await.unwrap();

    let r = store
        .query("SELECT session_id, count(*) AS n, sum(tokens_in) AS t, 1.5 AS d, NULL AS x, [1, 2] AS l, TIMESTAMP '2024-02-29 12:34:56.5' AS ts FROM unified_logs GROUP BY 1;")
        .await
        .unwrap();
    assert_eq!(r.columns, ["session_id", "n", "t", "d", "x", "l", "ts"]);
    let expected = serde_json::json!(["s", 3, 360, 1.5, null, [1, 2], "2024-02-29 12:34:56.500000"]);
    assert_eq!(serde_json::Value::Array(r.rows[0].clone()), expected);
    assert_eq!(r.rows.len(), 1);
    let empty = store.query("SELECT signal_id, kind FROM signals WHERE false").await.unwrap();
    assert_eq!((empty.columns.len(), empty.rows.len()), (2, 0));
    assert!(!store.query("DESCRIBE unified_logs").await.unwrap().rows.is_empty());
    assert!(!store.query("SHOW TABLES").await.unwrap().rows.is_empty());

    for sql in
        ["DELETE FROM signals", "SELECT 1; DROP TABLE x", "ATTACH '/tmp/x.duckdb' AS x", "COPY signals TO '/tmp/x.csv'"]
    {
        let err = store.query(sql).await.unwrap_err();
        assert!(matches!(err, StoreError::NotReadOnly(_)), "{sql}: {err}");
    }
    // Past the keyword check, the engine itself refuses: read-only, no file access.
    for sql in [
        "SELECT * FROM read_csv('/etc/passwd')",
        "WITH x AS (SELECT 1) DELETE FROM signals",
        "EXPLAIN ANALYZE DELETE FROM signals",
        "SELECT * FROM read_text('/etc/hostname')",
    ] {
        let err = store.query(sql).await.unwrap_err();
        let refused = matches!(&err, StoreError::Rejected { detail, .. }
            if detail.contains("disabled by configuration") || detail.contains("read-only mode"));
        assert!(refused, "{sql}: {err}");
    }
    assert_eq!(count(&store, "SELECT count(*) FROM signals").await, 1);
    // And writing works again afterwards.
    store.put_signal(&signal("s", "b", "message", 2.0)).await.unwrap();
    assert_eq!(store.signals("s").await.unwrap().len(), 2);
}

#[tokio::test]
async fn stores_on_one_file_share_it_in_a_process() {
    let (dir, a) = store();
    let b = DuckStore::open(dir.path()).unwrap();
    a.insert_logs(&logs("s", 0, 2)).await.unwrap();
    b.insert_logs(&logs("s", 2, 2)).await.unwrap();
    let (ra, rb) = tokio::join!(a.logs("s", None, 0), b.logs("s", None, 0));
    assert_eq!(ra.unwrap().len(), 4);
    assert_eq!(rb.unwrap().len(), 4);
}
