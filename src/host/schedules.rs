//! Firing registered cron triggers: every worker looks at each scan, and queues the session of
//! each due tick that has none yet (`crate::session::schedules`: the tick's session id is the
//! same on every worker, so a tick queued by two workers is one session, claimed once).

use super::metrics::Metrics;
use super::start::{stored_definition, submit};
use super::Limits;
use crate::session::schedules::{self, tick_session, Schedule};
use crate::session_id::SessionId;
use crate::store::{SessionStatus, Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// How many earlier ticks are looked at for a session still running (no overlap).
const OVERLAP_LOOKBACK: usize = 20;

/// The newest tick of each schedule this process already fired or passed over, so each tick
/// is counted once (the ticks of a schedule are handled oldest first: one number per schedule
/// says which are done, however long the worker runs).
#[derive(Default)]
pub struct Ticker {
    handled: HashMap<String, f64>,
}

impl Ticker {
    /// Queue the due ticks of every cron schedule at `now` (store clock).
    pub async fn fire_due(
        &mut self,
        store: &dyn Store,
        now: f64,
        lease: f64,
        metrics: &Metrics,
    ) -> Result<(), StoreError> {
        for s in schedules::list(store).await?.iter().filter(|s| s.kind == "cron") {
            let done = self.handled.get(&s.id).copied().unwrap_or(f64::NEG_INFINITY);
            // Passed-over ticks are all older than the ticks to fire.
            let (fire, skip) = s.due(now);
            for tick in skip.into_iter().filter(|t| *t > done) {
                Metrics::add(&metrics.ticks_skipped);
                self.handled.insert(s.id.clone(), tick);
            }
            let fire: Vec<(f64, SessionId)> =
                fire.into_iter().filter(|t| *t > done).map(|t| (t, tick_session(&s.id, t))).collect();
            if fire.is_empty() {
                continue;
            }
            let ids: Vec<SessionId> = fire.iter().map(|(_, id)| id.clone()).collect();
            let existing: HashSet<SessionId> =
                store.session_states(&ids).await?.into_iter().map(|r| r.session_id).collect();
            for (tick, id) in &fire {
                self.handled.insert(s.id.clone(), *tick);
                if existing.contains(id) {
                    continue; // queued by another worker
                }
                if !s.allow_overlap && self.previous_running(store, s, *tick).await? {
                    Metrics::add(&metrics.ticks_skipped);
                    continue;
                }
                let Some(def) = stored_definition(&s.definition, PathBuf::from(&s.path)) else { continue };
                submit(store, &def, id, &s.inputs, &Limits::default(), lease).await?;
                Metrics::add(&metrics.ticks_fired);
            }
        }
        Ok(())
    }

    /// Whether the session of an earlier tick of `s` has not ended yet.
    async fn previous_running(&self, store: &dyn Store, s: &Schedule, tick: f64) -> Result<bool, StoreError> {
        let Some(spec) = s.cron() else { return Ok(false) };
        let earlier: Vec<SessionId> = spec
            .ticks_between(s.registered_at, tick - 1.0)
            .into_iter()
            .take(OVERLAP_LOOKBACK)
            .map(|t| tick_session(&s.id, t))
            .collect();
        if earlier.is_empty() {
            return Ok(false);
        }
        let rows = store.session_states(&earlier).await?;
        Ok(rows.iter().any(|r| {
            matches!(
                r.status,
                SessionStatus::Queued | SessionStatus::Starting | SessionStatus::Running | SessionStatus::Blocked
            )
        }))
    }
}
