//! The stateless worker: runs `queued` sessions and recovers orphans, claiming each one
//! first (`session::claim`), up to `concurrency` at a time, until shut down (or, with
//! `once`, until what it found at the start is done). `orphans --resume` is the same loop
//! limited to orphans.

use super::drive::{drive, Ended, Limits};
use super::metrics::Metrics;
use super::start::from_store;
use super::Host;
use crate::runner::RunStatus;
use crate::session::claim::{self, Claim, ClaimRules};
use crate::session::durable::owner_id;
use crate::session::Clock;
use crate::session_id::SessionId;
use crate::store::{SessionFilter, SessionStateRow, SessionStatus, Store, StoreError};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often an idle worker looks for work.
pub const SCAN_EVERY: Duration = Duration::from_secs(1);

/// How long a stopping worker waits for the last log rows to be stored.
const FINAL_FLUSH: Duration = Duration::from_secs(30);

/// How many sessions of each status one scan reads.
const SCAN_LIMIT: usize = 10_000;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub concurrency: usize,
    /// Take what is there now, finish it, and return.
    pub once: bool,
    /// Orphans only (`orphans --resume`), no queued sessions.
    pub orphans_only: bool,
}

/// What a worker reports as it goes (the command line prints it).
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    Claimed { session: String, epoch: u64, orphan: bool },
    Lost { session: String, reason: String },
    Ended { session: String, status: String, seconds: f64, error: Option<String> },
    Failed { session: String, error: String },
}

/// The sessions a worker may take: queued ones (oldest first), then orphans (leases judged
/// on `clock`).
pub async fn candidates(
    store: &dyn Store,
    orphans_only: bool,
    clock: &dyn Clock,
) -> Result<Vec<(SessionStateRow, bool)>, StoreError> {
    let now = clock.lease_now(store).await?;
    let mut out = Vec::new();
    if !orphans_only {
        let filter = SessionFilter { status: Some(SessionStatus::Queued), cascade_id: None, limit: SCAN_LIMIT };
        let mut queued = store.list_sessions(&filter).await?;
        queued.reverse();
        out.extend(queued.into_iter().map(|r| (r, false)));
    }
    for status in [SessionStatus::Orphaned, SessionStatus::Starting, SessionStatus::Running, SessionStatus::Blocked] {
        let filter = SessionFilter { status: Some(status), cascade_id: None, limit: SCAN_LIMIT };
        let rows = store.list_sessions(&filter).await?;
        out.extend(rows.into_iter().filter(|r| claim::is_orphan(r, now)).map(|r| (r, true)));
    }
    Ok(out)
}

/// Run the worker loop until `shutdown` turns true (or, with `once`, until done).
pub async fn run(
    host: Host,
    opts: WorkerOptions,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
    report: Arc<dyn Fn(WorkerEvent) + Send + Sync>,
) -> Result<(), StoreError> {
    let owner = owner_id();
    let busy: Arc<Mutex<HashSet<SessionId>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    metrics.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let free = opts.concurrency.saturating_sub(busy.lock().expect("busy").len());
        if free > 0 {
            let started = Instant::now();
            let found = candidates(&*host.store, opts.orphans_only, &*host.clock).await;
            metrics.store_check(started.elapsed(), found.is_ok());
            let found = match found {
                Ok(f) => f,
                // A store that blinks is asked again at the next scan; `--once` reports it.
                Err(e) if opts.once => return Err(e),
                Err(_) => Vec::new(),
            };
            let mut taken = 0;
            for (row, orphan) in found {
                if taken == free {
                    break;
                }
                if !busy.lock().expect("busy").insert(row.session_id.clone()) {
                    continue;
                }
                taken += 1;
                let job = Job {
                    host: host.clone(),
                    owner: owner.clone(),
                    metrics: metrics.clone(),
                    report: report.clone(),
                    busy: busy.clone(),
                    shutdown: shutdown.clone(),
                };
                tasks.spawn(job.run(row, orphan));
            }
        }
        if opts.once {
            break;
        }
        tokio::select! {
            _ = host.clock.sleep(SCAN_EVERY) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = shutdown.changed() => {}
        }
    }
    metrics.ready.store(false, std::sync::atomic::Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    // Sessions flush their own rows briefly when they end; under load some may still be on
    // their way, and the process must not exit before they are stored.
    if let Err(e) = tokio::time::timeout(FINAL_FLUSH, host.logs.flush()).await.unwrap_or(Err("timed out".into())) {
        (report)(WorkerEvent::Failed {
            session: "(log rows)".into(),
            error: format!("some log rows could not be saved: {e}"),
        });
    }
    Ok(())
}

/// One session taken by the worker.
struct Job {
    host: Host,
    owner: String,
    metrics: Arc<Metrics>,
    report: Arc<dyn Fn(WorkerEvent) + Send + Sync>,
    busy: Arc<Mutex<HashSet<SessionId>>>,
    shutdown: watch::Receiver<bool>,
}

impl Job {
    async fn run(self, row: SessionStateRow, orphan: bool) {
        let id = row.session_id.clone();
        if let Err(e) = self.claim_and_drive(&id, orphan).await {
            (self.report)(WorkerEvent::Failed { session: id.to_string(), error: e });
        }
        self.busy.lock().expect("busy").remove(&id);
    }

    async fn claim_and_drive(&self, id: &SessionId, orphan: bool) -> Result<(), String> {
        let store = &*self.host.store;
        let (epoch, row) = match claim::claim(store, id, &self.owner, ClaimRules::default(), &*self.host.clock).await {
            Ok(Claim::Won { epoch, row }) => (epoch, row),
            Ok(Claim::Lost(why)) => {
                Metrics::add(&self.metrics.claims_lost);
                (self.report)(WorkerEvent::Lost { session: id.to_string(), reason: why.reason });
                return Ok(());
            }
            Err(e) => return Err(e.to_string()),
        };
        Metrics::add(&self.metrics.claims_won);
        (self.report)(WorkerEvent::Claimed { session: id.to_string(), epoch, orphan });
        let start = from_store(store, &row, epoch, None).await.map_err(|e| e.to_string())?;
        let limits: Limits = start.limits.clone();
        let started = Instant::now();
        Metrics::add(&self.metrics.running);
        let mut shutdown = self.shutdown.clone();
        let stop = async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        let ended = drive(&self.host, start, Vec::new(), &limits, stop).await;
        Metrics::sub(&self.metrics.running);
        let ended = ended.map_err(|e| e.to_string())?;
        let (status, error) = match &ended {
            Ended::Done(r) => {
                let ok = r.status == RunStatus::Completed;
                Metrics::add(if ok { &self.metrics.completed } else { &self.metrics.failed });
                (format!("{:?}", r.status).to_lowercase(), r.errors.first().cloned())
            }
            Ended::Interrupted => {
                Metrics::add(&self.metrics.released);
                ("released".to_string(), None)
            }
            Ended::Waiting { on } => {
                Metrics::add(&self.metrics.released);
                ("blocked".to_string(), Some(format!("waiting on {on}")))
            }
            Ended::TimedOut => {
                Metrics::add(&self.metrics.released);
                ("released".to_string(), Some("timed out".into()))
            }
        };
        (self.report)(WorkerEvent::Ended {
            session: id.to_string(),
            status,
            seconds: started.elapsed().as_secs_f64(),
            error,
        });
        Ok(())
    }
}
