//! Durable sessions end to end, on both store backends: the embedded DuckDB always, and
//! ClickHouse when `WINDLASS_TEST_CLICKHOUSE_URL` names a server (CI starts one and sets
//! `WINDLASS_TEST_REQUIRE_CLICKHOUSE=1`, so there it is never skipped).

mod support;

use std::time::{Duration, Instant};
use support::backends::{backends, sandbox};
use support::requests::last_user;
use support::waiting::wait_for_checkpoints;
use support::{FakeLlm, Reply, Sandbox};

const THREE_PHASES: &str = "cascade_id: three\nphases:\n  - name: one\n    instructions: PHASE ONE\n  - name: two\n    instructions: PHASE TWO\n  - name: three\n    instructions: PHASE THREE\n    rules:\n      max_turns: 3\n";

#[test]
fn a_killed_run_resumes_without_repeating_work() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        // The second turn of phase three hangs until the process is killed.
        llm.respond_with(|body| {
            let u = last_user(body);
            let text = body.to_string();
            if u.starts_with("Continue/Refine") && text.contains("PHASE THREE") && !text.contains("turn-two-answer") {
                Reply::text("turn-two-answer").with_delay(Duration::from_secs(30))
            } else if u == "PHASE THREE" {
                Reply::text("turn-one-answer")
            } else {
                Reply::text(format!("answer to {u}"))
            }
        });
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", THREE_PHASES);
        let mut child = sb.command(&["run", "c.yaml", "-q", "--session", "kill-me"]).spawn().unwrap();
        let t = Instant::now();
        while llm.request_count() < 4 {
            assert!(t.elapsed() < Duration::from_secs(30), "{backend}: the run never reached phase three, turn two");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Phase three asks the model while phase two's checkpoint commits in the background.
        wait_for_checkpoints(&sb, &["kill-me"], "two", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(800)); // the logger's batch goes out
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let before = llm.request_count();

        llm.respond_with(|body| Reply::text(format!("fresh answer to {}", last_user(body))));
        // The file changes after the start: resume says so and uses the stored definition.
        sb.write("c.yaml", &THREE_PHASES.replace("PHASE ONE", "EDITED PHASE ONE"));
        let out = sb.run(&["resume", "kill-me", "-q", "--format", "json"]);
        assert!(out.stderr.contains("changed since session kill-me started"), "{backend}: {}", out.stderr);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        let doc = out.json();
        assert_eq!(doc["status"], "completed", "{backend}");
        let after: Vec<String> = llm.requests()[before..].iter().map(|r| last_user(&r.body)).collect();
        assert!(
            !after.iter().any(|u| u == "PHASE ONE" || u == "PHASE TWO"),
            "{backend}: completed phases ran again: {after:?}"
        );
        // Turn one of phase three came from the log; turns two and three were asked.
        assert_eq!(after.len(), 2, "{backend}: {after:?}");
        assert!(
            out.stderr.contains("1 logged LLM answer(s) of the interrupted phase will be reused"),
            "{backend}: {}",
            out.stderr
        );
        let phases: Vec<&str> =
            doc["lineage"].as_array().unwrap().iter().map(|l| l["phase"].as_str().unwrap()).collect();
        assert_eq!(phases, ["one", "two", "three"], "{backend}");
        let show = sb.run(&["sessions", "show", "kill-me"]);
        assert!(show.stdout.contains("completed"), "{backend}: {}", show.stdout);
    }
}

