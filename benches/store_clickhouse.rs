//! Sustained log-row throughput into ClickHouse: through `ClickHouseStore::insert_logs` versus
//! raw inserts of the same rows in the same run (RowBinary through the bare crate, and
//! `FORMAT JSONEachRow` posted with reqwest).
//!
//!     scripts/clickhouse.sh start
//!     WINDLASS_TEST_CLICKHOUSE_URL=http://127.0.0.1:8123 cargo bench --profile dev --bench store_clickhouse
//!
//! (`--profile dev`: a release build of the bundled DuckDB takes most of an hour.) Target:
//! the store sustains at least half the raw rate. Rounds alternate between the contenders so
//! that background merges on the server hit them alike; serialisation is inside the timed
//! loop for all of them.

#[path = "../tests/support/clickhouse.rs"]
#[allow(dead_code)] // the bench uses only part of the test helper
mod clickhouse_server;

use std::time::{Duration, Instant};

use serde_json::json;
use windlass::settings::ClickHouseSettings;
use windlass::store::{ClickHouseStore, LogRow, Store};

const BATCH_ROWS: usize = 10_000;
const BATCHES: usize = 8;
const ROUND: Duration = Duration::from_secs(2);
const ROUNDS: usize = 3;

fn rows(batch: usize) -> Vec<LogRow> {
    (0..BATCH_ROWS)
        .map(|i| {
            let session = format!("bench-{}", i % 50);
            let timestamp = 1_700_000_000.0 + (batch * BATCH_ROWS + i) as f64 / 1000.0;
            let content =
                json!({"text": "A short answer of a few words, as most turns are.", "finish_reason": "stop", "turn": i});
            LogRow {
                cascade_id: "bench".into(),
                phase_name: format!("phase{}", i % 7),
                attempt: 1,
                turn: (i % 5) as u32,
                role: "assistant".into(),
                model: "openai/gpt-4o-mini".into(),
                tokens_in: 1200,
                tokens_out: 300,
                cost: 0.00042,
                duration_ms: 850,
                request_hash: format!("{:016x}", i * 7919),
                ..LogRow::new(format!("{session}:1:{batch}-{i}"), session, "llm_response", timestamp, content.to_string())
            }
        })
        .collect()
}

/// This process's CPU time so far (user and system, all threads).
fn cpu_time() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// One round of back-to-back batch inserts: rows per second, and this process's CPU time per
/// row in microseconds (the client's own cost, which a busy server or disk does not hide).
async fn round<F, Fut>(batches: &'static [Vec<LogRow>], mut insert: F) -> (f64, f64)
where
    F: FnMut(&'static [LogRow]) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (start, cpu) = (Instant::now(), cpu_time());
    let mut sent = 0usize;
    let mut next = 0;
    while start.elapsed() < ROUND {
        let batch: &'static [LogRow] = &batches[next];
        insert(batch).await;
        sent += batch.len();
        next = (next + 1) % batches.len();
    }
    let per_row = (cpu_time() - cpu).as_secs_f64() * 1e6 / sent as f64;
    (sent as f64 / start.elapsed().as_secs_f64(), per_row)
}

async fn raw_crate(client: &clickhouse::Client, batch: &[LogRow]) {
    let mut insert = client.insert::<LogRow>("unified_logs").await.unwrap();
    for row in batch {
        insert.write(row).await.unwrap();
    }
    insert.end().await.unwrap();
}

async fn raw_json(http: &reqwest::Client, settings: &ClickHouseSettings, batch: &[LogRow]) {
    // The statement may lead the body; the rows follow it.
    let mut body = Vec::with_capacity(batch.len() * 400);
    body.extend_from_slice(b"INSERT INTO unified_logs FORMAT JSONEachRow\n");
    for row in batch {
        serde_json::to_writer(&mut body, row).unwrap();
        body.push(b'\n');
    }
    let url = format!("{}/?database={}", settings.url(), settings.database);
    let response = http.post(url).body(body).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let Some(settings) = clickhouse_server::test_server("bench_store_clickhouse") else {
        eprintln!("store_clickhouse bench: no ClickHouse server; set WINDLASS_TEST_CLICKHOUSE_URL");
        return;
    };
    let spool = tempfile::tempdir().unwrap();
    let store = ClickHouseStore::connect(&settings, spool.path()).unwrap();
    store.init().await.unwrap();
    let client = clickhouse_server::raw_client(&settings);
    // reqwest is built without a default TLS provider; the crate installs ring the same way.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let batches: &'static [Vec<LogRow>] = Vec::leak((0..BATCHES).map(rows).collect());
    let bytes: usize = batches[0].iter().map(|r| serde_json::to_string(r).unwrap().len()).sum();
    println!(
        "store_clickhouse: batches of {BATCH_ROWS} rows (~{} bytes each as JSON), {ROUNDS} rounds of {:?} per contender",
        bytes / BATCH_ROWS,
        ROUND
    );

    let (mut store_rates, mut crate_rates, mut json_rates) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        store_rates.push(round(batches, |b| async { store.insert_logs(b).await.unwrap() }).await);
        crate_rates.push(round(batches, |b| raw_crate(&client, b)).await);
        json_rates.push(round(batches, |b| raw_json(&http, &settings, b)).await);
    }
    // Medians of the rates and of the CPU per row, each on its own.
    let median = |v: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
        let mut xs: Vec<f64> = v.iter().map(pick).collect();
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let line = |name: &str, v: &[(f64, f64)]| {
        let rates: Vec<f64> = v.iter().map(|r| r.0).collect();
        println!(
            "  {name:<30} {:>10.0} rows/s, {:.3} µs CPU per row  (rounds: {rates:.0?})",
            median(v, |r| r.0),
            median(v, |r| r.1)
        );
    };
    line("ClickHouseStore::insert_logs", &store_rates);
    line("raw RowBinary, bare crate", &crate_rates);
    line("raw JSONEachRow, reqwest", &json_rates);
    let (s, c, j) = (median(&store_rates, |r| r.0), median(&crate_rates, |r| r.0), median(&json_rates, |r| r.0));
    let raw = c.max(j);
    println!("  store / best raw = {:.2} (target >= 0.5): {}", s / raw, if s >= raw / 2.0 { "met" } else { "NOT met" });
    assert!(store.spool().batches().unwrap().is_empty(), "nothing was spooled");
    clickhouse_server::drop_database(&settings).await;
}
