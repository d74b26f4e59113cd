//! `--format json|ndjson` on the commands that print data: every field, in full, parsed back
//! as JSON; on both store backends.

mod support;

use support::backends::{backends, sandbox};
use support::{FakeLlm, Reply};

const TWO: &str =
    "cascade_id: two\nphases:\n  - name: first\n    instructions: FIRST\n  - name: second\n    instructions: SECOND\n";

#[test]
fn sessions_show_and_logs_print_every_field_in_full_as_json() {
    let long = format!("PLEASE-MENTION-PENGUIN {}\nsecond line", "word ".repeat(60));
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        let answer = long.clone();
        llm.respond_with(move |_| Reply::text(&answer));
        let sb = sandbox(&llm, &env);
        sb.write("two.yaml", TWO);
        let run = sb.run(&["run", "two.yaml", "-q", "--session", "fmt-1"]);
        assert_eq!(run.code, 0, "{backend}: {}", run.stderr);

        let list = sb.run(&["sessions", "--format", "json"]);
        assert_eq!(list.code, 0, "{backend}: {}", list.stderr);
        let rows = list.json();
        let row = rows.as_array().unwrap().iter().find(|r| r["session_id"] == "fmt-1").expect("listed");
        assert_eq!(row["status"], "completed", "{backend}: {row}");
        assert_eq!(row["cascade_id"], "two", "{backend}");
        assert!(row["tokens_in"].is_u64(), "{backend}: {row}");

        let lines = sb.run(&["sessions", "--format", "ndjson"]);
        assert_eq!(lines.code, 0, "{backend}: {}", lines.stderr);
        let parsed: Vec<serde_json::Value> =
            lines.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
        assert!(parsed.iter().any(|r| r["session_id"] == "fmt-1"), "{backend}: {}", lines.stdout);

        let show = sb.run(&["sessions", "show", "fmt-1", "--format", "json"]);
        assert_eq!(show.code, 0, "{backend}: {}", show.stderr);
        assert_eq!(show.json()["session_id"], "fmt-1", "{backend}");
        assert!(show.json()["completed_at"].as_f64().unwrap() > 0.0, "{backend}");

        let logs = sb.run(&["logs", "fmt-1", "--format", "ndjson"]);
        assert_eq!(logs.code, 0, "{backend}: {}", logs.stderr);
        let events: Vec<serde_json::Value> =
            logs.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON row per line")).collect();
        let stored = sb.run(&[
            "sql",
            "SELECT count(DISTINCT message_id) AS n FROM unified_logs WHERE session_id = 'fmt-1'",
            "--format",
            "json",
        ]);
        let n = &stored.json()[0]["n"];
        let n = n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())).unwrap();
        assert_eq!(events.len() as u64, n, "{backend}: every stored row");
        let answers: Vec<&serde_json::Value> = events.iter().filter(|e| e["node_type"] == "llm_response").collect();
        assert_eq!(answers.len(), 2, "{backend}");
        assert_eq!(answers[0]["content"]["content"], long.as_str(), "{backend}: full content, never cut");

        let doc = sb.run(&["logs", "fmt-1", "--format", "json"]);
        assert_eq!(doc.code, 0, "{backend}: {}", doc.stderr);
        assert_eq!(doc.json().as_array().unwrap().len(), events.len(), "{backend}");

        // Piped text keeps the whole answer on one line; only a terminal gets it shortened.
        let text = sb.run(&["logs", "fmt-1"]);
        assert_eq!(text.code, 0, "{backend}: {}", text.stderr);
        assert!(text.stdout.contains(&long.replace('\n', " ")), "{backend}: {}", text.stdout);

        let unknown = sb.run(&["sessions", "show", "nope", "--format", "json"]);
        assert_eq!(unknown.code, 1, "{backend}: {}", unknown.stderr);
        assert!(unknown.stderr.contains("nope"), "{backend}");
    }
}

