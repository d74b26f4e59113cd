//! Taking a session over without row locks (store.md, "Heartbeats, orphans, claims").
//!
//! A claim is an appended `claim` row in `signals` for the next epoch. The claimer waits a
//! settle delay longer than its own insert took, reads the claims back, and the smallest
//! owner id among the claims of that epoch wins; the others back off. The winner's epoch
//! goes on every state row and checkpoint, and before each checkpoint the owner checks that
//! no later claim exists ([`highest_claim`]), so an owner that wakes up late stops instead
//! of overwriting. Session row versions are `epoch << 40 | counter`, so a row of a later
//! epoch always wins over a stale owner's.
//!
//! Why two winners cannot happen: a claimer counts its claim only when the time from just
//! before its read of the claims to the return of its insert stayed within
//! [`CLAIM_WITHIN`], which is no longer than the least settle delay. Say A won epoch `n`
//! without seeing B's claim, and B did not see A's when it read. Then B's insert landed
//! after A's read-back, which came a settle delay after A's insert, which landed after B's
//! read: B's read-to-insert took longer than a settle delay, so B withdrew its claim (a
//! `withdrawn` row) instead of counting it. Two claims that both count therefore see each
//! other, and both pick the same smallest owner. A withdrawn claim never wins; a claimer
//! that lost to one reads once more after it had time to be withdrawn.
//!
//! On a replicated store (`WINDLASS_CLICKHOUSE_CLUSTER`) "landed" means "on a quorum of
//! replicas": claims are quorum inserts and the reads here are sequentially consistent, so
//! claimers on different replicas see each other's claims as if they shared one server. An
//! insert that fails may still have reached one replica and surface later (an ambiguous
//! quorum failure): the claimer counts it as not written, withdraws it (best effort) and does
//! not run the session. A claim that surfaces late is then a claim whose claimer never
//! started, which the rules above already allow for: it cannot make a second runner (its
//! claimer does not run), and at worst it makes the others lose that round and hold off for
//! a lease.

use super::clock::Clock;
use super::signals::{self, kind};
use crate::session_id::SessionId;
use crate::store::{SessionStateRow, SessionStatus, SignalRow, Store, StoreError};
use std::time::Duration;

/// The least time a claimer waits before reading the claims back.
pub const SETTLE: Duration = Duration::from_millis(300);

/// The longest a claimer's read of the claims to the return of its insert may take for the
/// claim to count (see the module docs). No longer than [`SETTLE`].
pub const CLAIM_WITHIN: Duration = SETTLE;

/// How many rounds a claim takes at most when the store is too slow for [`CLAIM_WITHIN`].
const ROUNDS: usize = 4;

/// Version bits of a session row kept for the counter within an epoch.
pub const EPOCH_SHIFT: u32 = 40;

/// The version an `orphans` mark writes: above every heartbeat of that epoch (so a paused
/// owner that wakes up cannot write `running` over it), below its final row.
pub fn orphan_mark_version(epoch: u64) -> u64 {
    (epoch << EPOCH_SHIFT) | (1 << (EPOCH_SHIFT - 1))
}

/// The version of a session's final row in an epoch: above everything else of the epoch.
pub fn final_version(epoch: u64) -> u64 {
    (epoch << EPOCH_SHIFT) | ((1 << EPOCH_SHIFT) - 1)
}

/// The version of a completed session's row, whoever writes it: above every epoch, so nothing
/// written later (a claim that raced the end, a late heartbeat) shows over a completion, and
/// one logical row however many owners saw the session finish. An owner whose lease ran out
/// while it wrote its last row, and the worker that took the session over and found every
/// phase checkpointed, both write this version: the store keeps one completion.
pub const COMPLETED_VERSION: u64 = u64::MAX;

/// The version of the final row that `owner` at `epoch` writes for a session ending in `status`.
pub fn ending_version(status: SessionStatus, epoch: u64) -> u64 {
    match status {
        SessionStatus::Completed => COMPLETED_VERSION,
        _ => final_version(epoch),
    }
}

/// How a claim ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This process owns the session at `epoch`; `row` is the state it took over.
    Won { epoch: u64, row: Box<SessionStateRow> },
    /// Someone else has it, or it cannot be claimed.
    Lost(Refusal),
}

/// Why a session cannot be claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub reason: String,
    /// When trying again may succeed (store clock), e.g. when a lease runs out; `None`:
    /// never (the session ended, or another process won it).
    pub retry_at: Option<f64>,
    /// Lost a race at the same epoch, or the store was too slow to claim safely: nobody may
    /// end up running it, so trying again soon is worth it.
    pub raced: bool,
}

