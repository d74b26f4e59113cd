//! `windlass logs`: print a session's log rows.

use super::not_available::{not_available, planned};
use super::session_id::SessionId;
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// The session whose log to print
    #[arg(value_name = "SESSION")]
    pub session: SessionId,

    /// Keep printing new rows while the session runs, from any machine that reaches the store
    #[arg(short, long)]
    pub follow: bool,
}

impl LogsArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("logs", planned::STORE)
    }
}
