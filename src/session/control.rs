//! Steering a session from outside the process that runs it: messages and named signals,
//! cancellation, handing a stopped session back to the workers, and marking a resumed
//! session that had already finished its last phase. `windlass signal`, `windlass cancel`,
//! `windlass resume` and the HTTP API (`crate::serve`) all go through these functions, so the
//! command line and the API say and do the same thing, and neither builds rows itself.

use super::claim;
use super::mailbox::waiting_for_signal;
use super::signals;
use crate::session_id::SessionId;
use crate::store::{SessionFilter, SessionStateRow, SessionStatus, SignalRow, Store, StoreError};
use serde_json::Value;

/// Why a session cannot take what was sent to it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ControlError {
    #[error("no such session {session} in this store")]
    Unknown { session: String },
    /// It ended; only sessions that have not ended take signals, cancels or resumes.
    #[error("session {session} already ended with status {status}")]
    Finished { session: String, status: SessionStatus },
    /// A resume of a session a live process still runs (or a worker is about to).
    #[error("session {session} {detail}")]
    Busy { session: String, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The session's row; it must exist and not have ended.
pub async fn open_session(store: &dyn Store, id: &SessionId) -> Result<SessionStateRow, ControlError> {
    let row = store.session_state(id).await?.ok_or_else(|| ControlError::Unknown { session: id.to_string() })?;
    if row.status.is_finished() {
        return Err(ControlError::Finished { session: id.to_string(), status: row.status });
    }
    Ok(row)
}

/// Send a message to a session that has not ended: the answer to its pending question, or
/// feedback added to its conversation. Returns the stored row.
pub async fn send_message(store: &dyn Store, id: &SessionId, message: &str) -> Result<SignalRow, ControlError> {
    open_session(store, id).await?;
    let row = signals::message(id, message, store.now().await?);
    store.put_signal(&row).await?;
    Ok(row)
}

/// Fire the named signal `name` at one session (which must not have ended).
pub async fn send_named(
    store: &dyn Store,
    id: &SessionId,
    name: &str,
    payload: &Value,
) -> Result<SignalRow, ControlError> {
    open_session(store, id).await?;
    let row = signals::named(id, name, payload, store.now().await?);
    store.put_signal(&row).await?;
    Ok(row)
}

/// Fire `name` at every session waiting on it, now and later; also returns how many wait now.
pub async fn broadcast_named(store: &dyn Store, name: &str, payload: &Value) -> Result<(SignalRow, usize), StoreError> {
    let filter = SessionFilter { status: Some(SessionStatus::Blocked), limit: 100_000, ..Default::default() };
    let waiting = waiting_for_signal(name);
    let waiters = store.list_sessions(&filter).await?.iter().filter(|r| r.blocked_on == waiting).count();
    let row = signals::named(&signals::broadcast(), name, payload, store.now().await?);
    store.put_signal(&row).await?;
    Ok((row, waiters))
}

/// How a cancel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// A live process runs it; it stops at its next step.
    Requested,
    /// Nobody ran it (queued, orphaned, released): it is cancelled now.
    Now,
}

/// Ask a session to stop at its next boundary; one that nobody runs is cancelled at once.
pub async fn cancel(store: &dyn Store, id: &SessionId, reason: Option<&str>) -> Result<Cancelled, ControlError> {
    let row = open_session(store, id).await?;
    let now = store.now().await?;
    // The request is a fact of its own: a heartbeat can never undo it.
    store.put_signal(&signals::cancel(id, reason, now)).await?;
    if row.status.is_live() && !claim::is_orphan(&row, now) {
        return Ok(Cancelled::Requested);
    }
    let mut r = row;
    r.status = SessionStatus::Cancelled;
    r.cancel_requested = true;
    r.error_message = match reason {
        Some(why) => format!("cancelled: {why}"),
        None => "cancelled".into(),
    };
    r.version = claim::final_version(r.owner_epoch).max(r.version.saturating_add(1));
    r.updated_at = now;
    r.completed_at = now;
    store.put_session_state(&r).await?;
    Ok(Cancelled::Now)
}

/// Hand a stopped session back to the workers: it is marked `orphaned`, which any
/// `windlass worker` on the store claims and continues from its last checkpoint. A session
/// that ended with an error is taken too (like `windlass resume`); a queued one is already
/// waiting for a worker, and one a live process owns is refused.
pub async fn requeue(store: &dyn Store, id: &SessionId) -> Result<SessionStateRow, ControlError> {
    let row = store.session_state(id).await?.ok_or_else(|| ControlError::Unknown { session: id.to_string() })?;
    let busy = |detail: String| ControlError::Busy { session: id.to_string(), detail };
    match row.status {
        SessionStatus::Completed | SessionStatus::Cancelled => {
            return Err(ControlError::Finished { session: id.to_string(), status: row.status })
        }
        SessionStatus::Queued => return Err(busy("is already queued for a worker".into())),
        _ => {}
    }
    let now = store.now().await?;
    if row.status.is_live() && !claim::is_orphan(&row, now) {
        return Err(busy(format!("is running on {} (its heartbeat lease has not run out)", row.owner)));
    }
    Ok(claim::mark_orphaned(store, &row, now).await?)
}

/// Mark a claimed session that had already finished its last phase as completed (a resume
/// with nothing left to run).
pub async fn complete_finished(
    store: &dyn Store,
    row: SessionStateRow,
    owner: String,
    epoch: u64,
) -> Result<(), StoreError> {
    let mut r = row;
    r.status = SessionStatus::Completed;
    r.owner = owner;
    r.owner_epoch = epoch;
    r.version = claim::COMPLETED_VERSION;
    r.updated_at = store.now().await?;
    r.completed_at = r.updated_at;
    store.put_session_state(&r).await
}
