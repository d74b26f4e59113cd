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

/// Rows per second over one round of back-to-back batch inserts.
async fn round<F, Fut>(batches: &'static [Vec<LogRow>], mut insert: F) -> f64
where
    F: FnMut(&'static [LogRow]) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    let mut sent = 0usize;
    let mut next = 0;
    while start.elapsed() < ROUND {
        let batch: &'static [LogRow] = &batches[next];
        insert(batch).await;
        sent += batch.len();
        next = (next + 1) % batches.len();
    }
    sent as f64 / start.elapsed().as_secs_f64()
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
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (s, c, j) = (median(&mut store_rates), median(&mut crate_rates), median(&mut json_rates));
    println!("  ClickHouseStore::insert_logs   {s:>10.0} rows/s  (rounds: {store_rates:.0?})");
    println!("  raw RowBinary, bare crate      {c:>10.0} rows/s  (rounds: {crate_rates:.0?})");
    println!("  raw JSONEachRow, reqwest       {j:>10.0} rows/s  (rounds: {json_rates:.0?})");
    let raw = c.max(j);
    println!("  store / best raw = {:.2} (target >= 0.5): {}", s / raw, if s >= raw / 2.0 { "met" } else { "NOT met" });
    assert!(store.spool().batches().unwrap().is_empty(), "nothing was spooled");
    clickhouse_server::drop_database(&settings).await;
}
