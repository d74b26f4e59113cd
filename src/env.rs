//! Every environment variable windlass reads for its configuration, documented once.
//!
//! [`ALL`] is the registry. `settings` resolves values from it, clap flags that mirror a
//! variable take their help from it ([`EnvVar::flag_help`]), and `.env.example` is rendered from
//! it ([`render_env_example`]); a test fails when the committed file drifts.

use std::fmt::Write as _;

/// The default of a variable, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// No default: unset means "not configured" (an API key, the ClickHouse host).
    None,
    /// This text, parsed exactly as if the variable had been set to it.
    Value(&'static str),
    /// Worked out at run time; the text says how (the platform data directory).
    Computed(&'static str),
}

/// One environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    pub default: DefaultValue,
    /// One line, capitalised, no final period: used in `--help` and `.env.example`.
    pub help: &'static str,
    /// Never printed, logged, or passed to child processes.
    pub secret: bool,
    /// The command-line flag that overrides it, if any.
    pub flag: Option<&'static str>,
}

impl EnvVar {
    /// Help text for the clap flag that mirrors this variable: `help [env: NAME]`.
    ///
    /// Written out here instead of clap's `env` attribute because settings, not clap, read the
    /// environment: clap would turn a bad value into a usage error (exit 2) without saying
    /// where it came from, and it knows nothing of `.env`.
    pub fn flag_help(&self) -> String {
        format!("{} [env: {}]", self.help, self.name)
    }

    /// The default text, when there is one to parse.
    pub fn default_value(&self) -> Option<&'static str> {
        match self.default {
            DefaultValue::Value(text) => Some(text),
            DefaultValue::None | DefaultValue::Computed(_) => None,
        }
    }
}

pub const OPENROUTER_API_KEY: EnvVar = EnvVar {
    name: "OPENROUTER_API_KEY",
    default: DefaultValue::None,
    help: "Key for the LLM endpoint (not needed for a local endpoint)",
    secret: true,
    flag: None,
};

pub const WINDLASS_API_KEY: EnvVar = EnvVar {
    name: "WINDLASS_API_KEY",
    default: DefaultValue::None,
    help: "Key for the LLM endpoint; used instead of OPENROUTER_API_KEY when both are set",
    secret: true,
    flag: None,
};

pub const WINDLASS_BASE_URL: EnvVar = EnvVar {
    name: "WINDLASS_BASE_URL",
    default: DefaultValue::Value("https://openrouter.ai/api/v1"),
    help: "Base URL of any OpenAI-compatible endpoint",
    secret: false,
    flag: Some("--base-url"),
};

pub const OLLAMA_HOST: EnvVar = EnvVar {
    name: "OLLAMA_HOST",
    default: DefaultValue::Value("http://localhost:11434"),
    help: "Where models named ollama/<model> are sent (Ollama's own variable); no key needed",
    secret: false,
    flag: None,
};

pub const WINDLASS_DEFAULT_MODEL: EnvVar = EnvVar {
    name: "WINDLASS_DEFAULT_MODEL",
    default: DefaultValue::Value("google/gemini-2.5-flash-lite"),
    help: "Model for phases that name none",
    secret: false,
    flag: Some("--model"),
};

pub const WINDLASS_CLICKHOUSE_HOST: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_HOST",
    default: DefaultValue::None,
    help: "ClickHouse host name; set it to keep logs, sessions, checkpoints and signals in \
           ClickHouse instead of the embedded DuckDB store",
    secret: false,
    flag: None,
};

pub const WINDLASS_CLICKHOUSE_PORT: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_PORT",
    default: DefaultValue::Value("8123"),
    help: "ClickHouse HTTP port (8443 when WINDLASS_CLICKHOUSE_SECURE is on); not 9000, the \
           native protocol",
    secret: false,
    flag: None,
};

pub const WINDLASS_CLICKHOUSE_DATABASE: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_DATABASE",
    default: DefaultValue::Value("windlass"),
    help: "ClickHouse database, created if missing",
    secret: false,
    flag: None,
};

pub const WINDLASS_CLICKHOUSE_USER: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_USER",
    default: DefaultValue::Value("default"),
    help: "ClickHouse user",
    secret: false,
    flag: None,
};

pub const WINDLASS_CLICKHOUSE_PASSWORD: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_PASSWORD",
    default: DefaultValue::None,
    help: "ClickHouse password (empty when unset)",
    secret: true,
    flag: None,
};

pub const WINDLASS_CLICKHOUSE_SECURE: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_SECURE",
    default: DefaultValue::Value("false"),
    help: "Talk to ClickHouse over TLS (https): yes/no, on/off, true/false, 1/0",
    secret: false,
    flag: None,
};

