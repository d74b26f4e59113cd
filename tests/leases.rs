//! Heartbeats, lease expiry, orphaning, claims and fencing through the library, on a manual
//! clock (no real sleeps), on both store backends. The stories with real processes (a
//! killed run, racing `worker` processes) are in `coordination.rs`, where a manual clock
//! cannot reach and the lease runs out in real time.

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::stores;
use windlass::host::worker::candidates;
use windlass::session::claim::{self, Claim, ClaimRules, SETTLE};
use windlass::session::{CheckpointError, Clock, Durable, ManualClock};
use windlass::session_id::SessionId;
use windlass::store::{SessionStatus, Store};

const LEASE: Duration = Duration::from_secs(10);
const INTERVAL: Duration = Duration::from_secs(2);

/// A clock at this machine's time (whole seconds, so stored times read back exactly).
fn clock() -> Arc<ManualClock> {
    ManualClock::new(windlass::session::durable::now().floor())
}

/// A session owned by this process at `epoch`, running, with its lease and interval.
async fn running(store: &Arc<dyn Store>, id: &str, epoch: u64, clock: &Arc<ManualClock>) -> Arc<Durable> {
    let durable =
        Durable::new(store.clone(), &SessionId::new(id), "c", "", epoch, "hash", 0, LEASE, INTERVAL, clock.clone());
    durable.set_status(SessionStatus::Running, Some("one")).await.unwrap();
    durable
}

fn spawn_claim(
    store: &Arc<dyn Store>,
    id: &str,
    owner: &str,
    rules: ClaimRules,
    clock: &Arc<ManualClock>,
) -> tokio::task::JoinHandle<Claim> {
    let (store, id, owner, clock) = (store.clone(), SessionId::new(id), owner.to_string(), clock.clone());
    tokio::spawn(async move { claim::claim(&*store, &id, &owner, rules, &*clock).await.unwrap() })
}

