//! A [`Store`] that answers concurrent point reads and single-row writes with shared batch
//! operations (see `coalesce`). Every process hosting sessions uses it (`run`, `resume`,
//! `worker`); it pays off when many run at once. Everything else goes straight to the store
//! underneath.
//!
//! Heartbeats wait a moment ([`HEARTBEAT_GATHER`]) so that every session of the process
//! beats in one write per interval.
//!
//! A batched write that the store refuses is retried row by row, so one bad row fails only
//! its own caller; a store that cannot be reached fails the whole batch.

use super::coalesce::Coalescer;
use super::{
    CascadeSessionRow, CheckpointRow, LogRow, QueryResult, SessionFilter, SessionStateRow, SignalRow, Store, StoreError,
};
use crate::session_id::SessionId;
use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long a heartbeat waits for the other sessions' heartbeats of the same moment: they
/// fall due together but wake on different threads, a little apart. Small next to any lease.
const HEARTBEAT_GATHER: Duration = Duration::from_millis(25);

/// See the module docs.
pub struct Batched {
    inner: Arc<dyn Store>,
    states: Arc<Coalescer<SessionId, Option<SessionStateRow>>>,
    cascades: Arc<Coalescer<SessionId, Option<CascadeSessionRow>>>,
    signals: Arc<Coalescer<SessionId, Vec<SignalRow>>>,
    clock: Arc<Coalescer<(), f64>>,
    put_states: Arc<Coalescer<SessionStateRow, ()>>,
    heartbeats: Arc<Coalescer<SessionStateRow, ()>>,
    put_cascades: Arc<Coalescer<CascadeSessionRow, ()>>,
    put_checkpoints: Arc<Coalescer<CheckpointRow, ()>>,
    put_signals: Arc<Coalescer<SignalRow, ()>>,
}

impl Batched {
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<dyn Store> {
        let states = by_id(
            "session rows",
            inner.clone(),
            |s, ids| async move { s.session_states(&ids).await }.boxed(),
            |r: &SessionStateRow| &r.session_id,
            |rows| rows.into_iter().next(),
        );
        let cascades = by_id(
            "cascade definitions",
            inner.clone(),
            |s, ids| async move { s.cascade_sessions(&ids).await }.boxed(),
            |r: &CascadeSessionRow| &r.session_id,
            |rows| rows.into_iter().next(),
        );
        let signals = by_id(
            "signal reads",
            inner.clone(),
            |s, ids| async move { s.signals_of(&ids).await }.boxed(),
            |r: &SignalRow| &r.session_id,
            |rows| rows,
        );
        let store = inner.clone();
        let clock = Coalescer::new(
            "clock reads",
            Box::new(move |reqs: Vec<()>| {
                let s = store.clone();
                async move {
                    let now = s.now().await;
                    reqs.iter().map(|_| now.clone()).collect()
                }
                .boxed()
            }),
        );
        let session_rows: Batch<SessionStateRow, ()> =
            |s, rows| async move { s.put_session_states(&rows).await }.boxed();
        let put_states = writes("session rows", Duration::ZERO, inner.clone(), session_rows);
        let heartbeats = writes("heartbeats", HEARTBEAT_GATHER, inner.clone(), session_rows);
        let put_cascades = writes("cascade definitions", Duration::ZERO, inner.clone(), |s, rows| {
            async move { s.put_cascade_sessions(&rows).await }.boxed()
        });
        let put_checkpoints = writes("checkpoints", Duration::ZERO, inner.clone(), |s, rows| {
            async move { s.put_checkpoints(&rows).await }.boxed()
        });
        let put_signals = writes("signals", Duration::ZERO, inner.clone(), |s, rows| {
            async move { s.put_signals(&rows).await }.boxed()
        });
        Arc::new(Batched {
            inner,
            states,
            cascades,
            signals,
            clock,
            put_states,
            heartbeats,
            put_cascades,
            put_checkpoints,
            put_signals,
        })
    }
}

/// One batch operation on the store underneath.
type Batch<In, Out> = fn(Arc<dyn Store>, Vec<In>) -> BoxFuture<'static, Result<Out, StoreError>>;

/// Point reads by session id, answered by one read of all the ids queued: each caller gets
/// `answer` of its session's rows, in the order they were read.
fn by_id<R, V>(
    what: &'static str,
    store: Arc<dyn Store>,
    read: Batch<SessionId, Vec<R>>,
    key: fn(&R) -> &SessionId,
    answer: fn(Vec<R>) -> V,
) -> Arc<Coalescer<SessionId, V>>
where
    R: Clone + Send + Sync + 'static,
    V: Send + 'static,
{
    Coalescer::new(
        what,
        Box::new(move |ids: Vec<SessionId>| {
            let store = store.clone();
            async move {
                let mut unique = ids.clone();
                unique.sort();
                unique.dedup();
                match read(store, unique).await {
                    Ok(rows) => {
                        let mut by: HashMap<SessionId, Vec<R>> = HashMap::new();
                        for r in rows {
                            by.entry(key(&r).clone()).or_default().push(r);
                        }
                        ids.iter().map(|id| Ok(answer(by.get(id).cloned().unwrap_or_default()))).collect()
                    }
                    Err(e) => ids.iter().map(|_| Err(e.clone())).collect(),
                }
            }
            .boxed()
        }),
    )
}

