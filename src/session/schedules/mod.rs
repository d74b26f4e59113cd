//! Schedules: a cascade's `cron` and `webhook` triggers registered in the store (`windlass
//! schedules add`), and which cron ticks are due.
//!
//! Registrations are rows of the signals table under the reserved session id [`REGISTRY`] (no
//! table of their own: both backends already store, replicate and read it): kind `schedule`
//! with the registration as JSON, kind `schedule_removed` to take one out; the newest row of a
//! name wins. A cron tick becomes a session whose id is the schedule's and the tick's
//! ([`tick_session`]), so every worker that finds the tick due queues the same session and the
//! claim protocol runs it once: each tick fires once across all workers.

use crate::cascade::model::Cascade;
use crate::cascade::triggers::cron::CronSpec;
pub use crate::cascade::triggers::{catch_up, secret_env, CatchUp, ON_TIME};
use crate::session_id::SessionId;
use crate::store::{SignalRow, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The session id the registrations are stored under.
pub const REGISTRY: &str = "_schedules";
const ADDED: &str = "schedule";
const REMOVED: &str = "schedule_removed";

/// A registered trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// `<cascade_id>.<trigger name>`.
    pub id: String,
    /// `cron` or `webhook`.
    pub kind: String,
    pub cascade_id: String,
    /// The file it was registered from, as given.
    pub path: String,
    /// The cascade's text, so any worker can run it.
    pub definition: String,
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// The name of the variable holding a webhook's secret (never the secret).
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default)]
    pub payload_schema: Option<Value>,
    pub catch_up: CatchUp,
    pub allow_overlap: bool,
    pub registered_at: f64,
}

impl Schedule {
    /// The cron schedule, for a `cron` registration.
    pub fn cron(&self) -> Option<CronSpec> {
        CronSpec::parse(self.schedule.as_deref()?, self.timezone.as_deref()).ok()
    }

    /// When it fires next after `now` (cron only).
    pub fn next_fire(&self, now: f64) -> Option<f64> {
        self.cron()?.next_after(now.max(self.registered_at))
    }

    /// The ticks to fire at `now`, oldest first, and those passed over (`catch_up`), both
    /// after the registration.
    pub fn due(&self, now: f64) -> (Vec<f64>, Vec<f64>) {
        let Some(spec) = self.cron() else { return (Vec::new(), Vec::new()) };
        let mut ticks = spec.ticks_between(self.registered_at, now);
        ticks.reverse();
        let (fire, skip): (Vec<f64>, Vec<f64>) = match self.catch_up {
            CatchUp::All => (ticks, Vec::new()),
            CatchUp::Latest => {
                let newest = ticks.pop();
                (newest.into_iter().collect(), ticks)
            }
            CatchUp::None => ticks.into_iter().partition(|t| now - t <= ON_TIME),
        };
        (fire, skip)
    }
}

/// The session of one tick.
pub fn tick_session(schedule_id: &str, tick: f64) -> SessionId {
    SessionId::new(format!("{schedule_id}@{}", tick as i64))
}

/// The `cron` and `webhook` triggers of a cascade as registrations, or what is wrong with one.
pub fn from_cascade(cascade: &Cascade, text: &str, path: &str, now: f64) -> Result<Vec<Schedule>, String> {
    let mut out = Vec::new();
    for (i, t) in cascade.triggers.iter().enumerate() {
        let kind = t.kind.as_deref().unwrap_or_default();
        if kind != "cron" && kind != "webhook" {
            continue;
        }
        let name = t.name.clone().unwrap_or_else(|| format!("trigger{i}"));
        let schedule = Schedule {
            id: format!("{}.{name}", cascade.cascade_id),
            kind: kind.to_string(),
            cascade_id: cascade.cascade_id.clone(),
            path: path.to_string(),
            definition: text.to_string(),
            schedule: t.schedule.clone(),
            timezone: t.timezone.clone(),
            inputs: t.inputs.clone(),
            secret_env: None,
            payload_schema: t.payload_schema.clone(),
            catch_up: catch_up(t).map_err(|e| format!("triggers[{i}] ({name}): {e}"))?,
            allow_overlap: t.allow_overlap,
            registered_at: now,
        };
        let schedule =
            Schedule { secret_env: secret_env(t).map_err(|e| format!("triggers[{i}] ({name}): {e}"))?, ..schedule };
        if kind == "cron" {
            let spec = t
                .schedule
                .as_deref()
                .ok_or_else(|| format!("triggers[{i}] ({name}): a cron trigger needs a `schedule`"))?;
            CronSpec::parse(spec, t.timezone.as_deref()).map_err(|e| format!("triggers[{i}] ({name}): {e}"))?;
        }
        out.push(schedule);
    }
    Ok(out)
}

