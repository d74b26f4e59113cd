//! `windlass submit`: queue a run in the store for any worker.

use super::engine_args::Usd;
use super::input_args::InputArgs;
use super::not_available::{not_available, planned};
use super::Context;
use crate::env;
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::settings::HumanDuration;
use clap::builder::NonEmptyStringValueParser;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Endpoint, key and `--allow-shell` are not options here: the worker that runs the session
/// uses its own configuration, and a submitter must not switch on shell tools on someone
/// else's machine.
#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// The cascade file to queue (YAML or JSON); its text is stored with the session
    #[arg(value_name = "CASCADE")]
    pub cascade: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    #[arg(
        long,
        value_name = "MODEL",
        value_parser = NonEmptyStringValueParser::new(),
        help = env::WINDLASS_DEFAULT_MODEL.flag_help()
    )]
    pub model: Option<String>,

    /// Stop the run before it spends more than this many US dollars
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<Usd>,

    /// Give the run this long once a worker starts it, e.g. 30m
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<HumanDuration>,

    /// How to print the new session's id
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: SubmitFormat,
}

/// `--format` of `submit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SubmitFormat {
    /// The session id alone on a line
    #[default]
    Human,
    /// {"session_id": "..."}
    Json,
}

impl SubmitArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("submit", planned::WORKER)
    }
}
