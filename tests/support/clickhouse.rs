//! The ClickHouse server of the tests (`scripts/test.sh` starts it and exports its URL).
//!
//! `WINDLASS_TEST_CLICKHOUSE_URL` says where it is. Without it a test skips with a note on
//! stderr, unless `WINDLASS_TEST_REQUIRE_CLICKHOUSE=1`: then a missing or silent server fails
//! the test, so CI cannot pass by skipping. Each test gets its own database, so tests running
//! in parallel never see each other's rows.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use windlass::settings::{ClickHouseSettings, Secret};

pub const URL_VAR: &str = "WINDLASS_TEST_CLICKHOUSE_URL";
pub const REQUIRE_VAR: &str = "WINDLASS_TEST_REQUIRE_CLICKHOUSE";

/// Settings for a fresh, uniquely named database on the test server (not created yet: that
/// is `Store::init`'s job), or `None` when there is no server and the test may skip.
pub fn test_server(test: &str) -> Option<ClickHouseSettings> {
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
    let Some(url) = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty()) else {
        assert!(!required, "{REQUIRE_VAR}=1 but {URL_VAR} is not set (scripts/test.sh sets both)");
        eprintln!("note: skipping {test}: {URL_VAR} is not set (scripts/test.sh starts a server)");
        return None;
    };
    let (host, port, secure) = parse_url(&url).unwrap_or_else(|| panic!("{URL_VAR}={url} is not http(s)://host:port"));
    if let Err(why) = answers(&host, port, secure) {
        assert!(!required, "{REQUIRE_VAR}=1 but the ClickHouse server at {url} does not answer: {why}");
        eprintln!("note: skipping {test}: the ClickHouse server at {url} does not answer: {why}");
        return None;
    }
    Some(ClickHouseSettings {
        host,
        port,
        database: unique_database(test),
        user: "default".into(),
        password: Secret::new(""),
        secure,
        replication: None,
    })
}

/// The same server and database through another address (a relay in front of the server).
pub fn via(settings: &ClickHouseSettings, host: &str, port: u16) -> ClickHouseSettings {
    ClickHouseSettings { host: host.into(), port, secure: false, ..settings.clone() }
}

/// The bare crate client for the test's database, for checks that must not go through the
/// code under test.
pub fn raw_client(settings: &ClickHouseSettings) -> clickhouse::Client {
    clickhouse::Client::default()
        .with_url(settings.url())
        .with_user(&settings.user)
        .with_database(&settings.database)
        .with_validation(false)
}

/// Drop the test's database (at the end of a test that passed; a failed one leaves it to
/// look at).
pub async fn drop_database(settings: &ClickHouseSettings) {
    clickhouse::Client::default()
        .with_url(settings.url())
        .with_user(&settings.user)
        .with_validation(false)
        .query("DROP DATABASE IF EXISTS ?")
        .bind(clickhouse::sql::Identifier(&settings.database))
        .execute()
        .await
        .expect("drop the test database");
}

fn parse_url(url: &str) -> Option<(String, u16, bool)> {
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let authority = rest.split('/').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, if secure { 8443 } else { 8123 }),
    };
    Some((host.to_string(), port, secure))
}

/// ClickHouse answers `Ok.` to `GET /`; over HTTPS, an open port has to do.
fn answers(host: &str, port: u16, secure: bool) -> Result<(), String> {
    let addr = (host, port).to_socket_addrs().map_err(|e| e.to_string())?.next().ok_or("no address")?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| e.to_string())?;
    if secure {
        return Ok(());
    }
    stream.set_read_timeout(Some(Duration::from_secs(3))).map_err(|e| e.to_string())?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").map_err(|e| e.to_string())?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    if answer.contains("Ok.") {
        Ok(())
    } else {
        Err(format!("unexpected answer to GET /: {:?}", answer.lines().next().unwrap_or("")))
    }
}

fn unique_database(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let clean: String =
        test.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(40).collect();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("wl_test_{clean}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

pub const REPLICAS_VAR: &str = "WINDLASS_TEST_CLICKHOUSE_REPLICAS";
pub const CLUSTER_VAR: &str = "WINDLASS_TEST_CLICKHOUSE_CLUSTER";

/// The replicated test cluster (`scripts/clickhouse_cluster.sh`, started by `scripts/test.sh`).
#[derive(Debug, Clone)]
pub struct TestCluster {
    /// The cluster's name in the servers' `remote_servers`.
    pub name: String,
    /// Each replica's `host:port` (HTTP).
    pub replicas: Vec<(String, u16)>,
}

/// The replicated cluster of `WINDLASS_TEST_CLICKHOUSE_REPLICAS` (comma-separated URLs) and
/// `WINDLASS_TEST_CLICKHOUSE_CLUSTER`, every replica answering; `None` (with a note) when they
/// are not set, which fails instead under `WINDLASS_TEST_REQUIRE_CLICKHOUSE=1`.
pub fn test_cluster(test: &str) -> Option<TestCluster> {
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
    let urls = std::env::var(REPLICAS_VAR).ok().filter(|u| !u.trim().is_empty());
    let name = std::env::var(CLUSTER_VAR).ok().filter(|u| !u.trim().is_empty());
    let (Some(urls), Some(name)) = (urls, name) else {
        assert!(
            !required,
            "{REQUIRE_VAR}=1 but {REPLICAS_VAR} or {CLUSTER_VAR} is not set (scripts/test.sh sets them)"
        );
        eprintln!(
            "note: skipping {test}: {REPLICAS_VAR} and {CLUSTER_VAR} are not set (scripts/test.sh starts a cluster)"
        );
        return None;
    };
    let mut replicas = Vec::new();
    for url in urls.split(',') {
        let (host, port, _) =
            parse_url(url.trim()).unwrap_or_else(|| panic!("{REPLICAS_VAR}: {url} is not http://host:port"));
        if let Err(why) = answers(&host, port, false) {
            assert!(!required, "{REQUIRE_VAR}=1 but the replica {url} does not answer: {why}");
            eprintln!("note: skipping {test}: the replica {url} does not answer: {why}");
            return None;
        }
        replicas.push((host, port));
    }
    Some(TestCluster { name, replicas })
}

/// A fresh database name for a test (not created yet).
pub fn fresh_database(test: &str) -> String {
    unique_database(test)
}
