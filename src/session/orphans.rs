//! What `windlass orphans` reports of each session whose worker stopped heartbeating: the
//! record its machine formats (`--format json|ndjson`) print.

use crate::session_id::SessionId;
use crate::store::{SessionStateRow, SessionStatus};
use serde::Serialize;

/// One orphan, as found (before `orphans` marks it `orphaned`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrphanRecord {
    pub session_id: SessionId,
    pub cascade_id: String,
    /// The status the session had when found: `orphaned`, or a live status whose lease ran out.
    pub was: SessionStatus,
    pub current_phase: String,
    /// The worker that held it last (empty when released).
    pub owner: String,
    pub owner_epoch: u64,
    /// Epoch seconds of the last heartbeat; `None` when the lease was released.
    pub heartbeat_at: Option<f64>,
    pub lease_seconds: f64,
    /// Seconds since the lease ran out, on the store's clock (0 when released).
    pub expired_for_seconds: f64,
    pub parent_session_id: String,
}

/// The record of `row`, judged at `now` (the store's clock, epoch seconds).
pub fn record(row: &SessionStateRow, now: f64) -> OrphanRecord {
    let released = row.heartbeat_at <= 0.0;
    OrphanRecord {
        session_id: row.session_id.clone(),
        cascade_id: row.cascade_id.clone(),
        was: row.status,
        current_phase: row.current_phase.clone(),
        owner: row.owner.clone(),
        owner_epoch: row.owner_epoch,
        heartbeat_at: (!released).then_some(row.heartbeat_at),
        lease_seconds: row.lease_seconds,
        expired_for_seconds: if released { 0.0 } else { (now - row.heartbeat_at - row.lease_seconds).max(0.0) },
        parent_session_id: row.parent_session_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_says_what_was_found_and_how_long_ago_the_lease_ran_out() {
        let row = SessionStateRow {
            heartbeat_at: 1000.0,
            lease_seconds: 60.0,
            owner: "host:1".into(),
            owner_epoch: 2,
            current_phase: "draft".into(),
            ..SessionStateRow::new("s1", SessionStatus::Running, "c")
        };
        let r = record(&row, 1100.0);
        assert_eq!((r.was, r.heartbeat_at, r.expired_for_seconds), (SessionStatus::Running, Some(1000.0), 40.0));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!((json["was"].as_str(), json["session_id"].as_str()), (Some("running"), Some("s1")));
        let released = record(&SessionStateRow { heartbeat_at: 0.0, ..row }, 1100.0);
        assert_eq!((released.heartbeat_at, released.expired_for_seconds), (None, 0.0));
    }
}
