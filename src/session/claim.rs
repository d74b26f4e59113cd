//! Taking a session over without row locks (store.md, "Heartbeats, orphans, claims").
//!
//! A claim is an appended `claim` row in `signals` for the next epoch. The claimer waits a
//! settle delay longer than its own insert took, reads the claims back, and the smallest
//! owner id among the claims of that epoch wins; the others back off. The winner's epoch
//! goes on every state row and checkpoint, and before each checkpoint the owner checks that
//! no later claim exists ([`highest_claim`]), so an owner that wakes up late stops instead
//! of overwriting. Session row versions are `epoch << 40 | counter`, so a row of a later
//! epoch always wins over a stale owner's.

use super::clock::Clock;
use super::signals::{self, kind};
use crate::session_id::SessionId;
use crate::store::{SessionStateRow, SessionStatus, SignalRow, Store, StoreError};
use std::time::Duration;

/// The least time a claimer waits before reading the claims back.
pub const SETTLE: Duration = Duration::from_millis(300);

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
}

impl Refusal {
    fn never(reason: impl Into<String>) -> Refusal {
        Refusal { reason: reason.into(), retry_at: None }
    }
}

/// What may be claimed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimRules {
    /// Take a live session whose lease has not run out (`resume --force`).
    pub force: bool,
    /// Take a session that ended with an error (`resume`; workers never do).
    pub allow_error: bool,
}

/// The claim rows of a session.
pub async fn claims(store: &dyn Store, session_id: &SessionId) -> Result<Vec<SignalRow>, StoreError> {
    Ok(store.signals(session_id).await?.into_iter().filter(|r| r.kind == kind::CLAIM).collect())
}

/// The highest epoch any claim on the session names (0: none).
pub async fn highest_claim(store: &dyn Store, session_id: &SessionId) -> Result<u64, StoreError> {
    Ok(claims(store, session_id).await?.iter().filter_map(signals::claim_epoch).max().unwrap_or(0))
}

