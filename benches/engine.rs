//! Engine overhead: a 100-phase linear cascade against a zero-latency fake endpoint.
//!
//!     cargo bench --bench engine
//!     WINDLASS_BENCH_CLICKHOUSE_URL=http://127.0.0.1:8123 cargo bench --bench engine
//!
//! Reports, per phase, the time the engine spends beyond the provider call (the HTTP round
//! trip to the fake): median and p90 over the phases of several runs; and the peak RSS of
//! the real binary running the same cascade. Targets (issue 3): under 1 ms per phase, under
//! 30 MB peak RSS.

#[path = "../tests/support/fake_llm.rs"]
mod fake_llm;

use async_trait::async_trait;
use fake_llm::FakeLlm;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use windlass::llm::{ChatRequest, ChatResponse, LlmError, OpenAiClient, Provider};
use windlass::runner::emitter::Emitter;
use windlass::runner::event::{Envelope, RunEvent, Subscriber};
use windlass::runner::{run, CascadeDef, RunOptions, Runner};

const PHASES: usize = 100;
const RUNS: usize = 5;

fn cascade_text() -> String {
    let mut s = String::from("cascade_id: hundred\ninputs_schema:\n  topic: t\nphases:\n");
    for i in 0..PHASES {
        s.push_str(&format!(
            "  - name: p{i}\n    instructions: 'Step {i} about {{{{ input.topic }}}}; before: {{{{ outputs.p{} | default(\"none\") }}}}'\n    context:\n      from: [previous]\n",
            i.saturating_sub(1)
        ));
    }
    s
}

/// Times every provider call, per phase.
struct Timed {
    inner: OpenAiClient,
    current: Mutex<String>,
    spent: Mutex<HashMap<String, Duration>>,
}

#[async_trait]
impl Provider for Timed {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let t = Instant::now();
        let r = self.inner.chat(request).await;
        let phase = self.current.lock().unwrap().clone();
        *self.spent.lock().unwrap().entry(phase).or_default() += t.elapsed();
        r
    }
}

/// Wall time of each phase, from its start event to its finish event.
#[derive(Default)]
struct PhaseClock {
    started: Mutex<HashMap<String, Instant>>,
    took: Mutex<Vec<(String, Duration)>>,
    provider: Mutex<Option<Arc<Timed>>>,
}