/// One JSON value per line of `stdout`.
fn ndjson(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

#[test]
fn orphans_print_each_orphan_as_json() {
    use std::time::{Duration, Instant};
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|_| Reply::text("late").with_delay(Duration::from_secs(60)));
        let mut sb = sandbox(&llm, &env);
        sb.set("WINDLASS_HEARTBEAT_INTERVAL", "500ms");
        sb.set("WINDLASS_HEARTBEAT_LEASE", "2s");
        sb.write("two.yaml", TWO);
        let mut run = sb
            .command(&["run", "two.yaml", "-q", "--session", "lost-1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while llm.request_count() == 0 {
            assert!(t.elapsed() < Duration::from_secs(30), "{backend}: the run never called the model");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(800)); // the session row goes out
        run.kill().unwrap(); // no goodbye: the heartbeat just stops
        run.wait().unwrap();
        // The lease runs out: ask until the session is listed (the first listing that finds it
        // is the one checked), rather than sleeping for a lease and a margin.
        let t = Instant::now();
        let orphan = loop {
            let found = sb.run(&["orphans", "--format", "json"]);
            assert_eq!(found.code, 0, "{backend}: {}", found.stderr);
            let listed = found.json().as_array().unwrap().iter().find(|o| o["session_id"] == "lost-1").cloned();
            if let Some(orphan) = listed {
                break orphan;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "{backend}: lost-1 never became an orphan");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(orphan["was"], "running", "{backend}: {orphan}");
        assert_eq!((&orphan["cascade_id"], &orphan["current_phase"]), (&"two".into(), &"first".into()), "{backend}");
        assert!(orphan["owner"].as_str().is_some_and(|o| !o.is_empty()), "{backend}: {orphan}");
        assert!(orphan["heartbeat_at"].as_f64().unwrap() > 0.0, "{backend}: {orphan}");
        assert!(orphan["expired_for_seconds"].as_f64().unwrap() > 0.0, "{backend}: {orphan}");

        // Listing marked it: the next listing finds it as `orphaned`, one object per line.
        let again = sb.run(&["orphans", "--format", "ndjson"]);
        assert_eq!(again.code, 0, "{backend}: {}", again.stderr);
        let lines = ndjson(&again.stdout);
        assert_eq!(lines.len(), 1, "{backend}: {}", again.stdout);
        assert_eq!((&lines[0]["session_id"], &lines[0]["was"]), (&"lost-1".into(), &"orphaned".into()), "{backend}");
    }
}

#[test]
fn cleanup_prints_its_plan_as_json_and_a_dry_run_removes_nothing() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|_| Reply::text("done"));
        let sb = sandbox(&llm, &env);
        sb.write("two.yaml", TWO);
        let run = sb.run(&["run", "two.yaml", "-q", "--session", "old-1"]);
        assert_eq!(run.code, 0, "{backend}: {}", run.stderr);
        let folder = sb.path().join("data").join("sessions").join("old-1");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("scratch.txt"), "scratch work").unwrap();
        // ClickHouse's clock has whole seconds: let it pass the moment old-1 finished.
        std::thread::sleep(std::time::Duration::from_millis(1200));

        let dry = sb.run(&["cleanup", "--older-than", "0s", "--dry-run", "--format", "json"]);
        assert_eq!(dry.code, 0, "{backend}: {}", dry.stderr);
        let plan = dry.json();
        let plan = plan.as_array().unwrap();
        assert_eq!(plan.len(), 1, "{backend}: {plan:?}");
        let item = &plan[0];
        assert_eq!((&item["session_id"], &item["status"]), (&"old-1".into(), &"completed".into()), "{backend}");
        assert_eq!(item["reason"]["kind"], "finished", "{backend}: {item}");
        assert!(item["reason"]["ago_seconds"].as_f64().unwrap() >= 0.0, "{backend}: {item}");
        assert!(item["folder"].as_str().unwrap().ends_with("old-1"), "{backend}: {item}");
        assert_eq!(item["folder_bytes"].as_u64(), Some("scratch work".len() as u64), "{backend}: {item}");
        assert_eq!(item["bytes"].as_u64(), item["folder_bytes"].as_u64(), "{backend}: {item}");
        assert_eq!((&item["rows"], &item["removed"]), (&false.into(), &false.into()), "{backend}: {item}");
        assert!(folder.exists(), "{backend}: a dry run removes nothing");

        let done = sb.run(&["cleanup", "--older-than", "0s", "--format", "ndjson"]);
        assert_eq!(done.code, 0, "{backend}: {}", done.stderr);
        let lines = ndjson(&done.stdout);
        assert_eq!(lines.len(), 1, "{backend}: {}", done.stdout);
        assert_eq!((&lines[0]["session_id"], &lines[0]["removed"]), (&"old-1".into(), &true.into()), "{backend}");
        assert!(!folder.exists(), "{backend}");

        let nothing = sb.run(&["cleanup", "--older-than", "30d", "--dry-run", "--format", "json"]);
        assert_eq!(nothing.code, 0, "{backend}: {}", nothing.stderr);
        assert_eq!(nothing.json(), serde_json::json!([]), "{backend}");
    }
}

