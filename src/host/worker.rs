//! The stateless worker: runs `queued` sessions and recovers orphans, claiming them
//! first in batched rounds (`session::claim::claim_many`), up to `concurrency` at a time, until shut down (or, with
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
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often an idle worker looks for work.
pub const SCAN_EVERY: Duration = Duration::from_secs(1);

/// How long a stopping worker waits for the last log rows to be stored.
const FINAL_FLUSH: Duration = Duration::from_secs(30);

/// How many sessions of each status one scan reads.
const SCAN_LIMIT: usize = 10_000;
/// How old the candidates of a scan may be before they are checked again, all in one read,
/// ahead of the next claim round (see [`prune`]).
const PRUNE_EVERY: Duration = Duration::from_millis(500);

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
        let filter = SessionFilter { status: Some(SessionStatus::Queued), limit: SCAN_LIMIT, ..Default::default() };
        let mut queued = store.list_sessions(&filter).await?;
        queued.reverse();
        out.extend(queued.into_iter().filter_map(|r| takeable(&r, now).map(|orphan| (r, orphan))));
    }
    for status in [SessionStatus::Orphaned, SessionStatus::Starting, SessionStatus::Running, SessionStatus::Blocked] {
        let filter = SessionFilter { status: Some(status), limit: SCAN_LIMIT, ..Default::default() };
        let rows = store.list_sessions(&filter).await?;
        out.extend(rows.into_iter().filter_map(|r| takeable(&r, now).map(|orphan| (r, orphan))));
    }
    Ok(out)
}

/// Whether a worker may try `row` at `now`, and as what: a queued session as new
/// (`Some(false)`), one whose lease ran out as an orphan (`Some(true)`); else `None`.
fn takeable(row: &SessionStateRow, now: f64) -> Option<bool> {
    if row.status == SessionStatus::Queued {
        Some(false)
    } else if claim::is_orphan(row, now) {
        Some(true)
    } else {
        None
    }
}

/// Drops the candidates that other workers took or finished since they were read, with one
/// read of their rows, and keeps the rest (fresh rows, in the same order). Without it a worker
/// whose sessions end one by one has room for one or two at a time and spends a claim round
/// on each stale candidate: with four workers sharing 4,000 sessions, thousands of rounds after
/// the last model call.
async fn prune(
    store: &dyn Store,
    pending: &mut Vec<(SessionStateRow, bool)>,
    clock: &dyn Clock,
) -> Result<(), StoreError> {
    let ids: Vec<SessionId> = pending.iter().map(|(row, _)| row.session_id.clone()).collect();
    let now = clock.lease_now(store).await?;
    let mut fresh: HashMap<SessionId, SessionStateRow> = HashMap::new();
    for chunk in ids.chunks(1_000) {
        fresh.extend(store.session_states(chunk).await?.into_iter().map(|r| (r.session_id.clone(), r)));
    }
    pending.retain_mut(|(row, orphan)| {
        let Some(f) = fresh.remove(&row.session_id) else { return false };
        let Some(as_orphan) = takeable(&f, now) else { return false };
        (*row, *orphan) = (f, as_orphan);
        true
    });
    Ok(())
}

/// The order in which `owner` tries `found`: by a stable hash of the owner and the session
/// id, so workers racing for the same sessions start at different ones instead of all
/// fighting over the first.
pub fn claim_order(owner: &str, found: &mut [(SessionStateRow, bool)]) {
    found.sort_by_cached_key(|(row, _)| spread(owner, row.session_id.as_str()));
}

