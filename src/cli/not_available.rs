//! The one answer of every command whose behaviour is not built yet.

use crate::error::Error;
use crate::exit_code::ExitCode;

/// Fail with `windlass <command>: not available in this build yet (planned: <planned>)`,
/// exit 4. A command that is not built must say so, never pretend to have worked.
pub fn not_available(command: &'static str, planned: &'static str) -> Result<ExitCode, Error> {
    Err(Error::NotAvailable { command, planned })
}

/// Where the missing commands are planned, so each subcommand names the same piece of work.
pub mod planned {
    pub const SESSIONS: &str = "the sessions issue";
    pub const WORKER: &str = "the worker issue";
}
