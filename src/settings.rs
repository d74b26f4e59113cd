//! [`Settings`]: every configuration value, resolved once at start-up into one typed value.
//!
//! Precedence, per variable: command-line flags, then the real environment, then `.env` in the
//! working directory (never overriding the real environment, and never written into it), then
//! the defaults of the [`crate::env`] registry. A value that cannot be used is a
//! [`SettingsError`] naming the variable and where the value came from.
//!
//! Resolution reads only what it is given ([`Sources`]), so tests need no real environment;
//! [`Settings::from_process`] supplies the real one.

mod duration;
mod error;
mod lookup;
mod parse;
mod reader;
mod secret;
mod url;

#[cfg(test)]
mod tests;

pub use duration::HumanDuration;
pub use error::SettingsError;
pub use lookup::Origin;
pub use secret::Secret;
pub use url::{redact_credentials, HttpUrl};

use crate::env;
use lookup::Layers;
use reader::Reader;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The resolved configuration of one `windlass` process.
///
/// `Debug` is safe to print: secrets show as `***`, URLs without credentials.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `WINDLASS_API_KEY`, else `OPENROUTER_API_KEY`; none is fine for a local endpoint.
    pub api_key: Option<Secret>,
    /// The OpenAI-compatible endpoint (`--base-url`, `WINDLASS_BASE_URL`).
    pub base_url: HttpUrl,
    /// Where `ollama/<model>` requests go (`OLLAMA_HOST`).
    pub ollama_host: HttpUrl,
    /// The model for phases that name none (`--model`, `WINDLASS_DEFAULT_MODEL`).
    pub default_model: String,
    /// `WINDLASS_EMBEDDINGS_MODEL`: for `context` selection `strategy: semantic`.
    pub embeddings_model: Option<String>,
    /// Which store backend, and how to reach it.
    pub store: StoreSettings,
    /// Embedded store, session databases, scratch files (`WINDLASS_DATA_DIR`); absolute.
    pub data_dir: PathBuf,
    /// How often a running session writes its heartbeat.
    pub heartbeat_interval: Duration,
    /// How long a silent session keeps its lease; always longer than the interval.
    pub heartbeat_lease: Duration,
    /// Bound on revisiting a phase through handoffs.
    pub max_phase_visits: u32,
    /// Whether shell and code tools may run (`--allow-shell`, `WINDLASS_ALLOW_SHELL`).
    pub allow_shell: bool,
    /// Extra folders searched for cascades used as tools (`WINDLASS_TOOL_PATH`); absolute.
    pub tool_path: Vec<PathBuf>,
    /// `WINDLASS_PYTHON`: the interpreter of `python_data` phases.
    pub python: String,
    /// `WINDLASS_NODE`: the binary of `js_data` phases.
    pub node: String,
    /// `WINDLASS_CLOJURE`: the runner of `clojure_data` phases (bb, nbb, or the JVM's `clojure`
    /// / `clj`, by file name); `None`: `bb`, else `nbb`.
    pub clojure: Option<String>,
    /// The folder `.env` was read from and relative paths are resolved against.
    pub working_dir: PathBuf,
    /// `WINDLASS_API_TOKEN`: what the HTTP API requires of every request (`crate::serve`).
    pub api_token: Option<Secret>,
    /// `WINDLASS_LIMITS`: concurrency, requests and tokens per minute per model prefix (see
    /// [`crate::llm::limits`]).
    pub limits: Vec<ModelLimit>,
}

/// Limits per endpoint and process for models whose name starts with `prefix` (empty: every
/// model). The longest matching prefix wins; a limit left out is not enforced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelLimit {
    pub prefix: String,
    /// Requests in flight at once.
    pub max_concurrent: Option<u32>,
    /// Requests started in any 60 s.
    pub requests_per_minute: Option<u32>,
    /// Tokens (prompt and completion) of the requests started in any 60 s.
    pub tokens_per_minute: Option<u32>,
}

/// The store backend: ClickHouse when a host is configured, the embedded database otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreSettings {
    /// The embedded DuckDB store under the data dir.
    Embedded,
    ClickHouse(ClickHouseSettings),
}

/// How to reach ClickHouse over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickHouseSettings {
    pub host: String,
    /// The HTTP(S) port; never a native protocol port.
    pub port: u16,
    pub database: String,
    pub user: String,
    /// Empty when unset.
    pub password: Secret,
    /// HTTPS instead of HTTP.
    pub secure: bool,
    /// Replication, when the server is one replica of several (`WINDLASS_CLICKHOUSE_CLUSTER`).
    pub replication: Option<Replication>,
}

/// `insert_quorum` when `WINDLASS_CLICKHOUSE_CLUSTER` is set and the quorum is not: both
/// replicas of a two-replica setup (a majority of two is two).
pub const DEFAULT_INSERT_QUORUM: u32 = 2;

