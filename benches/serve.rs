//! The HTTP API of `windlass serve` (the real binary) over a store that another process
//! writes, as a browser meets it.
//!
//!     cargo bench --bench serve
//!     WINDLASS_BENCH_CLICKHOUSE_URL=http://127.0.0.1:8123 cargo bench --bench serve
//!
//! 1. `GET /api/sessions` with `WINDLASS_BENCH_SESSIONS` (default 10,000) sessions in the store:
//!    the first page, a filtered page, and a page deep behind a cursor (p50, p99).
//! 2. Write-to-client latency of a log row over SSE with the default poll interval: from just
//!    before this process inserts the row to its event arriving (p50, p99; goal: p99 < 1 s).
//! 3. 100 SSE clients (`WINDLASS_BENCH_CLIENTS`) on 10 sessions of one server: its RSS and
//!    CPU while idle, and while the 10 sessions each get 20 log rows a second.
//!
//! Runs on the embedded DuckDB store, and on ClickHouse too when
//! `WINDLASS_BENCH_CLICKHOUSE_URL` is set (`WINDLASS_BENCH_ONLY=clickhouse` for that one alone);
//! `WINDLASS_BENCH_SAMPLES` (default 60) requests or rows per figure.

#[path = "../tests/support/http.rs"]
#[allow(dead_code)] // shared with the tests, which use more of it
mod http;
#[path = "../tests/support/open_store.rs"]
mod open_store;

use open_store::open_store;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use windlass::store::{LogRow, SessionStateRow, SessionStatus};

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn session(id: &str, status: SessionStatus, at: f64) -> SessionStateRow {
    SessionStateRow {
        version: 1,
        current_phase: "a".into(),
        heartbeat_at: at,
        lease_seconds: 3600.0,
        owner: "bench:1".into(),
        owner_epoch: 1,
        started_at: at,
        updated_at: at,
        tokens_in: 10,
        tokens_out: 5,
        cost: 0.001,
        ..SessionStateRow::new(id, status, format!("bench_{}", id.len() % 3))
    }
}

fn log(session: &str, seq: u64) -> LogRow {
    let content = format!("{{\"event\":\"warning\",\"phase\":\"a\",\"message\":\"row {seq}\"}}");
    LogRow {
        cascade_id: "bench".into(),
        phase_name: "a".into(),
        attempt: 1,
        turn: 1,
        ..LogRow::new(format!("{session}:1:{seq}"), session, "warning", now(), content)
    }
}

struct Server(Child, String);

impl Server {
    fn start(env: &[(String, String)], data: &std::path::Path) -> Server {
        let mut c = Command::new(env!("CARGO_BIN_EXE_windlass"));
        c.args(["serve", "--listen", "127.0.0.1:0"]).env_clear().env("WINDLASS_DATA_DIR", data);
        c.env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", data);
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        std::thread::spawn(move || for _ in reader.lines() {});
        let addr = line.rsplit("http://").next().unwrap().trim().to_string();
        Server(child, addr)
    }

