//! Group commit for the embedded store: appends that arrive while a commit is in progress
//! (checkpoints, session rows, signals, log batches of many concurrent sessions) are
//! written together in one transaction, with one sync of the write-ahead log.
//!
//! A commit is durable only after the log file is synced, and on these machines a sync
//! costs several milliseconds: one worker running a thousand sessions spent almost all of
//! its time waiting for syncs, one per append. Alone, an append still commits on its own at
//! once; under load the queue drains into a single transaction. If a batch fails, each of
//! its appends is retried on its own, so one bad row never fails the others.

use super::handover::{Access, Handover};
use crate::store::StoreError;
use ::duckdb::Connection;
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Appends in one transaction, at most.
const MAX_BATCH: usize = 2_000;

/// One append: may run twice (in a failed batch, then alone), so it borrows what it writes.
pub type Append = Box<dyn Fn(&Connection) -> ::duckdb::Result<()> + Send>;

struct Pending {
    action: &'static str,
    append: Append,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The committing thread of one store; it ends when the store is dropped.
pub struct Committer {
    queue: mpsc::Sender<Pending>,
}

impl Committer {
    /// `after_commit` runs after every commit (the store checkpoints a grown log there).
    pub fn start(file: Arc<Handover>, after_commit: fn(&Handover, &mut Connection)) -> Committer {
        let (queue, rx) = mpsc::channel::<Pending>();
        std::thread::Builder::new()
            .name("windlass-duckdb-commit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(p) => batch.push(p),
                            Err(_) => break,
                        }
                    }
                    commit(&file, batch, after_commit);
                }
            })
            .expect("start the store's commit thread");
        Committer { queue }
    }

    /// Append durably (the transaction it is part of has committed when this returns).
    pub async fn append(&self, action: &'static str, append: Append) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        let gone = || StoreError::Unavailable {
            store: "the embedded store".into(),
            detail: "its commit thread stopped".into(),
        };
        self.queue.send(Pending { action, append, done }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn commit(file: &Arc<Handover>, batch: Vec<Pending>, after_commit: fn(&Handover, &mut Connection)) {
    if batch.len() > 1 {
        let together = file.with_conn(Access::ReadWrite, "write a batch of rows", |conn: &mut Connection| {
            conn.execute_batch("BEGIN TRANSACTION")?;
            for p in &batch {
                if let Err(e) = (p.append)(conn) {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
            conn.execute_batch("COMMIT")?;
            after_commit(file, conn);
            Ok(())
        });
        if together.is_ok() {
            for p in batch {
                let _ = p.done.send(Ok(()));
            }
            return;
        }
    }
    for p in batch {
        let alone = file.with_conn(Access::ReadWrite, p.action, |conn: &mut Connection| {
            (p.append)(conn)?;
            after_commit(file, conn);
            Ok(())
        });
        let _ = p.done.send(alone);
    }
}