#[test]
fn sigint_exits_130_quickly_with_a_resumable_checkpoint() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|body| {
            if last_user(body) == "PHASE TWO" {
                Reply::text("slow").with_delay(Duration::from_secs(30))
            } else {
                Reply::text("quick")
            }
        });
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", THREE_PHASES);
        let child =
            sb.command(&["run", "c.yaml", "--session", "ctrl-c"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let t = Instant::now();
        while llm.request_count() < 2 {
            assert!(t.elapsed() < Duration::from_secs(30), "{backend}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = Instant::now();
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let out = child.wait_with_output().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(2), "{backend}: took {:?}", sent.elapsed());
        assert_eq!(out.status.code(), Some(130), "{backend}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("windlass resume ctrl-c"), "{backend}: {stderr}");
        llm.respond_with(|_| Reply::text("done now"));
        let resumed = sb.run(&["resume", "ctrl-c", "-q"]);
        assert_eq!(resumed.code, 0, "{backend}: {}", resumed.stderr);
        assert!(resumed.elapsed < Duration::from_secs(10), "{backend}: a released lease resumes at once");
    }
}

#[test]
fn readers_work_while_runs_write_and_no_row_is_lost() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|_| Reply::text("ok").with_delay(Duration::from_millis(20)));
        let sb = sandbox(&llm, &env);
        let mut text = String::from("cascade_id: many\nphases:\n");
        for i in 0..25 {
            text.push_str(&format!("  - name: p{i}\n    instructions: step {i}\n"));
        }
        sb.write("many.yaml", &text);
        let a = sb
            .command(&["run", "many.yaml", "--format", "ndjson", "-q", "--session", "writer-a"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let b = sb
            .command(&["run", "many.yaml", "--format", "ndjson", "-q", "--session", "writer-b"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let t = Instant::now();
        let mut reads = 0;
        while t.elapsed() < Duration::from_secs(2) {
            for args in [
                vec!["sessions"],
                vec!["sessions", "show", "writer-a"],
                vec!["logs", "writer-b"],
                vec!["sql", "SELECT count(*) AS n FROM unified_logs"],
            ] {
                let out = sb.run(&args);
                // A session may not exist yet in the very first moments; anything else must work.
                assert!(
                    out.code == 0 || (out.code == 1 && out.stderr.contains("no such session")),
                    "{backend}: {args:?}: {}",
                    out.stderr
                );
                reads += 1;
            }
        }
        assert!(reads >= 4);
        for (child, id) in [(a, "writer-a"), (b, "writer-b")] {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{backend}");
            let events = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("\"event\"")).count();
            let q = format!("SELECT count(DISTINCT message_id) AS n FROM unified_logs WHERE session_id = '{id}'");
            let sql = sb.run(&["sql", &q, "--format", "json"]);
            assert_eq!(sql.code, 0, "{backend}: {}", sql.stderr);
            let n = sql.json()[0]["n"]
                .as_u64()
                .or_else(|| sql.json()[0]["n"].as_str().and_then(|s| s.parse().ok()))
                .unwrap();
            assert_eq!(n as usize, events, "{backend}: every event of {id} is a row");
        }
    }
}

#[test]
fn session_ids_and_sql_cannot_escape() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n");
        let out = sb.run(&["run", "c.yaml", "--session", "x'); DROP TABLE signals; --"]);
        assert_eq!(out.code, 2, "{backend}: a bad session id is a usage error: {}", out.stderr);
        let out = sb.run(&["sessions", "show", "nobody' OR '1'='1"]);
        assert_ne!(out.code, 0, "{backend}");
        assert!(sb.run(&["run", "c.yaml", "-q", "--session", "good-one"]).code == 0, "{backend}");
        for q in [
            "DELETE FROM signals",
            "SELECT 1; DROP TABLE signals",
            "DROP TABLE unified_logs",
            "INSERT INTO signals SELECT * FROM signals",
        ] {
            let out = sb.run(&["sql", q]);
            assert_eq!(out.code, 2, "{backend}: `{q}` must be refused: {}", out.stderr);
        }
        let out = sb.run(&["sql", "SELECT count(*) AS n FROM signals", "--format", "csv"]);
        assert_eq!(out.code, 0, "{backend}: the tables are intact: {}", out.stderr);
        let logs = sb.run(&["logs", "good-one"]);
        assert_eq!(logs.code, 0, "{backend}: {}", logs.stderr);
        assert!(logs.stdout.contains("cascade_finished"), "{backend}: {}", logs.stdout);
    }
}

