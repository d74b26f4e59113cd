//! The DuckDB store on its own, one process: where its file lives, rows of the same time in
//! append order, the JSON of query results by type, the engine's own read-only guard, and
//! stores sharing one file. What every backend promises is in `store_contract.rs`.

#[path = "support/store_rows.rs"]
mod store_rows;

use store_rows::{log, logs, sid, signal};
use windlass::store::{DuckStore, Store, StoreError};

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
async fn the_file_lives_in_the_data_dir() {
    let (dir, store) = store();
    assert_eq!(store.backend(), "duckdb");
    assert!(store.describe().ends_with("store.duckdb"), "{}", store.describe());
    store.init().await.unwrap();
    store.init().await.unwrap(); // idempotent
    assert!(dir.path().join("store.duckdb").exists());
    store.insert_logs(&logs("s1", 0, 10)).await.unwrap();
    assert!(store.take_warnings().is_empty());
}

#[tokio::test]
async fn rows_of_the_same_time_keep_their_order() {
    let (_dir, store) = store();
    let rows: Vec<_> = (0..12).map(|seq| log("s", seq, 5.0)).collect();
    store.insert_logs(&rows[..6]).await.unwrap();
    store.insert_logs(&rows[6..]).await.unwrap();
    store.insert_logs(&rows[..3]).await.unwrap(); // a retry, appended later
    let ids: Vec<_> = store.logs(&sid("s"), None, 0).await.unwrap().into_iter().map(|r| r.message_id).collect();
    let expected: Vec<_> = rows.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(ids, expected);
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

    // Past the keyword check (`store_contract.rs`), the engine itself refuses: read-only, no
    // file access.
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
    assert_eq!(store.signals(&sid("s")).await.unwrap().len(), 2);
}

#[tokio::test]
async fn stores_on_one_file_share_it_in_a_process() {
    let (dir, a) = store();
    let b = DuckStore::open(dir.path()).unwrap();
    a.insert_logs(&logs("s", 0, 2)).await.unwrap();
    b.insert_logs(&logs("s", 2, 2)).await.unwrap();
    let s = sid("s");
    let (ra, rb) = tokio::join!(a.logs(&s, None, 0), b.logs(&s, None, 0));
    assert_eq!(ra.unwrap().len(), 4);
    assert_eq!(rb.unwrap().len(), 4);
}

/// A write-ahead log past a few MB is folded into the database file once the file has been
/// idle a moment (so a hand-over to another process stays short), not after every commit
/// (so sustained ingest folds as rarely as a plain appender); the file stays open meanwhile.
#[tokio::test]
async fn a_grown_write_ahead_log_is_folded_when_the_file_goes_idle() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let opts = windlass::store::DuckOptions { linger: Duration::from_secs(60), ..Default::default() };
    let store = DuckStore::open_with(dir.path(), opts).unwrap();
    store.init().await.unwrap();
    let wal = dir.path().join("store.duckdb.wal");
    let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mut seq = 0;
    while wal_len() < 6 << 20 && seq < 200_000 {
        store.insert_logs(&logs("big", seq, 2_000)).await.unwrap();
        seq += 2_000;
    }
    assert!((6 << 20..16 << 20).contains(&wal_len()), "folded during ingest: {} bytes after {seq} rows", wal_len());
    let limit = Instant::now() + Duration::from_secs(10);
    while wal_len() > 1 << 20 {
        assert!(Instant::now() < limit, "the idle store left a log of {} bytes", wal_len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Folded by the holder, not by a close: the file is still this process's (its lock is
    // taken), and nothing was lost.
    let lock = std::fs::File::open(dir.path().join("store.duckdb.lock")).unwrap();
    assert!(lock.try_lock().is_err(), "the store closed the file instead");
    assert_eq!(count(&store, "SELECT count(*) FROM unified_logs").await, seq as i64);
}