/// A replicated ClickHouse store: Replicated tables, quorum inserts, consistent reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replication {
    /// Names the tables' ZooKeeper paths, with the database.
    pub cluster: String,
    /// `insert_quorum` of the durable tables; 1 means none.
    pub insert_quorum: u32,
}

impl ClickHouseSettings {
    /// The server's URL, without credentials: fit for error messages.
    pub fn url(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// Values given as flags; each wins over its environment variable when present.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub base_url: Option<HttpUrl>,
    pub model: Option<String>,
    /// The flag can only switch shell tools on; off is the default and needs no flag.
    pub allow_shell: bool,
}

/// What settings are resolved from, besides flags.
pub struct Sources<'a> {
    /// Reads one variable of the real environment.
    pub env: &'a dyn Fn(&str) -> Option<OsString>,
    /// Where `.env` is looked for; relative paths in values are resolved against it.
    pub cwd: &'a Path,
    /// The platform's data folder for windlass, when the platform has one.
    pub platform_data_dir: Option<PathBuf>,
}

impl Settings {
    /// Resolve from the real process environment, the current directory and its `.env`.
    pub fn from_process(overrides: &Overrides) -> Result<Settings, SettingsError> {
        let cwd = std::env::current_dir().map_err(SettingsError::NoWorkingDir)?;
        let platform_data_dir =
            directories::ProjectDirs::from("", "", "windlass").map(|dirs| dirs.data_dir().to_path_buf());
        let env = |name: &str| std::env::var_os(name);
        Settings::resolve(overrides, &Sources { env: &env, cwd: &cwd, platform_data_dir })
    }

    /// Resolve from exactly what is given: the function behind [`Settings::from_process`].
    pub fn resolve(overrides: &Overrides, sources: &Sources) -> Result<Settings, SettingsError> {
        let read = Reader { layers: Layers::new(sources.env, sources.cwd)?, cwd: sources.cwd };

        let api_key = match read.optional(&env::WINDLASS_API_KEY, Ok)? {
            Some(key) => Some(key),
            None => read.optional(&env::OPENROUTER_API_KEY, Ok)?,
        };
        let base_url = match &overrides.base_url {
            Some(url) => url.clone(),
            None => read.with_default(&env::WINDLASS_BASE_URL, str::parse::<HttpUrl>)?.value,
        };
        let default_model = match &overrides.model {
            Some(model) => model.clone(),
            None => read.with_default(&env::WINDLASS_DEFAULT_MODEL, |text| Ok(text.to_owned()))?.value,
        };
        let allow_shell =
            overrides.allow_shell || read.with_default(&env::WINDLASS_ALLOW_SHELL, parse::bool_value)?.value;

        let interval = read.with_default(&env::WINDLASS_HEARTBEAT_INTERVAL, str::parse::<HumanDuration>)?;
        let lease = read.with_default(&env::WINDLASS_HEARTBEAT_LEASE, str::parse::<HumanDuration>)?;
        if lease.value <= interval.value {
            return Err(SettingsError::LeaseNotLongerThanInterval {
                lease: lease.text,
                lease_origin: lease.origin,
                interval: interval.text,
                interval_origin: interval.origin,
            });
        }

        Ok(Settings {
            api_key: api_key.map(Secret::new),
            base_url,
            ollama_host: read.with_default(&env::OLLAMA_HOST, url::parse_ollama_host)?.value,
            default_model,
            embeddings_model: read.optional(&env::WINDLASS_EMBEDDINGS_MODEL, Ok)?,
            store: read.store()?,
            data_dir: match read.layers.get(&env::WINDLASS_DATA_DIR) {
                Some(raw) => sources.cwd.join(raw.value),
                None => sources.platform_data_dir.clone().ok_or(SettingsError::NoDataDir)?,
            },
            heartbeat_interval: interval.value.get(),
            heartbeat_lease: lease.value.get(),
            max_phase_visits: read.with_default(&env::WINDLASS_MAX_PHASE_VISITS, parse::positive_count)?.value,
            allow_shell,
            tool_path: read.tool_path(),
            python: read.with_default(&env::WINDLASS_PYTHON, |text| Ok(text.to_string()))?.value,
            node: read.with_default(&env::WINDLASS_NODE, |text| Ok(text.to_string()))?.value,
            clojure: read.optional(&env::WINDLASS_CLOJURE, Ok)?,
            working_dir: sources.cwd.to_path_buf(),
            api_token: read.optional(&env::WINDLASS_API_TOKEN, parse::api_token)?.map(Secret::new),
            limits: read.optional(&env::WINDLASS_LIMITS, |text| parse::model_limits(&text))?.unwrap_or_default(),
        })
    }
}
