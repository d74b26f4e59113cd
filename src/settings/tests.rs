//! Resolution tests: a map stands in for the environment, a temp folder for the working dir.

use super::*;
use std::collections::HashMap;

struct Fixture {
    env: HashMap<String, String>,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture { env: HashMap::new(), dir: tempfile::tempdir().unwrap() }
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    fn dotenv(self, text: &str) -> Self {
        std::fs::write(self.dir.path().join(".env"), text).unwrap();
        self
    }

    fn resolve_with(&self, overrides: &Overrides) -> Result<Settings, SettingsError> {
        let lookup = |name: &str| self.env.get(name).map(OsString::from);
        Settings::resolve(
            overrides,
            &Sources {
                env: &lookup,
                cwd: self.dir.path(),
                platform_data_dir: Some(PathBuf::from("/platform/data/windlass")),
            },
        )
    }

    fn resolve(&self) -> Result<Settings, SettingsError> {
        self.resolve_with(&Overrides::default())
    }

    fn error(&self) -> String {
        self.resolve().unwrap_err().to_string()
    }
}

#[test]
fn defaults_come_from_the_registry() {
    let settings = Fixture::new().resolve().unwrap();
    assert_eq!(settings.api_key, None);
    assert_eq!(settings.base_url.as_str(), "https://openrouter.ai/api/v1");
    assert_eq!(settings.ollama_host.as_str(), "http://localhost:11434");
    assert_eq!(settings.default_model, "google/gemini-2.5-flash-lite");
    assert_eq!(settings.store, StoreSettings::Embedded);
    assert_eq!(settings.data_dir, PathBuf::from("/platform/data/windlass"));
    assert_eq!(settings.heartbeat_interval, Duration::from_secs(10));
    assert_eq!(settings.heartbeat_lease, Duration::from_secs(60));
    assert_eq!(settings.max_phase_visits, 50);
    assert!(!settings.allow_shell);
    assert!(settings.tool_path.is_empty());
}

#[test]
fn flags_beat_environment_beats_dotenv() {
    let fixture = Fixture::new()
        .env("WINDLASS_DEFAULT_MODEL", "from/env")
        .env("WINDLASS_BASE_URL", "http://env.example/v1")
        .dotenv(
            "WINDLASS_DEFAULT_MODEL=from/dotenv\n\
             WINDLASS_BASE_URL=http://dotenv.example/v1\n\
             WINDLASS_MAX_PHASE_VISITS=7\n",
        );
    let settings = fixture.resolve().unwrap();
    assert_eq!(settings.default_model, "from/env");
    assert_eq!(settings.base_url.as_str(), "http://env.example/v1");
    assert_eq!(settings.max_phase_visits, 7, ".env fills what env leaves unset");

    let overrides = Overrides {
        base_url: Some("http://flag.example/v1".parse().unwrap()),
        model: Some("from/flag".to_owned()),
        allow_shell: true,
    };
    let settings = fixture.resolve_with(&overrides).unwrap();
    assert_eq!(settings.default_model, "from/flag");
    assert_eq!(settings.base_url.as_str(), "http://flag.example/v1");
    assert!(settings.allow_shell);
}

#[test]
fn a_flag_hides_a_bad_environment_value() {
    let fixture = Fixture::new().env("WINDLASS_BASE_URL", "not a url");
    assert!(fixture.resolve().is_err());
    let overrides = Overrides { base_url: Some("http://ok.example".parse().unwrap()), ..Overrides::default() };
    assert!(fixture.resolve_with(&overrides).is_ok());
}

#[test]
fn dotenv_never_overrides_the_environment_even_when_empty() {
    let fixture = Fixture::new().env("WINDLASS_CLICKHOUSE_HOST", "").dotenv("WINDLASS_CLICKHOUSE_HOST=ch.internal\n");
    assert_eq!(fixture.resolve().unwrap().store, StoreSettings::Embedded);
}

