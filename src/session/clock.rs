//! The clock that heartbeats, leases, claims and fencing run on (architecture.md: "the clock
//! is passed in"). [`SystemClock`] is production: this machine's time for the stamps a
//! session writes, the store's clock for lease decisions, tokio's timer for waits.
//! [`ManualClock`] only moves when a test advances it, so lease expiry, orphaning, claim
//! settling and heartbeat intervals are tested without sleeping for real.

use crate::store::{Store, StoreError};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Time as the session logic sees it.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch on this machine: what heartbeats, checkpoints and final
    /// rows are stamped with.
    fn now(&self) -> f64;

    /// A monotonic instant, for intervals measured in this process (how fresh a fencing
    /// check is, how long a store outage has lasted, when the row was last written).
    fn instant(&self) -> Instant;

    /// Wait `d` of this clock's time (claim settle delays, heartbeat intervals, retries).
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;

    /// The time lease decisions compare stored heartbeats with: the store's clock
    /// (ClickHouse: the server's, in whole seconds; DuckDB: this machine's).
    fn lease_now<'a>(&'a self, store: &'a dyn Store) -> BoxFuture<'a, Result<f64, StoreError>>;

    /// Time passed since `t` (an [`instant`](Clock::instant) of this clock).
    fn elapsed(&self, t: Instant) -> Duration {
        self.instant().saturating_duration_since(t)
    }
}

/// The real clock: production behaviour.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The shared handle a host keeps.
    pub fn shared() -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        super::durable::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }

    fn lease_now<'a>(&'a self, store: &'a dyn Store) -> BoxFuture<'a, Result<f64, StoreError>> {
        store.now()
    }
}

/// A clock that stands still until [`advance`](ManualClock::advance)d; sleepers wake when
/// the time they wait for has been reached. The store's clock is this clock too, so a
/// test decides exactly when a lease runs out.
pub struct ManualClock {
    /// Epoch seconds at the start.
    start_epoch: f64,
    /// The instant at the start; [`Clock::instant`] is this plus the time advanced.
    start_instant: Instant,
    advanced: watch::Sender<Duration>,
    /// When each sleep that has not ended is due (by its id), so a test can wait for the
    /// tasks it drives to reach their next sleep.
    sleeps: Arc<Mutex<HashMap<u64, Duration>>>,
    next_sleep: AtomicU64,
}

impl ManualClock {
    /// A clock at `start_epoch` (epoch seconds).
    pub fn new(start_epoch: f64) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            start_epoch,
            start_instant: Instant::now(),
            advanced: watch::Sender::new(Duration::ZERO),
            sleeps: Arc::default(),
            next_sleep: AtomicU64::new(0),
        })
    }

    /// Move time on by `d`, waking every sleep that is due.
    pub fn advance(&self, d: Duration) {
        self.advanced.send_modify(|t| *t += d);
    }

    /// How many sleeps on this clock wait for a time not reached yet. A sleep stops counting
    /// the moment [`advance`](ManualClock::advance) reaches its time, before its task runs.
    pub fn sleepers(&self) -> usize {
        let now = self.advanced();
        self.sleeps.lock().expect("sleeps").values().filter(|due| **due > now).count()
    }

    /// Wait (in real time, briefly yielding) until at least `n` sleeps are waiting: the
    /// tasks under test have reached the point where only time moves them on. After an
    /// `advance`, this waits for the tasks it woke to get to their next sleep.
    pub async fn until_sleepers(&self, n: usize) {
        let limit = Instant::now() + Duration::from_secs(30);
        while self.sleepers() < n {
            assert!(Instant::now() < limit, "gave up waiting for {n} sleeper(s) on the manual clock");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn advanced(&self) -> Duration {
        *self.advanced.borrow()
    }
}

/// Keeps a sleep listed until it ends or is dropped.
struct Sleeping {
    sleeps: Arc<Mutex<HashMap<u64, Duration>>>,
    id: u64,
}

impl Drop for Sleeping {
    fn drop(&mut self) {
        self.sleeps.lock().expect("sleeps").remove(&self.id);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        self.start_epoch + self.advanced().as_secs_f64()
    }

    fn instant(&self) -> Instant {
        self.start_instant + self.advanced()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        let due = self.advanced() + d;
        let mut rx = self.advanced.subscribe();
        let id = self.next_sleep.fetch_add(1, Ordering::Relaxed);
        self.sleeps.lock().expect("sleeps").insert(id, due);
        let sleeping = Sleeping { sleeps: self.sleeps.clone(), id };
        Box::pin(async move {
            let _sleeping = sleeping;
            // The sender lives as long as the clock; if the clock is gone, nobody advances.
            let _ = rx.wait_for(|t| *t >= due).await;
        })
    }

    fn lease_now<'a>(&'a self, _store: &'a dyn Store) -> BoxFuture<'a, Result<f64, StoreError>> {
        let now = self.now();
        Box::pin(async move { Ok(now) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_sleep_ends_when_its_time_is_reached_and_not_before() {
        let clock = ManualClock::new(1000.0);
        let start = clock.instant();
        let sleep = tokio::spawn(clock.sleep(Duration::from_secs(10)));
        clock.until_sleepers(1).await;
        clock.advance(Duration::from_secs(9));
        tokio::task::yield_now().await;
        assert!(!sleep.is_finished());
        assert_eq!(clock.sleepers(), 1);
        assert_eq!(clock.now(), 1009.0);
        clock.advance(Duration::from_secs(1));
        // Due: no longer waiting, even before the sleeping task has run.
        assert_eq!(clock.sleepers(), 0);
        sleep.await.unwrap();
        assert_eq!(clock.elapsed(start), Duration::from_secs(10));
        // A zero sleep is due at once.
        clock.sleep(Duration::ZERO).await;
    }
}