#[test]
fn check_prints_one_json_object_per_diagnostic() {
    let sb = support::Sandbox::new();
    sb.write("ok.yaml", "cascade_id: ok\nphases:\n  - name: a\n    instructions: hi\n");
    sb.write(
        "bad.yaml",
        "cascade_id: bad\nphases:\n  - name: a\n    instructions: hi\n    colour: blue\n    rules:\n      max_turns: lots\n",
    );
    let out = sb.run(&["check", "ok.yaml", "bad.yaml", "--format", "ndjson"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let lines = ndjson(&out.stdout);
    assert!(lines.iter().all(|d| d["file"] == "bad.yaml"), "a clean file prints nothing: {}", out.stdout);
    let warning = lines.iter().find(|d| d["severity"] == "warning").expect("the unknown key");
    assert_eq!(
        (&warning["code"], warning["line"].as_u64(), warning["column"].as_u64()),
        (&"unknown-key".into(), Some(5), Some(5))
    );
    assert!(warning["message"].as_str().unwrap().contains("colour"), "{warning}");
    let error = lines.iter().find(|d| d["severity"] == "error").expect("the wrong type");
    assert_eq!((&error["code"], error["line"].as_u64()), (&"invalid-value".into(), Some(7)), "{error}");
    assert_eq!(error["field"], "phases[0].rules.max_turns", "{error}");

    let clean = sb.run(&["check", "ok.yaml", "--format", "ndjson"]);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, ""), "{}", clean.stderr);
}

#[test]
fn sql_prints_tsv_with_escapes_and_ndjson() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        let sb = sandbox(&llm, &env);
        // A backslash is an escape in ClickHouse string literals and plain text in DuckDB's.
        let backslash = if backend == "clickhouse" { "\\\\" } else { "\\" };
        let query = format!("SELECT 'a\tb' AS tab, 'one\ntwo' AS newline, 'C:{backslash}dir' AS backslash, 2 AS n");
        let tsv = sb.run(&["sql", &query, "--format", "tsv"]);
        assert_eq!(tsv.code, 0, "{backend}: {}", tsv.stderr);
        assert_eq!(tsv.stdout, "tab\tnewline\tbackslash\tn\na\\tb\tone\\ntwo\tC:\\\\dir\t2\n", "{backend}");

        let lines = sb.run(&["sql", &query, "--format", "ndjson"]);
        assert_eq!(lines.code, 0, "{backend}: {}", lines.stderr);
        let rows = ndjson(&lines.stdout);
        assert_eq!(rows.len(), 1, "{backend}: {}", lines.stdout);
        assert_eq!((&rows[0]["tab"], &rows[0]["newline"]), (&"a\tb".into(), &"one\ntwo".into()), "{backend}");
        assert_eq!(rows[0]["backslash"], "C:\\dir", "{backend}");
    }
}