impl Refusal {
    fn never(reason: impl Into<String>) -> Refusal {
        Refusal { reason: reason.into(), retry_at: None, raced: false }
    }

    fn raced(reason: impl Into<String>) -> Refusal {
        Refusal { reason: reason.into(), retry_at: None, raced: true }
    }
}

/// What may be claimed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimRules {
    /// Take a live session whose lease has not run out (`resume --force`).
    pub force: bool,
    /// Take a session that ended with an error (`resume`; workers never do).
    pub allow_error: bool,
    /// The lease of the row a winner writes at once (its heartbeat lease); zero: the
    /// session row's own, or a minute.
    pub lease: Duration,
}

/// The claim rows of a session (withdrawn ones included: a fence counts them too).
pub async fn claims(store: &dyn Store, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError> {
    Ok(store.signals(session_id).await?.into_iter().filter(|r| r.kind == kind::CLAIM).collect())
}

/// The highest epoch any claim on the session names (0: none).
pub async fn highest_claim(store: &dyn Store, session_id: &SessionId) -> Result<u64, StoreError> {
    Ok(claims(store, session_id).await?.iter().filter_map(signals::claim_epoch).max().unwrap_or(0))
}

/// The claims of `rows` (claim and withdrawal rows of one session) that were not withdrawn.
fn counted(rows: &[&SignalRow]) -> Vec<(u64, String, f64)> {
    let withdrawn: Vec<(u64, &str)> =
        rows.iter().filter_map(|r| Some((signals::withdrawn_epoch(r)?, r.name.as_str()))).collect();
    rows.iter()
        .filter_map(|r| Some((signals::claim_epoch(r)?, r.name.clone(), r.created_at)))
        .filter(|(e, name, _)| !withdrawn.contains(&(*e, name.as_str())))
        .collect()
}

/// Whether `owner` may claim the session now, and the epoch it is at; `Err` says why not.
/// `claims` are its claim and withdrawal rows.
pub fn claimable(
    row: &SessionStateRow,
    claims: &[&SignalRow],
    owner: &str,
    now: f64,
    rules: ClaimRules,
) -> Result<u64, Refusal> {
    let epoch = claims.iter().filter_map(|c| signals::claim_epoch(c)).max().unwrap_or(0).max(row.owner_epoch);
    match row.status {
        SessionStatus::Completed | SessionStatus::Cancelled => {
            return Err(Refusal::never(format!("it already ended with status {}", row.status)))
        }
        SessionStatus::Error if !rules.allow_error => return Err(Refusal::never("it ended with an error")),
        s if s.is_live() && !rules.force && row.heartbeat_at + row.lease_seconds > now => {
            return Err(Refusal {
                reason: format!(
                    "it is owned by {} (heartbeat {:.0}s ago, lease {:.0}s)",
                    row.owner,
                    (now - row.heartbeat_at).max(0.0),
                    row.lease_seconds
                ),
                retry_at: Some(row.heartbeat_at + row.lease_seconds),
                raced: false,
            })
        }
        _ => {}
    }
    // The winner of the latest epoch claimed since the session's own, made within a lease:
    // it is starting up right now. When that winner is this owner (it lost a round to a
    // claim that was withdrawn later), it claims the next epoch.
    if !rules.force {
        let lease = if row.lease_seconds > 0.0 { row.lease_seconds } else { 60.0 };
        let live = counted(claims);
        let latest = live.iter().map(|(e, _, _)| *e).filter(|e| *e > row.owner_epoch).max();
        let pending =
            live.iter().filter(|(e, _, at)| Some(*e) == latest && at + lease > now).min_by(|a, b| a.1.cmp(&b.1));
        if let Some((_, name, at)) = pending {
            if name != owner {
                return Err(Refusal {
                    reason: format!("{name} is taking it over"),
                    retry_at: Some(at + lease),
                    raced: false,
                });
            }
        }
    }
    Ok(epoch)
}

/// Try to take `session_id` over for `owner` (see the module docs). Leases are judged and
/// the settle delay waited on `clock`.
pub async fn claim(
    store: &dyn Store,
    session_id: &SessionId,
    owner: &str,
    rules: ClaimRules,
    clock: &dyn Clock,
) -> Result<Claim, StoreError> {
    let mut out = claim_many(store, std::slice::from_ref(session_id), owner, rules, clock).await?;
    Ok(out.pop().map(|(_, c)| c).unwrap_or_else(|| Claim::Lost(Refusal::never("there is no such session"))))
}

/// Try to take every session of `ids` over for `owner` in one round: one read of their rows
/// and claims, one insert of all claim rows, one settle delay, one read back. Returns a
/// [`Claim`] for each id, in the order given. When the store answered too slowly for the
/// claims to count ([`CLAIM_WITHIN`]), they are withdrawn and the round is tried again, a
/// few times at most.
pub async fn claim_many(
    store: &dyn Store,
    ids: &[SessionId],
    owner: &str,
    rules: ClaimRules,
    clock: &dyn Clock,
) -> Result<Vec<(SessionId, Claim)>, StoreError> {
    let mut out: Vec<Option<Claim>> = vec![None; ids.len()];
    let mut todo: Vec<usize> = (0..ids.len()).collect();
    for _ in 0..ROUNDS {
        todo = round(store, ids, &todo, owner, rules, clock, &mut out).await?;
        if todo.is_empty() {
            break;
        }
    }
    Ok(ids
        .iter()
        .cloned()
        .zip(out)
        .map(|(id, c)| {
            let slow = || Claim::Lost(Refusal::raced("the store answered too slowly to claim it safely"));
            (id, c.unwrap_or_else(slow))
        })
        .collect())
}

/// One claim round for `ids[todo]`: fills `out` and returns the slots to try again.
async fn round(
    store: &dyn Store,
    ids: &[SessionId],
    todo: &[usize],
    owner: &str,
    rules: ClaimRules,
    clock: &dyn Clock,
    out: &mut [Option<Claim>],
) -> Result<Vec<usize>, StoreError> {
    let started = clock.instant();
    let asked: Vec<SessionId> = todo.iter().map(|i| ids[*i].clone()).collect();
    let rows = store.session_states(&asked).await?;
    let now = clock.lease_now(store).await?;
    let all_claims = claims_of(store, &asked).await?;
    let mut trying: Vec<(usize, u64, SessionStateRow)> = Vec::new();
    for &slot in todo {
        let id = &ids[slot];
        let Some(row) = rows.iter().find(|r| &r.session_id == id) else {
            out[slot] = Some(Claim::Lost(Refusal::never("there is no such session")));
            continue;
        };
        match claimable(row, &of(&all_claims, id), owner, now, rules) {
            Ok(e) => trying.push((slot, e + 1, row.clone())),
            Err(why) => out[slot] = Some(Claim::Lost(why)),
        }
    }
    if trying.is_empty() {
        return Ok(Vec::new());
    }
    // Too slow already: inserting now could not count; read again.
    if clock.elapsed(started) > CLAIM_WITHIN {
        return Ok(trying.iter().map(|(slot, _, _)| *slot).collect());
    }
    let inserting = clock.instant();
    let rows: Vec<SignalRow> = trying.iter().map(|(_, e, r)| signals::claim(&r.session_id, owner, *e, now)).collect();
    let back: Vec<SignalRow> =
        trying.iter().map(|(_, e, r)| signals::withdrawn(&r.session_id, owner, *e, now)).collect();
    if let Err(e) = store.put_signals(&rows).await {
        // The claims may have been written after all (see the module docs): take them back,
        // if the store lets us, so they hold nobody off.
        let _ = store.put_signals(&back).await;
        return Err(e);
    }
    if clock.elapsed(started) > CLAIM_WITHIN {
        store.put_signals(&back).await?;
        return Ok(trying.iter().map(|(slot, _, _)| *slot).collect());
    }
    clock.sleep(SETTLE.max(clock.elapsed(inserting) * 4)).await;
    let claimed: Vec<SessionId> = trying.iter().map(|(_, _, r)| r.session_id.clone()).collect();
    let mut rivals = claims_of(store, &claimed).await?;
    // A rival that beat this claim at its epoch may withdraw right after its insert: give it
    // the time to, once.
    if trying.iter().any(|(_, epoch, row)| decide(&of(&rivals, &row.session_id), owner, *epoch).is_err_and(|r| r.raced))
    {
        clock.sleep(SETTLE).await;
        rivals = claims_of(store, &claimed).await?;
    }
    let mut winners = Vec::new();
    for (slot, epoch, row) in trying {
        match decide(&of(&rivals, &row.session_id), owner, epoch) {
            Ok(()) => winners.push((slot, epoch, row)),
            Err(why) => out[slot] = Some(Claim::Lost(why)),
        }
    }
    if winners.is_empty() {
        return Ok(Vec::new());
    }
    let won: Vec<SessionId> = winners.iter().map(|(_, _, r)| r.session_id.clone()).collect();
    let current = store.session_states(&won).await?;
    let mut starting = Vec::new();
    let mut redo = Vec::new();
    let mut late = Vec::new();
    let now = clock.lease_now(store).await?;
    for (slot, epoch, row) in winners {
        let now_row = current.iter().find(|r| r.session_id == row.session_id).cloned().unwrap_or(row);
        if now_row.owner_epoch >= epoch && now_row.owner != owner {
            out[slot] = Some(Claim::Lost(Refusal::never(format!("{} already runs it", now_row.owner))));
            continue;
        }
        let first = starting_row(&now_row, owner, epoch, now, rules.lease);
        // Others hold off for a lease after a claim; a round that took half of it may
        // already look abandoned to them.
        if clock.elapsed(started).as_secs_f64() > first.lease_seconds / 2.0 {
            late.push(signals::withdrawn(&now_row.session_id, owner, epoch, now));
            redo.push(slot);
            continue;
        }
        starting.push(first);
        out[slot] = Some(Claim::Won { epoch, row: Box::new(now_row) });
    }
    if !late.is_empty() {
        store.put_signals(&late).await?;
    }
    // The winner's lease starts now, not when its session has loaded (which can take longer
    // than a lease on a busy store): until then, others see it `starting`.
    if !starting.is_empty() {
        store.put_session_states(&starting).await?;
    }
    Ok(redo)
}

/// The first row of `owner`'s epoch: `starting`, with a fresh heartbeat, below every row its
/// session then writes.
fn starting_row(row: &SessionStateRow, owner: &str, epoch: u64, now: f64, lease: Duration) -> SessionStateRow {
    let mut r = row.clone();
    r.status = SessionStatus::Starting;
    r.version = epoch << EPOCH_SHIFT;
    r.owner = owner.to_string();
    r.owner_epoch = epoch;
    r.heartbeat_at = now;
    r.lease_seconds = match lease.as_secs_f64() {
        l if l > 0.0 => l,
        _ if row.lease_seconds > 0.0 => row.lease_seconds,
        _ => 60.0,
    };
    r.updated_at = now;
    r
}

/// The claim and withdrawal rows of several sessions.
async fn claims_of(store: &dyn Store, ids: &[SessionId]) -> Result<Vec<SignalRow>, StoreError> {
    Ok(store
        .signals_of(ids)
        .await?
        .into_iter()
        .filter(|r| r.kind == kind::CLAIM || r.kind == kind::WITHDRAWN)
        .collect())
}

/// The rows of `rows` about `id`.
fn of<'a>(rows: &'a [SignalRow], id: &SessionId) -> Vec<&'a SignalRow> {
    rows.iter().filter(|r| &r.session_id == id).collect()
}