impl Subscriber for PhaseClock {
    fn on_event(&self, e: &Envelope) {
        match &e.event {
            RunEvent::PhaseStarted { phase, .. } => {
                if let Some(p) = self.provider.lock().unwrap().as_ref() {
                    *p.current.lock().unwrap() = phase.clone();
                }
                self.started.lock().unwrap().insert(phase.clone(), Instant::now());
            }
            RunEvent::PhaseFinished { phase, .. } => {
                if let Some(t) = self.started.lock().unwrap().remove(phase) {
                    self.took.lock().unwrap().push((phase.clone(), t.elapsed()));
                }
            }
            _ => {}
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let llm = FakeLlm::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hundred.yaml");
    std::fs::write(&file, cascade_text()).unwrap();
    let loaded = windlass::cascade::load_file(&file);
    assert!(!loaded.has_errors());
    let def = Arc::new(CascadeDef {
        cascade: loaded.cascade.clone().unwrap(),
        path: file.clone(),
        text: loaded.text.clone(),
    });
    let url: windlass::settings::HttpUrl = llm.url().parse().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut overheads = Vec::new();
    let mut round_trips = Vec::new();
    let mut totals = Vec::new();
    for run in 0..RUNS {
        let timed = Arc::new(Timed {
            inner: OpenAiClient::new(&url, None, Default::default()),
            current: Mutex::new(String::new()),
            spent: Mutex::new(HashMap::new()),
        });
        let clock = Arc::new(PhaseClock::default());
        *clock.provider.lock().unwrap() = Some(timed.clone());
        let opts = RunOptions::new("test/model", dir.path().to_path_buf(), dir.path().join("data"));
        let runner = Runner::new(timed.clone(), windlass::tools::builtin_registry(), opts);
        let emitter = Emitter::new(&format!("bench-{run}"), 0, vec![clock.clone()]);
        let input = serde_json::from_str(r#"{"topic": "tides"}"#).unwrap();
        let started = Instant::now();
        let result = rt.block_on(run::run(&runner, def.clone(), input, &emitter, None));
        totals.push(started.elapsed());
        assert_eq!(result.lineage.len(), PHASES, "{:?}", result.errors);
        let spent = timed.spent.lock().unwrap();
        for (phase, took) in clock.took.lock().unwrap().iter() {
            let provider = spent.get(phase).copied().unwrap_or_default();
            round_trips.push(provider);
            overheads.push(took.saturating_sub(provider));
        }
    }
    overheads.sort();
    round_trips.sort();
    totals.sort();
    println!(
        "engine overhead per phase beyond the HTTP round trip ({} phases x {RUNS} runs): median {} p90 {} max {}",
        PHASES,
        micros(percentile(&overheads, 0.5)),
        micros(percentile(&overheads, 0.9)),
        micros(*overheads.last().unwrap())
    );
    println!(
        "HTTP round trip to the fake: median {}; whole 100-phase run: median {:.1} ms",
        micros(percentile(&round_trips, 0.5)),
        percentile(&totals, 0.5).as_secs_f64() * 1e3
    );

    // Peak RSS and wall time of the real binary on the same cascade: a durable run, with the
    // store logger and a checkpoint after every phase: the embedded DuckDB store, and ClickHouse
    // when `WINDLASS_BENCH_CLICKHOUSE_URL` names a server.
    let bin = env!("CARGO_BIN_EXE_windlass");
    let one = dir.path().join("one.yaml");
    std::fs::write(&one, "cascade_id: one\nphases:\n  - name: p0\n    instructions: hi\n").unwrap();
    let mut backends: Vec<(&str, Vec<(String, String)>)> = vec![("DuckDB", Vec::new())];
    if let Ok(url) = std::env::var("WINDLASS_BENCH_CLICKHOUSE_URL") {
        let rest = url.trim().trim_start_matches("http://").trim_end_matches('/');
        let (host, port) = rest.split_once(':').unwrap_or((rest, "8123"));
        // One database for every run of this bench (its sessions pile up there, nowhere else).
        let database = "windlass_bench_engine".to_string();
        backends.push((
            "ClickHouse",
            vec![
                ("WINDLASS_CLICKHOUSE_HOST".into(), host.into()),
                ("WINDLASS_CLICKHOUSE_PORT".into(), port.into()),
                ("WINDLASS_CLICKHOUSE_DATABASE".into(), database),
            ],
        ));
    }
    for (backend, env) in &backends {
        let wall = |path: &std::path::Path| {
            let t = Instant::now();
            let status = std::process::Command::new(bin)
                .args(["run", path.to_str().unwrap(), "-q", "-i", "topic=tides"])
                .env_clear()
                .env("HOME", dir.path())
                .env("WINDLASS_DATA_DIR", dir.path().join("data"))
                .env("WINDLASS_BASE_URL", llm.url())
                .envs(env.iter().cloned())
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            t.elapsed()
        };
        let mut walls_100: Vec<Duration> = (0..5).map(|_| wall(&file)).collect();
        let mut walls_1: Vec<Duration> = (0..5).map(|_| wall(&one)).collect();
        walls_100.sort();
        walls_1.sort();
        let per_phase_binary =
            (percentile(&walls_100, 0.5).saturating_sub(percentile(&walls_1, 0.5))) / (PHASES as u32 - 1);
        let per_phase_engine = percentile(&totals, 0.5) / PHASES as u32;
        println!(
            "durable `windlass run` on {backend}: 100 phases median {:.1} ms, 1 phase median {:.1} ms -> {} per phase; in-process engine without a store: {} per phase; logging + checkpoints add about {} per phase",
            percentile(&walls_100, 0.5).as_secs_f64() * 1e3,
            percentile(&walls_1, 0.5).as_secs_f64() * 1e3,
            micros(per_phase_binary),
            micros(per_phase_engine),
            micros(per_phase_binary.saturating_sub(per_phase_engine))
        );
    }
    // `ru_maxrss` of the waited children: the largest of the runs above, the 100-phase ones.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let peak_kb = usage.ru_maxrss;
    println!("peak RSS of `windlass run` on the 100-phase cascade: {:.1} MB", peak_kb as f64 / 1024.0);
}
