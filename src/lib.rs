//! windlass: run declarative LLM workflows ("cascades") with durable, resumable sessions.
//!
//! The `windlass` binary is a thin shell around this library: it parses the command line into
//! [`cli::Cli`], calls [`run()`], and exits with the [`exit_code::ExitCode`] it gets back.
//!
//! # Layout
//!
//! Each behaviour lives in one obvious place:
//!
//! - [`cascade`]: the cascade format. The serde model, loading with `file:line:col` errors,
//!   validation that collects every diagnostic (`windlass check`), templates. Pure: no network,
//!   no database, nothing else from this crate.
//! - [`cli`]: clap types, one file per subcommand (its `Args` and `fn run`). Resolves
//!   [`settings::Settings`] once and hands them to the subcommand in a [`cli::Context`].
//! - [`settings`]: flags, then the environment, then `.env`, then defaults, resolved once into
//!   one typed value; secrets wrapped so they never print.
//! - [`env`](mod@env): the registry of every environment variable windlass reads, documented once;
//!   clap help and `.env.example` are drawn from it.
//! - [`exit_code`]: the exit codes of the CI contract.
//! - [`session_id`]: the [`session_id::SessionId`] newtype every layer names sessions by (a
//!   leaf: it imports nothing from the crate).
//! - [`error`]: the top-level error type and the one function that maps an error to an exit
//!   code.
//!
//! - [`runner`]: the engine, in sub-folders by idea: the run loop, deterministic phases, LLM
//!   phases, validation and wards, the tools a phase calls, child runs; emits
//!   [`runner::event::RunEvent`] values, never prints, and asks a person only through the
//!   [`runner::Console`] the CLI hands it.
//! - [`llm`]: the [`llm::Provider`] trait and the OpenAI-compatible client (retries, model
//!   routing, reasoning suffixes, usage and cost).
//! - [`tools`]: the [`tools::Tool`] trait and the built-in local tools (state, files,
//!   subprocesses, DuckDB, demo functions), and declarative tools (`*.tool.json`/`*.tool.yaml`
//!   files on the tool path, read by `cascade::tool_file`).
//! - [`render`]: subscribers of run events: live progress, plain lines, NDJSON, CI annotations.
//!
//! - [`store`]: the [`store::Store`] trait, its five tables, and the two backends: the
//!   embedded DuckDB file (shared between processes by hand-over) and ClickHouse (with a local
//!   spool for log rows while it is unreachable; one server, or replicas of a cluster with
//!   quorum writes and consistent reads when `WINDLASS_CLICKHOUSE_CLUSTER` is set).
//! - [`session`]: durable sessions on top of the store: session rows with heartbeats,
//!   checkpoints, signals (the per-process poller and each session's mailbox), lock-free
//!   claims with fencing, what `signal`/`cancel`/`resume` change on a session, what
//!   `cleanup` removes, and the registered cron/webhook triggers (`session::schedules`, whose
//!   meaning is `cascade::triggers`). Knows nothing of the engine.
//! - [`host`]: running durable sessions in this process (the one path for `run`, `resume`,
//!   `orphans --resume` and `worker`): the log subscriber that turns run events into
//!   `unified_logs` rows, the worker loop (which also fires due cron ticks, `host::schedules`)
//!   and its `/metrics` counters.
//! - [`serve`]: the HTTP side (`windlass serve`, `worker --listen`): the JSON API, Server-Sent
//!   Events fed by one store poller per process, the embedded web page, token and CSRF
//!   checks, `/health`, `/ready`, `/metrics`. Calls the same `session` and `host` functions
//!   as the commands.
//!
//! Dependencies point one way: `cli` → `serve` → `host` → (`runner`, `session`), `runner` →
//! (`cascade`, `llm`, `tools`, `session`), `session` → `store`; `render` knows only the
//! runner's events. `session` never imports `runner` (the event-to-row conversion lives in
//! `host`); `cli` and `serve` parse requests, call `host` and `session` functions and answer,
//! and build no store rows and send no SQL of their own. `tests/dependency_rules.rs` checks
//! these rules and that the engine's sub-folders import each other without a cycle.

pub mod cascade;
pub mod cli;
pub mod env;
pub mod error;
pub mod exit_code;
pub mod host;
pub mod llm;
pub mod render;
pub mod runner;
pub mod serve;
pub mod session;
pub mod session_id;
pub mod settings;
pub mod store;
pub mod tools;

pub use cli::run;