/// Whether `owner`'s claim for `epoch` won, given every claim and withdrawal of the session
/// read back after the settle delay: no later epoch, and the smallest owner among the claims
/// of this one that were not withdrawn.
pub fn decide(claims: &[&SignalRow], owner: &str, epoch: u64) -> Result<(), Refusal> {
    if let Some(later) = claims.iter().filter_map(|c| signals::claim_epoch(c)).filter(|e| *e > epoch).max() {
        return Err(Refusal::never(format!("another process claimed epoch {later}")));
    }
    let live = counted(claims);
    let winner = live.iter().filter(|(e, _, _)| *e == epoch).map(|(_, n, _)| n.as_str()).min().unwrap_or(owner);
    if winner != owner {
        return Err(Refusal::raced(format!("{winner} claimed it first")));
    }
    Ok(())
}

/// Mark a session whose lease ran out as `orphaned` (`windlass orphans`). Returns the row
/// written.
pub async fn mark_orphaned(store: &dyn Store, row: &SessionStateRow, now: f64) -> Result<SessionStateRow, StoreError> {
    let mut r = row.clone();
    r.status = SessionStatus::Orphaned;
    r.version = (row.version + 1).max(orphan_mark_version(row.owner_epoch));
    r.updated_at = now;
    if r.error_message.is_empty() {
        r.error_message = format!("its owner {} stopped heartbeating", row.owner);
    }
    store.put_session_state(&r).await?;
    Ok(r)
}

