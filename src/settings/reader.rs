//! [`Reader`]: reads and parses variables through the layers, turning a parse problem into a
//! [`SettingsError`] that names the variable and where its value came from.

use super::lookup::{Layers, Origin, Raw};
use super::{
    parse, redact_credentials, ClickHouseSettings, Replication, Secret, SettingsError, StoreSettings,
    DEFAULT_INSERT_QUORUM,
};
use crate::env::{self, EnvVar};
use std::path::{Path, PathBuf};

/// A parsed value, with where it came from and how it was written (for error messages).
pub struct Found<T> {
    pub value: T,
    pub origin: Origin,
    pub text: String,
}

/// Reads variables through the layers; relative paths are resolved against `cwd`.
pub struct Reader<'a> {
    pub layers: Layers<'a>,
    pub cwd: &'a Path,
}

impl Reader<'_> {
    /// The parsed value, or `None` when the variable is unset (or empty).
    pub fn optional<T>(
        &self,
        var: &EnvVar,
        parse: impl Fn(String) -> Result<T, String>,
    ) -> Result<Option<T>, SettingsError> {
        match self.layers.get(var) {
            Some(raw) => self.parse(var, raw, parse).map(|found| Some(found.value)),
            None => Ok(None),
        }
    }

    /// The parsed value, falling back to the registry's default text, parsed the same way.
    pub fn with_default<T>(
        &self,
        var: &EnvVar,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Found<T>, SettingsError> {
        let raw = self.layers.get(var).unwrap_or_else(|| Raw {
            value: var.default_value().expect("with_default is used only for variables with a default").into(),
            origin: Origin::Default,
        });
        self.parse(var, raw, |text| parse(&text))
    }

    fn parse<T>(
        &self,
        var: &EnvVar,
        raw: Raw,
        parse: impl Fn(String) -> Result<T, String>,
    ) -> Result<Found<T>, SettingsError> {
        let shown = |text: &str| {
            if var.secret {
                "***".to_owned()
            } else {
                redact_credentials(text)
            }
        };
        let text = match raw.value.into_string() {
            Ok(text) => text,
            Err(value) => {
                return Err(SettingsError::Invalid {
                    var: var.name,
                    value: shown(&value.to_string_lossy()),
                    origin: raw.origin,
                    problem: "not valid UTF-8; write it in plain text".to_owned(),
                })
            }
        };
        match parse(text.clone()) {
            Ok(value) => Ok(Found { value, origin: raw.origin, text }),
            Err(problem) => {
                Err(SettingsError::Invalid { var: var.name, value: shown(&text), origin: raw.origin, problem })
            }
        }
    }

    /// ClickHouse when a host is set. The other ClickHouse variables are checked either way,
    /// so a bad port is reported before the day someone sets the host.
    pub fn store(&self) -> Result<StoreSettings, SettingsError> {
        let host = self.optional(&env::WINDLASS_CLICKHOUSE_HOST, |text| parse::clickhouse_host(&text))?;
        let secure = self.with_default(&env::WINDLASS_CLICKHOUSE_SECURE, parse::bool_value)?.value;
        let port = match self.optional(&env::WINDLASS_CLICKHOUSE_PORT, |text| parse::clickhouse_port(&text))? {
            Some(port) => port,
            // ClickHouse serves HTTPS on 8443 by default; 8123 with TLS on would never answer.
            None if secure => 8443,
            None => self.with_default(&env::WINDLASS_CLICKHOUSE_PORT, parse::clickhouse_port)?.value,
        };
        let database = self.with_default(&env::WINDLASS_CLICKHOUSE_DATABASE, parse::database_name)?.value;
        let user = self.with_default(&env::WINDLASS_CLICKHOUSE_USER, |text| Ok(text.to_owned()))?.value;
        let password = self.optional(&env::WINDLASS_CLICKHOUSE_PASSWORD, Ok)?.unwrap_or_default();
        let cluster = self.optional(&env::WINDLASS_CLICKHOUSE_CLUSTER, |text| parse::cluster_name(&text))?;
        let quorum = self.optional(&env::WINDLASS_CLICKHOUSE_INSERT_QUORUM, |text| parse::positive_count(&text))?;
        let replication =
            cluster.map(|cluster| Replication { cluster, insert_quorum: quorum.unwrap_or(DEFAULT_INSERT_QUORUM) });
        Ok(match host {
            Some(host) => StoreSettings::ClickHouse(ClickHouseSettings {
                host,
                port,
                database,
                user,
                password: Secret::new(password),
                secure,
                replication,
            }),
            None => StoreSettings::Embedded,
        })
    }

    /// `WINDLASS_TOOL_PATH` split the platform's way (`:` on Unix, `;` on Windows, where `:`
    /// is part of `C:\`), empty entries skipped, relative entries made absolute.
    pub fn tool_path(&self) -> Vec<PathBuf> {
        match self.layers.get(&env::WINDLASS_TOOL_PATH) {
            Some(raw) => std::env::split_paths(&raw.value)
                .filter(|path| !path.as_os_str().is_empty())
                .map(|path| self.cwd.join(path))
                .collect(),
            None => Vec::new(),
        }
    }
}
