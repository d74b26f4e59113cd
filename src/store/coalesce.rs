//! Many concurrent requests of one kind answered by one store operation.
//!
//! A worker running a thousand sessions asks the store the same small questions a thousand
//! times at once (this session's row, its signals, its cascade) and writes the same kinds of
//! rows. Each costs a full table scan on the embedded store, and a request to the server on
//! ClickHouse. A [`Coalescer`] queues them: while one batch is with the store, the requests
//! that arrive wait for the next, which takes them all.
//!
//! A request never joins a batch that was already sent, so it sees everything written
//! before it was made (read-after-write holds as for a direct call). A request alone is
//! sent at once, after the tasks that became ready with it had their turn; a gathering
//! coalescer (heartbeats) waits a moment longer, so requests due at one moment share a batch
//! even when they wake on different threads.

use super::StoreError;
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Requests in one batch, at most.
const MAX_BATCH: usize = 1_000;

/// Answers a batch: one result per request, in order.
pub type Run<Req, V> = Box<dyn Fn(Vec<Req>) -> BoxFuture<'static, Vec<Result<V, StoreError>>> + Send + Sync>;

type Waiting<Req, V> = Vec<(Req, oneshot::Sender<Result<V, StoreError>>)>;

struct Queue<Req, V> {
    waiting: Waiting<Req, V>,
    /// A task is sending batches.
    draining: bool,
}

/// See the module docs.
pub struct Coalescer<Req, V> {
    /// What the requests are, for the error when the batch task is gone.
    what: &'static str,
    queue: Mutex<Queue<Req, V>>,
    run: Run<Req, V>,
    /// How long the first request of a batch waits for others (zero: one turn of the
    /// scheduler).
    gather: Duration,
}

impl<Req: Send + 'static, V: Send + 'static> Coalescer<Req, V> {
    pub fn new(what: &'static str, run: Run<Req, V>) -> Arc<Self> {
        Self::gathering(what, Duration::ZERO, run)
    }

    /// A coalescer whose first request waits `gather` for others to join it: for writes
    /// that are due together but become ready a little apart (on different threads), and
    /// that nobody waits on closely.
    pub fn gathering(what: &'static str, gather: Duration, run: Run<Req, V>) -> Arc<Self> {
        let queue = Mutex::new(Queue { waiting: Vec::new(), draining: false });
        Arc::new(Coalescer { what, queue, run, gather })
    }

    /// Queue `req` and wait for its answer. Must run within a Tokio runtime.
    pub async fn call(self: &Arc<Self>, req: Req) -> Result<V, StoreError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = self.queue.lock().expect("coalescer queue");
            q.waiting.push((req, tx));
            !std::mem::replace(&mut q.draining, true)
        };
        if start {
            // A task of its own, so a caller that gives up waiting does not stop the others.
            tokio::spawn(self.clone().drain());
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable {
                store: "the store".into(),
                detail: format!("the task batching {} stopped", self.what),
            })
        })
    }

    async fn drain(self: Arc<Self>) {
        if self.gather.is_zero() {
            // Let the tasks that became ready with the first caller queue before the first
            // batch is taken: otherwise the scheduler runs this task straight after the first
            // caller, which then goes alone.
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(self.gather).await;
        }
        loop {
            let batch: Waiting<Req, V> = {
                let mut q = self.queue.lock().expect("coalescer queue");
                if q.waiting.is_empty() {
                    q.draining = false;
                    return;
                }
                let n = q.waiting.len().min(MAX_BATCH);
                q.waiting.drain(..n).collect()
            };
            let (reqs, answers): (Vec<Req>, Vec<_>) = batch.into_iter().unzip();
            let results = (self.run)(reqs).await;
            for (answer, result) in answers.into_iter().zip(results) {
                let _ = answer.send(result);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_requests_share_batches_and_get_their_own_answers() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let doubler: Arc<Coalescer<u32, u32>> = Coalescer::new(
            "numbers",
            Box::new(move |reqs: Vec<u32>| {
                counted.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    reqs.into_iter()
                        .map(|n| if n == 7 { Err(StoreError::NotReadOnly("7".into())) } else { Ok(n * 2) })
                        .collect()
                })
            }),
        );
        // The first request goes alone; the other 99, queued while it is with the store, go
        // together.
        let first = tokio::spawn({
            let d = doubler.clone();
            async move { d.call(0).await }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut answers = futures::future::join_all((1..100).map(|n| {
            let d = doubler.clone();
            async move { d.call(n).await }
        }))
        .await;
        answers.insert(0, first.await.unwrap());
        for (n, a) in answers.iter().enumerate() {
            match a {
                Ok(v) => assert_eq!(*v, n as u32 * 2),
                Err(_) => assert_eq!(n, 7),
            }
        }
        assert!(answers[7].is_err());
        assert_eq!(batches.load(Ordering::SeqCst), 2);
        // Later, alone again.
        assert_eq!(doubler.call(4).await.unwrap(), 8);
        assert_eq!(batches.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_request_never_joins_a_batch_already_sent() {
        let seen: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let log = seen.clone();
        let c: Arc<Coalescer<u32, ()>> = Coalescer::new(
            "numbers",
            Box::new(move |reqs: Vec<u32>| {
                log.lock().unwrap().push(reqs.clone());
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    reqs.iter().map(|_| Ok(())).collect()
                })
            }),
        );
        let first = tokio::spawn({
            let c = c.clone();
            async move { c.call(1).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        c.call(2).await.unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![vec![1], vec![2]]);
    }

    /// Twenty sessions whose heartbeats fall due at the same moment (their timers fire on
    /// both worker threads, a little apart): with a gathering coalescer their rows go out as
    /// one batch, not the first alone, or each thread's apart.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_made_at_the_same_moment_share_one_batch() {
        for round in 0..20 {
            let seen: Arc<Mutex<Vec<usize>>> = Arc::default();
            let log = seen.clone();
            let c: Arc<Coalescer<u32, ()>> = Coalescer::gathering(
                "numbers",
                Duration::from_millis(25),
                Box::new(move |reqs: Vec<u32>| {
                    log.lock().unwrap().push(reqs.len());
                    Box::pin(async move {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        reqs.iter().map(|_| Ok(())).collect()
                    })
                }),
            );
            let due = tokio::time::Instant::now() + Duration::from_millis(20);
            let beats: Vec<_> = (0..20)
                .map(|n| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep_until(due).await;
                        c.call(n).await
                    })
                })
                .collect();
            for beat in beats {
                beat.await.unwrap().unwrap();
            }
            assert_eq!(*seen.lock().unwrap(), vec![20], "round {round}");
        }
    }
}