/// Whether a session's owner stopped heartbeating: live status, lease run out (store clock).
pub fn is_orphan(row: &SessionStateRow, now: f64) -> bool {
    row.status == SessionStatus::Orphaned || (row.status.is_live() && row.heartbeat_at + row.lease_seconds <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, heartbeat_at: f64, epoch: u64) -> SessionStateRow {
        SessionStateRow {
            version: epoch << EPOCH_SHIFT,
            heartbeat_at,
            lease_seconds: 10.0,
            owner: "h:1".into(),
            owner_epoch: epoch,
            ..SessionStateRow::new("s", SessionStatus::from_stored(status), "c")
        }
    }

    #[test]
    fn live_and_finished_sessions_are_not_claimable() {
        let rules = ClaimRules::default();
        let me = "w:1";
        assert!(claimable(&row("running", 95.0, 1), &[], me, 100.0, rules).is_err());
        assert_eq!(claimable(&row("running", 80.0, 1), &[], me, 100.0, rules), Ok(1));
        assert_eq!(claimable(&row("running", 95.0, 1), &[], me, 100.0, ClaimRules { force: true, ..rules }), Ok(1));
        assert!(claimable(&row("completed", 0.0, 1), &[], me, 100.0, rules).is_err());
        assert!(claimable(&row("error", 0.0, 1), &[], me, 100.0, rules).is_err());
        assert_eq!(claimable(&row("error", 0.0, 1), &[], me, 100.0, ClaimRules { allow_error: true, ..rules }), Ok(1));
        assert_eq!(claimable(&row("queued", 0.0, 0), &[], me, 100.0, rules), Ok(0));
    }

    #[test]
    fn a_recent_claim_holds_others_off_and_raises_the_epoch() {
        let rules = ClaimRules::default();
        let recent = signals::claim(&SessionId::new("s"), "w:2", 3, 99.0);
        assert!(claimable(&row("orphaned", 0.0, 2), &[&recent], "w:1", 100.0, rules).is_err());
        let old = signals::claim(&SessionId::new("s"), "w:2", 3, 50.0);
        assert_eq!(claimable(&row("orphaned", 0.0, 2), &[&old], "w:1", 100.0, rules), Ok(3));
    }

    #[test]
    fn a_claimer_that_lost_to_a_withdrawn_claim_claims_the_next_epoch() {
        let rules = ClaimRules::default();
        let id = SessionId::new("s");
        let (a, b) = (signals::claim(&id, "a:1", 3, 99.0), signals::claim(&id, "b:1", 3, 99.0));
        let a_back = signals::withdrawn(&id, "a:1", 3, 99.2);
        // b won epoch 3: others wait for it.
        assert!(claimable(&row("orphaned", 0.0, 2), &[&a, &b, &a_back], "c:1", 100.0, rules).is_err());
        // b lost epoch 3 to a, which withdrew: b is the winner that never started; it goes on.
        assert_eq!(claimable(&row("orphaned", 0.0, 2), &[&a, &b, &a_back], "b:1", 100.0, rules), Ok(3));
        assert!(decide(&[&a, &b, &a_back], "b:1", 3).is_ok());
        assert!(decide(&[&a, &b], "b:1", 3).is_err_and(|r| r.raced));
    }

    #[test]
    fn the_smallest_owner_of_the_highest_epoch_wins() {
        let id = SessionId::new("s");
        let a = signals::claim(&id, "a:1", 3, 10.0);
        let b = signals::claim(&id, "b:1", 3, 10.0);
        assert!(decide(&[&a, &b], "a:1", 3).is_ok());
        assert!(decide(&[&a, &b], "b:1", 3).is_err());
        let later = signals::claim(&id, "z:1", 4, 10.0);
        assert!(decide(&[&a, &later], "a:1", 3).is_err_and(|r| !r.raced));
    }

    #[test]
    fn versions_order_heartbeats_orphan_marks_and_final_rows() {
        let heartbeat = (5 << EPOCH_SHIFT) | 1000;
        assert!(orphan_mark_version(5) > heartbeat);
        assert!(final_version(5) > orphan_mark_version(5));
        assert!((6 << EPOCH_SHIFT) > final_version(5));
        // A completion stays above any later epoch's rows, and is one version for all owners.
        assert!(ending_version(SessionStatus::Completed, 5) > final_version(1 << 20));
        assert_eq!(ending_version(SessionStatus::Completed, 5), ending_version(SessionStatus::Completed, 6));
        assert_eq!(ending_version(SessionStatus::Error, 5), final_version(5));
    }

    #[test]
    fn a_clean_fence_check_expires_before_a_claim_can_win() {
        assert!(super::super::durable::FENCE_FRESH < SETTLE);
    }

    #[test]
    fn orphans_are_live_sessions_past_their_lease() {
        assert!(is_orphan(&row("running", 80.0, 1), 100.0));
        assert!(!is_orphan(&row("running", 95.0, 1), 100.0));
        assert!(is_orphan(&row("orphaned", 99.0, 1), 100.0));
        assert!(!is_orphan(&row("completed", 0.0, 1), 100.0));
    }
}