pub const WINDLASS_CLICKHOUSE_CLUSTER: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_CLUSTER",
    default: DefaultValue::None,
    help: "Cluster of the ClickHouse servers' remote_servers to use as a replicated store \
           (letters, digits, _): tables are created ON CLUSTER as Replicated*MergeTree (ZooKeeper \
           path /clickhouse/windlass/<cluster>/<database>/<table>, the servers' {replica} macro); \
           claims, session rows, checkpoints and signals are inserted with a quorum and read with \
           sequential consistency, log rows replicate asynchronously",
    secret: false,
    flag: None,
};

pub const WINDLASS_CLICKHOUSE_INSERT_QUORUM: EnvVar = EnvVar {
    name: "WINDLASS_CLICKHOUSE_INSERT_QUORUM",
    default: DefaultValue::Computed("2 when WINDLASS_CLICKHOUSE_CLUSTER is set, else unused"),
    help: "Replicas that must hold a claim, session row, checkpoint or signal before its insert \
           counts (insert_quorum; a majority of the replicas, 1 turns the quorum off); only with \
           WINDLASS_CLICKHOUSE_CLUSTER",
    secret: false,
    flag: None,
};

pub const WINDLASS_DATA_DIR: EnvVar = EnvVar {
    name: "WINDLASS_DATA_DIR",
    default: DefaultValue::Computed("the platform data directory, e.g. ~/.local/share/windlass"),
    help: "Folder for the embedded store, session databases and scratch files",
    secret: false,
    flag: None,
};

pub const WINDLASS_HEARTBEAT_INTERVAL: EnvVar = EnvVar {
    name: "WINDLASS_HEARTBEAT_INTERVAL",
    default: DefaultValue::Value("10s"),
    help: "How often a running session writes its heartbeat (a duration: 10s, 5m, 1.5h)",
    secret: false,
    flag: None,
};

pub const WINDLASS_HEARTBEAT_LEASE: EnvVar = EnvVar {
    name: "WINDLASS_HEARTBEAT_LEASE",
    default: DefaultValue::Value("60s"),
    help: "How long a session may stay silent before it counts as orphaned (longer than the \
           interval)",
    secret: false,
    flag: None,
};

pub const WINDLASS_MAX_PHASE_VISITS: EnvVar = EnvVar {
    name: "WINDLASS_MAX_PHASE_VISITS",
    default: DefaultValue::Value("50"),
    help: "Bound on revisiting a phase through handoffs",
    secret: false,
    flag: None,
};

pub const WINDLASS_ALLOW_SHELL: EnvVar = EnvVar {
    name: "WINDLASS_ALLOW_SHELL",
    default: DefaultValue::Value("false"),
    help: "Allow linux_shell, run_code and shell: tools to run local subprocesses",
    secret: false,
    flag: Some("--allow-shell"),
};

pub const WINDLASS_PYTHON: EnvVar = EnvVar {
    name: "WINDLASS_PYTHON",
    default: DefaultValue::Value("python3"),
    help: "The Python interpreter python_data phases run (a virtual environment's python for pandas)",
    secret: false,
    flag: None,
};

pub const WINDLASS_NODE: EnvVar = EnvVar {
    name: "WINDLASS_NODE",
    default: DefaultValue::Value("node"),
    help: "The Node.js binary js_data phases run",
    secret: false,
    flag: None,
};

pub const WINDLASS_CLOJURE: EnvVar = EnvVar {
    name: "WINDLASS_CLOJURE",
    default: DefaultValue::Computed("bb when it is on PATH, else nbb"),
    help: "The Clojure runner clojure_data phases run, told by its file name: bb (Babashka), nbb \
           (ClojureScript on node: no JVM interop), or clojure / clj, the JVM's (Debian's clojure \
           package, with /usr/share/java/data.json.jar from libdata-json-clojure put on CLASSPATH; \
           1-3 s to start each phase)",
    secret: false,
    flag: None,
};

pub const WINDLASS_TOOL_PATH: EnvVar = EnvVar {
    name: "WINDLASS_TOOL_PATH",
    default: DefaultValue::None,
    help: "Extra folders, ':'-separated, searched for cascades used as tools",
    secret: false,
    flag: None,
};

pub const WINDLASS_API_TOKEN: EnvVar = EnvVar {
    name: "WINDLASS_API_TOKEN",
    default: DefaultValue::None,
    help: "Bearer token that `windlass serve` and `worker --listen` require on every request \
           (at least 16 characters); needed to listen on anything but loopback",
    secret: true,
    flag: None,
};

