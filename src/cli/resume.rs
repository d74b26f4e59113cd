//! `windlass resume`: continue a session from its last checkpoint.

use super::engine_args::EngineArgs;
use super::not_available::{not_available, planned};
use super::session_id::SessionId;
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;

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
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("resume", planned::SESSIONS)
    }
}
