//! The embedded store's speed on this machine.
//!
//!     cargo bench --profile dev --bench store_duckdb
//!
//! (A release build of DuckDB takes most of an hour; the dev profile compiles DuckDB without
//! optimisation, so these numbers are an upper bound.) Reports:
//!
//! - open + close of the database (what a process pays to take the file over);
//! - `put_checkpoint` latency, p50/p99 over 500 checkpoints of about 8 KB, with the file held
//!   (a running session) — target p99 <= 5 ms;
//! - sustained `insert_logs` rows/s in batches of 1,000 and 10,000 — target >= 100,000 rows/s —
//!   beside a raw DuckDB `Appender` writing the same rows into the same table of another file in
//!   the same run (issue 14: the store must reach at least 0.5x the raw appender);
//! - while this process writes log batches and checkpoints, a second process calls
//!   `list_sessions` in a loop: its latency, and the writer's checkpoint latency meanwhile.

#[path = "../tests/support/store_rows.rs"]
mod store_rows;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use store_rows::{checkpoint, logs, state};
use windlass::store::{DuckStore, SessionFilter, SessionStatus, Store};

const CHILD: &str = "WINDLASS_BENCH_STORE_READER";

fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    format!("p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})", p(0.5), p(0.9), p(0.99), p(1.0), ms.len())
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    if let Ok(dir) = std::env::var(CHILD) {
        rt.block_on(reader(Path::new(&dir)));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = DuckStore::open(dir.path()).unwrap();
    rt.block_on(async {
        store.init().await.unwrap();
        open_close(&store).await;
        checkpoints(&store).await;
        for batch in [1_000, 10_000] {
            let store_rate = log_throughput(&store, batch).await;
            let raw_rate = raw_appender(batch).await;
            println!(
                "  raw Appender, batches of {batch:>6}: {raw_rate:>8.0} rows/s; the store reaches {:.2}x of it",
                store_rate / raw_rate
            );
        }
    });
    rt.block_on(store.release());
    rt.block_on(with_a_reader(dir.path()));
}

async fn open_close(store: &DuckStore) {
    let mut ms = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        store.release().await;
        store.put_session_state(&state("open-close", i, SessionStatus::Running)).await.unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("close + open + one state row:     {}", summary(ms));
}

async fn checkpoints(store: &DuckStore) {
    let mut ms = Vec::new();
    for seq in 0..500 {
        let row = checkpoint("ckpt", seq, 1, 8_000);
        let t = Instant::now();
        store.put_checkpoint(&row).await.unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("put_checkpoint (8 KB, file held): {}", summary(ms));
}

/// The same rows through a bare `duckdb::Appender`, one transaction per batch, into the store's
/// own `unified_logs` table (created by the store's `init` in a file of its own): the fastest
/// way DuckDB takes rows, with none of the store's hand-over, locking or de-duplication.
async fn raw_appender(batch: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let store = DuckStore::open(dir.path()).unwrap();
    store.init().await.unwrap();
    store.release().await;
    drop(store);
    let mut conn = duckdb::Connection::open(dir.path().join("store.duckdb")).unwrap();
    let total = 200_000;
    let session = format!("raw-{batch}");
    let batches: Vec<_> = (0..total / batch).map(|b| logs(&session, b * batch, batch)).collect();
    let t = Instant::now();
    for rows in &batches {
        let tx = conn.transaction().unwrap();
        {
            let mut app = tx.appender("unified_logs").unwrap();
            for r in rows {
                app.append_row(duckdb::params![
                    r.message_id,
                    r.session_id.as_str(),
                    r.parent_session_id,
                    r.cascade_id,
                    r.phase_name,
                    r.sounding_index,
                    r.attempt,
                    r.turn,
                    r.node_type,
                    r.role,
                    r.timestamp,
                    r.model,
                    r.tokens_in,
                    r.tokens_out,
                    r.cost,
                    r.duration_ms,
                    r.request_hash,
                    r.content,
                ])
                .unwrap();
            }
            app.flush().unwrap();
        }
        tx.commit().unwrap();
    }
    total as f64 / t.elapsed().as_secs_f64()
}

async fn log_throughput(store: &DuckStore, batch: u64) -> f64 {
    let total = 200_000;
    let session = format!("logs-{batch}");
    let batches: Vec<_> = (0..total / batch).map(|b| logs(&session, b * batch, batch)).collect();
    let t = Instant::now();
    let mut worst = 0f64;
    for rows in &batches {
        let b = Instant::now();
        store.insert_logs(rows).await.unwrap();
        worst = worst.max(b.elapsed().as_secs_f64() * 1e3);
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "insert_logs, batches of {batch:>6}:  {:>8.0} rows/s ({total} rows in {secs:.2} s, slowest batch {worst:.0} ms)",
        total as f64 / secs
    );
    total as f64 / secs
}

/// A second process reads while this one writes a log batch every 100 ms and a checkpoint
/// after every fifth.
async fn with_a_reader(dir: &Path) {
    let store = DuckStore::open(dir).unwrap();
    let mut child =
        Command::new(std::env::current_exe().unwrap()).env(CHILD, dir).stdout(Stdio::inherit()).spawn().unwrap();
    let (mut ckpt_ms, mut log_ms) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let mut seq = 0;
    while start.elapsed() < Duration::from_secs(10) {
        let t = Instant::now();
        store.insert_logs(&logs("busy", seq * 200, 200)).await.unwrap();
        log_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if seq % 5 == 0 {
            let t = Instant::now();
            store.put_checkpoint(&checkpoint("busy", seq, 1, 8_000)).await.unwrap();
            ckpt_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        seq += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::write(dir.join("stop"), "").unwrap();
    assert!(child.wait().unwrap().success());
    println!("with a reader process, the writer's put_checkpoint: {}", summary(ckpt_ms));
    println!("with a reader process, the writer's insert_logs(200): {}", summary(log_ms));
}

async fn reader(dir: &Path) {
    let store = DuckStore::open(dir).unwrap();
    let mut ms = Vec::new();
    while !dir.join("stop").exists() {
        let t = Instant::now();
        store.list_sessions(&SessionFilter::default()).await.unwrap();
        store.release().await; // as a one-shot `windlass sessions` would
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!("reader process, list_sessions while the writer writes: {}", summary(ms));
}