/// Whether the session may be claimed now, and the epoch it is at; `Err` says why not.
pub fn claimable(row: &SessionStateRow, claims: &[SignalRow], now: f64, rules: ClaimRules) -> Result<u64, Refusal> {
    let epoch = claims.iter().filter_map(signals::claim_epoch).max().unwrap_or(0).max(row.owner_epoch);
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
            })
        }
        _ => {}
    }
    // A claim newer than the session's own epoch, made within a lease: its winner is
    // starting up right now.
    if !rules.force {
        let lease = if row.lease_seconds > 0.0 { row.lease_seconds } else { 60.0 };
        let pending = claims
            .iter()
            .filter(|c| signals::claim_epoch(c).is_some_and(|e| e > row.owner_epoch) && c.created_at + lease > now)
            .min_by(|a, b| a.name.cmp(&b.name));
        if let Some(c) = pending {
            return Err(Refusal {
                reason: format!("{} is taking it over", c.name),
                retry_at: Some(c.created_at + lease),
            });
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
/// [`Claim`] for each id, in the order given.
///
/// Known race, not closed here: a claimer descheduled between its read of the epoch and its
/// insert may insert a claim for an epoch that a rival already won without seeing it, and win
/// too if its name is smaller, before the rival's state row is written; both then run the
/// next phase until the checkpoint fence stops one.
pub async fn claim_many(
    store: &dyn Store,
    ids: &[SessionId],
    owner: &str,
    rules: ClaimRules,
    clock: &dyn Clock,
) -> Result<Vec<(SessionId, Claim)>, StoreError> {
    let rows = store.session_states(ids).await?;
    let now = clock.lease_now(store).await?;
    let all_claims = claims_of(store, ids).await?;
    let mut out: Vec<(SessionId, Claim)> = Vec::with_capacity(ids.len());
    let mut trying: Vec<(usize, u64, SessionStateRow)> = Vec::new();
    for id in ids {
        let Some(row) = rows.iter().find(|r| &r.session_id == id) else {
            out.push((id.clone(), Claim::Lost(Refusal::never("there is no such session"))));
            continue;
        };
        let mine: Vec<SignalRow> = all_claims.iter().filter(|c| &c.session_id == id).cloned().collect();
        match claimable(row, &mine, now, rules) {
            Ok(e) => trying.push((out.len(), e + 1, row.clone())),
            Err(why) => {
                out.push((id.clone(), Claim::Lost(why)));
                continue;
            }
        }
        // A placeholder, decided below.
        out.push((id.clone(), Claim::Lost(Refusal::never("undecided"))));
    }
    if trying.is_empty() {
        return Ok(out);
    }
    let started = clock.instant();
    let rows: Vec<SignalRow> = trying.iter().map(|(_, e, r)| signals::claim(&r.session_id, owner, *e, now)).collect();
    store.put_signals(&rows).await?;
    clock.sleep(SETTLE.max(clock.elapsed(started) * 4)).await;
    let claimed: Vec<SessionId> = trying.iter().map(|(_, _, r)| r.session_id.clone()).collect();
    let rivals = claims_of(store, &claimed).await?;
    let mut winners = Vec::new();
    for (slot, epoch, row) in trying {
        let these: Vec<&SignalRow> = rivals.iter().filter(|c| c.session_id == row.session_id).collect();
        out[slot].1 = match decide(&these, owner, epoch) {
            Ok(()) => {
                winners.push((slot, epoch, row));
                continue;
            }
            Err(why) => Claim::Lost(why),
        };
    }
    if winners.is_empty() {
        return Ok(out);
    }
    let won: Vec<SessionId> = winners.iter().map(|(_, _, r)| r.session_id.clone()).collect();
    let current = store.session_states(&won).await?;
    for (slot, epoch, row) in winners {
        let now_row = current.iter().find(|r| r.session_id == row.session_id).cloned().unwrap_or(row);
        out[slot].1 = if now_row.owner_epoch >= epoch && now_row.owner != owner {
            Claim::Lost(Refusal::never(format!("{} already runs it", now_row.owner)))
        } else {
            Claim::Won { epoch, row: Box::new(now_row) }
        };
    }
    Ok(out)
}

/// The claim rows of several sessions.
async fn claims_of(store: &dyn Store, ids: &[SessionId]) -> Result<Vec<SignalRow>, StoreError> {
    Ok(store.signals_of(ids).await?.into_iter().filter(|r| r.kind == kind::CLAIM).collect())
}

/// Whether `owner`'s claim for `epoch` won, given every claim of the session read back after
/// the settle delay: no later epoch, and the smallest owner of this one.
pub fn decide(claims: &[&SignalRow], owner: &str, epoch: u64) -> Result<(), Refusal> {
    if let Some(later) = claims.iter().filter_map(|c| signals::claim_epoch(c)).filter(|e| *e > epoch).max() {
        return Err(Refusal::never(format!("another process claimed epoch {later}")));
    }
    let same: Vec<&str> =
        claims.iter().filter(|c| signals::claim_epoch(c) == Some(epoch)).map(|c| c.name.as_str()).collect();
    let winner = same.iter().min().copied().unwrap_or(owner);
    if winner != owner {
        return Err(Refusal::never(format!("{winner} claimed it first")));
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
        assert!(claimable(&row("running", 95.0, 1), &[], 100.0, rules).is_err());
        assert_eq!(claimable(&row("running", 80.0, 1), &[], 100.0, rules), Ok(1));
        assert_eq!(claimable(&row("running", 95.0, 1), &[], 100.0, ClaimRules { force: true, ..rules }), Ok(1));
        assert!(claimable(&row("completed", 0.0, 1), &[], 100.0, rules).is_err());
        assert!(claimable(&row("error", 0.0, 1), &[], 100.0, rules).is_err());
        assert_eq!(claimable(&row("error", 0.0, 1), &[], 100.0, ClaimRules { allow_error: true, ..rules }), Ok(1));
        assert_eq!(claimable(&row("queued", 0.0, 0), &[], 100.0, rules), Ok(0));
    }

    #[test]
    fn a_recent_claim_holds_others_off_and_raises_the_epoch() {
        let rules = ClaimRules::default();
        let recent = signals::claim(&SessionId::new("s"), "w:2", 3, 99.0);
        assert!(claimable(&row("orphaned", 0.0, 2), std::slice::from_ref(&recent), 100.0, rules).is_err());
        let old = signals::claim(&SessionId::new("s"), "w:2", 3, 50.0);
        assert_eq!(claimable(&row("orphaned", 0.0, 2), &[old], 100.0, rules), Ok(3));
    }

    #[test]
    fn the_smallest_owner_of_the_highest_epoch_wins() {
        let id = SessionId::new("s");
        let a = signals::claim(&id, "a:1", 3, 10.0);
        let b = signals::claim(&id, "b:1", 3, 10.0);
        assert!(decide(&[&a, &b], "a:1", 3).is_ok());
        assert!(decide(&[&a, &b], "b:1", 3).is_err());
        let later = signals::claim(&id, "z:1", 4, 10.0);
        assert!(decide(&[&a, &later], "a:1", 3).is_err());
    }

    #[test]
    fn versions_order_heartbeats_orphan_marks_and_final_rows() {
        let heartbeat = (5 << EPOCH_SHIFT) | 1000;
        assert!(orphan_mark_version(5) > heartbeat);
        assert!(final_version(5) > orphan_mark_version(5));
        assert!((6 << EPOCH_SHIFT) > final_version(5));
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
