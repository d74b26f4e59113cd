//! `windlass cleanup`: remove what finished sessions left behind.

use super::not_available::{not_available, planned};
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::settings::HumanDuration;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct CleanupArgs {
    /// Only sessions that finished at least this long ago, e.g. 12h or 30d
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub older_than: HumanDuration,

    /// List what would be removed, and remove nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Also delete the sessions' rows from the store (logs, state, checkpoints, signals)
    #[arg(long)]
    pub logs: bool,

    /// Also clean up orphaned sessions, which could otherwise still be resumed
    #[arg(long)]
    pub include_orphans: bool,
}

impl CleanupArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("cleanup", planned::STORE)
    }
}
