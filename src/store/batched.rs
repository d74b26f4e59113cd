//! A [`Store`] that answers concurrent point reads and single-row writes with shared batch
//! operations (see `coalesce`). Every process hosting sessions uses it (`run`, `resume`,
//! `worker`); it pays off when many run at once. Everything else goes straight to the store
//! underneath.
//!
//! A batched write that the store refuses is retried row by row, so one bad row fails only
//! its own caller; a store that cannot be reached fails the whole batch.

use super::coalesce::Coalescer;
use super::{
    CascadeSessionRow, CheckpointRow, LogRow, QueryResult, SessionFilter, SessionStateRow, SignalRow, Store, StoreError,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// See the module docs.
pub struct Batched {
    inner: Arc<dyn Store>,
    states: Arc<Coalescer<String, Option<SessionStateRow>>>,
    cascades: Arc<Coalescer<String, Option<CascadeSessionRow>>>,
    signals: Arc<Coalescer<String, Vec<SignalRow>>>,
    clock: Arc<Coalescer<(), f64>>,
    put_states: Arc<Coalescer<SessionStateRow, ()>>,
    put_cascades: Arc<Coalescer<CascadeSessionRow, ()>>,
    put_checkpoints: Arc<Coalescer<CheckpointRow, ()>>,
    put_signals: Arc<Coalescer<SignalRow, ()>>,
}

impl Batched {
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<dyn Store> {
        let s = inner.clone();
        let states = by_id(
            "session rows",
            move |ids| {
                let s = s.clone();
                async move { s.session_states(&ids).await }
            },
            |r: &SessionStateRow| r.session_id.clone(),
        );
        let s = inner.clone();
        let cascades = by_id(
            "cascade definitions",
            move |ids| {
                let s = s.clone();
                async move { s.cascade_sessions(&ids).await }
            },
            |r: &CascadeSessionRow| r.session_id.clone(),
        );
        let s = inner.clone();
        let signals = Coalescer::new(
            "signal reads",
            Box::new(move |ids: Vec<String>| {
                let s = s.clone();
                futures::FutureExt::boxed(async move {
                    let mut unique = ids.clone();
                    unique.sort();
                    unique.dedup();
                    match s.signals_of(&unique).await {
                        Ok(rows) => {
                            let mut by: HashMap<String, Vec<SignalRow>> = HashMap::new();
                            for r in rows {
                                by.entry(r.session_id.clone()).or_default().push(r);
                            }
                            ids.iter().map(|id| Ok(by.get(id).cloned().unwrap_or_default())).collect()
                        }
                        Err(e) => ids.iter().map(|_| Err(e.clone())).collect(),
                    }
                })
            }),
        );
        let s = inner.clone();
        let clock = Coalescer::new(
            "clock reads",
            Box::new(move |reqs: Vec<()>| {
                let s = s.clone();
                futures::FutureExt::boxed(async move {
                    let now = s.now().await;
                    reqs.iter().map(|_| now.clone()).collect()
                })
            }),
        );
        let s = inner.clone();
        let put_states = writes("session rows", s, |s, rows| {
            futures::FutureExt::boxed(async move { s.put_session_states(&rows).await })
        });
        let s = inner.clone();
        let put_cascades = writes("cascade definitions", s, |s, rows| {
            futures::FutureExt::boxed(async move { s.put_cascade_sessions(&rows).await })
        });
        let s = inner.clone();
        let put_checkpoints = writes("checkpoints", s, |s, rows| {
            futures::FutureExt::boxed(async move { s.put_checkpoints(&rows).await })
        });
        let s = inner.clone();
        let put_signals =
            writes("signals", s, |s, rows| futures::FutureExt::boxed(async move { s.put_signals(&rows).await }));
        Arc::new(Batched {
            inner,
            states,
            cascades,
            signals,
            clock,
            put_states,
            put_cascades,
            put_checkpoints,
            put_signals,
        })
    }
}

/// Point reads by session id, answered by one read of all the ids queued.
fn by_id<R, F, Fut>(what: &'static str, read: F, key: fn(&R) -> String) -> Arc<Coalescer<String, Option<R>>>
where
    R: Clone + Send + Sync + 'static,
    F: Fn(Vec<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<R>, StoreError>> + Send + 'static,
{
    let read = Arc::new(read);
    Coalescer::new(
        what,
        Box::new(move |ids: Vec<String>| {
            let read = read.clone();
            futures::FutureExt::boxed(async move {
                let mut unique = ids.clone();
                unique.sort();
                unique.dedup();
                match read(unique).await {
                    Ok(rows) => {
                        let by: HashMap<String, R> = rows.into_iter().map(|r| (key(&r), r)).collect();
                        ids.iter().map(|id| Ok(by.get(id).cloned())).collect()
                    }
                    Err(e) => ids.iter().map(|_| Err(e.clone())).collect(),
                }
            })
        }),
    )
}

type WriteAll<R> = fn(Arc<dyn Store>, Vec<R>) -> futures::future::BoxFuture<'static, Result<(), StoreError>>;

/// Single-row writes, sent as one write of all the rows queued (row by row if it is refused).
fn writes<R: Clone + Send + Sync + 'static>(
    what: &'static str,
    store: Arc<dyn Store>,
    write: WriteAll<R>,
) -> Arc<Coalescer<R, ()>> {
    Coalescer::new(
        what,
        Box::new(move |rows: Vec<R>| {
            let store = store.clone();
            futures::FutureExt::boxed(async move {
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
            })
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

    async fn logs(&self, session_id: &str, after: Option<f64>, limit: usize) -> Result<Vec<LogRow>, StoreError> {
        self.inner.logs(session_id, after, limit).await
    }

    async fn put_session_state(&self, row: &SessionStateRow) -> Result<(), StoreError> {
        self.put_states.call(row.clone()).await
    }

    async fn session_state(&self, session_id: &str) -> Result<Option<SessionStateRow>, StoreError> {
        self.states.call(session_id.to_string()).await
    }

    async fn session_states(&self, session_ids: &[String]) -> Result<Vec<SessionStateRow>, StoreError> {
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

    async fn cascade_session(&self, session_id: &str) -> Result<Option<CascadeSessionRow>, StoreError> {
        self.cascades.call(session_id.to_string()).await
    }

    async fn cascade_sessions(&self, session_ids: &[String]) -> Result<Vec<CascadeSessionRow>, StoreError> {
        self.inner.cascade_sessions(session_ids).await
    }

    async fn put_checkpoint(&self, row: &CheckpointRow) -> Result<(), StoreError> {
        self.put_checkpoints.call(row.clone()).await
    }

    async fn put_checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError> {
        self.inner.put_checkpoints(rows).await
    }

    async fn latest_checkpoint(&self, session_id: &str, min_epoch: u64) -> Result<Option<CheckpointRow>, StoreError> {
        self.inner.latest_checkpoint(session_id, min_epoch).await
    }

    async fn put_signal(&self, row: &SignalRow) -> Result<(), StoreError> {
        self.put_signals.call(row.clone()).await
    }

    async fn put_signals(&self, rows: &[SignalRow]) -> Result<(), StoreError> {
        self.inner.put_signals(rows).await
    }

    async fn signals(&self, session_id: &str) -> Result<Vec<SignalRow>, StoreError> {
        self.signals.call(session_id.to_string()).await
    }

    async fn signals_of(&self, session_ids: &[String]) -> Result<Vec<SignalRow>, StoreError> {
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

    async fn delete_sessions(&self, session_ids: &[String]) -> Result<(), StoreError> {
        self.inner.delete_sessions(session_ids).await
    }
}
