//! Waiting on a running session from a test: for a condition, or for a field of
//! `windlass sessions show`.

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
