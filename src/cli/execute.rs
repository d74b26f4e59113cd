//! Running a cascade in this process, shared by `run` (and later `resume`): check it, build
//! the engine from settings, choose renderers, run, print the result, pick the exit code.

use super::engine_args::{EngineArgs, OutputFormat};
use super::Context;
use crate::cascade::check::{check_loaded, CheckOptions};
use crate::cascade::{requirements, Loaded, Severity};
use crate::error::{self, Error};
use crate::exit_code::ExitCode;
use crate::llm::{LlmClient, RetryPolicy};
use crate::render::{self, Format, GithubActions, RenderOptions};
use crate::runner::emitter::Emitter;
use crate::runner::{session, CascadeDef, RunOptions, RunResult, Runner, Subscriber};
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// Refuse a cascade with `check` errors (exit 3), printing them like `check` does.
pub fn ensure_valid(loaded: &Loaded, ctx: &Context) -> Result<(), Error> {
    let opts = CheckOptions { tool_path: ctx.settings.tool_path.clone(), cwd: ctx.settings.working_dir.clone() };
    let diags = check_loaded(loaded, &opts);
    let errors: Vec<_> = diags.iter().filter(|d| d.severity == Severity::Error).collect();
    if errors.is_empty() {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    for d in &errors {
        let _ = writeln!(err, "{}", d.render(&loaded.path));
    }
    Err(Error::InvalidCascade { path: loaded.path.clone(), errors: errors.len() })
}

/// The engine, built from settings.
pub fn runner(ctx: &Context, engine: &EngineArgs) -> Runner {
    let s = &ctx.settings;
    let provider = Arc::new(LlmClient::from_settings(s, RetryPolicy::default()));
    let mut opts = RunOptions::new(s.default_model.clone(), s.working_dir.clone(), s.data_dir.clone());
    opts.max_phase_visits = s.max_phase_visits;
    opts.allow_shell = s.allow_shell;
    opts.max_cost = engine.max_cost.map(|c| c.0);
    opts.secret_env = crate::env::secret_names().map(str::to_string).collect();
    opts.tool_path = s.tool_path.clone();
    Runner::new(provider, crate::tools::builtin_registry(), opts)
}

/// Checks that need no model call: subprocesses allowed, an API key where one is needed.
pub fn preflight(def: &CascadeDef, ctx: &Context) -> Result<(), Error> {
    if !ctx.settings.allow_shell {
        let uses = requirements::shell_uses(&def.cascade);
        if !uses.is_empty() {
            return Err(Error::ShellNotAllowed { path: def.path.clone(), uses });
        }
    }
    let models = models_used(def, &ctx.settings.default_model);
    let client = LlmClient::from_settings(&ctx.settings, RetryPolicy::default());
    for model in models {
        if let Some(variable) = client.needs_key(&model) {
            return Err(Error::MissingKey { variable, url: ctx.settings.base_url.to_string() });
        }
    }
    Ok(())
}

/// The models a cascade will call: its LLM phases' (or the default), and the default for
/// LLM work inside deterministic phases (`windlass_udf`, `for_each_row` instructions).
fn models_used(def: &CascadeDef, default_model: &str) -> Vec<String> {
    use crate::cascade::model::PhaseKind;
    let mut out = Vec::new();
    for p in &def.cascade.phases {
        let llm_inside = p
            .inputs
            .values()
            .any(|v| v.to_string().contains("windlass_udf") || v.to_string().contains("windlass_cascade_udf"))
            || p.for_each_row.as_ref().is_some_and(|f| f.instructions.is_some());
        if p.kind() == Some(PhaseKind::Llm) || p.on_error.is_some() || llm_inside {
            out.push(p.model.clone().unwrap_or_else(|| default_model.to_string()));
        }
    }
    if def.cascade.soundings.is_some() {
        out.push(default_model.to_string());
    }
    out.dedup();
    out
}

/// Renderers for this run, per cli.md's Output section.
pub fn subscribers(ctx: &Context, format: OutputFormat) -> Vec<Arc<dyn Subscriber>> {
    let stderr_tty = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    render::choose(&RenderOptions {
        stderr_is_terminal: stderr_tty,
        quiet: ctx.global.quiet,
        no_progress: ctx.global.no_progress,
        color: ctx.global.color.enabled(stderr_tty, no_color),
        format: match format {
            OutputFormat::Human => Format::Human,
            OutputFormat::Json => Format::Json,
            OutputFormat::Ndjson => Format::Ndjson,
        },
        github: GithubActions::from_env(),
    })
}

/// Run a cascade start to finish and print its result.
pub fn run_new(
    ctx: &Context,
    engine: &EngineArgs,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    session_id: String,
) -> Result<ExitCode, Error> {
    preflight(&def, ctx)?;
    let runner = runner(ctx, engine);
    let emitter = Emitter::new(&session_id, 0, subscribers(ctx, engine.format));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime)?;
    let timeout = engine.timeout.map(|t| t.0);
    let result = rt.block_on(async {
        let run = session::run(&runner, def, input, &emitter, None);
        match timeout {
            Some(t) => tokio::time::timeout(t, run).await.ok(),
            None => Some(run.await),
        }
    });
    let Some(result) = result else {
        return Err(Error::TimedOut { session: session_id });
    };
    print_result(&result, engine.format)?;
    Ok(error::run_exit_code(&result))
}

/// stdout: the output (human), the result document (json, and last in ndjson).
fn print_result(result: &RunResult, format: OutputFormat) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Human => {
            if !result.errors.is_empty() {
                for e in &result.errors {
                    eprintln!("windlass: error: session {}: {e}", result.session_id);
                }
            } else if !result.output.is_empty() {
                writeln!(out, "{}", result.output.trim_end_matches('\n')).map_err(Error::Stdout)?;
            }
        }
        OutputFormat::Json => {
            let doc =
                serde_json::to_string_pretty(result).map_err(|source| Error::Json { what: "the result", source })?;
            writeln!(out, "{doc}").map_err(Error::Stdout)?;
            for e in &result.errors {
                eprintln!("windlass: error: session {}: {e}", result.session_id);
            }
        }
        OutputFormat::Ndjson => {
            let doc = serde_json::to_string(result).map_err(|source| Error::Json { what: "the result", source })?;
            writeln!(out, "{doc}").map_err(Error::Stdout)?;
        }
    }
    out.flush().map_err(Error::Stdout)
}
