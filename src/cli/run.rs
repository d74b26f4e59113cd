//! `windlass run`: run a cascade in this process, start to finish.

use super::engine_args::EngineArgs;
use super::input_args::InputArgs;
use super::not_available::{not_available, planned};
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The cascade file to run (YAML or JSON)
    #[arg(value_name = "CASCADE")]
    pub cascade: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub engine: EngineArgs,
}

impl RunArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("run", planned::ENGINE)
    }
}
