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
use crate::runner::replay::Replay;
use crate::runner::{session, CascadeDef, RunOptions, RunResult, RunState, RunStatus, Runner, Subscriber};
use crate::session::{Durable, StoreLogger};
use crate::store::{CascadeSessionRow, SessionStatus, Store};
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
pub fn runner(ctx: &Context, engine: &EngineArgs, client: LlmClient) -> Runner {
    let s = &ctx.settings;
    let provider = Arc::new(client);
    let mut opts = RunOptions::new(s.default_model.clone(), s.working_dir.clone(), s.data_dir.clone());
    opts.max_phase_visits = s.max_phase_visits;
    opts.allow_shell = s.allow_shell;
    opts.max_cost = engine.max_cost.map(|c| c.0);
    opts.secret_env = crate::env::secret_names().map(str::to_string).collect();
    opts.tool_path = s.tool_path.clone();
    Runner::new(provider, crate::tools::builtin_registry(), opts)
}

/// Checks that need no model call: subprocesses allowed, an API key where one is needed.
pub fn preflight(def: &CascadeDef, ctx: &Context, client: &LlmClient) -> Result<(), Error> {
    if !ctx.settings.allow_shell {
        let uses = requirements::shell_uses(&def.cascade);
        if !uses.is_empty() {
            return Err(Error::ShellNotAllowed { path: def.path.clone(), uses });
        }
    }
    let models = models_used(def, &ctx.settings.default_model);
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

/// Where a durable run starts: a new session, or a checkpoint being resumed.
pub struct Start {
    pub def: Arc<CascadeDef>,
    pub session_id: String,
    pub epoch: u64,
    pub next_seq: u64,
    pub state: RunState,
    /// The phase to run first (`None`: the session had already ended).
    pub phase: Option<usize>,
    /// Answers logged before a crash, served again on resume.
    pub replay: Option<Arc<Replay>>,
    pub parent_session_id: String,
}

/// Run a new session start to finish: record it in the store, then run it durably.
pub fn run_new(
    ctx: &Context,
    engine: &EngineArgs,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    session_id: String,
) -> Result<ExitCode, Error> {
    let client = client(ctx);
    preflight(&def, ctx, &client)?;
    let rt = super::store_access::runtime()?;
    let store = rt.block_on(crate::store::open(&ctx.settings))?;
    let row = CascadeSessionRow {
        session_id: session_id.clone(),
        cascade_id: def.cascade.cascade_id.clone(),
        cascade_path: def.path.display().to_string(),
        definition: def.text.clone(),
        definition_hash: hash(&def.text),
        input: serde_json::to_string(&input).unwrap_or_default(),
        parent_session_id: String::new(),
        created_at: crate::session::durable::now(),
    };
    rt.block_on(store.put_cascade_session(&row))?;
    let start = Start {
        phase: if def.cascade.phases.is_empty() { None } else { Some(0) },
        def,
        session_id,
        epoch: 1,
        next_seq: 0,
        state: RunState::new(input),
        replay: None,
        parent_session_id: String::new(),
    };
    run_durable(ctx, engine, &rt, store, start, client)
}

/// SHA-256 of a cascade's text, hex.
pub fn hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Run from `start` with heartbeats, checkpoints and the store logger; SIGINT/SIGTERM stop
/// it with everything flushed and the resume command printed (exit 130).
pub fn run_durable(
    ctx: &Context,
    engine: &EngineArgs,
    rt: &tokio::runtime::Runtime,
    store: Arc<dyn Store>,
    start: Start,
    client: LlmClient,
) -> Result<ExitCode, Error> {
    let mut runner = runner(ctx, engine, client);
    runner.replay = start.replay.clone();
    let s = &ctx.settings;
    let session_id = start.session_id.clone();
    let result = rt.block_on(async {
        let durable = Durable::new(
            store.clone(),
            &session_id,
            &start.def.cascade.cascade_id,
            &start.parent_session_id,
            start.epoch,
            &hash(&start.def.text),
            start.next_seq,
            s.heartbeat_lease,
            s.heartbeat_interval,
        );
        let logger = StoreLogger::start(store.clone(), start.epoch);
        let mut subs = subscribers(ctx, engine.format);
        subs.push(logger.clone());
        let emitter = Emitter::new(&session_id, 0, subs);
        durable
            .set_status(SessionStatus::Running, start.phase.map(|i| start.def.cascade.phases[i].name.as_str()))
            .await?;
        let heartbeat = durable.spawn_heartbeat();
        let timeout = engine.timeout.map(|t| t.0);
        let def = start.def.clone();
        let run = async {
            if start.phase == Some(0) && start.next_seq == 0 {
                session::run_durable(&runner, def, start.state.input.clone(), &emitter, None, Some(durable.clone()))
                    .await
            } else {
                session::run_from(&runner, def, start.state, start.phase, &emitter, Some(durable.clone())).await
            }
        };
        let outcome = tokio::select! {
            r = run => Outcome::Done(Box::new(r)),
            _ = shutdown_signal() => Outcome::Interrupted,
            _ = sleep_or_forever(timeout) => Outcome::TimedOut,
        };
        heartbeat.abort();
        let totals = |r: &RunResult| (r.tokens_in, r.tokens_out, r.cost);
        match &outcome {
            Outcome::Done(r) => {
                let status = match r.status {
                    RunStatus::Completed => SessionStatus::Completed,
                    RunStatus::Cancelled => SessionStatus::Cancelled,
                    RunStatus::Blocked => SessionStatus::Blocked,
                    RunStatus::Error | RunStatus::Interrupted => SessionStatus::Error,
                };
                let _ = durable.finish(status, r.errors.first().map(String::as_str), totals(r)).await;
            }
            // The lease is released (heartbeat 0) so `windlass resume` starts at once.
            Outcome::Interrupted | Outcome::TimedOut => {
                let why = if matches!(outcome, Outcome::Interrupted) {
                    "interrupted by a signal"
                } else {
                    "stopped by --timeout"
                };
                let _ = durable
                    .update(|r| {
                        r.status = SessionStatus::Orphaned.as_str().into();
                        r.error_message = why.into();
                    })
                    .await;
                let _ = durable.update(|r| r.heartbeat_at = 0.0).await;
            }
        }
        if let Err(e) = tokio::time::timeout(std::time::Duration::from_millis(1500), logger.flush())
            .await
            .unwrap_or(Err("timed out".into()))
        {
            eprintln!("windlass: warning: some log rows of session {session_id} could not be saved yet: {e}");
        }
        Ok::<_, Error>(outcome)
    })?;
    match result {
        Outcome::Done(r) => {
            print_result(&r, engine.format)?;
            Ok(error::run_exit_code(&r))
        }
        Outcome::Interrupted => {
            eprintln!(
                "windlass: interrupted; completed phases are saved. Resume with:\n  windlass resume {session_id}"
            );
            Ok(ExitCode::Interrupted)
        }
        Outcome::TimedOut => Err(Error::TimedOut { session: session_id }),
    }
}

enum Outcome {
    Done(Box<RunResult>),
    Interrupted,
    TimedOut,
}

async fn sleep_or_forever(d: Option<std::time::Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
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