/// Register (or replace) these schedules.
pub async fn register(store: &dyn Store, schedules: &[Schedule]) -> Result<(), StoreError> {
    let now = store.now().await?;
    for s in schedules {
        let payload = serde_json::to_string(s).unwrap_or_default();
        store.put_signal(&row(ADDED, &s.id, payload, now)).await?;
    }
    Ok(())
}

/// Take `id` out; false when no such schedule is registered.
pub async fn remove(store: &dyn Store, id: &str) -> Result<bool, StoreError> {
    if !list(store).await?.iter().any(|s| s.id == id) {
        return Ok(false);
    }
    let now = store.now().await?;
    store.put_signal(&row(REMOVED, id, String::new(), now)).await?;
    Ok(true)
}

/// The registered schedules, by id.
pub async fn list(store: &dyn Store) -> Result<Vec<Schedule>, StoreError> {
    let mut rows = store.signals(&SessionId::new(REGISTRY)).await?;
    rows.sort_by(|a, b| a.created_at.total_cmp(&b.created_at).then_with(|| a.signal_id.cmp(&b.signal_id)));
    let mut by_id: std::collections::BTreeMap<String, Option<Schedule>> = Default::default();
    for r in rows {
        match r.kind.as_str() {
            ADDED => {
                by_id.insert(r.name.clone(), serde_json::from_str(&r.payload).ok());
            }
            REMOVED => {
                by_id.insert(r.name.clone(), None);
            }
            _ => {}
        }
    }
    Ok(by_id.into_values().flatten().collect())
}

fn row(kind: &str, id: &str, payload: String, now: f64) -> SignalRow {
    SignalRow {
        // One prefix for both kinds, so ids made within one second sort by when.
        signal_id: super::signals::new_id("schedule"),
        session_id: SessionId::new(REGISTRY),
        kind: kind.to_string(),
        name: id.to_string(),
        payload,
        created_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_ten_seconds(catch_up: CatchUp) -> Schedule {
        Schedule {
            id: "c.t".into(),
            kind: "cron".into(),
            cascade_id: "c".into(),
            path: "c.yaml".into(),
            definition: String::new(),
            schedule: Some("*/10 * * * * *".into()),
            timezone: None,
            inputs: Map::new(),
            secret_env: None,
            payload_schema: None,
            catch_up,
            allow_overlap: false,
            registered_at: 1000.0,
        }
    }

    #[test]
    fn missed_ticks_follow_the_catch_up_policy() {
        let now = 1045.0;
        assert_eq!(every_ten_seconds(CatchUp::All).due(now), (vec![1010.0, 1020.0, 1030.0, 1040.0], vec![]));
        assert_eq!(every_ten_seconds(CatchUp::Latest).due(now), (vec![1040.0], vec![1010.0, 1020.0, 1030.0]));
        assert_eq!(every_ten_seconds(CatchUp::None).due(now), (vec![1020.0, 1030.0, 1040.0], vec![1010.0]));
        assert_eq!(every_ten_seconds(CatchUp::All).due(1000.0), (vec![], vec![]), "nothing before registration");
        assert_eq!(every_ten_seconds(CatchUp::All).next_fire(1045.0), Some(1050.0));
        assert_eq!(tick_session("c.t", 1040.0).as_str(), "c.t@1040");
    }
}
