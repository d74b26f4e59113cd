//! The command line: clap types, one file per subcommand (its `Args` and `fn run`), and the
//! dispatch that resolves [`Settings`] once and hands them to the subcommand in a [`Context`].

pub mod cancel;
pub mod cassette_args;
pub mod check;
pub mod cleanup;
pub mod completions;
pub mod console;
pub mod data_format;
pub mod engine_args;
pub mod execute;
pub mod generated;
pub mod global;
mod help;
pub mod input_args;
pub mod logs;
mod man_sections;
pub mod orphans;
pub mod resume;
pub mod run;
pub mod schedules;
pub mod schema;
pub mod serve;
pub mod sessions;
pub mod signal;
pub mod sql;
pub mod store_access;
pub mod submit;
pub mod table;
pub mod worker;

use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::settings::{Overrides, Settings};
use clap::{Parser, Subcommand};
use global::GlobalArgs;

/// Run declarative LLM workflows (cascades) with durable, resumable sessions.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "windlass",
    version,
    max_term_width = 100,
    after_long_help = help::after_long_help()
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run a cascade in this process, start to finish
    Run(run::RunArgs),
    /// Continue a session from its last checkpoint, on any machine that reaches the store
    Resume(resume::ResumeArgs),
    /// Send a message to a running session, or fire a named signal
    Signal(signal::SignalArgs),
    /// Ask a running session to stop at the next boundary
    Cancel(cancel::CancelArgs),
    /// List sessions, or show one with `sessions show`
    Sessions(sessions::SessionsArgs),
    /// Print a session's log rows
    Logs(logs::LogsArgs),
    /// List sessions whose heartbeat lease expired, and mark them orphaned
    Orphans(orphans::OrphansArgs),
    /// Run submitted sessions and recover orphans, as a stateless worker
    Worker(worker::WorkerArgs),
    /// Queue a run in the store for any worker, and print its session id
    Submit(submit::SubmitArgs),
    /// Register, list and remove cascades' cron and webhook triggers
    Schedules(schedules::SchedulesArgs),
    /// Serve the HTTP API and the web page over the store
    Serve(serve::ServeArgs),
    /// Remove the artifacts of finished sessions
    Cleanup(cleanup::CleanupArgs),
    /// Load and validate cascades without running them
    Check(check::CheckArgs),
    /// Run a read-only SQL query on the store
    Sql(sql::SqlArgs),
    /// Print the JSON Schema of the cascade format, for editors and other tools
    Schema(schema::SchemaArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
}

/// What every subcommand gets: the resolved settings and the global options.
#[derive(Debug)]
pub struct Context {
    pub settings: Settings,
    pub global: GlobalArgs,
}

impl Command {
    /// The flags of this command that override settings.
    fn overrides(&self) -> Overrides {
        match self {
            Command::Run(args) => args.engine.overrides(),
            Command::Resume(args) => args.engine.overrides(),
            Command::Submit(args) => Overrides { model: args.model.clone(), ..Overrides::default() },
            _ => Overrides::default(),
        }
    }
}

/// Run the parsed command line. `Ok` carries the outcome's exit code (a check with errors is
/// an outcome, not a failure); `Err` is a failure for [`crate::error::exit_code`] to map.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let command = match cli.command {
        Command::Completions(args) => return args.run(),
        Command::Schema(args) => return args.run(),
        command => command,
    };
    let ctx = Context { settings: Settings::from_process(&command.overrides())?, global: cli.global };
    match command {
        Command::Run(args) => args.run(&ctx),
        Command::Resume(args) => args.run(&ctx),
        Command::Signal(args) => args.run(&ctx),
        Command::Cancel(args) => args.run(&ctx),
        Command::Sessions(args) => args.run(&ctx),
        Command::Logs(args) => args.run(&ctx),
        Command::Orphans(args) => args.run(&ctx),
        Command::Worker(args) => args.run(&ctx),
        Command::Submit(args) => args.run(&ctx),
        Command::Schedules(args) => args.run(&ctx),
        Command::Serve(args) => args.run(&ctx),
        Command::Cleanup(args) => args.run(&ctx),
        Command::Check(args) => args.run(&ctx),
        Command::Sql(args) => args.run(&ctx),
        Command::Completions(args) => args.run(),
        Command::Schema(args) => args.run(),
    }
}

// `SessionId` converts from any `String` (ids made by the engine or read from the store), and
// clap would take that conversion over `FromStr`; ids typed on the command line must pass its
// shape checks.
impl clap::builder::ValueParserFactory for crate::session_id::SessionId {
    type Parser = fn(&str) -> Result<crate::session_id::SessionId, String>;

    fn value_parser() -> Self::Parser {
        |text| text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_and_option_has_help() {
        fn walk(cmd: &clap::Command, path: &str) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                assert!(arg.get_help().is_some(), "{path} {id} has no help");
            }
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                assert!(sub.get_about().is_some(), "{name} has no help");
                walk(sub, &name);
            }
        }
        walk(&Cli::command(), "windlass");
    }

    #[test]
    fn signal_needs_a_message_or_a_name() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["windlass", "signal"], args].concat());
        assert!(parse(&["s1", "hello"]).is_ok());
        assert!(parse(&["--name", "approved"]).is_ok());
        assert!(parse(&["s1", "--name", "approved", "--payload", "{}"]).is_ok());
        assert!(parse(&["s1"]).is_err());
        assert!(parse(&["s1", "--payload", "{}"]).is_err());
        assert!(parse(&["s1", "hello", "--name", "approved"]).is_err());
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let cli = Cli::try_parse_from(["windlass", "check", "x.yaml", "-q", "--color", "never"]).unwrap();
        assert!(cli.global.quiet);
        assert_eq!(cli.global.color, global::ColorChoice::Never);
    }
}
