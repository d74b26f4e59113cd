//! Ten `windlass run` processes at once on one embedded DuckDB file, against ten on a file each.
//!
//!     cargo bench --bench handover
//!     WINDLASS_BENCH_RUNS=20 cargo bench --bench handover
//!
//! Each run is the real binary running a three-phase cascade against a fake OpenAI-compatible
//! endpoint that answers at once, so the store is all there is to measure. Reports the wall
//! time and the CPU (user + system) of all the processes together, for one shared file and
//! for a file each, and their ratio (target, issue 14 item 7: at most 1.5×). Checks that every
//! run completed and that the shared file holds as many log rows as the separate files
//! together: nothing lost to the hand-over.

#[path = "../tests/support/fake_llm.rs"]
mod fake_llm;

use fake_llm::{FakeLlm, Reply};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CASCADE: &str = "cascade_id: three\nphases:\n  - name: a\n    instructions: 'First {{ input.n }}'\n  \
                       - name: b\n    instructions: 'Second'\n  - name: c\n    instructions: 'Third'\n";

/// CPU seconds (user + system) of one rusage.
fn cpu(usage: &libc::rusage) -> f64 {
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

fn spawn(dir: &Path, data: &Path, llm: &FakeLlm, n: usize) -> Child {
    Command::new(env!("CARGO_BIN_EXE_windlass"))
        .args(["run", "three.yaml", "--input", &format!("{{\"n\": {n}}}"), "--session", &format!("run-{n}"), "-q"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("WINDLASS_DATA_DIR", data)
        .env("WINDLASS_BASE_URL", llm.url())
        .env("WINDLASS_DEFAULT_MODEL", "test/model")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Wait for `child`, returning its CPU seconds; panics unless it exited 0.
fn reap(child: Child) -> f64 {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, writing into values we own.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "a run failed: {status}");
    std::mem::forget(child);
    cpu(&usage)
}

/// Log rows and completed sessions in the store under `data`, counted by the binary itself.
fn counts(dir: &Path, data: &Path) -> (u64, u64) {
    let query = |sql: &str| -> u64 {
        let out = Command::new(env!("CARGO_BIN_EXE_windlass"))
            .args(["sql", sql, "--format", "json"])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("WINDLASS_DATA_DIR", data)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let n = &rows[0]["n"];
        n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())).unwrap()
    };
    (
        query("SELECT count(*) AS n FROM unified_logs"),
        query("SELECT count(DISTINCT session_id) AS n FROM session_state WHERE status = 'completed'"),
    )
}

/// Run `runs` processes at once, on one data folder (`shared`) or a folder each.
fn round(llm: &FakeLlm, runs: usize, shared: bool) -> (Duration, f64, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("three.yaml"), CASCADE).unwrap();
    let data = |n: usize| if shared { dir.path().join("data") } else { dir.path().join(format!("data-{n}")) };
    let t = Instant::now();
    let children: Vec<Child> = (0..runs).map(|n| spawn(dir.path(), &data(n), llm, n)).collect();
    let cpu: f64 = children.into_iter().map(reap).sum();
    let wall = t.elapsed();
    let folders = if shared { 1 } else { runs };
    let (mut rows, mut completed) = (0, 0);
    for n in 0..folders {
        let (r, c) = counts(dir.path(), &data(n));
        rows += r;
        completed += c;
    }
    assert_eq!(completed, runs as u64, "every run completed once");
    (wall, cpu, rows, completed)
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let runs: usize = std::env::var("WINDLASS_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(if measuring {
        10
    } else {
        3
    });
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("done"));
    let rounds = if measuring { 3 } else { 1 };
    let (mut shared_cpu, mut separate_cpu) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (wall, cpu, rows, _) = round(&llm, runs, true);
        println!("{runs} runs on one file:   wall {:.2} s, CPU {cpu:.2} s, {rows} log rows", wall.as_secs_f64());
        shared_cpu.push(cpu);
        let (wall, cpu, separate_rows, _) = round(&llm, runs, false);
        println!(
            "{runs} runs, a file each: wall {:.2} s, CPU {cpu:.2} s, {separate_rows} log rows",
            wall.as_secs_f64()
        );
        separate_cpu.push(cpu);
        assert_eq!(rows, separate_rows, "the shared file lost no row");
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (s, e) = (median(&mut shared_cpu), median(&mut separate_cpu));
    println!(
        "CPU, one file against a file each (median of {rounds}): {s:.2} s / {e:.2} s = {:.2}x (target <= 1.5x)",
        s / e
    );
}
