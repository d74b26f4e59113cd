//! Workers holding many concurrent sessions that each wait on a slow model endpoint.
//!
//!     cargo bench --bench worker
//!     WINDLASS_BENCH_SESSIONS=1000 WINDLASS_BENCH_CLICKHOUSE_URL=http://127.0.0.1:8123 cargo bench --bench worker
//!     WINDLASS_BENCH_WORKERS=4 WINDLASS_BENCH_SESSIONS=4000 WINDLASS_BENCH_CLICKHOUSE_URL=http://127.0.0.1:8123 \
//!       WINDLASS_BENCH_CLICKHOUSE_REPLICAS=$(scripts/clickhouse_cluster.sh status) cargo bench --bench worker
//!
//! Queues `WINDLASS_BENCH_SESSIONS` (default 1,000) one-phase sessions in the store (what
//! `windlass submit` writes, written in-process so 1,000 process starts are not measured),
//! then runs the real binary as `windlass worker --once --concurrency N` against a fake
//! OpenAI-compatible endpoint that answers every request after 2 s. Reports the worker's
//! wall time (process start to exit: claims, 1,000 LLM calls in flight at once, logs,
//! checkpoints, final rows) and its peak RSS. Targets (issue 6): under 5 s, under 300 MB.
//! Runs on the embedded DuckDB store, and on ClickHouse too when
//! `WINDLASS_BENCH_CLICKHOUSE_URL` is set.
//!
//! `WINDLASS_BENCH_WORKERS` (default 1) runs that many workers at once, each with a
//! concurrency of its share of the sessions; the wall time is until the last one exits, the
//! RSS the largest. Issue 14's target: four workers, 4,000 sessions, one ClickHouse within
//! 8 s. `WINDLASS_BENCH_CLICKHOUSE_REPLICAS` (comma-separated URLs of one cluster's replicas,
//! `WINDLASS_BENCH_CLICKHOUSE_CLUSTER` its name, default `windlass`) adds a run on the
//! replicated store, the workers split across the replicas: target within 2x of one server.
//! `WINDLASS_BENCH_SKIP_DUCKDB=1` leaves the DuckDB run out (its workers share one file lock).

#[path = "../tests/support/fake_llm.rs"]
mod fake_llm;
#[path = "../tests/support/open_store.rs"]
mod open_store;

use fake_llm::{FakeLlm, Reply};
use open_store::open_store;
use serde_json::Map;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use windlass::host::{start, Limits};
use windlass::runner::CascadeDef;
use windlass::session_id::SessionId;
use windlass::store::{SessionFilter, SessionStatus};

const LATENCY: Duration = Duration::from_secs(2);

