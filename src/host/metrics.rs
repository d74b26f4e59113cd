//! The worker's counters, served as Prometheus text on `/metrics`: sessions it ran, claims,
//! store checks, the latency of every store operation by name (a histogram), sessions in the
//! store by status, and the process's resident memory.

use crate::store::timed::{OperationTimes, BUCKETS};
use crate::store::SessionStatus;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// See the module docs. Every field is updated lock-free.
#[derive(Debug, Default)]
pub struct Metrics {
    pub running: AtomicU64,
    pub completed: AtomicU64,
    /// Ended with an error, cancelled, or fenced off.
    pub failed: AtomicU64,
    /// Stopped by shutdown or --timeout and released for another worker.
    pub released: AtomicU64,
    pub claims_won: AtomicU64,
    pub claims_lost: AtomicU64,
    /// Cron ticks this worker queued, and those it passed over (catch-up, overlap).
    pub ticks_fired: AtomicU64,
    pub ticks_skipped: AtomicU64,
    /// The store answered the last check.
    pub store_up: AtomicBool,
    store_seconds_sum_us: AtomicU64,
    store_checks: AtomicU64,
    store_last_us: AtomicU64,
    /// Ready to take work (not draining).
    pub ready: AtomicBool,
    /// Every store call's latency, by operation (the store is wrapped in
    /// [`Timed`](crate::store::Timed) with this).
    pub store_ops: Arc<OperationTimes>,
}

impl Metrics {
    /// Record how long a store round trip took (or that it failed).
    pub fn store_check(&self, took: Duration, ok: bool) {
        let us = took.as_micros() as u64;
        self.store_up.store(ok, Ordering::Relaxed);
        self.store_last_us.store(us, Ordering::Relaxed);
        self.store_seconds_sum_us.fetch_add(us, Ordering::Relaxed);
        self.store_checks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ =
                writeln!(out, "# HELP windlass_{name} {help}\n# TYPE windlass_{name} {kind}\nwindlass_{name} {value}");
        };
        metric("sessions_running", "gauge", "Sessions this worker runs now.", get(&self.running).to_string());
        metric("sessions_completed_total", "counter", "Sessions that completed.", get(&self.completed).to_string());
        metric(
            "sessions_failed_total",
            "counter",
            "Sessions that ended with an error, were cancelled, or were taken over.",
            get(&self.failed).to_string(),
        );
        metric(
            "sessions_released_total",
            "counter",
            "Sessions stopped by shutdown or timeout and left resumable.",
            get(&self.released).to_string(),
        );
        metric("claims_won_total", "counter", "Claims this worker won.", get(&self.claims_won).to_string());
        metric("claims_lost_total", "counter", "Claims another worker won.", get(&self.claims_lost).to_string());
        metric(
            "schedule_ticks_fired_total",
            "counter",
            "Cron ticks this worker queued.",
            get(&self.ticks_fired).to_string(),
        );
        metric(
            "schedule_ticks_skipped_total",
            "counter",
            "Cron ticks passed over (catch-up policy, or the previous tick still running).",
            get(&self.ticks_skipped).to_string(),
        );
        metric(
            "store_up",
            "gauge",
            "Whether the store answered the last check.",
            u8::from(self.store_up.load(Ordering::Relaxed)).to_string(),
        );
        metric(
            "store_latency_seconds",
            "gauge",
            "Round trip of the last store check.",
            format!("{:.6}", get(&self.store_last_us) as f64 / 1e6),
        );
        metric(
            "store_latency_seconds_sum",
            "counter",
            "Total time of store checks.",
            format!("{:.6}", get(&self.store_seconds_sum_us) as f64 / 1e6),
        );
        metric("store_latency_seconds_count", "counter", "Store checks made.", get(&self.store_checks).to_string());
        if let Some(rss) = resident_bytes() {
            metric("process_resident_memory_bytes", "gauge", "Resident memory of this process.", rss.to_string());
        }
        render_operations(&mut out, &self.store_ops);
        out
    }

    /// `render` and the number of sessions in the store by status (`counts` from
    /// [`count_by_status`]).
    pub fn render_with_sessions(&self, counts: Option<&[(SessionStatus, u64)]>) -> String {
        let mut out = self.render();
        if let Some(counts) = counts {
            let _ = writeln!(
                out,
                "# HELP windlass_store_sessions Sessions in the store by status (newest 10000).\n# TYPE windlass_store_sessions gauge"
            );
            for (status, n) in counts {
                let _ = writeln!(out, "windlass_store_sessions{{status=\"{status}\"}} {n}");
            }
        }
        out
    }
}

/// How many of `statuses` there are of each status (every known status, zeros included).
pub fn count_by_status(statuses: impl IntoIterator<Item = SessionStatus>) -> Vec<(SessionStatus, u64)> {
    let mut counts: Vec<(SessionStatus, u64)> = SessionStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for s in statuses {
        if let Some(c) = counts.iter_mut().find(|(k, _)| *k == s) {
            c.1 += 1;
        }
    }
    counts
}

/// `windlass_store_operation_seconds`: a histogram per store operation.
fn render_operations(out: &mut String, times: &OperationTimes) {
    let _ = writeln!(
        out,
        "# HELP windlass_store_operation_seconds Latency of store calls by operation.\n# TYPE windlass_store_operation_seconds histogram"
    );
    for (op, h) in times.snapshot() {
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "windlass_store_operation_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(out, "windlass_store_operation_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "windlass_store_operation_seconds_sum{{operation=\"{op}\"}} {:.6}", h.sum_seconds);
        let _ = writeln!(out, "windlass_store_operation_seconds_count{{operation=\"{op}\"}} {}", h.count);
    }
    let _ = writeln!(out, "# HELP windlass_store_operation_errors_total Store calls that failed, by operation.\n# TYPE windlass_store_operation_errors_total counter");
    for (op, h) in times.snapshot() {
        let _ = writeln!(out, "windlass_store_operation_errors_total{{operation=\"{op}\"}} {}", h.errors);
    }
}

/// This process's resident set size, from `/proc/self/status` (Linux; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        Metrics::add(&m.completed);
        Metrics::add(&m.running);
        m.store_check(Duration::from_millis(3), true);
        let text = m.render();
        assert!(
            text.contains("# TYPE windlass_sessions_completed_total counter\nwindlass_sessions_completed_total 1\n")
        );
        assert!(text.contains("windlass_sessions_running 1\n"));
        assert!(text.contains("windlass_store_latency_seconds 0.003000\n"));
        assert!(text.contains("windlass_store_up 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.split_once(' ').unwrap();
            assert!(name.starts_with("windlass_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