/// Single-row writes, sent as one write of all the rows queued (row by row if it is refused);
/// the first row of a batch waits `gather` for others (see [`Coalescer::gathering`]).
fn writes<R: Clone + Send + Sync + 'static>(
    what: &'static str,
    gather: Duration,
    store: Arc<dyn Store>,
    write: Batch<R, ()>,
) -> Arc<Coalescer<R, ()>> {
    Coalescer::gathering(
        what,
        gather,
        Box::new(move |rows: Vec<R>| {
            let store = store.clone();
            async move {
                let n = rows.len();
                match write(store.clone(), rows.clone()).await {
                    Ok(()) => vec![Ok(()); n],
                    Err(StoreError::Rejected { .. }) if n > 1 => {
                        let mut out = Vec::with_capacity(n);
                        for r in rows {
                            out.push(write(store.clone(), vec![r]).await);
                        }
                        out
                    }
                    Err(e) => vec![Err(e); n],
                }
            }
            .boxed()
        }),
    )
}

#[async_trait]
impl Store for Batched {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn init(&self) -> Result<(), StoreError> {
        self.inner.init().await
    }

    async fn insert_logs(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        self.inner.insert_logs(rows).await
    }

    async fn logs(&self, session_id: &SessionId, after: Option<f64>, limit: usize) -> Result<Vec<LogRow>, StoreError> {
        self.inner.logs(session_id, after, limit).await
    }

    async fn put_session_state(&self, row: &SessionStateRow) -> Result<(), StoreError> {
        self.put_states.call(row.clone()).await
    }

    async fn put_heartbeat(&self, row: &SessionStateRow) -> Result<(), StoreError> {
        self.heartbeats.call(row.clone()).await
    }

    async fn session_state(&self, session_id: &SessionId) -> Result<Option<SessionStateRow>, StoreError> {
        self.states.call(session_id.clone()).await
    }

    async fn session_states(&self, session_ids: &[SessionId]) -> Result<Vec<SessionStateRow>, StoreError> {
        self.inner.session_states(session_ids).await
    }

    async fn put_session_states(&self, rows: &[SessionStateRow]) -> Result<(), StoreError> {
        self.inner.put_session_states(rows).await
    }

    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionStateRow>, StoreError> {
        self.inner.list_sessions(filter).await
    }

    async fn put_cascade_session(&self, row: &CascadeSessionRow) -> Result<(), StoreError> {
        self.put_cascades.call(row.clone()).await
    }

    async fn put_cascade_sessions(&self, rows: &[CascadeSessionRow]) -> Result<(), StoreError> {
        self.inner.put_cascade_sessions(rows).await
    }

    async fn cascade_session(&self, session_id: &SessionId) -> Result<Option<CascadeSessionRow>, StoreError> {
        self.cascades.call(session_id.clone()).await
    }

    async fn cascade_sessions(&self, session_ids: &[SessionId]) -> Result<Vec<CascadeSessionRow>, StoreError> {
        self.inner.cascade_sessions(session_ids).await
    }

    async fn put_checkpoint(&self, row: &CheckpointRow) -> Result<(), StoreError> {
        self.put_checkpoints.call(row.clone()).await
    }

    async fn put_checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError> {
        self.inner.put_checkpoints(rows).await
    }

    async fn latest_checkpoint(
        &self,
        session_id: &SessionId,
        min_epoch: u64,
    ) -> Result<Option<CheckpointRow>, StoreError> {
        self.inner.latest_checkpoint(session_id, min_epoch).await
    }

    async fn put_signal(&self, row: &SignalRow) -> Result<(), StoreError> {
        self.put_signals.call(row.clone()).await
    }

    async fn put_signals(&self, rows: &[SignalRow]) -> Result<(), StoreError> {
        self.inner.put_signals(rows).await
    }

    async fn signals(&self, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError> {
        self.signals.call(session_id.clone()).await
    }

    async fn signals_of(&self, session_ids: &[SessionId]) -> Result<Vec<SignalRow>, StoreError> {
        self.inner.signals_of(session_ids).await
    }

    async fn signals_since(&self, after: f64) -> Result<Vec<SignalRow>, StoreError> {
        self.inner.signals_since(after).await
    }

    async fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        self.inner.query(sql).await
    }

    async fn now(&self) -> Result<f64, StoreError> {
        self.clock.call(()).await
    }

    async fn delete_sessions(&self, session_ids: &[SessionId]) -> Result<(), StoreError> {
        self.inner.delete_sessions(session_ids).await
    }
}