/// FNV-1a of the owner and the session id: the same on every machine and every build.
fn spread(owner: &str, session: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in owner.bytes().chain([0]).chain(session.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Run the worker loop until `shutdown` turns true (or, with `once`, until done).
///
/// Each scan claims in rounds: up to the free capacity at once (one batched claim), in this
/// worker's own order, and again with the next candidates for every race lost, until the
/// capacity is full or no candidate is left. With `once`, the candidates of the first scan
/// that were not tried yet are tried as running sessions end.
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
    let mut pending: Vec<(SessionStateRow, bool)> = Vec::new();
    let mut scanned = false;
    // Sessions lost in a race where nobody may have won: tried once more, after the others.
    let mut raced: HashSet<SessionId> = HashSet::new();
    // When the candidates were last read from the store.
    let mut pruned = Instant::now();
    let mut ticker = super::schedules::Ticker::default();
    metrics.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let first_or_looping = !(opts.once && scanned);
        if !opts.orphans_only && first_or_looping {
            // Due cron ticks become queued sessions, found by the scan below. A store that
            // blinks is asked again next time.
            if let Ok(now) = host.store.now().await {
                let lease = host.lease.as_secs_f64();
                if let Err(e) = ticker.fire_due(&*host.store, now, lease, &metrics).await {
                    (report)(WorkerEvent::Failed { session: "(schedules)".into(), error: e.to_string() });
                }
            }
        }
        let mut free = opts.concurrency.saturating_sub(busy.lock().expect("busy").len());
        if free > 0 && !(opts.once && scanned) {
            let started = Instant::now();
            let found = candidates(&*host.store, opts.orphans_only, &*host.clock).await;
            metrics.store_check(started.elapsed(), found.is_ok());
            pending = match found {
                Ok(f) => f,
                // A store that blinks is asked again at the next scan; `--once` reports it.
                Err(e) if opts.once => return Err(e),
                Err(_) => Vec::new(),
            };
            claim_order(&owner, &mut pending);
            // Tried from the end.
            pending.reverse();
            scanned = true;
            raced.clear();
            pruned = Instant::now();
        }
        if free > 0 && pending.len() > free && pruned.elapsed() >= PRUNE_EVERY {
            // A store that blinks leaves the list as it is: the claim rounds judge each one.
            let _ = prune(&*host.store, &mut pending, &*host.clock).await;
            pruned = Instant::now();
        }
        while free > 0 && !pending.is_empty() {
            let mut round = Vec::new();
            while round.len() < free {
                let Some((row, orphan)) = pending.pop() else { break };
                if busy.lock().expect("busy").insert(row.session_id.clone()) {
                    round.push((row, orphan));
                }
            }
            if round.is_empty() {
                break;
            }
            let ids: Vec<SessionId> = round.iter().map(|(row, _)| row.session_id.clone()).collect();
            let claimed = claim::claim_many(
                &*host.store,
                &ids,
                &owner,
                ClaimRules { lease: host.lease, ..ClaimRules::default() },
                &*host.clock,
            )
            .await;
            let claimed = match claimed {
                Ok(c) => c,
                Err(e) => {
                    let mut b = busy.lock().expect("busy");
                    for id in &ids {
                        b.remove(id);
                    }
                    drop(b);
                    if opts.once {
                        return Err(e);
                    }
                    for id in &ids {
                        (report)(WorkerEvent::Failed { session: id.to_string(), error: e.to_string() });
                    }
                    break;
                }
            };
            let mut rows: Vec<(SessionStateRow, bool)> = Vec::new();
            for ((id, claim), (row, orphan)) in claimed.into_iter().zip(round) {
                match claim {
                    Claim::Won { epoch, row } => {
                        Metrics::add(&metrics.claims_won);
                        (report)(WorkerEvent::Claimed { session: id.to_string(), epoch, orphan });
                        free -= 1;
                        let job = Job {
                            host: host.clone(),
                            metrics: metrics.clone(),
                            report: report.clone(),
                            busy: busy.clone(),
                            shutdown: shutdown.clone(),
                        };
                        tasks.spawn(job.run(id, epoch, row));
                    }
                    Claim::Lost(why) => {
                        busy.lock().expect("busy").remove(&id);
                        Metrics::add(&metrics.claims_lost);
                        if why.raced && raced.insert(id.clone()) {
                            rows.push((row, orphan));
                        }
                        (report)(WorkerEvent::Lost { session: id.to_string(), reason: why.reason });
                    }
                }
            }
            // Tried last.
            pending.splice(0..0, rows);
        }
        if opts.once && pending.is_empty() {
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
    metrics: Arc<Metrics>,
    report: Arc<dyn Fn(WorkerEvent) + Send + Sync>,
    busy: Arc<Mutex<HashSet<SessionId>>>,
    shutdown: watch::Receiver<bool>,
}

impl Job {
    async fn run(self, id: SessionId, epoch: u64, row: Box<SessionStateRow>) {
        if let Err(e) = self.drive(&id, epoch, &row).await {
            (self.report)(WorkerEvent::Failed { session: id.to_string(), error: e });
        }
        self.busy.lock().expect("busy").remove(&id);
    }

    async fn drive(&self, id: &SessionId, epoch: u64, row: &SessionStateRow) -> Result<(), String> {
        let store = &*self.host.store;
        let start = from_store(store, row, epoch, None).await.map_err(|e| e.to_string())?;
        let started = Instant::now();
        // Its last phase was checkpointed before its owner died, maybe after its end was
        // logged: it is only marked completed, as `resume` does, so the end is logged once.
        if start.phase.is_none() {
            let done = super::already_ended::complete(store, &start, row.clone(), owner_id()).await;
            done.map_err(|e| e.to_string())?;
            Metrics::add(&self.metrics.completed);
            (self.report)(WorkerEvent::Ended {
                session: id.to_string(),
                status: "completed".into(),
                seconds: started.elapsed().as_secs_f64(),
                error: None,
            });
            return Ok(());
        }
        let limits: Limits = start.limits.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn found(n: usize) -> Vec<(SessionStateRow, bool)> {
        (0..n)
            .map(|i| (SessionStateRow::new(SessionId::new(format!("s-{i}")), SessionStatus::Queued, "c"), false))
            .collect()
    }

    #[test]
    fn workers_take_candidates_in_orders_of_their_own() {
        let firsts: HashSet<String> = (0..4)
            .map(|w| {
                let mut f = found(5);
                claim_order(&format!("host:{w}"), &mut f);
                let mut again = found(5);
                claim_order(&format!("host:{w}"), &mut again);
                assert_eq!(f, again, "the order is stable");
                f[0].0.session_id.to_string()
            })
            .collect();
        assert!(firsts.len() >= 2, "four workers all started at the same session: {firsts:?}");
    }
}
