//! `windlass orphans`: find sessions whose worker stopped heartbeating.

use super::not_available::{not_available, planned};
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct OrphansArgs {
    /// Claim each orphan and resume it in this process
    #[arg(long)]
    pub resume: bool,
}

impl OrphansArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("orphans", planned::SESSIONS)
    }
}
