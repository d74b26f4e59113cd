//! Waiting on a running session from a test: for a condition, for a field of
//! `windlass sessions show`, or for a phase's checkpoint to be durable.

use super::invariants::{number, sql};
use super::Sandbox;
use std::time::{Duration, Instant};

/// Poll `done` every 50 ms; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < limit, "gave up after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of one field of `sessions show` (`status`, `blocked on`, ...), or `""`.
pub fn show(sb: &Sandbox, session: &str, field: &str) -> String {
    let out = sb.run(&["sessions", "show", session]);
    out.stdout
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with("  "))
        .map(|l| l[field.len()..].trim().to_string())
        .unwrap_or_default()
}

/// Wait until the checkpoint of `phase` is in the store for every one of `sessions`.
///
/// A phase that only asks the model starts while the checkpoint before it commits in the
/// background, so a run seen asking the next phase's model may not have its last phase
/// durable yet: a test that kills it and then counts repeated calls waits for this first.
pub fn wait_for_checkpoints(sb: &Sandbox, sessions: &[impl AsRef<str>], phase: &str, limit: Duration) {
    let ids = sessions.iter().map(|s| format!("'{}'", s.as_ref())).collect::<Vec<_>>().join(", ");
    let query = format!(
        "select count(distinct session_id) as n from checkpoints where session_id in ({ids}) and phase = '{phase}'"
    );
    wait_until(&format!("the {phase} checkpoints of {ids}"), limit, || {
        sql(sb, &query).first().is_some_and(|row| number(&row["n"]) == sessions.len() as u64)
    });
}