/// The number of rows stored for a session, counted two ways: distinct ids, and rows after
/// de-duplication (`FINAL` on ClickHouse).
fn stored_rows(sb: &Sandbox, session: &str, clickhouse: bool) -> (u64, u64) {
    let num = |out: &support::Outcome| {
        let v = &out.json()[0]["n"];
        v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(0)
    };
    let distinct = sb.run(&[
        "sql",
        &format!("SELECT count(DISTINCT message_id) AS n FROM unified_logs WHERE session_id = '{session}'"),
        "--format",
        "json",
    ]);
    assert_eq!(distinct.code, 0, "{}", distinct.stderr);
    let table = if clickhouse { "unified_logs FINAL" } else { "unified_logs" };
    let all = sb.run(&[
        "sql",
        &format!("SELECT count(*) AS n FROM {table} WHERE session_id = '{session}'"),
        "--format",
        "json",
    ]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    (num(&distinct), num(&all))
}

#[test]
fn clickhouse_going_away_mid_run_loses_no_row() {
    let Some((_, env)) = backends().into_iter().find(|(b, _)| *b == "clickhouse") else { return };
    let host = env.iter().find(|(k, _)| k == "WINDLASS_CLICKHOUSE_HOST").unwrap().1.clone();
    let port: u16 = env.iter().find(|(k, _)| k == "WINDLASS_CLICKHOUSE_PORT").unwrap().1.parse().unwrap();
    let target: std::net::SocketAddr = format!("{host}:{port}").parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut relay = rt.block_on(support::tcp_relay::TcpRelay::start(target));
    let llm = FakeLlm::start();
    llm.respond_with(|_| Reply::text("ok").with_delay(Duration::from_millis(100)));
    let mut sb = sandbox(&llm, &env);
    sb.set("WINDLASS_CLICKHOUSE_PORT", &relay.port().to_string());
    let mut text = String::from("cascade_id: steady\nphases:\n");
    for i in 0..20 {
        text.push_str(&format!("  - name: p{i}\n    instructions: step {i}\n"));
    }
    sb.write("steady.yaml", &text);

    // Undisturbed.
    let calm = sb.run(&["run", "steady.yaml", "--format", "ndjson", "-q", "--session", "calm"]);
    assert_eq!(calm.code, 0, "{}", calm.stderr);
    let calm_events = calm.stdout.lines().filter(|l| l.contains("\"event\"")).count() as u64;

    // The same run with ClickHouse gone for three seconds in the middle.
    let before = llm.request_count();
    let child = sb
        .command(&["run", "steady.yaml", "--format", "ndjson", "-q", "--session", "blink"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while llm.request_count() < before + 5 {
        std::thread::sleep(Duration::from_millis(10));
    }
    rt.block_on(relay.stop());
    std::thread::sleep(Duration::from_secs(3));
    rt.block_on(relay.restart());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let blink_events = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("\"event\"")).count() as u64;
    assert_eq!(blink_events, calm_events, "the same cascade reports the same events");

    assert_eq!(stored_rows(&sb, "calm", true), (calm_events, calm_events));
    assert_eq!(stored_rows(&sb, "blink", true), (calm_events, calm_events), "no row lost, none doubled");
}

#[test]
fn logs_follow_prints_until_the_session_ends() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|_| Reply::text("ok").with_delay(Duration::from_millis(300)));
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", THREE_PHASES);
        let run = sb.command(&["run", "c.yaml", "-q", "--session", "followed"]).spawn().unwrap();
        let t = Instant::now();
        while llm.request_count() < 1 {
            assert!(t.elapsed() < Duration::from_secs(20), "{backend}");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(400));
        let follow = sb.run(&["logs", "followed", "--follow"]);
        let run = run.wait_with_output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{backend}");
        assert_eq!(follow.code, 0, "{backend}: {}", follow.stderr);
        assert!(
            follow.stdout.contains("cascade_started") && follow.stdout.contains("cascade_finished"),
            "{backend}: {}",
            follow.stdout
        );
        assert!(follow.stdout.contains("[three]"), "{backend}: {}", follow.stdout);
        let missing = sb.run(&["logs", "no-such-session"]);
        assert_eq!(missing.code, 1, "{backend}: {}", missing.stderr);
        assert!(missing.stderr.contains("no-such-session"), "{backend}");
    }
}

#[test]
fn a_store_that_cannot_be_reached_is_exit_6_naming_it() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let llm = FakeLlm::start();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_CLICKHOUSE_HOST", "127.0.0.1");
    sb.set("WINDLASS_CLICKHOUSE_PORT", &port.to_string());
    sb.set("WINDLASS_CLICKHOUSE_PASSWORD", "hunter2-secret");
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n");
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("127.0.0.1:{port}")), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    assert_eq!(llm.request_count(), 0, "nothing runs without a store");
}
