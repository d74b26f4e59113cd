//! What a tool may know about the run it serves.

use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Passed to every tool call. Cheap to clone.
#[derive(Clone)]
pub struct ToolContext {
    pub session_id: String,
    pub phase: String,
    /// The folder file tools stay inside (the process's working directory).
    pub working_dir: PathBuf,
    /// The session's scratch folder (subprocesses run here).
    pub scratch_dir: PathBuf,
    /// The session database file (`sql_data`, `smart_sql_run` default).
    pub session_db: PathBuf,
    /// The cascade's `research_db` file, when it declares one.
    pub research_db: Option<PathBuf>,
    /// `WINDLASS_ALLOW_SHELL` / `--allow-shell`: subprocess tools and absolute paths.
    pub allow_shell: bool,
    /// Timeout for subprocess tools.
    pub subprocess_timeout: Duration,
    /// Cap on captured subprocess output, in bytes.
    pub output_cap: usize,
    /// Environment variable names that must never reach a child process.
    pub secret_env: Vec<String>,
    /// A snapshot of the session state when the call was made.
    pub state: Map<String, Value>,
    /// The session's input (data phases see it as `input`).
    pub input: Map<String, Value>,
    /// Every earlier phase's latest output, in the order they first ran (data phases see them
    /// as `data.<phase>`).
    pub outputs: Map<String, Value>,
    /// The phase that ran before this one (`bash_data` reads its table by default).
    pub previous: Option<String>,
    /// The interpreters data phases run.
    pub runtimes: super::data::Runtimes,
    /// Engine functions for SQL on the session database (`windlass_udf`, ...).
    pub sql_functions: Option<std::sync::Arc<dyn super::sql::SqlFunctions>>,
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("session_id", &self.session_id)
            .field("phase", &self.phase)
            .field("working_dir", &self.working_dir)
            .field("allow_shell", &self.allow_shell)
            .finish_non_exhaustive()
    }
}
