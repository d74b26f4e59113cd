//! [`SettingsError`]: configuration that cannot be used, with what to change and where.

use super::lookup::Origin;
use std::io;
use std::path::PathBuf;

/// Why settings could not be resolved. Every message reads after "failed to" and names the
/// variable, where its value came from, and what to write instead.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("read settings: {var}={value} ({origin}): {problem}")]
    Invalid {
        var: &'static str,
        /// The value as written, or `***` for a secret.
        value: String,
        origin: Origin,
        problem: String,
    },

    #[error(
        "read settings: WINDLASS_HEARTBEAT_LEASE={lease} ({lease_origin}) must be longer than \
         WINDLASS_HEARTBEAT_INTERVAL={interval} ({interval_origin}), or every session looks \
         orphaned between two heartbeats; a lease of several intervals is safe"
    )]
    LeaseNotLongerThanInterval { lease: String, lease_origin: Origin, interval: String, interval_origin: Origin },

    #[error(
        "read {}{}: the line for `{name}` is not NAME=value; quote values with spaces or \
         quotes in them, or delete the line", path.display(),
        line_number.map(|n| format!(":{n}")).unwrap_or_default()
    )]
    DotEnvSyntax { path: PathBuf, line_number: Option<usize>, name: String },

    #[error("read {}: {source}; fix its permissions or remove it (.env is optional)", path.display())]
    DotEnvUnreadable { path: PathBuf, source: io::Error },

    #[error(
        "find a data folder: this system reports no home directory; set WINDLASS_DATA_DIR to \
         the folder windlass may keep its store in"
    )]
    NoDataDir,

    #[error("find the working directory: {0}; run windlass from a folder that exists")]
    NoWorkingDir(io::Error),
}
