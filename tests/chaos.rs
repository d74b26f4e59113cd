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

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::backends::{backends, sandbox};
use support::invariants::{assert_each_ran_once, assert_repeats_explained, completed, Call};
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

/// A worker whose stderr goes to `worker-<n>.log` in the sandbox, for the invariants' reports.
fn worker(sb: &Sandbox, n: usize) -> Child {
    let log = std::fs::File::create(sb.path().join(format!("worker-{n}.log"))).unwrap();
    sb.command(&["worker", "--concurrency", "4"]).stdout(Stdio::null()).stderr(log).spawn().unwrap()
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
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
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
        let mut done = 0;
        while started.elapsed() < limit {
            done = completed(&sb, "chaos-");
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

        let label = format!("{backend} (seed {seed})");
        let ids: Vec<String> = (0..sessions).map(|n| format!("chaos-{n}")).collect();
        assert_each_ran_once(&sb, &label, &ids, 3);
        let calls = calls.lock().unwrap().clone();
        let kill_moments: Vec<(Instant, Instant)> = killed_at.iter().map(|k| (*k, *k)).collect();
        let repeated = assert_repeats_explained(&sb, "chaos-", &label, &calls, &kill_moments, started);
        assert_eq!(calls.len() as u64 - repeated, sessions * 3, "{backend}: every phase was asked");
        assert!(repeated <= kills * 4, "{backend}: {repeated} repeats for {kills} kills");
        println!("{backend}: {sessions} sessions, {kills} kills, {repeated} repeated calls, {:?}", started.elapsed());
    }
}
