//! The DuckDB store across real processes: writers and a reader share one file with no errors
//! and no lost rows; a checkpoint is durable once saved, even if its writer is killed; a
//! program outside windlass holding the file makes calls wait, then fail naming the file; a
//! write-ahead log that cannot be replayed is set aside, not fatal.
//!
//! Child processes are this test binary run again with `WINDLASS_STORE_CHILD` naming a role:
//! `child_process` does nothing without it.

#[path = "support/store_rows.rs"]
mod store_rows;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use store_rows::{cascade, checkpoint, logs, signal, state};
use windlass::store::{DuckOptions, DuckStore, SessionFilter, SessionStatus, Store, StoreError};

const WRITERS: u64 = 2;
const BATCHES: u64 = 20;
const BATCH_ROWS: u64 = 500;

fn sid(writer: u64) -> String {
    format!("writer-{writer}")
}

fn spawn(role: &str, dir: &Path, index: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_process", "--exact", "--nocapture", "--test-threads=1"])
        .env("WINDLASS_STORE_CHILD", role)
        .env("WINDLASS_STORE_DIR", dir)
        .env("WINDLASS_STORE_INDEX", index.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child, name: &str, limit: Duration) -> Output {
    let mut child = child;
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{name} failed ({}):\n{text}", out.status);
    for line in text.lines().filter_map(|l| l.split_once("stats:")) {
        println!("{name}:{}", line.1);
    }
    out
}

fn stop_file(dir: &Path) -> PathBuf {
    dir.join("stop-reader")
}

#[test]
fn writers_and_a_reader_share_the_file_without_errors_or_loss() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let writers: Vec<_> = (0..WRITERS).map(|i| spawn("writer", dir.path(), i)).collect();
    let reader = spawn("reader", dir.path(), 0);
    for (i, w) in writers.into_iter().enumerate() {
        finish(w, &format!("writer {i}"), Duration::from_secs(240));
    }
    println!("writers done in {:.1} s", start.elapsed().as_secs_f64());
    std::fs::write(stop_file(dir.path()), "").unwrap();
    finish(reader, "reader", Duration::from_secs(60));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = DuckStore::open(dir.path()).unwrap();
        let q = |sql: &'static str| {
            let store = store.clone();
            async move { store.query(sql).await.unwrap().rows[0][0].as_u64().unwrap() }
        };
        let per_writer = BATCHES * BATCH_ROWS;
        assert_eq!(q("SELECT count(DISTINCT message_id) FROM unified_logs").await, WRITERS * per_writer);
        assert_eq!(q("SELECT count(*) FROM unified_logs").await, WRITERS * (per_writer + BATCH_ROWS), "the retry");
        for w in 0..WRITERS {
            let id = sid(w);
            assert_eq!(store.logs(&store_rows::sid(&id), None, 0).await.unwrap().len() as u64, per_writer);
            let s = store.session_state(&store_rows::sid(&id)).await.unwrap().unwrap();
            assert_eq!((s.version, s.status), (BATCHES + 1, SessionStatus::Completed));
            assert_eq!(store.latest_checkpoint(&store_rows::sid(&id), 1).await.unwrap().unwrap().seq, BATCHES - 1);
            assert_eq!(store.signals(&store_rows::sid(&id)).await.unwrap().len() as u64, BATCHES);
            assert!(store.cascade_session(&store_rows::sid(&id)).await.unwrap().is_some());
        }
        assert_eq!(store.list_sessions(&SessionFilter::default()).await.unwrap().len() as u64, WRITERS);
    });
}

