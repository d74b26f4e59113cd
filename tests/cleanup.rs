//! `windlass cleanup` end to end, on both store backends: sessions made by real runs against
//! the fake LLM, one of them still running in another process while cleanup works.

mod support;

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};
use support::backends::backends;
use support::requests::last_user;
use support::{FakeLlm, Outcome, Reply, Sandbox};

const QUICK: &str = "cascade_id: quick\nphases:\n  - name: only\n    instructions: QUICK\n";
const SLOW: &str = "cascade_id: slow\nphases:\n  - name: only\n    instructions: SLOW\n";

/// A run that must not outlive the test, even one that panics.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A sandbox on `env`'s backend whose fake LLM answers `QUICK` at once and `SLOW` after 20 s.
fn sandbox(llm: &FakeLlm, env: &[(String, String)]) -> Sandbox {
    llm.respond_with(|body| {
        if last_user(body) == "SLOW" {
            Reply::text("late").with_delay(Duration::from_secs(20))
        } else {
            Reply::text("done")
        }
    });
    let mut sb = Sandbox::with_llm(&llm.url());
    for (k, v) in env {
        sb.set(k, v);
    }
    sb.set("WINDLASS_HEARTBEAT_INTERVAL", "1s");
    sb.set("WINDLASS_HEARTBEAT_LEASE", "3s");
    sb.write("quick.yaml", QUICK);
    sb.write("slow.yaml", SLOW);
    sb
}

/// The session's folder, with a scratch file in it (the tiny cascade makes none itself).
fn session_folder(sb: &Sandbox, session: &str) -> PathBuf {
    let dir = sb.path().join("data").join("sessions").join(session);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scratch.txt"), "scratch work").unwrap();
    dir
}

/// Run a session to completion.
fn finish(sb: &Sandbox, backend: &str, session: &str) {
    let out = sb.run(&["run", "quick.yaml", "-q", "--session", session]);
    assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
}

/// Start the slow cascade and wait until it is running with its LLM call in flight.
fn start_slow(sb: &Sandbox, llm: &FakeLlm, backend: &str, session: &str) -> Running {
    let child = Running(sb.command(&["run", "slow.yaml", "-q", "--session", session]).spawn().unwrap());
    let t = Instant::now();
    loop {
        let asked = llm.requests().iter().any(|r| last_user(&r.body) == "SLOW");
        if asked && sb.run(&["sessions", "show", session]).stdout.contains("running") {
            return child;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "{backend}: {session} never started running");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `SELECT count(*) AS n FROM <table> WHERE session_id = '<session>'` through `windlass sql`.
fn rows(sb: &Sandbox, backend: &str, table: &str, session: &str) -> u64 {
    let q = format!("SELECT count(*) AS n FROM {table} WHERE session_id = '{session}'");
    let out = sb.run(&["sql", &q, "--format", "json"]);
    assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
    let n = &out.json()[0]["n"];
    n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())).unwrap()
}

fn cleanup(sb: &Sandbox, backend: &str, args: &[&str]) -> Outcome {
    let out = sb.run(&[&["cleanup"], args].concat());
    assert_eq!(out.code, 0, "{backend}: cleanup {args:?}: {}", out.stderr);
    out
}

#[test]
fn cleanup_removes_finished_sessions_and_never_a_running_one() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        let sb = sandbox(&llm, &env);
        finish(&sb, backend, "done-1");
        let done_dir = session_folder(&sb, "done-1");
        let live = start_slow(&sb, &llm, backend, "live-1");
        let live_dir = session_folder(&sb, "live-1");
        let t = Instant::now();
        let live_logs = loop {
            // Log rows go out in batches, well under a second apart.
            match rows(&sb, backend, "unified_logs", "live-1") {
                0 => assert!(t.elapsed() < Duration::from_secs(10), "{backend}: the running session logs nothing"),
                n => break n,
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(rows(&sb, backend, "unified_logs", "done-1") > 0, "{backend}");
        // ClickHouse's clock has whole seconds: let it pass the moment done-1 finished.
        std::thread::sleep(Duration::from_millis(1200));

        // 1. A dry run lists the finished session only, and removes nothing.
        let dry = cleanup(&sb, backend, &["--older-than", "0s", "--dry-run", "--logs"]);
        let listed: Vec<&str> = dry.stdout.lines().skip(1).collect();
        assert_eq!(listed.len(), 1, "{backend}: {}", dry.stdout);
        assert!(listed[0].starts_with("done-1 ") && listed[0].contains("completed"), "{backend}: {}", dry.stdout);
        assert!(listed[0].contains("folder 12 B") && listed[0].contains("rows"), "{backend}: {}", dry.stdout);
        assert!(dry.stderr.contains("would remove 1 session, 12 B on disk"), "{backend}: {}", dry.stderr);
        assert!(done_dir.join("scratch.txt").exists(), "{backend}: a dry run removed the folder");
        let show = sb.run(&["sessions", "show", "done-1"]);
        assert_eq!(show.code, 0, "{backend}: {}", show.stderr);
        assert!(rows(&sb, backend, "unified_logs", "done-1") > 0, "{backend}: a dry run deleted rows");

        // 2. The real thing: folder and rows of done-1 go; live-1 keeps everything.
        let out = cleanup(&sb, backend, &["--older-than", "0s", "--logs"]);
        assert!(out.stdout.contains("done-1") && !out.stdout.contains("live-1"), "{backend}: {}", out.stdout);
        assert!(out.stderr.contains("removed 1 session, 12 B on disk"), "{backend}: {}", out.stderr);
        assert!(!done_dir.exists(), "{backend}: the folder of done-1 is still there");
        let show = sb.run(&["sessions", "show", "done-1"]);
        assert_eq!(show.code, 1, "{backend}: {}", show.stdout);
        assert!(show.stderr.contains("no such session"), "{backend}: {}", show.stderr);
        for table in ["unified_logs", "session_state", "cascade_sessions", "checkpoints"] {
            assert_eq!(rows(&sb, backend, table, "done-1"), 0, "{backend}: rows of done-1 left in {table}");
        }
        assert!(live_dir.join("scratch.txt").exists(), "{backend}: the running session's folder went");
        assert!(rows(&sb, backend, "unified_logs", "live-1") >= live_logs, "{backend}: rows of live-1 went");
        let show = sb.run(&["sessions", "show", "live-1"]);
        assert!(show.code == 0 && show.stdout.contains("running"), "{backend}: {} {}", show.stdout, show.stderr);

        // Nothing left to do is not a failure.
        let again = cleanup(&sb, backend, &["--older-than", "0s", "--logs"]);
        assert_eq!(again.stdout, "", "{backend}");
        assert!(again.stderr.contains("nothing to clean up"), "{backend}: {}", again.stderr);
        drop(live);
    }
}

#[test]
fn a_session_that_just_finished_is_not_older_than_an_hour() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        let sb = sandbox(&llm, &env);
        finish(&sb, backend, "fresh-1");
        let dir = session_folder(&sb, "fresh-1");
        let out = cleanup(&sb, backend, &["--older-than", "1h", "--logs"]);
        assert_eq!(out.stdout, "", "{backend}");
        assert!(out.stderr.contains("nothing to clean up"), "{backend}: {}", out.stderr);
        assert!(dir.join("scratch.txt").exists(), "{backend}");
        assert!(rows(&sb, backend, "unified_logs", "fresh-1") > 0, "{backend}");
        assert_eq!(sb.run(&["sessions", "show", "fresh-1"]).code, 0, "{backend}");
    }
}
