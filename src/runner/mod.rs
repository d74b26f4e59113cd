//! The engine: runs a cascade phase after phase. Emits [`event::RunEvent`]s through an
//! [`emitter::Emitter`] and never prints; a person at a terminal is reached through the
//! [`Console`] the CLI hands it.
//!
//! The top-level files are the leaves every sub-folder may import, and import no sub-folder:
//! [`Runner`] and its options, [`error`], [`event`], [`emitter`], [`state`], [`ids`],
//! [`replay`], [`console`], [`llm_call`] (every provider call: events, usage, cost limit),
//! [`templating`] (the variables each template sees) and [`phase_env`] (what a phase runs
//! with and hands back).
//!
//! The sub-folders, each importing only those below it (a test checks there is no cycle):
//!
//! - [`run`]: the run loop: phases one after another, routing, callouts, cascade-level
//!   soundings; it hands its own entry point down in the [`phase_env::PhaseEnv`].
//! - [`deterministic`]: a deterministic phase, what its `tool:` names, SQL functions that
//!   call back into the engine.
//! - [`llm_phase`]: an LLM phase: attempts, turns, context, budget, prompting, tool calls in
//!   replies, the tool manifest, extraction, `output_schema`, phase-level soundings.
//! - [`validation`]: validators (cascade-level, built-in, scripts, cascades) and wards.
//! - [`toolbox`]: the tools a phase may call and running its tool calls; asking a human,
//!   signals.
//! - [`children`]: child runs: sub-cascades, `for_each_row`, cascades as tools,
//!   `spawn_cascade`/`map_cascade`; every child starts through [`children::run`] or
//!   [`children::spawn`].

pub mod children;
pub mod console;
pub mod deterministic;
pub mod emitter;
pub mod error;
pub mod event;
pub mod ids;
pub mod llm_call;
pub mod llm_phase;
pub mod phase_env;
pub mod replay;
pub mod run;
pub mod state;
pub mod templating;
pub mod toolbox;
pub mod validation;

pub use console::Console;
pub use error::RunError;
pub use event::{RunEvent, RunResult, RunStatus, Subscriber};
pub use state::RunState;

use crate::cascade::model::Cascade;
use crate::llm::Provider;
use crate::tools::Registry;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A cascade ready to run: the model plus where it came from.
#[derive(Debug, Clone)]
pub struct CascadeDef {
    pub cascade: Cascade,
    pub path: PathBuf,
    /// The file's text (stored with the session; its hash detects changed files).
    pub text: String,
}

impl CascadeDef {
    /// The folder relative references start from.
    pub fn dir(&self) -> &Path {
        crate::cascade::resolve::folder_of(&self.path)
    }
}

/// How the engine runs, resolved from settings and flags.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Model for phases that name none.
    pub default_model: String,
    /// The embeddings model for `context` selection `strategy: semantic` (none: heuristic).
    pub embeddings_model: Option<String>,
    pub max_phase_visits: u32,
    pub allow_shell: bool,
    /// Where file tools work and relative references fall back to.
    pub working_dir: PathBuf,
    /// Session folders (scratch, session database) live under `<data_dir>/sessions/<id>`.
    pub data_dir: PathBuf,
    /// `--max-cost` in US dollars.
    pub max_cost: Option<f64>,
    /// Environment variable names never passed to child processes.
    pub secret_env: Vec<String>,
    /// Extra folders with cascades usable as tools (`WINDLASS_TOOL_PATH`).
    pub tool_path: Vec<PathBuf>,
    pub subprocess_timeout: Duration,
    pub output_cap: usize,
    /// The interpreters data phases run (`python_data`, `js_data`, `clojure_data`).
    pub runtimes: crate::tools::data::Runtimes,
}

impl RunOptions {
    /// Sensible defaults around a model and a data folder (tests, benchmarks).
    pub fn new(default_model: impl Into<String>, working_dir: PathBuf, data_dir: PathBuf) -> Self {
        RunOptions {
            default_model: default_model.into(),
            embeddings_model: None,
            max_phase_visits: 50,
            allow_shell: false,
            working_dir,
            data_dir,
            max_cost: None,
            secret_env: Vec::new(),
            tool_path: Vec::new(),
            subprocess_timeout: Duration::from_secs(60),
            output_cap: 64 * 1024,
            runtimes: crate::tools::data::Runtimes::default(),
        }
    }

    pub fn session_dir(&self, session_id: &str) -> PathBuf {
        self.data_dir.join("sessions").join(session_id)
    }
}

/// The engine: a provider, the built-in tools, and options. Cheap to clone.
#[derive(Clone)]
pub struct Runner {
    pub provider: Arc<dyn Provider>,
    pub tools: Arc<Registry>,
    pub opts: Arc<RunOptions>,
    /// Answers logged before a crash, served again on resume (by request hash).
    pub replay: Option<Arc<replay::Replay>>,
    /// Signals, human answers and cancellation addressed to the session (durable sessions).
    pub mailbox: Option<Arc<crate::session::Mailbox>>,
    /// A person at a terminal who can answer questions (the CLI on a terminal); `None` in a
    /// worker or when stdin or stderr is not a terminal.
    pub console: Option<Arc<dyn Console>>,
}

impl Runner {
    pub fn new(provider: Arc<dyn Provider>, tools: Registry, opts: RunOptions) -> Self {
        Runner { provider, tools: Arc::new(tools), opts: Arc::new(opts), replay: None, mailbox: None, console: None }
    }
}

/// The tool search path for a cascade: its folder, `./tackle`, `./cascades`, then
/// `WINDLASS_TOOL_PATH`.
pub fn resolve_tool_path(runner: &Runner, def: &CascadeDef) -> crate::cascade::resolve::ToolPath {
    crate::cascade::resolve::ToolPath::new(def.dir(), &runner.opts.working_dir, &runner.opts.tool_path)
}
