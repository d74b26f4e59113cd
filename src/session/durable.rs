//! One session's durable side: its `session_state` versions (start, heartbeats, end) and a
//! checkpoint after every phase, which resume depends on. Stamps, intervals and waits come
//! from the [`Clock`] it is given.
//!
//! Checkpoints are written in order by one background writer per session: [`Durable::checkpoint`]
//! queues the row and returns, and checkpoints queued while a commit is in progress go in
//! the next one together. [`Durable::settled`] waits until every queued checkpoint is durable;
//! the run loop calls it before anything that must not happen twice (a tool, a child session,
//! a question to a human, the session's end), so only model calls overlap a commit. A crash
//! before the commit repeats those calls on resume, as a crash during a model call would.

use super::clock::Clock;
use crate::session_id::SessionId;
use crate::store::{CheckpointRow, SessionStateRow, SessionStatus, Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often checkpoints also write the session row.
const ROW_WRITE_EVERY: Duration = Duration::from_secs(1);

/// How long a clean fencing check holds (must stay below `claim::SETTLE`).
pub(crate) const FENCE_FRESH: Duration = Duration::from_millis(200);

/// How long a checkpoint keeps retrying while the store is unreachable.
const CHECKPOINT_PATIENCE: Duration = Duration::from_secs(30);

/// Seconds since the Unix epoch on this machine.
pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default()
}

/// Who runs a session: `host:pid`.
pub fn owner_id() -> String {
    format!("{}:{}", gethostname::gethostname().to_string_lossy(), std::process::id())
}

/// Why a checkpoint was not saved.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CheckpointError {
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A later claim exists: another process owns the session now.
    #[error("another process claimed the session (epoch {by})")]
    Fenced { by: u64 },
}

/// The durable side of one session run by this process.
pub struct Durable {
    pub store: Arc<dyn Store>,
    pub session_id: SessionId,
    pub cascade_id: String,
    pub parent_session_id: String,
    pub owner: String,
    /// The fencing token this process holds.
    pub epoch: u64,
    pub cascade_hash: String,
    pub lease: Duration,
    pub heartbeat_interval: Duration,
    pub started_at: f64,
    /// What stamps rows and paces heartbeats, retries and fencing checks.
    pub clock: Arc<dyn Clock>,
    /// Next checkpoint sequence number.
    seq: AtomicU64,
    /// Counter for `session_state` versions within this epoch.
    version: AtomicU64,
    /// The latest row, re-sent with a new heartbeat.
    last: Mutex<SessionStateRow>,
    /// When a checkpoint last wrote the session row.
    last_row_write: Mutex<Instant>,
    /// When the last fencing check found no later claim.
    last_fence_check: Mutex<Option<Instant>>,
    /// Checkpoints queued for the writer, and how it is doing.
    writes: Mutex<Writes>,
    /// Bumped whenever the writer committed a batch or stopped.
    written: tokio::sync::watch::Sender<u64>,
}

/// The checkpoint writer's queue and state.
#[derive(Default)]
struct Writes {
    queue: Vec<Queued>,
    /// A writer task is running (it drains the queue before it stops).
    writing: bool,
    /// The writer gave up: every later checkpoint fails with this.
    failed: Option<CheckpointError>,
}

/// A checkpoint waiting for its commit, and what to do once it is durable.
struct Queued {
    row: CheckpointRow,
    on_durable: Box<dyn FnOnce(u64) + Send>,
}