#[test]
fn a_foreign_holder_makes_calls_wait_then_fail_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let opts = DuckOptions { wait_limit: Duration::from_secs(1), ..Default::default() };
    let store = DuckStore::open_with(dir.path(), opts).unwrap();
    rt.block_on(store.init()).unwrap();
    rt.block_on(store.release());

    let holder = spawn("raw_holder", dir.path(), 0);
    let ready = dir.path().join("holder-ready");
    while !ready.exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = Instant::now();
    let err = rt.block_on(store.signals(&store_rows::sid("s"))).unwrap_err();
    let waited = t.elapsed();
    match &err {
        StoreError::Unavailable { store: file, detail } => {
            assert!(file.ends_with("store.duckdb"), "{err}");
            assert!(detail.contains("lock"), "{err}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(waited >= Duration::from_millis(900), "gave up after {waited:?}");
    finish(holder, "holder", Duration::from_secs(30));
    assert!(rt.block_on(store.signals(&store_rows::sid("s"))).unwrap().is_empty(), "works once the holder is gone");
}

#[test]
fn a_checkpoint_survives_its_writer_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn("checkpointer", dir.path(), 0);
    // The child prints each seq once put_checkpoint has returned; kill it mid-stream.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut saved = None;
    while let Some(Ok(line)) = lines.next() {
        if let Some(seq) = line.split("saved ").nth(1) {
            saved = Some(seq.trim().parse::<u64>().unwrap());
            if saved >= Some(10) {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no flush, no close, locks dropped by the kernel
    child.wait().unwrap();
    let saved = saved.expect("the child saved checkpoints");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = DuckStore::open(dir.path()).unwrap();
    let latest = rt.block_on(store.latest_checkpoint(&store_rows::sid("crashy"), 0)).unwrap().unwrap();
    assert!(latest.seq >= saved, "checkpoint {saved} was reported durable, the store has {}", latest.seq);
    assert!(store.take_warnings().is_empty());
}

#[test]
fn a_log_that_cannot_replay_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let path = dir.path().join("store.duckdb");
    {
        let store = DuckStore::open(dir.path()).unwrap();
        rt.block_on(store.init()).unwrap();
    } // closed: the hand-over goes with the last store
    let wal = dir.path().join("store.duckdb.wal");
    {
        // Rows that stay in the log only, as after a crash.
        let conn = duckdb::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA disable_checkpoint_on_shutdown;
             INSERT INTO signals SELECT 'id' || i, 's', 'message', '', repeat('x', 200), i FROM range(2000) t(i);",
        )
        .unwrap();
    }
    let mut bytes = std::fs::read(&wal).unwrap();
    assert!(bytes.len() > 100_000, "the rows are in the log: {} bytes", bytes.len());
    let middle = bytes.len() * 3 / 4;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(&wal, bytes).unwrap();

    let store = DuckStore::open(dir.path()).unwrap();
    assert!(rt.block_on(store.signals(&store_rows::sid("s"))).unwrap().is_empty(), "opens without the broken log");
    let warnings = store.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("set aside"), "{}", warnings[0]);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("store.duckdb.wal.broken-"))
        .collect();
    assert_eq!(aside.len(), 1);
    rt.block_on(store.put_signal(&signal("s", "after", "message", 1.0))).unwrap();
    assert_eq!(rt.block_on(store.signals(&store_rows::sid("s"))).unwrap().len(), 1);
}

/// A child process's part; does nothing in a normal test run.
#[test]
fn child_process() {
    let Ok(role) = std::env::var("WINDLASS_STORE_CHILD") else { return };
    let dir = PathBuf::from(std::env::var("WINDLASS_STORE_DIR").unwrap());
    let index: u64 = std::env::var("WINDLASS_STORE_INDEX").unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    match role.as_str() {
        "writer" => rt.block_on(writer(&dir, index)),
        "reader" => rt.block_on(reader(&dir)),
        "raw_holder" => raw_holder(&dir),
        "checkpointer" => rt.block_on(checkpointer(&dir)),
        other => panic!("unknown role {other}"),
    }
}

/// Timings of one kind of call, for the stats line.
#[derive(Default)]
struct Timings(Vec<f64>);