pub const WINDLASS_LIMITS: EnvVar = EnvVar {
    name: "WINDLASS_LIMITS",
    default: DefaultValue::None,
    help: "Limits on model requests per endpoint, shared by all sessions of a process: entries \
           separated by commas, PREFIX=N (at most N in flight) or PREFIX=concurrency:N;rpm:N;tpm:N \
           (in flight, requests and tokens per minute); the longest matching model prefix wins, * \
           matches every model (e.g. openai/=concurrency:4;rpm:60;tpm:90000,*=16)",
    secret: false,
    flag: None,
};

pub const WINDLASS_EMBEDDINGS_MODEL: EnvVar = EnvVar {
    name: "WINDLASS_EMBEDDINGS_MODEL",
    default: DefaultValue::None,
    help: "Embeddings model for `context` selection `strategy: semantic`, asked at \
           WINDLASS_BASE_URL/embeddings (or OLLAMA_HOST for ollama/ models); unset, semantic \
           selection uses the heuristic strategy",
    secret: false,
    flag: None,
};

/// The registry: every variable, in the order `.env.example` lists them.
pub const ALL: &[EnvVar] = &[
    OPENROUTER_API_KEY,
    WINDLASS_API_KEY,
    WINDLASS_BASE_URL,
    OLLAMA_HOST,
    WINDLASS_DEFAULT_MODEL,
    WINDLASS_EMBEDDINGS_MODEL,
    WINDLASS_CLICKHOUSE_HOST,
    WINDLASS_CLICKHOUSE_PORT,
    WINDLASS_CLICKHOUSE_DATABASE,
    WINDLASS_CLICKHOUSE_USER,
    WINDLASS_CLICKHOUSE_PASSWORD,
    WINDLASS_CLICKHOUSE_SECURE,
    WINDLASS_CLICKHOUSE_CLUSTER,
    WINDLASS_CLICKHOUSE_INSERT_QUORUM,
    WINDLASS_DATA_DIR,
    WINDLASS_HEARTBEAT_INTERVAL,
    WINDLASS_HEARTBEAT_LEASE,
    WINDLASS_MAX_PHASE_VISITS,
    WINDLASS_ALLOW_SHELL,
    WINDLASS_PYTHON,
    WINDLASS_NODE,
    WINDLASS_CLOJURE,
    WINDLASS_TOOL_PATH,
    WINDLASS_API_TOKEN,
    WINDLASS_LIMITS,
];

/// Names of the variables that hold secrets: strip them from a child process's environment.
pub fn secret_names() -> impl Iterator<Item = &'static str> {
    ALL.iter().filter(|v| v.secret).map(|v| v.name)
}

/// The command that rewrites `.env.example` from [`ALL`].
pub const ENV_EXAMPLE_REGENERATE: &str = "WINDLASS_BLESS=1 cargo test --test env_example";

/// The text of `.env.example`: every variable, commented out, with its default and help.
pub fn render_env_example() -> String {
    let mut out = String::new();
    out.push_str(
        "# windlass configuration: every environment variable it reads.\n\
         # Copy this file to .env in the folder you run windlass from and uncomment what you need.\n\
         # Precedence: command-line flags, then the real environment, then .env (which never\n\
         # overrides the real environment), then the defaults shown here. Empty means unset.\n\
         #\n",
    );
    let _ = writeln!(out, "# Generated from src/env.rs; do not edit by hand. Regenerate: {ENV_EXAMPLE_REGENERATE}");
    for var in ALL {
        out.push('\n');
        let _ = writeln!(out, "# {}.", var.help);
        match var.default {
            DefaultValue::None => {}
            DefaultValue::Value(text) | DefaultValue::Computed(text) => {
                let _ = writeln!(out, "# Default: {text}");
            }
        }
        if let Some(flag) = var.flag {
            let _ = writeln!(out, "# Overridden by the flag {flag}.");
        }
        if var.secret {
            out.push_str("# Secret: never printed, logged, or passed to child processes.\n");
        }
        let _ = writeln!(out, "# {}={}", var.name, var.default_value().unwrap_or(""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_help_is_one_line() {
        let mut seen = HashSet::new();
        for var in ALL {
            assert!(seen.insert(var.name), "{} is listed twice", var.name);
            assert!(!var.help.contains('\n'), "{}: help must be one line", var.name);
            assert!(!var.help.ends_with('.'), "{}: help ends without a period", var.name);
        }
    }

    #[test]
    fn secrets_are_the_keys_the_password_and_the_api_token() {
        let secrets: Vec<_> = secret_names().collect();
        assert_eq!(
            secrets,
            ["OPENROUTER_API_KEY", "WINDLASS_API_KEY", "WINDLASS_CLICKHOUSE_PASSWORD", "WINDLASS_API_TOKEN"]
        );
    }
}
