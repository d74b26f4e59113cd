//! Chaos, checked only by invariants (issue 14): queued sessions run on several `windlass
//! worker` processes while a random worker is killed with SIGKILL every few seconds and
//! replaced. At the end, on both store backends:
//!
//! - every session completed, and logged its end exactly once;
//! - no checkpointed phase ran again (each checkpoint exists in one epoch only);
//! - every repeated model call repeats one that was in flight when a worker was killed.
//!
//! The seed of the kills is printed; `WINDLASS_CHAOS_SEED` replays one, and
//! `WINDLASS_CHAOS_SESSIONS` / `WINDLASS_CHAOS_KILLS` make the run longer (the benchmark size).

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::backends::{backends, sandbox};
use support::requests::last_user;
use support::{FakeLlm, Reply, Sandbox};

const CASCADE: &str = "cascade_id: chaos
phases:
  - name: one
    instructions: 'ONE {{ input.n }}'
  - name: two
    instructions: 'TWO {{ input.n }}'
  - name: three
    instructions: 'THREE {{ input.n }}'
";

const WORKERS: usize = 3;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator (xorshift), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A worker whose stderr goes to `worker-<n>.log` in the sandbox, for [`explain`].
fn worker(sb: &Sandbox, n: usize) -> Child {
    let log = std::fs::File::create(sb.path().join(format!("worker-{n}.log"))).unwrap();
    sb.command(&["worker", "--concurrency", "4"]).stdout(Stdio::null()).stderr(log).spawn().unwrap()
}

/// What happened to one session, for a failed invariant: its state versions, checkpoints,
/// lifecycle log rows, and what the workers said of it.
fn explain(sb: &Sandbox, id: &str) -> String {
    let mut out = String::new();
    for query in [
        format!("SELECT version, status, owner, owner_epoch, updated_at FROM session_state WHERE session_id = '{id}' ORDER BY version"),
        format!("SELECT seq, phase, owner_epoch FROM checkpoints WHERE session_id = '{id}' ORDER BY seq"),
        format!(
            "SELECT timestamp, node_type, phase_name, message_id FROM unified_logs WHERE session_id = '{id}' \
             AND node_type IN ('cascade_started', 'cascade_finished', 'phase_started', 'phase_completed', 'error') ORDER BY timestamp"
        ),
    ] {
        for row in sql(sb, &query) {
            out += &format!("  {row}\n");
        }
    }
    for entry in std::fs::read_dir(sb.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("worker-") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for line in text.lines().filter(|l| l.contains(id)) {
                out += &format!("  {name}: {line}\n");
            }
        }
    }
    out
}

/// Rows of a `windlass sql --format json` query.
fn sql(sb: &Sandbox, query: &str) -> Vec<Value> {
    let out = sb.run(&["sql", query, "--format", "json"]);
    assert_eq!(out.code, 0, "{query}: {}", out.stderr);
    match serde_json::from_str::<Value>(&out.stdout).expect("sql --format json") {
        Value::Array(rows) => rows,
        other => other.get("rows").and_then(Value::as_array).cloned().unwrap_or_default(),
    }
}

