//! A session whose owner checkpointed its last phase and died before writing the session's
//! final row: whoever takes it over (`resume`, `worker`) only marks it completed, and its end
//! is in the logs exactly once, whether or not the dead owner had logged it. On both backends.
//!
//! The dead owner is played in-process through the library (the rows a `windlass run` writes
//! up to that moment); the takeover is the real binary.

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::backends::{backends, sandbox};
use support::open_store::open_store;
use support::{FakeLlm, Sandbox};
use windlass::host::log_rows::log_row;
use windlass::runner::event::{Envelope, RunEvent};
use windlass::runner::{RunState, RunStatus};
use windlass::session::claim::{self, Claim, ClaimRules};
use windlass::session::{Durable, ManualClock, SystemClock};
use windlass::session_id::SessionId;

const CASCADE: &str = "cascade_id: one\nphases:\n  - name: only\n    instructions: 'Say done'\n";

/// Rows of a `windlass sql --format json` query.
fn sql(sb: &Sandbox, query: &str) -> Vec<serde_json::Value> {
    let out = sb.run(&["sql", query, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// Queue `id`, claim it and run its one phase to a checkpoint as an owner that then dies: its
/// heartbeat is a minute old. With `logged_end`, the owner had logged its end too.
fn died_after_its_last_checkpoint(sb: &Sandbox, env: &[(String, String)], id: &str, logged_end: bool) {
    let out = sb.run(&["submit", "one.yaml", "--session", id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = open_store(env, &sb.path().join("data"));
        store.init().await.unwrap();
        let sid = SessionId::new(id);
        let rules = ClaimRules { force: false, allow_error: false, lease: Duration::from_secs(60) };
        let epoch = match claim::claim(&*store, &sid, "dead-owner", rules, &SystemClock).await.unwrap() {
            Claim::Won { epoch, .. } => epoch,
            Claim::Lost(r) => panic!("the owner could not claim {id}: {r:?}"),
        };
        let then = ManualClock::new(windlass::session::durable::now() - 60.0);
        let lease = Duration::from_secs(3);
        let durable =
            Durable::new(store.clone(), &sid, "one", "", epoch, "hash", 0, lease, Duration::from_secs(1), then);
        durable.set_status(windlass::store::SessionStatus::Running, Some("only")).await.unwrap();
        let state = RunState::new(serde_json::Map::new());
        let json = serde_json::to_string(&state).unwrap();
        durable.checkpoint_durably("only", None, json, (3, 2, 0.0)).await.unwrap();
        if logged_end {
            let end = Envelope {
                session_id: Arc::from(id),
                seq: 7,
                at: windlass::session::durable::now() - 59.0,
                depth: 0,
                event: RunEvent::CascadeFinished {
                    status: RunStatus::Completed,
                    output: "done".into(),
                    error: None,
                    tokens_in: 3,
                    tokens_out: 2,
                    cost: 0.0,
                    duration_ms: 5,
                },
            };
            store.insert_logs(&[log_row(&end, epoch, "one", "")]).await.unwrap();
        }
    });
}

fn assert_completed_with_one_end(sb: &Sandbox, backend: &str, id: &str) {
    let status =
        sql(sb, &format!("SELECT status FROM session_state WHERE session_id = '{id}' ORDER BY version DESC LIMIT 1"));
    assert_eq!(status[0]["status"], "completed", "{backend} {id}");
    let ends = sql(
        sb,
        &format!("SELECT count(DISTINCT message_id) AS n FROM unified_logs WHERE session_id = '{id}' AND node_type = 'cascade_finished'"),
    );
    let n = &ends[0]["n"];
    let n = n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())).unwrap();
    assert_eq!(n, 1, "{backend} {id}: its end is logged once");
    // `logs` (which reads each row once) shows it once too.
    let out = sb.run(&["logs", id, "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains("\"cascade_finished\"")).count(),
        1,
        "{backend}: {}",
        out.stdout
    );
}

#[test]
fn a_session_checkpointed_to_its_end_is_completed_once_by_resume_and_by_a_worker() {
    let llm = FakeLlm::start();
    for (backend, env) in backends() {
        let sb = sandbox(&llm, &env);
        sb.write("one.yaml", CASCADE);
        died_after_its_last_checkpoint(&sb, &env, "logged", true);
        died_after_its_last_checkpoint(&sb, &env, "unlogged", false);
        died_after_its_last_checkpoint(&sb, &env, "by-worker", false);

        for id in ["logged", "unlogged"] {
            let out = sb.run(&["resume", id]);
            assert_eq!(out.code, 0, "{backend} {id}: {}", out.stderr);
            assert!(out.stderr.contains("had finished its last phase"), "{backend}: {}", out.stderr);
            assert_completed_with_one_end(&sb, backend, id);
        }
        let out = sb.run(&["worker", "--once"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        assert_completed_with_one_end(&sb, backend, "by-worker");
        assert_eq!(llm.request_count(), 0, "nothing was run again");
    }
}