impl Durable {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        session_id: &SessionId,
        cascade_id: &str,
        parent_session_id: &str,
        epoch: u64,
        cascade_hash: &str,
        next_seq: u64,
        lease: Duration,
        heartbeat_interval: Duration,
        clock: Arc<dyn Clock>,
    ) -> Arc<Durable> {
        let started_at = clock.now();
        // The first checkpoint writes the row.
        let last_row_write = clock.instant().checked_sub(ROW_WRITE_EVERY).unwrap_or_else(|| clock.instant());
        let owner = owner_id();
        let row = SessionStateRow {
            parent_session_id: parent_session_id.to_string(),
            heartbeat_at: started_at,
            lease_seconds: lease.as_secs_f64(),
            owner: owner.clone(),
            owner_epoch: epoch,
            started_at,
            updated_at: started_at,
            ..SessionStateRow::new(session_id.clone(), SessionStatus::Starting, cascade_id)
        };
        Arc::new(Durable {
            store,
            session_id: session_id.clone(),
            cascade_id: cascade_id.to_string(),
            parent_session_id: parent_session_id.to_string(),
            owner,
            epoch,
            cascade_hash: cascade_hash.to_string(),
            lease,
            heartbeat_interval,
            started_at,
            clock,
            seq: AtomicU64::new(next_seq),
            version: AtomicU64::new(0),
            last: Mutex::new(row),
            last_row_write: Mutex::new(last_row_write),
            last_fence_check: Mutex::new(None),
            writes: Mutex::new(Writes::default()),
            written: tokio::sync::watch::Sender::new(0),
        })
    }

    /// A newer epoch always wins; within an epoch, later writes win.
    fn next_version(&self) -> u64 {
        (self.epoch << 40) | (self.version.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Append a new version of the session row, changed by `f`.
    pub async fn update(&self, f: impl FnOnce(&mut SessionStateRow)) -> Result<(), StoreError> {
        let row = self.prepare(f);
        self.store.put_session_state(&row).await
    }

    /// The next version of the session row, changed by `f` (not written yet).
    fn prepare(&self, f: impl FnOnce(&mut SessionStateRow)) -> SessionStateRow {
        let mut last = self.last.lock().expect("session row");
        f(&mut last);
        let t = self.clock.now();
        last.version = self.next_version();
        last.updated_at = t;
        last.heartbeat_at = t;
        last.clone()
    }

    /// Append a row changed by `f` that gives the lease up (heartbeat 0), so another
    /// process may take the session over at once.
    pub async fn release(&self, f: impl FnOnce(&mut SessionStateRow)) -> Result<(), StoreError> {
        // The next owner resumes from the last checkpoint: let the queued ones land first (a
        // failed one is the run's error, reported there).
        let _ = self.settled().await;
        let mut row = self.prepare(f);
        row.heartbeat_at = 0.0;
        self.store.put_session_state(&row).await
    }

    pub async fn set_status(&self, status: SessionStatus, phase: Option<&str>) -> Result<(), StoreError> {
        self.update(|r| {
            r.status = status;
            if let Some(p) = phase {
                r.current_phase = p.to_string();
            }
        })
        .await
    }

    /// Queue a checkpoint and move the session row on. The checkpoint is durable once
    /// `on_durable` has run (given its sequence number) or [`Durable::settled`] returned; a failed earlier write fails
    /// this call.
    pub fn checkpoint(
        self: &Arc<Self>,
        phase: &str,
        next_phase: Option<&str>,
        state_json: String,
        totals: (u64, u64, f64),
        on_durable: Box<dyn FnOnce(u64) + Send>,
    ) -> Result<u64, CheckpointError> {
        let seq = {
            let mut writes = self.writes.lock().expect("checkpoint writes");
            if let Some(e) = &writes.failed {
                return Err(e.clone());
            }
            let seq = self.seq.fetch_add(1, Ordering::SeqCst);
            let row = CheckpointRow {
                session_id: self.session_id.clone(),
                seq,
                phase: phase.to_string(),
                next_phase: next_phase.unwrap_or_default().to_string(),
                state: state_json,
                cascade_hash: self.cascade_hash.clone(),
                owner_epoch: self.epoch,
                created_at: self.clock.now(),
            };
            writes.queue.push(Queued { row, on_durable });
            if !writes.writing {
                writes.writing = true;
                tokio::spawn(self.clone().write_queued());
            }
            seq
        };
        // Versions are taken when the row is prepared, so a late write never hides a newer row.
        let current = next_phase.unwrap_or(phase).to_string();
        let row = self.prepare(|r| {
            r.current_phase = current;
            r.tokens_in = totals.0;
            r.tokens_out = totals.1;
            r.cost = totals.2;
        });
        // At most one row write a second from checkpoints, in the background (the heartbeat
        // writes the latest row anyway): a store commit per phase would double its cost.
        let due = {
            let mut last = self.last_row_write.lock().expect("row write time");
            let due = self.clock.elapsed(*last) >= ROW_WRITE_EVERY;
            if due {
                *last = self.clock.instant();
            }
            due
        };
        if due {
            let store = self.store.clone();
            tokio::spawn(async move {
                let _ = store.put_session_state(&row).await;
            });
        }
        Ok(seq)
    }

    /// [`Self::checkpoint`], then wait until it (and every one before it) is durable.
    pub async fn checkpoint_durably(
        self: &Arc<Self>,
        phase: &str,
        next_phase: Option<&str>,
        state_json: String,
        totals: (u64, u64, f64),
    ) -> Result<u64, CheckpointError> {
        let seq = self.checkpoint(phase, next_phase, state_json, totals, Box::new(|_| {}))?;
        self.settled().await?;
        Ok(seq)
    }

    /// Wait until every queued checkpoint is durable, or the writer gave up.
    pub async fn settled(&self) -> Result<(), CheckpointError> {
        let mut written = self.written.subscribe();
        loop {
            {
                let writes = self.writes.lock().expect("checkpoint writes");
                if let Some(e) = &writes.failed {
                    return Err(e.clone());
                }
                if !writes.writing {
                    return Ok(());
                }
            }
            // The sender lives as long as `self`.
            let _ = written.changed().await;
        }
    }

    /// The writer: commit what is queued, oldest first, all of it at once, until the queue is
    /// empty. A store that blinks does not fail the run: each commit is retried for a while.
    async fn write_queued(self: Arc<Self>) {
        loop {
            let batch = {
                let mut writes = self.writes.lock().expect("checkpoint writes");
                if writes.queue.is_empty() {
                    writes.writing = false;
                    drop(writes);
                    self.written.send_modify(|n| *n += 1);
                    return;
                }
                std::mem::take(&mut writes.queue)
            };
            let rows: Vec<CheckpointRow> = batch.iter().map(|q| q.row.clone()).collect();
            match self.put_patiently(&rows).await {
                Ok(()) => {
                    for queued in batch {
                        (queued.on_durable)(queued.row.seq);
                    }
                    self.written.send_modify(|n| *n += 1);
                }
                Err(e) => {
                    let mut writes = self.writes.lock().expect("checkpoint writes");
                    writes.failed = Some(e);
                    writes.queue.clear();
                    writes.writing = false;
                    drop(writes);
                    self.written.send_modify(|n| *n += 1);
                    return;
                }
            }
        }
    }

    /// [`Self::fenced_put`], retried while the store is unreachable, for a while.
    async fn put_patiently(&self, rows: &[CheckpointRow]) -> Result<(), CheckpointError> {
        let mut delay = Duration::from_millis(100);
        let deadline = self.clock.instant() + CHECKPOINT_PATIENCE;
        loop {
            match self.fenced_put(rows).await {
                Ok(()) => return Ok(()),
                Err(CheckpointError::Store(StoreError::Unavailable { .. })) if self.clock.instant() < deadline => {
                    self.clock.sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Save `rows` (one commit) unless a later claim exists: a stale owner (paused, then woken after
    /// someone claimed the session) stops here instead of overwriting.
    ///
    /// A clean check stays good for [`FENCE_FRESH`], shorter than a claimer's settle delay:
    /// a claim inserted after the check wins only after the settle, and the winner then reads
    /// checkpoints, so it sees any checkpoint written within that window (a completed phase,
    /// not an overwrite). Phases quicker than that skip the read.
    async fn fenced_put(&self, rows: &[CheckpointRow]) -> Result<(), CheckpointError> {
        let fresh =
            self.last_fence_check.lock().expect("fence check").is_some_and(|t| self.clock.elapsed(t) < FENCE_FRESH);
        if !fresh {
            let checked = self.clock.instant();
            let highest = super::claim::highest_claim(&*self.store, &self.session_id).await?;
            if highest > self.epoch {
                return Err(CheckpointError::Fenced { by: highest });
            }
            *self.last_fence_check.lock().expect("fence check") = Some(checked);
        }
        // One row goes through `put_checkpoint`, which a batching store shares with other
        // sessions' checkpoints; several go in one insert, so none is durable without the others.
        match rows {
            [row] => Ok(self.store.put_checkpoint(row).await?),
            rows => Ok(self.store.put_checkpoints(rows).await?),
        }
    }

    /// The final row of this epoch (completed, error, cancelled): its version is above
    /// every other row of the epoch, an `orphans` mark included. Not written when a later
    /// claim exists.
    pub async fn finish(
        &self,
        status: SessionStatus,
        error: Option<&str>,
        totals: (u64, u64, f64),
    ) -> Result<(), StoreError> {
        // No final row before the checkpoints it follows (the run loop settled them already;
        // a failed one is the run's error).
        let _ = self.settled().await;
        let mut row = self.prepare(|r| {
            r.status = status;
            r.blocked_on.clear();
            r.error_message = error.unwrap_or_default().to_string();
            r.completed_at = if status.is_finished() { self.clock.now() } else { 0.0 };
            r.tokens_in = totals.0;
            r.tokens_out = totals.1;
            r.cost = totals.2;
        });
        row.version = super::claim::ending_version(status, self.epoch);
        // Taken over meanwhile (its lease ran out while it was busy): the later owner writes
        // the session's final row, not this one.
        if super::claim::highest_claim(&*self.store, &self.session_id).await? > self.epoch {
            return Ok(());
        }
        self.store.put_session_state(&row).await
    }

    /// Heartbeats every interval (on the clock) until the returned handle is aborted.
    pub fn spawn_heartbeat(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            // On a fixed schedule, like `tokio::time::interval`: a slow write does not push
            // the next beat back, and beats missed meanwhile go out at once. The schedule is the
            // process's, not the session's: every session of the process beats at the same
            // moments, and the batched store gathers their rows into one insert per interval.
            let mut due = beat_grid(me.clock.instant(), me.heartbeat_interval);
            loop {
                due += me.heartbeat_interval;
                let wait = due.saturating_duration_since(me.clock.instant());
                me.clock.sleep(wait).await;
                // A missed heartbeat is not fatal: the lease is several intervals long.
                let _ = me.store.put_heartbeat(&me.prepare(|_| {})).await;
            }
        })
    }
}

/// The last moment at or before `now` on this process's heartbeat schedule for `interval`:
/// whole intervals since the first heartbeat of the process.
fn beat_grid(now: Instant, interval: Duration) -> Instant {
    static ANCHOR: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let anchor = *ANCHOR.get_or_init(|| now);
    let Some(since) = now.checked_duration_since(anchor) else { return now };
    if interval.is_zero() {
        return now;
    }
    let whole = (since.as_nanos() / interval.as_nanos()) as u32;
    anchor + interval * whole
}
