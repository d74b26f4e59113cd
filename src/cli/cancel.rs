//! `windlass cancel`: ask a running session to stop at its next boundary.

use super::not_available::{not_available, planned};
use super::session_id::SessionId;
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct CancelArgs {
    /// The session to stop
    #[arg(value_name = "SESSION")]
    pub session: SessionId,

    /// Why, recorded with the session
    #[arg(long, value_name = "REASON")]
    pub reason: Option<String>,
}

impl CancelArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("cancel", planned::SESSIONS)
    }
}
