//! What every phase runs with ([`PhaseEnv`]) and hands back ([`PhaseOutcome`]). A leaf of the
//! engine: every sub-folder may import it, and it imports none of them. The run loop builds
//! the env and puts its own entry point in it ([`RunChild`]), so the phases below the loop
//! start child runs without importing it.

use super::emitter::Emitter;
use super::event::RunResult;
use super::state::RunState;
use super::{CascadeDef, Runner};
use crate::cascade::model::Phase;
use crate::cascade::resolve::ToolPath;
use crate::session::Durable;
use crate::tools::ToolContext;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// What a finished phase hands to routing.
#[derive(Debug, Default)]
pub struct PhaseOutcome {
    pub output: String,
    /// The structured value behind `output` (a deterministic or data phase's object or list).
    pub value: Option<serde_json::Value>,
    /// A `route_to` choice (already checked against the handoffs).
    pub route: Option<String>,
    /// A deterministic result's `_route` / `status` value.
    pub routing_value: Option<String>,
    /// Go to this phase because of `on_error`.
    pub on_error: Option<String>,
    pub conversation: Vec<crate::llm::Message>,
}

impl PhaseOutcome {
    /// The outcome of a phase whose output is a value (a deterministic, data or tool phase):
    /// its text is [`crate::runner::state::output_text`] of it.
    pub fn shaped(value: Value) -> PhaseOutcome {
        PhaseOutcome {
            output: crate::runner::state::output_text(&value),
            value: Some(value),
            ..PhaseOutcome::default()
        }
    }
}

/// Async children still running, awaited (or reported) when the session ends.
pub type Children = Arc<Mutex<Vec<(String, JoinHandle<RunResult>)>>>;

/// Runs a cascade as a child session to its end: `(runner, cascade, input, the child's
/// emitter, the parent's session id)`. The run loop's entry point, handed down in the env
/// (see [`crate::runner::children`], the one place that calls it).
pub type RunChild = for<'a> fn(
    &'a Runner,
    Arc<CascadeDef>,
    Map<String, Value>,
    &'a Emitter,
    Option<String>,
) -> BoxFuture<'a, RunResult>;

/// Everything a phase needs to run, shared across its turns.
pub struct PhaseEnv<'a> {
    pub runner: &'a Runner,
    pub def: &'a CascadeDef,
    pub emitter: &'a Emitter,
    pub tool_path: &'a ToolPath,
    /// Async sub-cascades started by this session.
    pub children: Children,
    /// Checkpoints and session rows in the store (top-level sessions of `run`/`resume`).
    pub durable: Option<Arc<Durable>>,
    /// Whether checkpoints keep conversations (the run loop decides from the cascade).
    pub keep_conversations: bool,
    /// How child sessions are run.
    pub run_child: RunChild,
}

impl PhaseEnv<'_> {
    /// The model a phase talks to.
    pub fn model_for(&self, phase: &Phase) -> String {
        phase.model.clone().unwrap_or_else(|| self.runner.opts.default_model.clone())
    }

    /// The variables a subprocess never sees: the process's secret ones, and the variables that
    /// hold this cascade's webhook secrets (`auth: hmac:${VAR}`), whatever they are named.
    fn secret_env(&self) -> Vec<String> {
        let webhook_secrets =
            self.def.cascade.triggers.iter().filter_map(|t| crate::cascade::triggers::secret_env(t).ok().flatten());
        self.runner.opts.secret_env.iter().cloned().chain(webhook_secrets).collect()
    }

    /// The tool context for calls made by `phase`.
    pub fn tool_context(&self, phase: &str, state: &RunState) -> ToolContext {
        let opts = &self.runner.opts;
        let session_id = self.emitter.session_id().to_string();
        let dir = opts.session_dir(&session_id);
        ToolContext {
            session_id,
            phase: phase.to_string(),
            working_dir: opts.working_dir.clone(),
            scratch_dir: dir.join("scratch"),
            session_db: dir.join("session.duckdb"),
            research_db: self.research_name().map(|n| crate::tools::sql::research_path(&opts.data_dir, &n)),
            allow_shell: opts.allow_shell,
            subprocess_timeout: opts.subprocess_timeout,
            output_cap: opts.output_cap,
            secret_env: self.secret_env(),
            state: state.state.clone(),
            input: state.input.clone(),
            outputs: state.outputs.clone(),
            previous: state.order.last().cloned(),
            runtimes: opts.runtimes.clone(),
            sql_functions: None,
        }
    }

    /// The cascade's `research_db` name: a string, or an object with a `name`.
    fn research_name(&self) -> Option<String> {
        match self.def.cascade.research_db.as_ref()? {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    }
}
