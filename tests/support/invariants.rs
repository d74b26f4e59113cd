//! Invariants of a run checked through the real binary (`windlass sql`), shared by the stories
//! that break things while sessions run (tests/chaos.rs kills workers, tests/replicated.rs a
//! replica): each session completed once, no checkpointed phase ran again, and every repeated
//! model call repeats one that was in flight when something failed.

use super::Sandbox;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One model call the fake server answered: the prompt, when it came, how long the answer took.
pub type Call = (String, Instant, Duration);

/// Rows of a `windlass sql --format json` query.
pub fn sql(sb: &Sandbox, query: &str) -> Vec<Value> {
    let out = sb.run(&["sql", query, "--format", "json"]);
    assert_eq!(out.code, 0, "{query}: {}", out.stderr);
    match serde_json::from_str::<Value>(&out.stdout).expect("sql --format json") {
        Value::Array(rows) => rows,
        other => other.get("rows").and_then(Value::as_array).cloned().unwrap_or_default(),
    }
}

/// A count, whether the store gave it as a number or as text (ClickHouse's UInt64).
pub fn number(v: &Value) -> u64 {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or_else(|| panic!("not a count: {v}"))
}

/// How many sessions whose id starts with `prefix` completed, per `windlass sessions`.
pub fn completed(sb: &Sandbox, prefix: &str) -> u64 {
    let out = sb.run(&["sessions", "--format", "json", "--limit", "100000"]);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    rows.as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| {
                    r["status"] == "completed" && r["session_id"].as_str().is_some_and(|s| s.starts_with(prefix))
                })
                .count() as u64
        })
        .unwrap_or(0)
}

/// What happened to one session, for a failed invariant: its state versions, checkpoints,
/// lifecycle log rows, and what the workers said of it (`worker-*.log` in the sandbox).
pub fn explain(sb: &Sandbox, id: &str) -> String {
    let mut out = String::new();
    for query in [
        format!("SELECT version, status, owner, owner_epoch, updated_at FROM session_state WHERE session_id = '{id}' ORDER BY version"),
        format!("SELECT seq, phase, owner_epoch FROM checkpoints WHERE session_id = '{id}' ORDER BY seq"),
        format!(
            "SELECT timestamp, node_type, phase_name, message_id FROM unified_logs WHERE session_id = '{id}' \
             AND node_type IN ('cascade_started', 'cascade_finished', 'phase_started', 'phase_finished', 'error') ORDER BY timestamp"
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

/// Each of `ids` wrote one final row (one version of its epoch's last) and logged its
/// completion exactly once (an owner fenced by a takeover logs an end with an error, which is
/// not a second run); no step was checkpointed in two epochs (a re-run would checkpoint the same
/// step in a later epoch), and there are at least `steps` steps per session.
pub fn assert_each_ran_once(sb: &Sandbox, label: &str, ids: &[String], steps: u64) {
    let finals = sql(
        sb,
        "SELECT session_id, count(DISTINCT version) AS n FROM session_state \
         WHERE status = 'completed' GROUP BY session_id",
    );
    for r in &finals {
        let id = r["session_id"].as_str().unwrap_or_default();
        assert_eq!(number(&r["n"]), 1, "{label}: more than one final row: {r}\n{}", explain(sb, id));
    }
    let ends = sql(
        sb,
        "SELECT session_id, count(DISTINCT message_id) AS n FROM unified_logs \
         WHERE node_type = 'cascade_finished' AND content LIKE '%\"status\":\"completed\"%' GROUP BY session_id",
    );
    let ends: HashMap<String, u64> =
        ends.iter().map(|r| (r["session_id"].as_str().unwrap().to_string(), number(&r["n"]))).collect();
    for id in ids {
        assert_eq!(ends.get(id), Some(&1), "{label}: ends of {id}:\n{}", explain(sb, id));
    }
    let checkpoints = sql(
        sb,
        "SELECT session_id, seq, count(DISTINCT owner_epoch) AS epochs FROM checkpoints GROUP BY session_id, seq",
    );
    assert!(checkpoints.len() as u64 >= ids.len() as u64 * steps, "{label}: {checkpoints:?}");
    for r in &checkpoints {
        let id = r["session_id"].as_str().unwrap_or_default();
        assert_eq!(number(&r["epochs"]), 1, "{label}: checkpointed twice: {r}\n{}", explain(sb, id));
    }
}

/// Every call of `calls` that came again repeats one that was in flight, or answered but not
/// yet checkpointed, during one of the `failures` (from, until). Returns how many repeated.
/// The prompts end in the session's number (`ONE 7`); a failure explains session
/// `{prefix}{number}` from the store and the workers' logs.
pub fn assert_repeats_explained(
    sb: &Sandbox,
    prefix: &str,
    label: &str,
    calls: &[Call],
    failures: &[(Instant, Instant)],
    started: Instant,
) -> u64 {
    let mut first: HashMap<&str, (Instant, Duration)> = HashMap::new();
    let mut repeated = 0;
    for (prompt, at, delay) in calls {
        if let Some((before, took)) = first.get(prompt.as_str()) {
            repeated += 1;
            let (from, until) = (*before, *before + *took + Duration::from_millis(1500));
            if !failures.iter().any(|(f, u)| *f <= until && from <= *u) {
                let id = format!("{prefix}{}", prompt.rsplit(' ').next().unwrap_or_default());
                panic!(
                    "{label}: {prompt:?} was asked at {:?} and again at {:?} with no failure while it ran; {id}:\n{}",
                    before.duration_since(started),
                    at.duration_since(started),
                    explain(sb, &id)
                );
            }
        }
        first.insert(prompt, (*at, *delay));
    }
    repeated
}
