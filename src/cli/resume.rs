//! `windlass resume`: continue a session from its last checkpoint.

use super::engine_args::EngineArgs;
use super::session_id::SessionId;
use super::Context;
use super::{execute, store_access};
use crate::cascade::{load_str, Severity};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::runner::replay::Replay;
use crate::runner::{CascadeDef, RunState};
use crate::store::{SessionStatus, Store};
use clap::Args;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// The session to continue
    #[arg(value_name = "SESSION")]
    pub session: SessionId,

    /// Restart from this phase instead of the one after the last checkpoint
    #[arg(long, value_name = "PHASE")]
    pub from_phase: Option<String>,

    /// Claim the session at once, even if its heartbeat lease has not run out (the old owner,
    /// if still alive, is fenced off at its next write)
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub engine: EngineArgs,
}

impl ResumeArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let id = self.session.as_str().to_string();
        let rt = store_access::runtime()?;
        let store = rt.block_on(crate::store::open(&ctx.settings))?;
        let start = rt.block_on(prepare(ctx, &*store, &id, &self))?;
        match start {
            Some(start) => execute::run_durable(ctx, &self.engine, &rt, store, start, execute::client(ctx)),
            None => Ok(ExitCode::Success),
        }
    }
}

/// Everything a resume starts from; `None` when the session had already finished.
async fn prepare(
    ctx: &Context,
    store: &dyn Store,
    id: &str,
    args: &ResumeArgs,
) -> Result<Option<execute::Start>, Error> {
    let fail = |detail: String| Error::Resume { session: id.to_string(), detail };
    let mut row = store.session_state(id).await?.ok_or_else(|| Error::UnknownSession { session: id.to_string() })?;
    let stored =
        store.cascade_session(id).await?.ok_or_else(|| fail("the store has no cascade definition for it".into()))?;
    // Wait for a live owner's lease to run out, unless --force.
    loop {
        let status = SessionStatus::parse(&row.status);
        if status.is_some_and(SessionStatus::is_finished) && row.status != "error" {
            return Err(fail(format!("it already ended with status {}; nothing to resume", row.status)));
        }
        let now = store.now().await?;
        let expires = row.heartbeat_at + row.lease_seconds;
        if args.force || !status.is_some_and(SessionStatus::is_live) || expires <= now {
            break;
        }
        eprintln!(
            "windlass: session {id} is owned by {} (heartbeat {:.0}s ago, lease {:.0}s); waiting {:.0}s for the lease to run out (--force takes it now)",
            row.owner,
            now - row.heartbeat_at,
            row.lease_seconds,
            expires - now
        );
        tokio::time::sleep(std::time::Duration::from_secs_f64((expires - now).clamp(0.2, 5.0))).await;
        row = store.session_state(id).await?.ok_or_else(|| Error::UnknownSession { session: id.to_string() })?;
    }
    let path = PathBuf::from(&stored.cascade_path);
    if let Ok(current) = std::fs::read_to_string(&path) {
        if execute::hash(&current) != stored.definition_hash {
            eprintln!(
                "windlass: {} changed since session {id} started; resuming with the stored definition",
                path.display()
            );
        }
    }
    let loaded = load_str(&stored.definition, &path);
    let cascade = loaded.cascade.filter(|_| !loaded.diagnostics.iter().any(|d| d.severity == Severity::Error));
    let cascade = cascade.ok_or_else(|| fail("the stored cascade definition does not load".into()))?;
    let def = Arc::new(CascadeDef { cascade, path, text: stored.definition.clone() });
    let checkpoint = store.latest_checkpoint(id, 0).await?;
    let input: Map<String, Value> = serde_json::from_str(&stored.input).unwrap_or_default();
    let state: RunState = match &checkpoint {
        Some(c) => serde_json::from_str(&c.state)
            .map_err(|e| fail(format!("its checkpoint {} does not decode: {e}", c.seq)))?,
        None => RunState::new(input),
    };
    let phase = match (&args.from_phase, &checkpoint) {
        (Some(p), _) => Some(def.cascade.phase_index(p).ok_or_else(|| fail(format!("it has no phase `{p}`")))?),
        (None, Some(c)) if c.next_phase.is_empty() => {
            eprintln!("windlass: session {id} had finished its last phase; marking it completed");
            None
        }
        (None, Some(c)) => Some(
            def.cascade
                .phase_index(&c.next_phase)
                .ok_or_else(|| fail(format!("its next phase `{}` is not in the cascade", c.next_phase)))?,
        ),
        (None, None) => (!def.cascade.phases.is_empty()).then_some(0),
    };
    // Answers logged after the checkpoint are served again instead of paid for twice.
    let since = checkpoint.as_ref().map(|c| c.created_at);
    let logs = store.logs(id, since, 1_000_000).await?;
    let events: Vec<Value> = logs
        .iter()
        .filter(|r| r.node_type == "llm_response")
        .filter_map(|r| serde_json::from_str(&r.content).ok())
        .collect();
    let replay = Replay::from_events(&events);
    if !replay.is_empty() {
        eprintln!("windlass: {} logged LLM answer(s) of the interrupted phase will be reused", replay.len());
    }
    let next_seq = checkpoint.as_ref().map(|c| c.seq + 1).unwrap_or(0);
    let start = execute::Start {
        def,
        session_id: id.to_string(),
        epoch: row.owner_epoch + 1,
        next_seq,
        state,
        phase,
        replay: Some(Arc::new(replay)),
        parent_session_id: row.parent_session_id.clone(),
    };
    if phase.is_none() {
        let mut r = row.clone();
        r.status = SessionStatus::Completed.as_str().into();
        r.version += 1;
        r.updated_at = store.now().await?;
        store.put_session_state(&r).await?;
        println!("{}", start.state.last_output());
        return Ok(None);
    }
    let _ = ctx;
    Ok(Some(start))
}