    /// (RSS in MB, CPU seconds used so far) from /proc.
    fn usage(&self) -> (f64, f64) {
        let pid = self.0.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|k| k.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
        (rss, ticks / 100.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    format!("p50 {:.1} ms, p99 {:.1} ms (n={})", at(0.5).as_secs_f64() * 1e3, at(0.99).as_secs_f64() * 1e3, v.len())
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let var = |k: &str, big: usize, small: usize| {
        std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(if measuring { big } else { small })
    };
    let sessions = var("WINDLASS_BENCH_SESSIONS", 10_000, 200);
    let clients = var("WINDLASS_BENCH_CLIENTS", 100, 10);
    let samples = var("WINDLASS_BENCH_SAMPLES", 60, 5);
    let mut backends: Vec<(&str, Vec<(String, String)>)> = vec![("duckdb", Vec::new())];
    if let Ok(url) = std::env::var("WINDLASS_BENCH_CLICKHOUSE_URL") {
        let rest = url.trim_start_matches("http://").trim_end_matches('/');
        let (host, port) = rest.split_once(':').unwrap_or((rest, "8123"));
        backends.push((
            "clickhouse",
            vec![
                ("WINDLASS_CLICKHOUSE_HOST".into(), host.into()),
                ("WINDLASS_CLICKHOUSE_PORT".into(), port.into()),
                ("WINDLASS_CLICKHOUSE_DATABASE".into(), format!("wl_bench_serve_{}", std::process::id())),
            ],
        ));
    }
    // `WINDLASS_BENCH_ONLY=clickhouse` measures one backend.
    if let Ok(only) = std::env::var("WINDLASS_BENCH_ONLY") {
        backends.retain(|(name, _)| *name == only);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for (backend, env) in backends {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = open_store(&env, &data);
        rt.block_on(store.init()).unwrap();
        let t0 = now() - sessions as f64;
        let rows: Vec<SessionStateRow> = (0..sessions)
            .map(|i| {
                session(
                    &format!("s-{i:06}"),
                    if i % 10 == 0 { SessionStatus::Blocked } else { SessionStatus::Completed },
                    t0 + i as f64,
                )
            })
            .collect();
        for chunk in rows.chunks(2_000) {
            rt.block_on(store.put_session_states(chunk)).unwrap();
        }
        // The DuckDB file is handed over between processes: let the server have it.
        drop(store);
        let server = Server::start(&env, &data);
        let addr = server.1.clone();

        // 1. The list.
        let time = |path: &str| {
            let mut v = Vec::new();
            for _ in 0..samples.max(3) {
                let t = Instant::now();
                let a = http::get(&addr, path);
                assert_eq!(a.status, 200, "{path}: {}", a.body);
                v.push(t.elapsed());
            }
            v
        };
        println!(
            "{backend}: GET /api/sessions?limit=50 over {sessions} sessions: {}",
            percentiles(time("/api/sessions?limit=50"))
        );
        println!(
            "{backend}: GET /api/sessions?status=blocked&limit=50: {}",
            percentiles(time("/api/sessions?status=blocked&limit=50"))
        );
        let deep = format!("/api/sessions?limit=50&cursor={}~s-{:06}", t0 + (sessions / 2) as f64, sessions / 2);
        println!("{backend}: GET /api/sessions (page behind a cursor half way down): {}", percentiles(time(&deep)));

        // 2. Write-to-client latency of a log row.
        let store = open_store(&env, &data);
        let live: Vec<String> = (0..10).map(|i| format!("live-{i}")).collect();
        let rows: Vec<SessionStateRow> = live.iter().map(|id| session(id, SessionStatus::Running, now())).collect();
        rt.block_on(store.put_session_states(&rows)).unwrap();
        let sse = http::Sse::connect(&addr, "/api/sessions/live-0/events", &[]);
        assert_eq!(sse.next(Duration::from_secs(10)).unwrap().event, "status");
        std::thread::sleep(Duration::from_secs(1));
        let mut lat = Vec::new();
        for seq in 0..samples as u64 {
            let t = Instant::now();
            rt.block_on(store.insert_logs(&[log("live-0", seq)])).unwrap();
            loop {
                let e = sse.next(Duration::from_secs(10)).expect("the row arrives");
                if e.event == "warning" && e.data.contains(&format!("\"row {seq}\"")) {
                    break;
                }
            }
            lat.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(100 + fastrand::u64(..200)));
        }
        println!("{backend}: log row written -> SSE event received: {}", percentiles(lat));
        drop(sse);

        // 3. Many clients.
        let streams: Vec<http::Sse> = (0..clients)
            .map(|i| http::Sse::connect(&addr, &format!("/api/sessions/{}/events", live[i % live.len()]), &[]))
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        let (_, cpu0) = server.usage();
        std::thread::sleep(Duration::from_secs(5));
        let (rss, cpu1) = server.usage();
        println!("{backend}: {clients} SSE clients, idle: RSS {rss:.1} MB, CPU {:.1}%", (cpu1 - cpu0) / 5.0 * 100.0);
        let (_, cpu0) = server.usage();
        let t = Instant::now();
        let mut seq = 1_000;
        while t.elapsed() < Duration::from_secs(5) {
            let batch: Vec<LogRow> = live.iter().map(|id| log(id, seq)).collect();
            seq += 1;
            rt.block_on(store.insert_logs(&batch)).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
        let (rss, cpu1) = server.usage();
        let got: usize = streams.iter().map(|s| s.events.try_iter().count()).sum();
        println!(
            "{backend}: {clients} SSE clients, 10 sessions writing 20 rows/s each: RSS {rss:.1} MB, CPU {:.1}% ({got} events delivered)",
            (cpu1 - cpu0) / t.elapsed().as_secs_f64() * 100.0
        );
    }
}
