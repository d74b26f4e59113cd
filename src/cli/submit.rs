//! `windlass submit`: queue a run in the store for any worker.

use super::cassette_args::CassetteArgs;
use super::engine_args::Usd;
use super::input_args::InputArgs;
use super::{execute, store_access, Context};
use crate::cascade::load_file_in;
use crate::env;
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::host::{start, Limits};
use crate::runner::{ids, CascadeDef};
use crate::session_id::SessionId;
use crate::settings::HumanDuration;
use clap::builder::NonEmptyStringValueParser;
use clap::{Args, ValueEnum};
use std::io::Write;
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

    /// Answer the run's model calls from this cassette: its text is stored with the session,
    /// so any worker replays it with no network
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

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
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let loaded = load_file_in(&self.cascade, &ctx.settings.working_dir);
        execute::ensure_valid(&loaded, ctx)?;
        let input = self.input.resolve()?;
        let cascade = loaded.cascade.clone().expect("a cascade without errors has a model");
        let def = CascadeDef { cascade, path: self.cascade.clone(), text: loaded.text };
        let id = match &self.input.session {
            Some(id) => id.clone(),
            None => SessionId::new(ids::new_session_id()),
        };
        let limits = Limits {
            model: self.model.clone(),
            max_cost: self.max_cost.map(|c| c.0),
            timeout: self.timeout.map(|t| t.0),
            cassette: CassetteArgs { replay: self.replay.clone(), ..CassetteArgs::default() }.open(ctx, false)?,
        };
        let lease = ctx.settings.heartbeat_lease.as_secs_f64();
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = crate::store::open(&ctx.settings).await?;
            if store.session_state(&id).await?.is_some() {
                return Err(Error::Session {
                    action: "submit",
                    session: id.to_string(),
                    detail: "a session with this id already exists; leave out --session for a new id".into(),
                });
            }
            start::submit(&*store, &def, &id, &input, &limits, lease).await?;
            Ok::<_, Error>(())
        })?;
        let mut out = std::io::stdout().lock();
        match self.format {
            SubmitFormat::Human => writeln!(out, "{id}"),
            SubmitFormat::Json => writeln!(out, "{}", serde_json::json!({ "session_id": id })),
        }
        .map_err(Error::Stdout)?;
        if !ctx.global.quiet {
            eprintln!("windlass: session {id} queued; a `windlass worker` on this store runs it");
        }
        Ok(ExitCode::Success)
    }
}
