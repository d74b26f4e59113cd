//! [`Error`]: everything that can end a command early, and [`exit_code`], the one place that
//! turns an error into a process exit code.

use crate::exit_code::ExitCode;
use crate::runner::{RunError, RunResult, RunStatus};
use crate::settings::SettingsError;
use crate::store::StoreError;
use std::io;
use std::path::PathBuf;

/// A failure that stops a command. Messages read well after "failed to" and say what failed,
/// on what, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Settings(#[from] SettingsError),

    #[error("list the cascades in {}: {source}; check the folder exists and is readable", path.display())]
    ReadDir { path: PathBuf, source: io::Error },

    #[error("write {what} as JSON: {source}")]
    Json { what: &'static str, source: serde_json::Error },

    #[error("write to standard output: {0}")]
    Stdout(io::Error),

    /// `check` errors were printed above this line.
    #[error("run {}: it has {errors} error(s) (listed above); fix them, `windlass check` shows the same", path.display())]
    InvalidCascade { path: PathBuf, errors: usize },

    #[error("read the input from {source_name}: {detail}")]
    Input { source_name: String, detail: String },

    #[error("run {}: it runs local subprocesses, which are off:\n  {}\nallow them with --allow-shell or WINDLASS_ALLOW_SHELL=1", path.display(), uses.join("\n  "))]
    ShellNotAllowed { path: PathBuf, uses: Vec<String> },

    #[error("call the LLM endpoint {url}: no API key is set; set {variable} (or WINDLASS_API_KEY), or point WINDLASS_BASE_URL at a local server")]
    MissingKey { variable: &'static str, url: String },

    #[error("start the async runtime: {0}")]
    Runtime(io::Error),

    #[error("finish session {session} within --timeout: it was still running, so it is stopped after its last checkpoint; `windlass resume {session}` continues it")]
    TimedOut { session: String },

    #[error("session {session} is still waiting on {on} after --timeout; answer with `windlass signal {session} ...`, then `windlass resume {session}` continues it (a worker may also pick it up)")]
    Waiting { session: String, on: String },

    #[error("listen on {addr}: {source}; choose another address or port")]
    Listen { addr: std::net::SocketAddr, source: io::Error },

    /// `serve`/`worker --listen` on an address other than loopback without a token.
    #[error(transparent)]
    Exposed(#[from] crate::serve::listen::Exposed),

    /// `signal`/`cancel` to a session that cannot take it.
    #[error("{action} session {session}: {detail}")]
    Session { action: &'static str, session: String, detail: String },

    #[error("{0}")]
    Store(#[from] StoreError),

    #[error("find session {session}: no such session in this store; `windlass sessions` lists them")]
    UnknownSession { session: String },

    #[error("resume session {session}: {detail}")]
    Resume { session: String, detail: String },

    /// `cleanup` could not measure or remove what a session left on disk.
    #[error("{action} {}: {source}; check its permissions and run `windlass cleanup` again", path.display())]
    Artifacts { action: &'static str, path: PathBuf, source: io::Error },

    /// A cassette (`--record`, `--replay`) could not be read or written.
    #[error(transparent)]
    Cassette(#[from] crate::llm::cassette::FileError),

    #[error("{action} {}: {detail}", path.display())]
    Triggers { action: &'static str, path: PathBuf, detail: String },

    #[error("remove schedule {id}: no such schedule; `windlass schedules list` shows them")]
    UnknownSchedule { id: String },
}

impl Error {
    /// The line printed on stderr before the process exits, or `None` when nothing should be
    /// said: a reader that closed the pipe early (`windlass check . | head`) is not a failure.
    pub fn report(&self) -> Option<String> {
        match self {
            Error::Stdout(err) if err.kind() == io::ErrorKind::BrokenPipe => None,
            _ => Some(format!("windlass: error: failed to {self}")),
        }
    }
}

/// The exit code for an error (cli.md, "Exit codes"). Exhaustive on purpose: a new error
/// variant must decide its code here.
pub fn exit_code(err: &Error) -> ExitCode {
    match err {
        Error::Settings(_) => ExitCode::Setup,
        Error::ReadDir { .. } => ExitCode::Setup,
        Error::Json { .. } => ExitCode::Setup,
        Error::Stdout(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::Success,
        Error::Stdout(_) => ExitCode::Setup,
        Error::InvalidCascade { .. } => ExitCode::InvalidCascade,
        Error::Input { .. } => ExitCode::Setup,
        Error::ShellNotAllowed { .. } => ExitCode::Setup,
        Error::MissingKey { .. } => ExitCode::Setup,
        Error::Runtime(_) => ExitCode::Setup,
        Error::TimedOut { .. } => ExitCode::CascadeFailed,
        Error::Waiting { .. } => ExitCode::Waiting,
        Error::Session { .. } => ExitCode::CascadeFailed,
        Error::Listen { .. } => ExitCode::Setup,
        Error::Exposed(_) => ExitCode::Setup,
        Error::Store(StoreError::NotReadOnly(_)) => ExitCode::Usage,
        Error::Store(_) => ExitCode::Store,
        Error::UnknownSession { .. } => ExitCode::CascadeFailed,
        Error::Resume { .. } => ExitCode::CascadeFailed,
        Error::Artifacts { .. } => ExitCode::Setup,
        Error::Cassette(_) => ExitCode::Setup,
        Error::Triggers { .. } => ExitCode::InvalidCascade,
        Error::UnknownSchedule { .. } => ExitCode::CascadeFailed,
    }
}

/// The exit code for a finished run (cli.md, "Exit codes"), from its typed failure.
pub fn run_exit_code(result: &RunResult) -> ExitCode {
    use crate::llm::LlmError;
    let Some(failure) = &result.failure else {
        return match result.status {
            RunStatus::Completed => ExitCode::Success,
            RunStatus::Blocked => ExitCode::Waiting,
            RunStatus::Interrupted => ExitCode::Interrupted,
            RunStatus::Error | RunStatus::Cancelled => ExitCode::CascadeFailed,
        };
    };
    match failure {
        RunError::Provider(LlmError::MissingKey { .. } | LlmError::InvalidKey { .. }) => ExitCode::Setup,
        RunError::Provider(LlmError::CassetteMiss { .. }) => ExitCode::CassetteMiss,
        RunError::Provider(LlmError::CassetteFile { .. }) => ExitCode::Setup,
        RunError::Provider(_) | RunError::CostLimit { .. } => ExitCode::Provider,
        RunError::Interrupted => ExitCode::Interrupted,
        RunError::Store(_) => ExitCode::Store,
        RunError::Phase { .. }
        | RunError::VisitLimit { .. }
        | RunError::Unsupported { .. }
        | RunError::Blocked { .. }
        | RunError::Cancelled { .. }
        | RunError::Fenced { .. } => ExitCode::CascadeFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_silent_success() {
        let err = Error::Stdout(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(err.report(), None);
        assert_eq!(exit_code(&err), ExitCode::Success);
    }

    #[test]
    fn other_errors_read_after_failed_to() {
        let err = Error::ReadDir {
            path: PathBuf::from("cascades"),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        let line = err.report().unwrap();
        assert!(line.starts_with("windlass: error: failed to list the cascades in cascades: "), "{line}");
    }
}
