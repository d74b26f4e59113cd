//! One durable session, start to finish, in this process: session rows with heartbeats,
//! checkpoints, the store logger, the session's mailbox (signals, answers, cancel), and
//! how it ends: done, interrupted (SIGINT/SIGTERM, worker shutdown), waiting when
//! `--timeout` ran out while it was blocked, or timed out while running.

use super::start::{hash, Start};
use super::Host;
use crate::llm::cassette::CassetteRef;
use crate::runner::emitter::Emitter;
use crate::runner::run;
use crate::runner::{RunError, RunResult, RunStatus, Subscriber};
use crate::session::{Clock, Durable};
use crate::store::{SessionStatus, StoreError};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long the logger may take to flush when the session ends.
const FLUSH_PATIENCE: Duration = Duration::from_millis(1500);

/// Per-session options: flags of `run`/`resume`, or what `submit` stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub model: Option<String>,
    pub max_cost: Option<f64>,
    pub timeout: Option<Duration>,
    /// Model calls answered through this cassette (`--record`/`--replay`; `submit --replay`
    /// stores its text with the session).
    pub cassette: Option<CassetteRef>,
}

impl Limits {
    pub fn to_json(&self) -> Value {
        json!({
            "model": self.model,
            "max_cost": self.max_cost,
            "timeout_seconds": self.timeout.map(|t| t.as_secs_f64()),
            "cassette": self.cassette.as_ref().map(|c| crate::host::cassette::to_json(&c.0)),
        })
    }

    pub fn from_json(v: &Value) -> Limits {
        Limits {
            model: v.get("model").and_then(Value::as_str).map(str::to_string),
            max_cost: v.get("max_cost").and_then(Value::as_f64),
            timeout: v
                .get("timeout_seconds")
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64),
            cassette: v.get("cassette").and_then(crate::host::cassette::from_json),
        }
    }

    /// These limits, with `other`'s where it has them.
    pub fn or(&self, other: &Limits) -> Limits {
        Limits {
            model: other.model.clone().or_else(|| self.model.clone()),
            max_cost: other.max_cost.or(self.max_cost),
            timeout: other.timeout.or(self.timeout),
            cassette: other.cassette.clone().or_else(|| self.cassette.clone()),
        }
    }
}

/// How a hosted session ended.
#[derive(Debug)]
pub enum Ended {
    /// It ran to an end (completed, failed, cancelled, fenced off).
    Done(Box<RunResult>),
    /// Stopped from outside (SIGINT/SIGTERM, worker shutdown); released, resumable.
    Interrupted,
    /// `--timeout` ran out while it waited on `on`; released, still blocked, resumable.
    Waiting { on: String },
    /// `--timeout` ran out while it was running; released, resumable.
    TimedOut,
}

