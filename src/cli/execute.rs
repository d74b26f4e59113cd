//! Running a cascade in this process, shared by `run` and `resume`: check it, build
//! the engine from settings, choose renderers, run, print the result, pick the exit code.

use super::engine_args::{EngineArgs, OutputFormat};
use super::Context;
use crate::cascade::check::{check_loaded, CheckOptions};
use crate::cascade::{requirements, Loaded, Severity};
use crate::error::{self, Error};
use crate::exit_code::ExitCode;
use crate::host::{drive, start, Ended, Host, Limits, LogSink, Start};
use crate::llm::{LlmClient, RetryPolicy};
use crate::render::{self, Format, GithubActions, RenderOptions};
use crate::runner::{CascadeDef, RunOptions, RunResult, Runner, Subscriber};
use crate::session::Hub;
use crate::session_id::SessionId;
use crate::store::Store;
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

/// The LLM client, built once per command (it loads the system's CA certificates).
pub fn client(ctx: &Context) -> LlmClient {
    LlmClient::from_settings(&ctx.settings, RetryPolicy::default())
}

/// The engine, built from settings.
pub fn runner(ctx: &Context, max_cost: Option<f64>, client: LlmClient) -> Runner {
    let s = &ctx.settings;
    let provider = Arc::new(client);
    let mut opts = RunOptions::new(s.default_model.clone(), s.working_dir.clone(), s.data_dir.clone());
    opts.max_phase_visits = s.max_phase_visits;
    opts.embeddings_model = s.embeddings_model.clone();
    opts.allow_shell = s.allow_shell;
    opts.max_cost = max_cost;
    opts.secret_env = crate::env::secret_names().map(str::to_string).collect();
    opts.tool_path = s.tool_path.clone();
    opts.runtimes =
        crate::tools::data::Runtimes { python: s.python.clone(), node: s.node.clone(), clojure: s.clojure.clone() };
    let mut runner = Runner::new(provider, crate::tools::builtin_registry(), opts);
    runner.console = super::console::Terminal::if_interactive();
    runner
}

/// Checks that need no model call: subprocesses allowed, an API key where one is needed.
pub fn preflight(def: &CascadeDef, ctx: &Context, client: &LlmClient) -> Result<(), Error> {
    preflight_tools(def, ctx)?;
    let models = models_used(def, &ctx.settings.default_model);
    for model in models {
        if let Some(variable) = client.needs_key(&model) {
            return Err(Error::MissingKey { variable, url: ctx.settings.base_url.to_string() });
        }
    }
    Ok(())
}

/// The check of [`preflight`] that holds with or without a model endpoint.
fn preflight_tools(def: &CascadeDef, ctx: &Context) -> Result<(), Error> {
    if !ctx.settings.allow_shell {
        let uses = requirements::shell_uses(&def.cascade);
        if !uses.is_empty() {
            return Err(Error::ShellNotAllowed { path: def.path.clone(), uses });
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
            || p.for_each_row.as_ref().is_some_and(|f| f.instructions.is_some())
            || p.tool.as_deref() == Some("windlass_data");
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

/// The host of this command's sessions: the store, its signal poller, the engine.
pub async fn host(
    ctx: &Context,
    max_cost: Option<f64>,
    store: Arc<dyn Store>,
    client: LlmClient,
) -> Result<Host, Error> {
    // Many sessions at once ask the store the same questions: share the queries.
    let store = crate::store::Batched::wrap(store);
    let hub = Hub::start(store.clone()).await?;
    Ok(Host {
        logs: LogSink::start(store.clone()),
        store,
        hub,
        runner: runner(ctx, max_cost, client),
        lease: ctx.settings.heartbeat_lease,
        heartbeat_interval: ctx.settings.heartbeat_interval,
        clock: crate::session::SystemClock::shared(),
        flushes_at_exit: false,
    })
}

/// Run a new session start to finish: record it in the store, then run it durably.
pub fn run_new(
    ctx: &Context,
    engine: &EngineArgs,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    session_id: SessionId,
) -> Result<ExitCode, Error> {
    let client = client(ctx);
    if engine.cassette.replay.is_some() {
        // Every answer comes from the cassette: no key, no endpoint, no network.
        preflight_tools(&def, ctx)?;
    } else {
        preflight(&def, ctx, &client)?;
    }
    let rt = super::store_access::runtime()?;
    let store = rt.block_on(crate::store::open(&ctx.settings))?;
    let row = start::cascade_row(&def, &session_id, &input, crate::session::durable::now());
    rt.block_on(store.put_cascade_session(&row))?;
    let start = start::new_session(def, session_id, input);
    run_hosted(ctx, engine, &rt, store, start, client)
}

/// Run from `start` in this process, with the renderers of `engine.format`; SIGINT/SIGTERM
/// stop it with everything flushed and the resume command printed (exit 130).
pub fn run_hosted(
    ctx: &Context,
    engine: &EngineArgs,
    rt: &tokio::runtime::Runtime,
    store: Arc<dyn Store>,
    start: Start,
    client: LlmClient,
) -> Result<ExitCode, Error> {
    let session_id = start.session_id.clone();
    // A resumed session (one taken over from the store, which has logged answers to reuse)
    // adds to the cassette its first run recorded.
    let cassette = engine.cassette.open(ctx, start.replay.is_some())?;
    let flags = Limits { model: None, max_cost: None, timeout: engine.timeout.map(|t| t.0), cassette };
    let limits = start.limits.or(&flags);
    let ended = rt.block_on(async {
        let host = host(ctx, engine.max_cost.map(|c| c.0), store, client).await?;
        Ok::<_, Error>(drive(&host, start, subscribers(ctx, engine.format), &limits, shutdown_signal()).await?)
    })?;
    if let Some(c) = &flags.cassette {
        super::cassette_args::report(&c.0, ctx);
    }
    match ended {
        Ended::Done(r) => {
            print_result(&r, engine.format)?;
            Ok(error::run_exit_code(&r))
        }
        Ended::Interrupted => {
            eprintln!(
                "windlass: interrupted; completed phases are saved. Resume with:\n  windlass resume {session_id}"
            );
            Ok(ExitCode::Interrupted)
        }
        Ended::Waiting { on } => Err(Error::Waiting { session: session_id.to_string(), on }),
        Ended::TimedOut => Err(Error::TimedOut { session: session_id.to_string() }),
    }
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
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
            } else {
                let text = crate::runner::state::output_text(&result.output);
                if !text.is_empty() {
                    writeln!(out, "{}", text.trim_end_matches('\n')).map_err(Error::Stdout)?;
                }
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
