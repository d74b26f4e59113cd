//! `windlass schedules` and cron triggers end to end: three workers on one store fire each
//! tick of a cascade's cron trigger exactly once, on both backends; `check` validates
//! triggers; `list` and `remove` speak JSON and name what is wrong.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::backends::{backends, sandbox};
use support::{FakeLlm, Reply, Sandbox};

// `catch_up: all`: a tick whose scan came late on a loaded machine still fires, so the test
// checks that no tick is lost or run twice, not how punctual the scans were.
const EVERY_TWO_SECONDS: &str = "cascade_id: c\ntriggers:\n  - name: tick\n    type: cron\n    schedule: '*/2 * * * * *'\n    catch_up: all\n    timezone: Europe/Paris\n    inputs:\n      mode: incremental\nphases:\n  - name: only\n    instructions: 'Run {{ input.mode }}'\n";

fn sql(sb: &Sandbox, query: &str) -> Vec<Value> {
    let out = sb.run(&["sql", query, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

fn stop(mut child: Child) {
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(30), "a worker ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn three_workers_fire_each_cron_tick_exactly_once() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.set_fallback(Reply::text("ran"));
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", EVERY_TWO_SECONDS);
        let out = sb.run(&["schedules", "add", "c.yaml"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        assert!(out.stderr.contains("registered c.tick (cron, next at "), "{backend}: {}", out.stderr);
        let workers: Vec<Child> = (0..3)
            .map(|_| sb.command(&["worker"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
            .collect();
        std::thread::sleep(Duration::from_secs(9));
        let out = sb.run(&["schedules", "remove", "c.tick"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        // A tick queued just before the removal still runs.
        std::thread::sleep(Duration::from_secs(3));
        for w in workers {
            stop(w);
        }
        let rows = sql(
            &sb,
            "SELECT session_id, count(DISTINCT version) AS versions FROM session_state \
             WHERE session_id LIKE 'c.tick@%' AND status = 'completed' GROUP BY session_id ORDER BY session_id",
        );
        let ticks: BTreeSet<i64> = rows
            .iter()
            .map(|r| r["session_id"].as_str().unwrap().trim_start_matches("c.tick@").parse().unwrap())
            .collect();
        assert!(ticks.len() >= 3, "{backend}: ticks fired: {ticks:?}");
        let (first, last) = (*ticks.first().unwrap(), *ticks.last().unwrap());
        assert!(ticks.iter().all(|t| t % 2 == 0), "{backend}: on the schedule: {ticks:?}");
        assert_eq!(ticks.len() as i64, (last - first) / 2 + 1, "{backend}: no tick missed between: {ticks:?}");
        // Each tick is one session that ran once: one completion, one model call.
        let queued =
            sql(&sb, "SELECT count(DISTINCT session_id) AS n FROM session_state WHERE session_id LIKE 'c.tick@%'");
        let n = &queued[0]["n"];
        let n = n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())).unwrap();
        assert_eq!(n as usize, ticks.len(), "{backend}: every queued tick completed");
        assert_eq!(llm.request_count(), ticks.len(), "{backend}: one call per tick");
        assert!(llm.requests().iter().all(|r| r.body.to_string().contains("Run incremental")), "the trigger's inputs");
        // Removed: nothing is listed, and nothing more fires.
        let out = sb.run(&["schedules", "list", "--format", "json"]);
        assert_eq!(out.stdout.trim(), "[]", "{backend}: {}", out.stdout);
    }
}

#[test]
fn list_shows_the_next_fire_time_and_bad_triggers_are_named() {
    let sb = Sandbox::new();
    sb.write("c.yaml", &EVERY_TWO_SECONDS.replace("*/2 * * * * *", "0 6 * * *"));
    assert_eq!(sb.run(&["schedules", "add", "c.yaml"]).code, 0);
    let out = sb.run(&["schedules", "list", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let listed: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], "c.tick");
    assert_eq!(listed[0]["timezone"], "Europe/Paris");
    let next = listed[0]["next_fire_at"].as_f64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(next > now && next <= now + 86_400.0, "within a day: {next}");
    let text = sb.run(&["schedules", "list"]);
    assert!(text.stdout.contains("c.tick") && text.stdout.contains("0 6 * * *"), "{}", text.stdout);

    let out = sb.run(&["schedules", "remove", "c.nope"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("remove schedule c.nope: no such schedule"), "{}", out.stderr);

    sb.write("bad.yaml", &EVERY_TWO_SECONDS.replace("*/2 * * * * *", "every day"));
    let out = sb.run(&["check", "bad.yaml"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("bad.yaml:5:") && all.contains("`every day` is not a cron schedule"), "{all}");
    assert_eq!(sb.run(&["schedules", "add", "bad.yaml"]).code, 3);

    // A valid cron trigger is no longer reported as unsupported; a sensor still is.
    let out = sb.run(&["check", "c.yaml"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!format!("{}{}", out.stdout, out.stderr).contains("unsupported"), "{}", out.stderr);
    sb.write("none.yaml", "cascade_id: n\nphases:\n  - name: only\n    instructions: Hi\n");
    let out = sb.run(&["schedules", "add", "none.yaml"]);
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("no cron or webhook trigger"), "{}", out.stderr);
}