/// Run `start` to an end. `subs` receive every event (the store logger is added here);
/// `shutdown` resolving stops the session, releasing it for a resume.
pub async fn drive(
    host: &Host,
    start: Start,
    mut subs: Vec<Arc<dyn Subscriber>>,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> Result<Ended, StoreError> {
    let store = host.store.clone();
    let id = start.session_id.clone();
    let durable = Durable::new(
        store.clone(),
        &id,
        &start.def.cascade.cascade_id,
        &start.parent_session_id,
        start.epoch,
        &hash(&start.def.text),
        start.next_seq,
        host.lease,
        host.heartbeat_interval,
        host.clock.clone(),
    );
    // Broadcasts count from the session's start, by the store's clock (ClickHouse's has whole
    // seconds, hence the second of slack).
    let since = match start.started_at {
        Some(t) => t,
        None => store.now().await?,
    };
    let mailbox = host.hub.register(&id, since - 1.0).await?;
    mailbox.attach(durable.clone());
    if start.blocked_on.as_deref().is_some_and(|b| b.starts_with("human:")) {
        mailbox.owe_answer();
    }
    let logger = host.logs.logger(start.epoch);
    subs.push(logger.clone());
    let emitter = Emitter::new(&id, 0, subs);
    let mut runner = host.runner.clone();
    if let Some(cassette) = &limits.cassette {
        runner.provider = cassette.0.provider(runner.provider.clone());
    }
    runner.replay = start.replay.clone();
    runner.mailbox = Some(mailbox.clone());
    if limits.model.is_some() || limits.max_cost.is_some() {
        let mut opts = (*runner.opts).clone();
        if let Some(m) = &limits.model {
            opts.default_model = m.clone();
        }
        opts.max_cost = limits.max_cost.or(opts.max_cost);
        runner.opts = Arc::new(opts);
    }
    let first = start.phase.map(|i| start.def.cascade.phases[i].name.as_str());
    durable.set_status(SessionStatus::Running, first).await?;
    let heartbeat = durable.spawn_heartbeat();
    let def = start.def.clone();
    let run = async {
        if start.phase == Some(0) && start.next_seq == 0 {
            let input = start.state.input.clone();
            run::run_durable(&runner, def, input, &emitter, None, Some(durable.clone())).await
        } else {
            run::run_from(&runner, def, start.state, start.phase, &emitter, Some(durable.clone())).await
        }
    };
    let ended = tokio::select! {
        r = run => Ended::Done(Box::new(r)),
        _ = shutdown => Ended::Interrupted,
        _ = sleep_or_forever(&*host.clock, limits.timeout) => match mailbox.blocked_on() {
            Some(on) => Ended::Waiting { on },
            None => Ended::TimedOut,
        },
    };
    heartbeat.abort();
    // The log rows go before the session's last row: a reader that sees the session finished
    // (an event stream, `logs --follow`) reads its logs once more and finds all of them.
    // A worker flushes its shared writer once more before it exits; alone, this is the last
    // chance, so a delay is worth a warning.
    if let Err(e) = tokio::time::timeout(FLUSH_PATIENCE, logger.flush()).await.unwrap_or(Err("timed out".into())) {
        if !host.flushes_at_exit {
            eprintln!("windlass: warning: some log rows of session {id} could not be saved yet: {e}");
        }
    }
    match &ended {
        Ended::Done(r) => {
            // A fenced owner writes nothing more: the session belongs to someone else.
            if !matches!(r.failure, Some(RunError::Fenced { .. })) {
                let status = match r.status {
                    RunStatus::Completed => SessionStatus::Completed,
                    RunStatus::Cancelled => SessionStatus::Cancelled,
                    RunStatus::Blocked => SessionStatus::Blocked,
                    RunStatus::Error | RunStatus::Interrupted => SessionStatus::Error,
                };
                let _ = durable
                    .finish(status, r.errors.first().map(String::as_str), (r.tokens_in, r.tokens_out, r.cost))
                    .await;
            }
        }
        Ended::Interrupted | Ended::TimedOut => {
            let why = if matches!(ended, Ended::Interrupted) {
                "interrupted; resumable"
            } else {
                "stopped by --timeout; resumable"
            };
            let _ = durable
                .release(|r| {
                    r.status = SessionStatus::Orphaned;
                    r.error_message = why.into();
                })
                .await;
        }
        Ended::Waiting { on } => {
            let on = on.clone();
            let _ = durable
                .release(|r| {
                    r.status = SessionStatus::Blocked;
                    r.blocked_on = on;
                })
                .await;
        }
    }
    host.hub.unregister(&id);
    Ok(ended)
}

async fn sleep_or_forever(clock: &dyn Clock, d: Option<Duration>) {
    match d {
        Some(d) => clock.sleep(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_trip_and_flags_win() {
        let stored = Limits {
            model: Some("m".into()),
            max_cost: Some(0.5),
            timeout: Some(Duration::from_secs(30)),
            cassette: None,
        };
        assert_eq!(Limits::from_json(&stored.to_json()), stored);
        let flags = Limits { max_cost: Some(1.0), ..Limits::default() };
        let both = stored.or(&flags);
        assert_eq!(both.max_cost, Some(1.0));
        assert_eq!(both.model.as_deref(), Some("m"));
    }
}
