//! `windlass worker`: run submitted sessions and recover orphans until stopped.

use super::not_available::{not_available, planned};
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;
use std::net::SocketAddr;
use std::num::NonZeroUsize;

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// How many sessions to run at once
    #[arg(long, value_name = "N", default_value = "4")]
    pub concurrency: NonZeroUsize,

    /// Serve /health, /ready and /metrics over HTTP on this address, e.g. 127.0.0.1:9100
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Run what is queued and the orphans found now, then exit
    #[arg(long)]
    pub once: bool,
}

impl WorkerArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("worker", planned::WORKER)
    }
}
