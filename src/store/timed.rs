//! [`Timed`]: a [`Store`] that forwards every call and records how long it took, by
//! operation, into [`OperationTimes`] (served as a histogram on the worker's `/metrics`).

use super::{
    CascadeSessionRow, CheckpointRow, LogRow, QueryResult, SessionFilter, SessionStateRow, SignalRow, Store, StoreError,
};
use crate::session_id::SessionId;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds (Prometheus `le`).
pub const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

/// One operation's latency histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Calls at or under each bound of [`BUCKETS`] (not cumulative).
    pub buckets: [u64; BUCKETS.len()],
    pub count: u64,
    pub errors: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    fn record(&mut self, seconds: f64, ok: bool) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.errors += u64::from(!ok);
        self.sum_seconds += seconds;
    }
}

/// Latency histograms by operation name (`put_checkpoint`, `signals_since`, ...).
#[derive(Debug, Default)]
pub struct OperationTimes {
    by_operation: Mutex<BTreeMap<&'static str, Histogram>>,
}

impl OperationTimes {
    pub fn record(&self, operation: &'static str, seconds: f64, ok: bool) {
        self.by_operation.lock().expect("operation times").entry(operation).or_default().record(seconds, ok);
    }

    /// Every operation seen so far, in name order.
    pub fn snapshot(&self) -> Vec<(&'static str, Histogram)> {
        self.by_operation.lock().expect("operation times").iter().map(|(k, v)| (*k, v.clone())).collect()
    }
}

/// See the module docs.
pub struct Timed {
    inner: Arc<dyn Store>,
    times: Arc<OperationTimes>,
}

impl Timed {
    pub fn wrap(inner: Arc<dyn Store>, times: Arc<OperationTimes>) -> Arc<dyn Store> {
        Arc::new(Timed { inner, times })
    }

    async fn time<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let out = call.await;
        self.times.record(operation, started.elapsed().as_secs_f64(), out.is_ok());
        out
    }
}

#[async_trait]
impl Store for Timed {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn init(&self) -> Result<(), StoreError> {
        self.time("init", self.inner.init()).await
    }
    async fn insert_logs(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        self.time("insert_logs", self.inner.insert_logs(rows)).await
    }
    async fn logs(&self, session_id: &SessionId, after: Option<f64>, limit: usize) -> Result<Vec<LogRow>, StoreError> {
        self.time("logs", self.inner.logs(session_id, after, limit)).await
    }
    async fn put_session_state(&self, row: &SessionStateRow) -> Result<(), StoreError> {
        self.time("put_session_state", self.inner.put_session_state(row)).await
    }
    async fn session_state(&self, session_id: &SessionId) -> Result<Option<SessionStateRow>, StoreError> {
        self.time("session_state", self.inner.session_state(session_id)).await
    }
    async fn session_states(&self, session_ids: &[SessionId]) -> Result<Vec<SessionStateRow>, StoreError> {
        self.time("session_states", self.inner.session_states(session_ids)).await
    }
    async fn put_session_states(&self, rows: &[SessionStateRow]) -> Result<(), StoreError> {
        self.time("put_session_states", self.inner.put_session_states(rows)).await
    }
    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionStateRow>, StoreError> {
        self.time("list_sessions", self.inner.list_sessions(filter)).await
    }
    async fn put_cascade_session(&self, row: &CascadeSessionRow) -> Result<(), StoreError> {
        self.time("put_cascade_session", self.inner.put_cascade_session(row)).await
    }
    async fn put_cascade_sessions(&self, rows: &[CascadeSessionRow]) -> Result<(), StoreError> {
        self.time("put_cascade_sessions", self.inner.put_cascade_sessions(rows)).await
    }
    async fn cascade_session(&self, session_id: &SessionId) -> Result<Option<CascadeSessionRow>, StoreError> {
        self.time("cascade_session", self.inner.cascade_session(session_id)).await
    }
    async fn cascade_sessions(&self, session_ids: &[SessionId]) -> Result<Vec<CascadeSessionRow>, StoreError> {
        self.time("cascade_sessions", self.inner.cascade_sessions(session_ids)).await
    }
    async fn put_checkpoint(&self, row: &CheckpointRow) -> Result<(), StoreError> {
        self.time("put_checkpoint", self.inner.put_checkpoint(row)).await
    }
    async fn put_checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError> {
        self.time("put_checkpoints", self.inner.put_checkpoints(rows)).await
    }
    async fn latest_checkpoint(
        &self,
        session_id: &SessionId,
        min_epoch: u64,
    ) -> Result<Option<CheckpointRow>, StoreError> {
        self.time("latest_checkpoint", self.inner.latest_checkpoint(session_id, min_epoch)).await
    }
    async fn put_signal(&self, row: &SignalRow) -> Result<(), StoreError> {
        self.time("put_signal", self.inner.put_signal(row)).await
    }
    async fn put_signals(&self, rows: &[SignalRow]) -> Result<(), StoreError> {
        self.time("put_signals", self.inner.put_signals(rows)).await
    }
    async fn signals(&self, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError> {
        self.time("signals", self.inner.signals(session_id)).await
    }
    async fn signals_of(&self, session_ids: &[SessionId]) -> Result<Vec<SignalRow>, StoreError> {
        self.time("signals_of", self.inner.signals_of(session_ids)).await
    }
    async fn signals_since(&self, after: f64) -> Result<Vec<SignalRow>, StoreError> {
        self.time("signals_since", self.inner.signals_since(after)).await
    }
    async fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        self.time("query", self.inner.query(sql)).await
    }
    async fn now(&self) -> Result<f64, StoreError> {
        self.time("now", self.inner.now()).await
    }
    async fn delete_sessions(&self, session_ids: &[SessionId]) -> Result<(), StoreError> {
        self.time("delete_sessions", self.inner.delete_sessions(session_ids)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_fall_in_the_first_bucket_that_holds_them() {
        let t = OperationTimes::default();
        t.record("now", 0.0002, true);
        t.record("now", 0.003, false);
        t.record("now", 9.0, true);
        let snap = t.snapshot();
        let (name, h) = &snap[0];
        assert_eq!(*name, "now");
        assert_eq!(h.buckets[0], 1);
        assert_eq!(h.buckets[3], 1);
        assert_eq!(h.buckets.iter().sum::<u64>(), 2, "over the last bound: only in the count");
        assert_eq!((h.count, h.errors), (3, 1));
    }
}