#[test]
fn dotenv_is_not_written_into_the_process_environment() {
    let name = "WINDLASS_TEST_ONLY_SENTINEL_7f3a";
    let fixture = Fixture::new().dotenv(&format!("{name}=1\nWINDLASS_MAX_PHASE_VISITS=3\n"));
    assert_eq!(fixture.resolve().unwrap().max_phase_visits, 3);
    assert!(std::env::var_os(name).is_none());
}

#[test]
fn empty_values_mean_unset() {
    let settings = Fixture::new()
        .dotenv("WINDLASS_DEFAULT_MODEL=\nWINDLASS_CLICKHOUSE_HOST=\nOPENROUTER_API_KEY=\n")
        .resolve()
        .unwrap();
    assert_eq!(settings.default_model, "google/gemini-2.5-flash-lite");
    assert_eq!(settings.store, StoreSettings::Embedded);
    assert_eq!(settings.api_key, None);
}

#[test]
fn windlass_api_key_wins_over_openrouter_api_key() {
    let fixture = Fixture::new().env("OPENROUTER_API_KEY", "sk-or");
    assert_eq!(fixture.resolve().unwrap().api_key.unwrap().expose(), "sk-or");
    let fixture = fixture.dotenv("WINDLASS_API_KEY=sk-windlass\n");
    assert_eq!(fixture.resolve().unwrap().api_key.unwrap().expose(), "sk-windlass");
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let settings = Fixture::new()
        .env("OPENROUTER_API_KEY", "sk-or-v1-SECRET")
        .env("WINDLASS_CLICKHOUSE_HOST", "ch.internal")
        .env("WINDLASS_CLICKHOUSE_PASSWORD", "hunter2")
        .env("WINDLASS_BASE_URL", "https://user:urlpass@proxy.example/v1")
        .resolve()
        .unwrap();
    let debug = format!("{settings:?}");
    for secret in ["sk-or-v1-SECRET", "hunter2", "urlpass"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
}

#[test]
fn lax_booleans() {
    for (text, expected) in [("yes", true), ("ON", true), ("1", true), ("off", false)] {
        let settings = Fixture::new().env("WINDLASS_ALLOW_SHELL", text).resolve().unwrap();
        assert_eq!(settings.allow_shell, expected, "{text}");
    }
    let err = Fixture::new().env("WINDLASS_ALLOW_SHELL", "maybe").error();
    assert!(err.contains("WINDLASS_ALLOW_SHELL=maybe (from the environment)"), "{err}");
}

#[test]
fn durations_and_the_lease_rule() {
    let settings = Fixture::new()
        .env("WINDLASS_HEARTBEAT_INTERVAL", "1.5m")
        .env("WINDLASS_HEARTBEAT_LEASE", "0.5h")
        .resolve()
        .unwrap();
    assert_eq!(settings.heartbeat_interval, Duration::from_secs(90));
    assert_eq!(settings.heartbeat_lease, Duration::from_secs(1800));

    let err = Fixture::new().env("WINDLASS_HEARTBEAT_INTERVAL", "10").error();
    assert!(err.contains("WINDLASS_HEARTBEAT_INTERVAL=10") && err.contains("10s"));

    let err = Fixture::new().dotenv("WINDLASS_HEARTBEAT_INTERVAL=2m\n").error();
    assert!(
        err.contains("WINDLASS_HEARTBEAT_LEASE=60s (the default)")
            && err.contains("WINDLASS_HEARTBEAT_INTERVAL=2m (from ")
            && err.contains(".env)"),
        "{err}"
    );
}

#[test]
fn port_9000_is_explained_and_names_the_dotenv_file() {
    let fixture = Fixture::new().dotenv("WINDLASS_CLICKHOUSE_PORT=9000\n");
    let err = fixture.error();
    let dotenv = fixture.dir.path().join(".env");
    assert!(err.contains(&format!("WINDLASS_CLICKHOUSE_PORT=9000 (from {})", dotenv.display())), "{err}");
    assert!(err.contains("native protocol") && err.contains("HTTP") && err.contains("8123"));
}

#[test]
fn clickhouse_when_a_host_is_set() {
    let settings = Fixture::new()
        .env("WINDLASS_CLICKHOUSE_HOST", "ch.internal")
        .env("WINDLASS_CLICKHOUSE_SECURE", "yes")
        .env("WINDLASS_CLICKHOUSE_USER", "ci")
        .resolve()
        .unwrap();
    let StoreSettings::ClickHouse(ch) = settings.store else {
        panic!("expected ClickHouse");
    };
    assert_eq!(ch.url(), "https://ch.internal:8443");
    assert_eq!((ch.database.as_str(), ch.user.as_str()), ("windlass", "ci"));
    assert_eq!(ch.password.expose(), "");
}

#[test]
fn a_cluster_makes_the_store_replicated_with_a_quorum_of_two() {
    let store = |fixture: Fixture| match fixture.env("WINDLASS_CLICKHOUSE_HOST", "ch.internal").resolve() {
        Ok(Settings { store: StoreSettings::ClickHouse(ch), .. }) => Ok(ch.replication),
        Ok(_) => panic!("expected ClickHouse"),
        Err(e) => Err(e.to_string()),
    };
    assert_eq!(store(Fixture::new()), Ok(None));
    let replicated = |quorum| Ok(Some(Replication { cluster: "prod".into(), insert_quorum: quorum }));
    assert_eq!(store(Fixture::new().env("WINDLASS_CLICKHOUSE_CLUSTER", "prod")), replicated(2));
    let three = Fixture::new().env("WINDLASS_CLICKHOUSE_CLUSTER", "prod").env("WINDLASS_CLICKHOUSE_INSERT_QUORUM", "3");
    assert_eq!(store(three), replicated(3));
    let err = store(Fixture::new().env("WINDLASS_CLICKHOUSE_CLUSTER", "a/b")).unwrap_err();
    assert!(err.contains("WINDLASS_CLICKHOUSE_CLUSTER=a/b") && err.contains("letters, digits"), "{err}");
    let err =
        store(Fixture::new().env("WINDLASS_CLICKHOUSE_CLUSTER", "p").env("WINDLASS_CLICKHOUSE_INSERT_QUORUM", "0"))
            .unwrap_err();
    assert!(err.contains("WINDLASS_CLICKHOUSE_INSERT_QUORUM=0"), "{err}");
}

#[test]
fn paths_are_made_absolute_against_the_working_dir() {
    let fixture = Fixture::new().env("WINDLASS_DATA_DIR", "state").env("WINDLASS_TOOL_PATH", "tools::/opt/tackle");
    let settings = fixture.resolve().unwrap();
    let cwd = fixture.dir.path();
    assert_eq!(settings.data_dir, cwd.join("state"));
    assert_eq!(settings.tool_path, [cwd.join("tools"), PathBuf::from("/opt/tackle")]);
    assert_eq!(settings.working_dir, cwd);
}

#[test]
fn no_home_and_no_data_dir_is_a_clear_error() {
    let lookup = |_: &str| None;
    let dir = tempfile::tempdir().unwrap();
    let err =
        Settings::resolve(&Overrides::default(), &Sources { env: &lookup, cwd: dir.path(), platform_data_dir: None })
            .unwrap_err();
    assert!(err.to_string().contains("set WINDLASS_DATA_DIR"));
}

#[test]
fn a_broken_dotenv_line_names_the_file_and_line_but_not_the_value() {
    let fixture = Fixture::new().dotenv("WINDLASS_MAX_PHASE_VISITS=3\nOPENROUTER_API_KEY='sk-half\n");
    let err = fixture.error();
    assert!(err.contains(".env:2"), "{err}");
    assert!(err.contains("OPENROUTER_API_KEY"), "{err}");
    assert!(!err.contains("sk-half"), "{err}");
}
