//! The store logger: a subscriber that turns every event into a `unified_logs` row and
//! hands it to a background task that inserts in batches (by size and by time), so a slow
//! store never slows a cascade. `flush` waits until everything handed over is stored.

use super::log_rows::log_row;
use crate::runner::event::{Envelope, RunEvent, Subscriber};
use crate::store::{LogRow, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Rows per insert, at most.
const BATCH_ROWS: usize = 5_000;
/// How long a row waits for companions before its batch goes out.
const BATCH_DELAY: Duration = Duration::from_millis(200);

enum Msg {
    Row(Box<LogRow>),
    Flush(oneshot::Sender<Result<(), String>>),
}

/// The background writer one process shares between all the sessions it runs, so a
/// worker with a thousand sessions makes one insert per batch, not a thousand.
pub struct LogSink {
    tx: mpsc::UnboundedSender<Msg>,
}

impl LogSink {
    /// Start the background writer on the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Arc<LogSink> {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(store, rx));
        Arc::new(LogSink { tx })
    }

    /// Wait until every row handed over so far, by any session, is stored.
    pub async fn flush(&self) -> Result<(), String> {
        flush(&self.tx).await
    }

    /// A logger for one session run by this process at `epoch` (its rows' ids carry it).
    pub fn logger(&self, epoch: u64) -> Arc<StoreLogger> {
        Arc::new(StoreLogger { tx: self.tx.clone(), epoch, sessions: Mutex::new(HashMap::new()) })
    }
}

/// Subscribes to events; see the module docs.
pub struct StoreLogger {
    tx: mpsc::UnboundedSender<Msg>,
    epoch: u64,
    /// Cascade and parent of each session seen, for rows of events that do not carry them.
    sessions: Mutex<HashMap<String, (String, String)>>,
}

impl StoreLogger {
    /// Wait until every row handed over so far is stored (or report why it is not). The
    /// writer is shared, so this waits for other sessions' rows too.
    pub async fn flush(&self) -> Result<(), String> {
        flush(&self.tx).await
    }
}

async fn flush(tx: &mpsc::UnboundedSender<Msg>) -> Result<(), String> {
    let (ack, done) = oneshot::channel();
    if tx.send(Msg::Flush(ack)).is_err() {
        return Err("the log writer stopped".into());
    }
    done.await.map_err(|_| "the log writer stopped".to_string())?
}

impl Subscriber for StoreLogger {
    fn on_event(&self, e: &Envelope) {
        let (cascade, parent) = {
            let mut s = self.sessions.lock().expect("logger sessions");
            if let RunEvent::CascadeStarted { cascade_id, parent_session_id, .. } = &e.event {
                s.insert(e.session_id.to_string(), (cascade_id.clone(), parent_session_id.clone().unwrap_or_default()));
            }
            s.get(e.session_id.as_ref()).cloned().unwrap_or_default()
        };
        let _ = self.tx.send(Msg::Row(Box::new(log_row(e, self.epoch, &cascade, &parent))));
    }
}

async fn writer(store: Arc<dyn Store>, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut pending: Vec<LogRow> = Vec::new();
    let mut last_error: Option<String> = None;
    // When the oldest pending row must go out, however busy the stream is.
    let mut due = tokio::time::Instant::now();
    loop {
        let msg = if pending.is_empty() {
            let m = rx.recv().await;
            due = tokio::time::Instant::now() + BATCH_DELAY;
            m
        } else {
            match tokio::time::timeout_at(due, rx.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    last_error = send(&*store, &mut pending).await.err();
                    continue;
                }
            }
        };
        match msg {
            None => {
                let _ = send(&*store, &mut pending).await;
                return;
            }
            Some(Msg::Row(row)) => {
                pending.push(*row);
                if pending.len() >= BATCH_ROWS {
                    last_error = send(&*store, &mut pending).await.err();
                }
            }
            Some(Msg::Flush(ack)) => {
                // Everything sent before the flush is in `pending` (the channel is ordered).
                // Flushes already queued behind it (a thousand sessions ending together, each
                // flushing its rows) share its insert instead of one insert each, one after
                // another: take every message that is waiting, then send once and answer all.
                let mut acks = vec![ack];
                while let Ok(waiting) = rx.try_recv() {
                    match waiting {
                        Msg::Row(row) => pending.push(*row),
                        Msg::Flush(ack) => acks.push(ack),
                    }
                }
                let r = send(&*store, &mut pending).await.map_err(|e| last_error.take().unwrap_or(e));
                for ack in acks {
                    let _ = ack.send(r.clone());
                }
            }
        }
    }
}

/// Insert the pending rows; on failure keep them for the next try.
async fn send(store: &dyn Store, pending: &mut Vec<LogRow>) -> Result<(), String> {
    if pending.is_empty() {
        return Ok(());
    }
    match store.insert_logs(pending).await {
        Ok(()) => {
            pending.clear();
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DuckStore, OperationTimes, Timed};

    /// Two hundred sessions that end together, each handing over its last rows and flushing
    /// (all queued before the writer runs: one thread, nothing awaited yet): every flush
    /// returns with its rows stored, and they share one insert instead of making one each.
    #[tokio::test]
    async fn flushes_that_arrive_together_share_one_insert() {
        let dir = tempfile::tempdir().unwrap();
        let duck = DuckStore::open(dir.path()).unwrap();
        duck.init().await.unwrap();
        let times = Arc::new(OperationTimes::default());
        let store = Timed::wrap(Arc::new(duck), times.clone());
        let sink = LogSink::start(store.clone());
        let sessions = 200;
        let mut acks = Vec::new();
        for s in 0..sessions {
            for n in 0..3 {
                let row = LogRow::new(format!("s{s}:0:{n}"), format!("s{s}"), "event", 1.0 + n as f64, "x");
                sink.tx.send(Msg::Row(Box::new(row))).unwrap();
            }
            let (ack, done) = oneshot::channel();
            sink.tx.send(Msg::Flush(ack)).unwrap();
            acks.push(done);
        }
        for done in acks {
            assert_eq!(done.await.unwrap(), Ok(()));
        }
        let stored = store.query("SELECT count(DISTINCT message_id) FROM unified_logs").await.unwrap();
        assert_eq!(stored.rows[0][0].as_u64(), Some(sessions * 3));
        let inserts = times.snapshot().into_iter().find(|(op, _)| *op == "insert_logs").map(|(_, h)| h.count);
        assert_eq!(inserts, Some(1), "{sessions} flushes queued together");
    }
}
