//! Where a raw value comes from: the real environment first, then `.env` in the working folder.

use super::error::SettingsError;
use crate::env::EnvVar;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where a setting's value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    Environment,
    DotEnv(PathBuf),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "from the flag {flag}"),
            Origin::Environment => f.write_str("from the environment"),
            Origin::DotEnv(path) => write!(f, "from {}", path.display()),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// A value as found, before it is parsed.
#[derive(Debug, Clone)]
pub struct Raw {
    pub value: OsString,
    pub origin: Origin,
}

/// The environment and the `.env` file, layered: a variable present in the environment hides
/// the `.env` line for it, even when it is empty, so `WINDLASS_CLICKHOUSE_HOST= windlass ...`
/// overrides a `.env` that sets it.
pub struct Layers<'a> {
    env: &'a dyn Fn(&str) -> Option<OsString>,
    dotenv_path: PathBuf,
    dotenv: HashMap<String, String>,
}

impl<'a> Layers<'a> {
    pub fn new(env: &'a dyn Fn(&str) -> Option<OsString>, cwd: &Path) -> Result<Self, SettingsError> {
        let dotenv_path = cwd.join(".env");
        let dotenv = read_dotenv(&dotenv_path)?;
        Ok(Layers { env, dotenv_path, dotenv })
    }

    /// The value of `var`, or `None` when it is unset or empty in the layer that has it.
    pub fn get(&self, var: &EnvVar) -> Option<Raw> {
        let raw = match (self.env)(var.name) {
            Some(value) => Raw { value, origin: Origin::Environment },
            None => Raw { value: self.dotenv.get(var.name)?.into(), origin: Origin::DotEnv(self.dotenv_path.clone()) },
        };
        // Empty means unset: a copied `.env.example` line like `WINDLASS_CLICKHOUSE_HOST=` must
        // not switch the store to a ClickHouse host named "".
        (!raw.value.is_empty()).then_some(raw)
    }
}

/// Parse `.env` without touching the process environment. A missing file is no `.env`.
fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(source) => return Err(SettingsError::DotEnvUnreadable { path: path.to_owned(), source }),
    };
    let mut values = HashMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((key, value)) => {
                values.insert(key, value);
            }
            Err(dotenvy::Error::LineParse(line, _)) => {
                return Err(SettingsError::DotEnvSyntax {
                    path: path.to_owned(),
                    line_number: text.lines().position(|l| l == line.trim_end_matches(['\r', '\n'])).map(|i| i + 1),
                    // Only the name: the rest of the line may be a half-quoted API key.
                    name: line.split_once('=').map(|(name, _)| name.trim().to_owned()).unwrap_or_default(),
                });
            }
            Err(err) => {
                return Err(SettingsError::DotEnvUnreadable {
                    path: path.to_owned(),
                    source: io::Error::new(io::ErrorKind::InvalidData, err.to_string()),
                })
            }
        }
    }
    Ok(values)
}