/// Until every claim has ended: wait (briefly, in real time) until each has either ended or
/// waits on the clock (a settle delay, or a second look at a lost race), then move the clock
/// past that delay.
async fn settle(clock: &ManualClock, tasks: &[tokio::task::JoinHandle<Claim>]) {
    let limit = std::time::Instant::now() + Duration::from_secs(30);
    while !tasks.iter().all(|t| t.is_finished()) {
        while tasks.iter().filter(|t| t.is_finished()).count() + clock.sleepers() < tasks.len() {
            assert!(std::time::Instant::now() < limit, "the claims never reached their settle delay");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        clock.advance(SETTLE);
    }
}

/// Claim `id` for `owner` while the test moves the clock past the settle delay.
async fn claim_now(
    store: &Arc<dyn Store>,
    id: &str,
    owner: &str,
    rules: ClaimRules,
    clock: &Arc<ManualClock>,
) -> Claim {
    let task = spawn_claim(store, id, owner, rules, clock);
    settle(clock, std::slice::from_ref(&task)).await;
    task.await.unwrap()
}

async fn orphans(store: &Arc<dyn Store>, clock: &Arc<ManualClock>) -> Vec<String> {
    candidates(&**store, true, &**clock).await.unwrap().into_iter().map(|(r, _)| r.session_id.into_string()).collect()
}

#[tokio::test]
async fn heartbeats_hold_the_lease_and_a_silent_owner_is_an_orphan_exactly_when_it_runs_out() {
    for (backend, store, _dir) in stores::in_process("leases_heartbeats").await {
        let clock = clock();
        let durable = running(&store, "beating", 1, &clock).await;
        let heartbeat = durable.spawn_heartbeat();
        clock.until_sleepers(1).await;
        // More than a lease's worth of time, one interval at a time: every beat is stored
        // and the session is never an orphan.
        for _ in 0..(LEASE.as_secs() / INTERVAL.as_secs() + 2) {
            clock.advance(INTERVAL);
            clock.until_sleepers(1).await;
            let row = store.session_state(&SessionId::new("beating")).await.unwrap().unwrap();
            assert_eq!(row.heartbeat_at, clock.now(), "{backend}: the beat is stamped on the clock");
            assert!(!claim::is_orphan(&row, clock.now()), "{backend}");
            assert!(orphans(&store, &clock).await.is_empty(), "{backend}");
        }
        let refused =
            claim::claim(&*store, &SessionId::new("beating"), "w:9", ClaimRules::default(), &*clock).await.unwrap();
        let Claim::Lost(why) = refused else { panic!("{backend}: a live session was taken: {refused:?}") };
        assert_eq!(why.retry_at, Some(clock.now() + LEASE.as_secs_f64()), "{backend}: {}", why.reason);
        assert!(why.reason.contains("is owned by"), "{backend}: {}", why.reason);

        // The owner goes silent (a killed process): an orphan once the lease has run out,
        // not a moment before.
        heartbeat.abort();
        clock.advance(LEASE - Duration::from_secs(1));
        assert!(orphans(&store, &clock).await.is_empty(), "{backend}");
        clock.advance(Duration::from_secs(1));
        assert_eq!(orphans(&store, &clock).await, ["beating"], "{backend}");
        let row = store.session_state(&SessionId::new("beating")).await.unwrap().unwrap();
        let marked = claim::mark_orphaned(&*store, &row, clock.now()).await.unwrap();
        assert_eq!(marked.status, SessionStatus::Orphaned, "{backend}");
        assert_eq!(
            store.session_state(&SessionId::new("beating")).await.unwrap().unwrap().status,
            marked.status,
            "{backend}"
        );
        assert_eq!(orphans(&store, &clock).await, ["beating"], "{backend}: still listed once marked");

        let won = claim_now(&store, "beating", "w:1", ClaimRules::default(), &clock).await;
        assert!(matches!(won, Claim::Won { epoch: 2, .. }), "{backend}: {won:?}");
    }
}

/// The race of store.md's claims without locks: B reads (no claim yet) and is descheduled
/// before its insert; meanwhile A claims, settles, reads back only its own claim and wins.
/// B's insert lands late with a smaller owner id: it must not win too. B took longer than a
/// settle delay from read to insert, so it withdraws, looks again and sees A taking over.
#[tokio::test]
async fn a_claimer_paused_between_its_read_and_its_insert_does_not_win_a_second_time() {
    for (backend, store, _dir) in stores::in_process("leases_paused_claim").await {
        let clock = clock();
        drop(running(&store, "paused", 1, &clock).await);
        clock.advance(LEASE);
        let paused = support::paused_store::PausedStore::holding(store.clone());
        let b_store: Arc<dyn Store> = paused.clone();
        let b = spawn_claim(&b_store, "paused", "w:1", ClaimRules::default(), &clock);
        let limit = std::time::Instant::now() + Duration::from_secs(30);
        while paused.waiting() == 0 {
            assert!(std::time::Instant::now() < limit, "{backend}: B never reached its insert");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // A claims while B waits: the clock moves two settle delays on.
        let a = spawn_claim(&store, "paused", "w:9", ClaimRules::default(), &clock);
        clock.until_sleepers(1).await;
        clock.advance(SETTLE * 2);
        let a = a.await.unwrap();
        assert!(matches!(a, Claim::Won { epoch: 2, .. }), "{backend}: A claimed alone: {a:?}");
        paused.release();
        settle(&clock, std::slice::from_ref(&b)).await;
        let b = b.await.unwrap();
        let Claim::Lost(why) = b else { panic!("{backend}: both claimers won epoch 2: {b:?}") };
        // A's `starting` row, written when it won, holds B off.
        assert_eq!(why.reason, "it is owned by w:9 (heartbeat 0s ago, lease 10s)", "{backend}");
        // Nothing withdrawn counts against A: its next checkpoint is not fenced.
        assert_eq!(claim::highest_claim(&*store, &SessionId::new("paused")).await.unwrap(), 2, "{backend}");
    }
}

#[tokio::test]
async fn of_racing_claimers_the_smallest_owner_wins_and_a_fresh_claim_holds_others_off_for_a_lease() {
    for (backend, store, _dir) in stores::in_process("leases_race").await {
        let clock = clock();
        let durable = running(&store, "raced", 1, &clock).await;
        drop(durable); // its heartbeat never started: silent from the start
        clock.advance(LEASE);
        let owners = ["w:4", "w:2", "w:3", "w:1"];
        let tasks: Vec<_> =
            owners.iter().map(|owner| spawn_claim(&store, "raced", owner, ClaimRules::default(), &clock)).collect();
        // Each claimer has inserted its claim and waits out the settle delay, or has already
        // seen another's claim and backed off.
        settle(&clock, &tasks).await;
        let mut won = Vec::new();
        let mut lost = Vec::new();
        for (owner, t) in owners.into_iter().zip(tasks) {
            match t.await.unwrap() {
                Claim::Won { epoch, .. } => won.push((owner, epoch)),
                Claim::Lost(why) => lost.push(why.reason),
            }
        }
        assert_eq!(won.len(), 1, "{backend}: exactly one winner: {won:?} {lost:?}");
        let (winner, epoch) = won[0];
        assert_eq!(epoch, 2, "{backend}");
        let claimed: Vec<String> =
            claim::claims(&*store, &SessionId::new("raced")).await.unwrap().into_iter().map(|r| r.name).collect();
        assert_eq!(claimed.iter().min().map(String::as_str), Some(winner), "{backend}: the smallest claimer wins");
        for why in &lost {
            let first = format!("{winner} claimed it first");
            let owned = format!("it is owned by {winner} ");
            assert!(why == &first || why.ends_with("is taking it over") || why.starts_with(&owned), "{backend}: {why}");
        }

        // The winner wrote its `starting` row when it won: a newcomer is held off by its
        // lease, and may take the session once a lease has passed without a heartbeat.
        let late =
            claim::claim(&*store, &SessionId::new("raced"), "w:0", ClaimRules::default(), &*clock).await.unwrap();
        let Claim::Lost(why) = late else { panic!("{backend}: {late:?}") };
        assert_eq!(why.reason, format!("it is owned by {winner} (heartbeat 0s ago, lease 10s)"), "{backend}");
        assert!(
            why.retry_at.is_some_and(|at| at > clock.now() && at <= clock.now() + LEASE.as_secs_f64()),
            "{backend}"
        );
        clock.advance(LEASE);
        let won = claim_now(&store, "raced", "w:0", ClaimRules::default(), &clock).await;
        assert!(matches!(won, Claim::Won { epoch: 3, .. }), "{backend}: {won:?}");
    }
}

#[tokio::test]
async fn a_forced_claim_fences_the_live_owner_off_at_its_next_checkpoint() {
    for (backend, store, _dir) in stores::in_process("leases_fence").await {
        let clock = clock();
        let old = running(&store, "fenced", 1, &clock).await;
        assert_eq!(old.checkpoint_durably("one", Some("two"), "{}".into(), (0, 0, 0.0)).await.unwrap(), 0, "{backend}");
        // Live: only `--force` takes it.
        let refused =
            claim::claim(&*store, &SessionId::new("fenced"), "w:2", ClaimRules::default(), &*clock).await.unwrap();
        assert!(matches!(refused, Claim::Lost(_)), "{backend}: {refused:?}");
        let rules = ClaimRules { force: true, ..ClaimRules::default() };
        let won = claim_now(&store, "fenced", "w:2", rules, &clock).await;
        assert!(matches!(won, Claim::Won { epoch: 2, .. }), "{backend}: {won:?}");
        // The settle delay outlasts a clean fencing check, so the old owner reads the claim.
        match old.checkpoint_durably("two", Some("three"), "{}".into(), (0, 0, 0.0)).await {
            Err(CheckpointError::Fenced { by: 2 }) => {}
            other => panic!("{backend}: the old owner was not fenced off: {other:?}"),
        }
        let latest = store.latest_checkpoint(&SessionId::new("fenced"), 0).await.unwrap().unwrap();
        assert_eq!((latest.phase.as_str(), latest.owner_epoch), ("one", 1), "{backend}: nothing written over");
    }
}