/// Name-value pairs: a backend's environment, or the replicas' (host, port) its workers take
/// turns on.
type Env = Vec<(String, String)>;

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a quick smoke test.
    let measuring = std::env::args().any(|a| a == "--bench");
    let default = if measuring { 1000 } else { 20 };
    let sessions: usize = std::env::var("WINDLASS_BENCH_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let workers: usize = std::env::var("WINDLASS_BENCH_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    let llm = Arc::new(FakeLlm::start());
    llm.set_fallback(Reply::text("done").with_delay(LATENCY));
    let mut backends: Vec<(&str, Env, Env)> = Vec::new();
    if std::env::var("WINDLASS_BENCH_SKIP_DUCKDB").as_deref() != Ok("1") {
        backends.push(("duckdb", Vec::new(), Vec::new()));
    }
    let database = format!("wl_bench_{}", std::process::id());
    let host_port = |url: &str| {
        let rest = url.trim().trim_start_matches("http://").trim_end_matches('/');
        let (host, port) = rest.split_once(':').unwrap_or((rest, "8123"));
        (host.to_string(), port.to_string())
    };
    if let Ok(url) = std::env::var("WINDLASS_BENCH_CLICKHOUSE_URL") {
        let (host, port) = host_port(&url);
        backends.push((
            "clickhouse",
            vec![
                ("WINDLASS_CLICKHOUSE_HOST".into(), host.clone()),
                ("WINDLASS_CLICKHOUSE_PORT".into(), port.clone()),
                ("WINDLASS_CLICKHOUSE_DATABASE".into(), database.clone()),
            ],
            vec![(host, port)],
        ));
    }
    if let Ok(urls) = std::env::var("WINDLASS_BENCH_CLICKHOUSE_REPLICAS") {
        let replicas: Vec<(String, String)> = urls.split(',').map(host_port).collect();
        let cluster = std::env::var("WINDLASS_BENCH_CLICKHOUSE_CLUSTER").unwrap_or_else(|_| "windlass".into());
        backends.push((
            "clickhouse-cluster",
            vec![
                ("WINDLASS_CLICKHOUSE_HOST".into(), replicas[0].0.clone()),
                ("WINDLASS_CLICKHOUSE_PORT".into(), replicas[0].1.clone()),
                ("WINDLASS_CLICKHOUSE_DATABASE".into(), format!("{database}_replicated")),
                ("WINDLASS_CLICKHOUSE_CLUSTER".into(), cluster),
            ],
            replicas,
        ));
    }
    for (backend, env, replicas) in backends {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let file = dir.path().join("one.yaml");
        std::fs::write(&file, "cascade_id: one\nphases:\n  - name: ask\n    instructions: 'Answer {{ input.n }}'\n")
            .unwrap();
        let loaded = windlass::cascade::load_file(&file);
        let def = CascadeDef { cascade: loaded.cascade.clone().unwrap(), path: file.clone(), text: loaded.text };
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        // `submit` from many places at once: batched, as a worker's store is.
        let store = windlass::store::Batched::wrap(open_store(&env, &data));
        let queued = Instant::now();
        rt.block_on(async {
            store.init().await.unwrap();
            let jobs = (0..sessions).map(|n| {
                let store = store.clone();
                let def = &def;
                async move {
                    let mut input = Map::new();
                    input.insert("n".into(), n.into());
                    start::submit(
                        &*store,
                        def,
                        &SessionId::new(format!("bench-{n}")),
                        &input,
                        &Limits::default(),
                        60.0,
                    )
                    .await
                    .unwrap();
                }
            });
            futures::future::join_all(jobs).await;
        });
        let queue_time = queued.elapsed();
        drop(store);
        let before = llm.request_count();

        let share = sessions.div_ceil(workers).to_string();
        let t = Instant::now();
        let children: Vec<_> = (0..workers)
            .map(|n| {
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_windlass"));
                cmd.args(["worker", "--once", "--concurrency", &share, "-q"])
                    .current_dir(dir.path())
                    .env_clear()
                    .env("PATH", std::env::var("PATH").unwrap_or_default())
                    .env("HOME", dir.path())
                    .env("WINDLASS_DATA_DIR", &data)
                    .env("WINDLASS_BASE_URL", llm.url())
                    .env("WINDLASS_DEFAULT_MODEL", "test/model")
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit());
                for (k, v) in &env {
                    cmd.env(k, v);
                }
                if let Some((host, port)) = (!replicas.is_empty()).then(|| &replicas[n % replicas.len()]) {
                    cmd.env("WINDLASS_CLICKHOUSE_HOST", host).env("WINDLASS_CLICKHOUSE_PORT", port);
                }
                cmd.spawn().unwrap()
            })
            .collect();
        // When the calls reach the endpoint: claims and start-up before, the rest after.
        let watch = {
            let llm = llm.clone();
            std::thread::spawn(move || {
                let mut marks = Vec::new();
                for want in [1, sessions / 2, sessions] {
                    while llm.request_count() - before < want {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    marks.push((want, t.elapsed()));
                }
                marks
            })
        };
        let mut peak_rss = 0;
        for child in children {
            let pid = child.id() as libc::pid_t;
            let mut status = 0;
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: wait4 on our own child, writing into values we own.
            let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            assert_eq!(waited, pid);
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "a worker failed: {status}");
            std::mem::forget(child);
            peak_rss = peak_rss.max(usage.ru_maxrss);
        }
        let wall = t.elapsed();
        let calls = llm.request_count() - before;
        let marks = watch.join().unwrap();
        let marks: Vec<String> = marks.iter().map(|(n, at)| format!("call {n} at {:.2} s", at.as_secs_f64())).collect();
        println!("{backend}: {}", marks.join(", "));

        let store = open_store(&env, &data);
        let filter =
            SessionFilter { status: Some(SessionStatus::Completed), limit: sessions * 2, ..Default::default() };
        let completed = rt.block_on(store.list_sessions(&filter)).unwrap().len();
        println!(
            "{backend}: {sessions} sessions queued in {:.2} s; {workers} x `worker --once --concurrency {share}` with a {} s endpoint: wall {:.2} s, peak RSS {:.1} MB, {completed} completed, {calls} LLM calls",
            queue_time.as_secs_f64(),
            LATENCY.as_secs(),
            wall.as_secs_f64(),
            peak_rss as f64 / 1024.0,
        );
        if backend.starts_with("clickhouse") {
            // Every INSERT makes a part; batched writes keep them few (issue 14: bounded).
            let sql = "SELECT table, count() AS parts, sum(rows) AS rows FROM system.parts \
                       WHERE database = currentDatabase() AND active GROUP BY table ORDER BY table";
            let parts = rt.block_on(store.query(sql)).unwrap();
            let text = |v: &serde_json::Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            let parts: Vec<String> =
                parts.rows.iter().map(|r| format!("{} {} ({} rows)", text(&r[0]), text(&r[1]), text(&r[2]))).collect();
            println!("{backend}: active parts after the run: {}", parts.join(", "));
        }
        assert_eq!(completed, sessions, "{backend}: not every session completed");
        assert_eq!(calls, sessions, "{backend}: each session makes exactly one call");
        // A run that passed leaves no database behind (a failed one keeps it to look at).
        if let Some((_, database)) = env.iter().find(|(k, _)| k == "WINDLASS_CLICKHOUSE_DATABASE") {
            for (host, port) in &replicas {
                let client = clickhouse::Client::default().with_url(format!("http://{host}:{port}"));
                let drop = client.query("DROP DATABASE IF EXISTS ?").bind(clickhouse::sql::Identifier(database));
                rt.block_on(drop.execute()).unwrap();
            }
        }
    }
}
