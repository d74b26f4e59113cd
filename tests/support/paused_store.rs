//! A [`Store`] that forwards to another one, except that one kind of write waits while the
//! test holds it: claim inserts (`put_signals`), a claimer paused between its read and its
//! insert the way a descheduled process is; or checkpoint writes, a slow commit. Checkpoint
//! writes are also recorded (rows per write, in order), and can be refused instead (a store
//! that answers with an error).

use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::watch;
use windlass::session_id::SessionId;
use windlass::store::{
    CascadeSessionRow, CheckpointRow, LogRow, QueryResult, SessionFilter, SessionStateRow, SignalRow, Store, StoreError,
};

/// Which writes wait.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    Signals,
    Checkpoints,
    /// Checkpoint writes fail at once.
    RefusedCheckpoints,
}

pub struct PausedStore {
    inner: Arc<dyn Store>,
    what: Held,
    /// `true` while the held writes wait.
    held: watch::Sender<bool>,
    /// The phases of each checkpoint write, in the order they reached the store.
    checkpoint_writes: std::sync::Mutex<Vec<Vec<String>>>,
}

impl PausedStore {
    /// Signal inserts wait from the start, until [`release`](PausedStore::release).
    pub fn holding(inner: Arc<dyn Store>) -> Arc<PausedStore> {
        Self::new(inner, Held::Signals)
    }

    /// Checkpoint writes wait from the start, until [`release`](PausedStore::release).
    pub fn holding_checkpoints(inner: Arc<dyn Store>) -> Arc<PausedStore> {
        Self::new(inner, Held::Checkpoints)
    }

    /// Checkpoint writes fail with [`StoreError::Rejected`] ("the disk is full").
    pub fn refusing_checkpoints(inner: Arc<dyn Store>) -> Arc<PausedStore> {
        Self::new(inner, Held::RefusedCheckpoints)
    }

    fn new(inner: Arc<dyn Store>, what: Held) -> Arc<PausedStore> {
        Arc::new(PausedStore { inner, what, held: watch::channel(true).0, checkpoint_writes: Default::default() })
    }

    /// The phases of each checkpoint write so far, one list per write.
    pub fn checkpoint_writes(&self) -> Vec<Vec<String>> {
        self.checkpoint_writes.lock().unwrap().clone()
    }

    /// Wait while `what` is held.
    async fn wait(&self, what: Held) {
        if self.what != what {
            return;
        }
        let mut held = self.held.subscribe();
        // Dropped by the sender only with the store, which outlives every call.
        let _ = held.wait_for(|h| !*h).await;
    }

    async fn checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError> {
        self.checkpoint_writes.lock().unwrap().push(rows.iter().map(|r| r.phase.clone()).collect());
        if self.what == Held::RefusedCheckpoints {
            return Err(StoreError::Rejected {
                store: self.describe(),
                action: "save the checkpoint".into(),
                detail: "the disk is full".into(),
            });
        }
        self.wait(Held::Checkpoints).await;
        self.inner.put_checkpoints(rows).await
    }

    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// How many inserts wait now.
    pub fn waiting(&self) -> usize {
        self.held.receiver_count()
    }
}

#[async_trait]
impl Store for PausedStore {
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
        self.inner.put_session_state(row).await
    }
    async fn session_state(&self, session_id: &SessionId) -> Result<Option<SessionStateRow>, StoreError> {
        self.inner.session_state(session_id).await
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
        self.inner.put_cascade_session(row).await
    }
    async fn put_cascade_sessions(&self, rows: &[CascadeSessionRow]) -> Result<(), StoreError> {
        self.inner.put_cascade_sessions(rows).await
    }
    async fn cascade_session(&self, session_id: &SessionId) -> Result<Option<CascadeSessionRow>, StoreError> {
        self.inner.cascade_session(session_id).await
    }
    async fn cascade_sessions(&self, session_ids: &[SessionId]) -> Result<Vec<CascadeSessionRow>, StoreError> {
        self.inner.cascade_sessions(session_ids).await
    }
    async fn put_checkpoint(&self, row: &CheckpointRow) -> Result<(), StoreError> {
        self.checkpoints(std::slice::from_ref(row)).await
    }
    async fn put_checkpoints(&self, rows: &[CheckpointRow]) -> Result<(), StoreError> {
        self.checkpoints(rows).await
    }
    async fn latest_checkpoint(
        &self,
        session_id: &SessionId,
        min_epoch: u64,
    ) -> Result<Option<CheckpointRow>, StoreError> {
        self.inner.latest_checkpoint(session_id, min_epoch).await
    }
    async fn put_signal(&self, row: &SignalRow) -> Result<(), StoreError> {
        self.put_signals(std::slice::from_ref(row)).await
    }
    async fn put_signals(&self, rows: &[SignalRow]) -> Result<(), StoreError> {
        self.wait(Held::Signals).await;
        self.inner.put_signals(rows).await
    }
    async fn signals(&self, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError> {
        self.inner.signals(session_id).await
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
        self.inner.now().await
    }
    async fn delete_sessions(&self, session_ids: &[SessionId]) -> Result<(), StoreError> {
        self.inner.delete_sessions(session_ids).await
    }
}
