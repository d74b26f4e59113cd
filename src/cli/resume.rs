//! `windlass resume`: continue a session from its last checkpoint.

use super::engine_args::EngineArgs;
use super::Context;
use super::{execute, store_access};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::host::start::{from_store, StartError};
use crate::host::Start;
use crate::session::claim::{self, Claim, ClaimRules, Refusal};
use crate::session::durable::owner_id;
use crate::session::SystemClock;
use crate::session_id::SessionId;
use crate::store::Store;
use clap::Args;
use std::time::Duration;

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
        let id = self.session.clone();
        let rt = store_access::runtime()?;
        let store = rt.block_on(crate::store::open(&ctx.settings))?;
        match rt.block_on(prepare(&*store, &id, &self, ctx.settings.heartbeat_lease))? {
            Some(start) => {
                for note in &start.notes {
                    eprintln!("windlass: {note}");
                }
                execute::run_hosted(ctx, &self.engine, &rt, store, start, execute::client(ctx))
            }
            None => Ok(ExitCode::Success),
        }
    }
}

/// Claim the session (waiting for a live owner's lease to run out, unless --force) and load
/// where it continues; `None` when it had already run its last phase.
async fn prepare(
    store: &dyn Store,
    id: &SessionId,
    args: &ResumeArgs,
    lease: Duration,
) -> Result<Option<Start>, Error> {
    let fail = |detail: String| Error::Resume { session: id.to_string(), detail };
    if store.session_state(id).await?.is_none() {
        return Err(Error::UnknownSession { session: id.to_string() });
    }
    let owner = owner_id();
    let rules = ClaimRules { force: args.force, allow_error: true, lease };
    let mut races = 0;
    let (epoch, row) = loop {
        match claim::claim(store, id, &owner, rules, &SystemClock).await? {
            Claim::Won { epoch, row } => break (epoch, row),
            // Nobody may have won: look again (the winner, if any, is then seen starting).
            Claim::Lost(Refusal { raced: true, .. }) if races < 3 => races += 1,
            Claim::Lost(Refusal { reason, retry_at: Some(at), .. }) => {
                let wait = (at - store.now().await?).max(0.0);
                eprintln!(
                    "windlass: session {id}: {reason}; waiting {wait:.0}s for that to run out (--force takes it now)"
                );
                tokio::time::sleep(Duration::from_secs_f64(wait.clamp(0.2, 5.0))).await;
            }
            Claim::Lost(Refusal { reason, retry_at: None, .. }) => {
                return Err(fail(format!("{reason}; nothing to resume")))
            }
        }
    };
    let start = from_store(store, &row, epoch, args.from_phase.as_deref()).await.map_err(|e| match e {
        StartError::Store(e) => Error::Store(e),
        StartError::Unusable(detail) => fail(detail),
    })?;
    if start.phase.is_some() {
        return Ok(Some(start));
    }
    eprintln!("windlass: session {id} had finished its last phase; marking it completed");
    crate::host::already_ended::complete(store, &start, *row, owner).await?;
    println!("{}", start.state.last_output_text());
    Ok(None)
}
