//! `windlass run`: run a cascade in this process, start to finish.

use super::engine_args::EngineArgs;
use super::execute;
use super::input_args::InputArgs;
use super::Context;
use crate::cascade::load_file_in;
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::runner::{ids, CascadeDef};
use crate::session_id::SessionId;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

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
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let loaded = load_file_in(&self.cascade, &ctx.settings.working_dir);
        execute::ensure_valid(&loaded, ctx)?;
        let input = self.input.resolve()?;
        let cascade = loaded.cascade.clone().expect("a cascade without errors has a model");
        let def = Arc::new(CascadeDef { cascade, path: self.cascade.clone(), text: loaded.text });
        let session_id = match &self.input.session {
            Some(id) => id.clone(),
            None => SessionId::new(ids::new_session_id()),
        };
        execute::run_new(ctx, &self.engine, def, input, session_id)
    }
}