impl Timings {
    fn time<T>(&mut self, t: Instant, r: Result<T, StoreError>) -> T {
        self.0.push(t.elapsed().as_secs_f64() * 1e3);
        r.unwrap()
    }
    fn summary(&mut self) -> String {
        self.0.sort_by(f64::total_cmp);
        let p = |q: f64| self.0[((self.0.len() - 1) as f64 * q) as usize];
        format!("n={} p50={:.0}ms p99={:.0}ms max={:.0}ms", self.0.len(), p(0.5), p(0.99), p(1.0))
    }
}

async fn writer(dir: &Path, index: u64) {
    let store = DuckStore::open(dir).unwrap();
    let id = sid(index);
    let other = sid((index + 1) % WRITERS);
    let (mut log_t, mut ckpt_t, mut state_t) = (Timings::default(), Timings::default(), Timings::default());
    store.put_cascade_session(&cascade(&id)).await.unwrap();
    for b in 0..BATCHES {
        let t = Instant::now();
        log_t.time(t, store.insert_logs(&logs(&id, b * BATCH_ROWS, BATCH_ROWS)).await);
        let t = Instant::now();
        state_t.time(t, store.put_session_state(&state(&id, b + 1, SessionStatus::Running)).await);
        let t = Instant::now();
        ckpt_t.time(t, store.put_checkpoint(&checkpoint(&id, b, 1, 2_000)).await);
        store.put_signal(&signal(&other, &format!("{id}-{b}"), "message", b as f64)).await.unwrap();
        // A run does other work between phases.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A batch delivered twice (the spool retried it): stored again, read once.
    store.insert_logs(&logs(&id, (BATCHES - 1) * BATCH_ROWS, BATCH_ROWS)).await.unwrap();
    store.put_session_state(&state(&id, BATCHES + 1, SessionStatus::Completed)).await.unwrap();
    println!("stats: logs {}; checkpoints {}; states {}", log_t.summary(), ckpt_t.summary(), state_t.summary());
    assert!(store.take_warnings().is_empty());
}

async fn reader(dir: &Path) {
    let store = DuckStore::open(dir).unwrap();
    let stop = stop_file(dir);
    let mut seen = vec![0usize; WRITERS as usize];
    let (mut iterations, mut list_t, mut logs_t) = (0u64, Timings::default(), Timings::default());
    // At least three rounds, however quickly the writers finish.
    while iterations < 3 || !stop.exists() {
        let t = Instant::now();
        list_t.time(t, store.list_sessions(&SessionFilter::default()).await);
        for w in 0..WRITERS {
            let id = sid(w);
            let t = Instant::now();
            let n = logs_t.time(t, store.logs(&store_rows::sid(&id), None, 0).await).len();
            // Rows only ever appear: a count that drops would be a lost row.
            assert!(n >= seen[w as usize], "{id}: {n} log rows after {}", seen[w as usize]);
            seen[w as usize] = n;
            store.signals(&store_rows::sid(&id)).await.unwrap();
            store.session_state(&store_rows::sid(&id)).await.unwrap();
            store.latest_checkpoint(&store_rows::sid(&id), 0).await.unwrap();
        }
        if iterations % 5 == 0 {
            store.query("SELECT count(DISTINCT message_id) FROM unified_logs").await.unwrap();
        }
        iterations += 1;
    }
    println!("stats: {iterations} rounds; list_sessions {}; logs {}", list_t.summary(), logs_t.summary());
}

/// Save checkpoints (and log rows) until killed.
async fn checkpointer(dir: &Path) {
    let store = DuckStore::open(dir).unwrap();
    for seq in 0.. {
        store.insert_logs(&logs("crashy", seq * 100, 100)).await.unwrap();
        store.put_checkpoint(&checkpoint("crashy", seq, 1, 4_000)).await.unwrap();
        println!("saved {seq}");
    }
}

/// Hold the file the way another DuckDB program would (outside the hand-over) for three seconds.
fn raw_holder(dir: &Path) {
    let conn = duckdb::Connection::open(dir.join("store.duckdb")).unwrap();
    std::fs::write(dir.join("holder-ready"), "").unwrap();
    std::thread::sleep(Duration::from_secs(3));
    drop(conn);
}
