//! What `windlass signal`, `windlass cancel` and `windlass resume` change on a session in the
//! store, so the command line only parses, calls and prints: a session must exist and not
//! have ended to take a signal; a cancel is recorded as a signal, and a session nobody runs
//! is cancelled on the spot; a resumed session that had finished its last phase is marked
//! completed.

use super::claim;
use super::mailbox::waiting_for_signal;
use super::signals;
use crate::session_id::SessionId;
use crate::store::{SessionFilter, SessionStateRow, SessionStatus, Store, StoreError};

/// Why a session cannot take a signal or a cancel.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no session {session} in this store")]
    Unknown { session: String },
    #[error("session {session} already ended with status {status}")]
    Ended { session: String, status: SessionStatus },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The session's row; it must exist and not have ended.
pub async fn ensure_open(store: &dyn Store, id: &SessionId) -> Result<SessionStateRow, ControlError> {
    let row = store.session_state(id).await?.ok_or_else(|| ControlError::Unknown { session: id.to_string() })?;
    if row.status.is_finished() {
        return Err(ControlError::Ended { session: id.to_string(), status: row.status });
    }
    Ok(row)
}

/// How many sessions wait on the named signal right now.
pub async fn waiting_on(store: &dyn Store, name: &str) -> Result<usize, StoreError> {
    let filter = SessionFilter { status: Some(SessionStatus::Blocked), cascade_id: None, limit: 100_000 };
    let waiting = waiting_for_signal(name);
    Ok(store.list_sessions(&filter).await?.iter().filter(|r| r.blocked_on == waiting).count())
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// The session runs somewhere: it stops at its next step.
    Requested,
    /// Nobody ran it (queued, orphaned, released): it is cancelled now.
    Cancelled,
}

/// Cancel a session that has not ended.
pub async fn cancel(store: &dyn Store, id: &SessionId, reason: Option<&str>) -> Result<Cancel, ControlError> {
    let row = ensure_open(store, id).await?;
    let now = store.now().await?;
    // The request is a fact of its own: a heartbeat can never undo it.
    store.put_signal(&signals::cancel(id, reason, now)).await?;
    let live = row.status.is_live() && !claim::is_orphan(&row, now);
    if live {
        return Ok(Cancel::Requested);
    }
    let mut r = row;
    r.status = SessionStatus::Cancelled;
    r.cancel_requested = true;
    r.error_message = match reason {
        Some(why) => format!("cancelled: {why}"),
        None => "cancelled".into(),
    };
    r.version = claim::final_version(r.owner_epoch).max(r.version + 1);
    r.updated_at = now;
    r.completed_at = now;
    store.put_session_state(&r).await?;
    Ok(Cancel::Cancelled)
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
    r.version = claim::final_version(epoch);
    r.updated_at = store.now().await?;
    r.completed_at = r.updated_at;
    store.put_session_state(&r).await
}
