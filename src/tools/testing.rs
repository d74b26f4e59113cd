//! A [`ToolContext`] over a temporary folder, for the tools' tests.

use super::ToolContext;
use std::time::Duration;
use tempfile::TempDir;

/// A context whose working folder is a fresh temporary folder (kept alive by the returned
/// guard), with a scratch folder inside it that does not exist yet.
pub fn context(allow_shell: bool) -> (ToolContext, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let working_dir = dir.path().join("work");
    std::fs::create_dir(&working_dir).unwrap();
    let ctx = ToolContext {
        session_id: "s1".into(),
        phase: "p".into(),
        scratch_dir: dir.path().join("scratch"),
        session_db: dir.path().join("session.duckdb"),
        research_db: None,
        working_dir,
        allow_shell,
        subprocess_timeout: Duration::from_secs(10),
        output_cap: 64 * 1024,
        secret_env: Vec::new(),
        state: Default::default(),
        input: Default::default(),
        outputs: Default::default(),
        previous: None,
        runtimes: Default::default(),
        sql_functions: None,
    };
    (ctx, dir)
}