fn number(v: &Value) -> u64 {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn sessions_survive_workers_killed_at_random_and_each_completes_once() {
    let sessions = env_number("WINDLASS_CHAOS_SESSIONS", 12);
    let kills = env_number("WINDLASS_CHAOS_KILLS", 4);
    let seed = env_number("WINDLASS_CHAOS_SEED", (std::process::id() as u64 * 2_654_435_761) | 1);
    println!("chaos seed {seed}: WINDLASS_CHAOS_SEED={seed} replays these kills");
    for (backend, env) in backends() {
        let mut rng = Rng(seed);
        let llm = FakeLlm::start();
        // When each call arrived, and for how long it was answered.
        let calls: Arc<Mutex<Vec<(String, Instant, Duration)>>> = Arc::default();
        let seen = calls.clone();
        let answers = Arc::new(Mutex::new(Rng(seed ^ 0x9e37_79b9)));
        llm.respond_with(move |body| {
            let prompt = last_user(body);
            let delay = Duration::from_millis(200 + answers.lock().unwrap().below(500));
            seen.lock().unwrap().push((prompt.clone(), Instant::now(), delay));
            Reply::text(format!("done {prompt}")).with_delay(delay)
        });
        let mut sb = sandbox(&llm, &env);
        sb.set("WINDLASS_HEARTBEAT_INTERVAL", "500ms");
        // Long enough that a loaded machine does not let a live worker's lease run out (that
        // would repeat a call with no kill, which this test rightly calls a failure).
        sb.set("WINDLASS_HEARTBEAT_LEASE", "4s");
        sb.write("c.yaml", CASCADE);
        for n in 0..sessions {
            let id = format!("chaos-{n}");
            let out = sb.run(&["submit", "c.yaml", "--session", &id, "-i", &format!("n={n}")]);
            assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        }

        let mut spawned = 0;
        let mut workers: Vec<Child> = (0..WORKERS)
            .map(|_| {
                spawned += 1;
                worker(&sb, spawned)
            })
            .collect();
        let mut killed_at = Vec::new();
        let started = Instant::now();
        for _ in 0..kills {
            std::thread::sleep(Duration::from_millis(1500 + rng.below(2000)));
            let victim = rng.below(WORKERS as u64) as usize;
            workers[victim].kill().unwrap(); // SIGKILL
            workers[victim].wait().unwrap();
            killed_at.push(Instant::now());
            spawned += 1;
            workers[victim] = worker(&sb, spawned);
        }
        let limit = Duration::from_secs(60 + sessions * 3);
        let completed = || {
            let out = sb.run(&["sessions", "--format", "json", "--limit", "1000"]);
            let rows: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
            rows.as_array()
                .map(|rows| {
                    rows.iter()
                        .filter(|r| {
                            r["status"] == "completed"
                                && r["session_id"].as_str().is_some_and(|s| s.starts_with("chaos-"))
                        })
                        .count() as u64
                })
                .unwrap_or(0)
        };
        let mut done = 0;
        while started.elapsed() < limit {
            done = completed();
            if done == sessions {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        for w in &mut workers {
            unsafe { libc::kill(w.id() as i32, libc::SIGTERM) };
        }
        for mut w in workers {
            w.wait().unwrap();
        }
        assert_eq!(done, sessions, "{backend} (seed {seed}): only {done} of {sessions} completed within {limit:?}");

        // Each session wrote one final row (one version of its epoch's last), and logged its
        // end exactly once.
        let finals = sql(
            &sb,
            "SELECT session_id, count(DISTINCT version) AS n FROM session_state \
             WHERE status = 'completed' GROUP BY session_id",
        );
        for r in &finals {
            let id = r["session_id"].as_str().unwrap_or_default();
            assert_eq!(
                number(&r["n"]),
                1,
                "{backend} (seed {seed}): more than one final row: {r}\n{}",
                explain(&sb, id)
            );
        }
        // Each session logged its end exactly once.
        let ends = sql(
            &sb,
            "SELECT session_id, count(DISTINCT message_id) AS n FROM unified_logs \
             WHERE node_type = 'cascade_finished' GROUP BY session_id",
        );
        let ends: HashMap<String, u64> =
            ends.iter().map(|r| (r["session_id"].as_str().unwrap().to_string(), number(&r["n"]))).collect();
        for n in 0..sessions {
            let id = format!("chaos-{n}");
            assert_eq!(ends.get(&id), Some(&1), "{backend} (seed {seed}): ends of {id}:\n{}", explain(&sb, &id));
        }

        // No checkpointed phase ran again: a re-run would checkpoint the same step in a
        // later epoch.
        let steps = sql(
            &sb,
            "SELECT session_id, seq, count(DISTINCT owner_epoch) AS epochs FROM checkpoints GROUP BY session_id, seq",
        );
        assert!(steps.len() as u64 >= sessions * 3, "{backend}: {steps:?}");
        for r in &steps {
            let id = r["session_id"].as_str().unwrap_or_default();
            assert_eq!(
                number(&r["epochs"]),
                1,
                "{backend} (seed {seed}): checkpointed twice: {r}\n{}",
                explain(&sb, id)
            );
        }

        // Every model call that came again repeats one a kill interrupted.
        let calls = calls.lock().unwrap().clone();
        let mut first: HashMap<&str, (Instant, Duration)> = HashMap::new();
        let mut repeated = 0;
        for (prompt, at, delay) in &calls {
            if let Some((before, took)) = first.get(prompt.as_str()) {
                repeated += 1;
                // In flight, or answered but not yet checkpointed, when a worker died.
                let window = *before..(*before + *took + Duration::from_millis(1500));
                assert!(
                    killed_at.iter().any(|k| window.contains(k)),
                    "{backend} (seed {seed}): {prompt:?} was asked again at {:?} with no kill while it ran",
                    at.duration_since(started)
                );
            }
            first.insert(prompt, (*at, *delay));
        }
        assert_eq!(calls.len() as u64 - repeated, sessions * 3, "{backend}: every phase was asked");
        assert!(repeated <= kills * 4, "{backend}: {repeated} repeats for {kills} kills");
        println!("{backend}: {sessions} sessions, {kills} kills, {repeated} repeated calls, {:?}", started.elapsed());
    }
}
