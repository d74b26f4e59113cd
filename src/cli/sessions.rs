//! `windlass sessions`: list sessions, or show one (`sessions show`).

use super::not_available::{not_available, planned};
use super::session_id::SessionId;
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: Option<SessionsCommand>,

    /// Only sessions in this state
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<SessionStatus>,

    /// Only sessions of this cascade (its cascade_id)
    #[arg(long, value_name = "CASCADE_ID")]
    pub cascade: Option<String>,

    /// Show at most this many sessions, newest first
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SessionsCommand {
    /// Show one session: status, phase, heartbeat, owner, cost, tokens, error
    Show(ShowArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The session to show
    #[arg(value_name = "SESSION")]
    pub session: SessionId,
}

/// The states of a session (store.md, `session_state.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionStatus {
    /// Submitted, waiting for a worker
    Queued,
    /// Claimed by a worker, not yet running a phase
    Starting,
    /// Running a phase
    Running,
    /// Waiting on a human or a signal
    Blocked,
    /// Finished successfully
    Completed,
    /// Ended by an error
    Error,
    /// Stopped by `windlass cancel`
    Cancelled,
    /// Its worker stopped heartbeating; can be resumed
    Orphaned,
}

impl SessionsArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        match self.command {
            Some(SessionsCommand::Show(_)) => not_available("sessions show", planned::STORE),
            None => not_available("sessions", planned::STORE),
        }
    }
}
