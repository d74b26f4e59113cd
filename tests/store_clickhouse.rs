//! The ClickHouse store on its own, against a real server (ClickHouse 18.16 in CI, see
//! `tests/support/clickhouse.rs`): the server's read-only guard, re-sent signals, credentials,
//! and the spool across a server outage staged with a TCP relay. What every backend promises
//! is in `store_contract.rs`.

#[path = "support/store_rows.rs"]
mod store_rows;
mod support;

use std::net::ToSocketAddrs;
use std::path::Path;
use std::time::Duration;

use store_rows::{checkpoint, sid, signal};
use support::clickhouse::{drop_database, raw_client, test_server, via};
use support::tcp_relay::TcpRelay;
use windlass::settings::{ClickHouseSettings, Secret};
use windlass::store::{ClickHouseOptions, ClickHouseStore, LogRow, Store, StoreError};

/// A store on a fresh database, initialised, or `None` when the test should skip.
async fn fresh_store(test: &str, spool: &Path) -> Option<(ClickHouseStore, ClickHouseSettings)> {
    let settings = test_server(test)?;
    let store = ClickHouseStore::connect(&settings, spool).expect("connect");
    store.init().await.expect("init");
    Some((store, settings))
}

/// A log row whose `turn` is `seq`.
fn log_row(session: &str, seq: u32, timestamp: f64) -> LogRow {
    store_rows::log(session, u64::from(seq), timestamp)
}

/// A count through the bare crate client, not the code under test.
async fn count(settings: &ClickHouseSettings, sql: &str) -> u64 {
    raw_client(settings).query(sql).fetch_one::<u64>().await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn a_resent_signal_is_read_once() {
    let spool = tempfile::tempdir().unwrap();
    let Some((store, settings)) = fresh_store("a_resent_signal_is_read_once", spool.path()).await else { return };
    // ClickHouse reads the signal table with FINAL; DuckDB returns every copy.
    for _ in 0..2 {
        store.put_signal(&signal("dup", "sig", "message", 1.0)).await.unwrap();
    }
    assert_eq!(store.signals(&sid("dup")).await.unwrap().len(), 1);
    drop_database(&settings).await;
}

#[tokio::test]
async fn the_server_refuses_writes_on_its_own() {
    let spool = tempfile::tempdir().unwrap();
    let Some((store, settings)) = fresh_store("the_server_refuses_writes", spool.path()).await else { return };
    // The server's guard holds on its own, for statements that get past the client check
    // (`store_contract.rs`)...
    let err = store.query("SELECT 1 SETTINGS readonly = 0").await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
    // ...and for ones that never should, sent straight through the guarded path.
    for sql in [
        "CREATE TABLE sneaky (a UInt8) ENGINE = Memory",
        "INSERT INTO signals (signal_id) VALUES ('x')",
        "DROP TABLE signals",
    ] {
        let err = store.query_guarded(sql).await.unwrap_err();
        let StoreError::Rejected { detail, .. } = &err else { panic!("{sql}: {err}") };
        assert!(detail.contains("readonly"), "{sql}: {detail}");
    }
    assert_eq!(count(&settings, "SELECT count() FROM system.tables WHERE database = currentDatabase()").await, 5);
    assert_eq!(count(&settings, "SELECT count() FROM signals").await, 0);
    drop_database(&settings).await;
}

#[tokio::test]
async fn credentials_never_show_in_errors() {
    let Some(mut settings) = test_server("credentials_never_show_in_errors") else { return };
    settings.password = Secret::new("sekrit-passw0rd");
    let spool = tempfile::tempdir().unwrap();
    let store = ClickHouseStore::connect(&settings, spool.path()).unwrap();
    let err = store.init().await.unwrap_err();
    let shown = format!("{err} {err:?} {store:?} {}", store.describe());
    assert!(matches!(err, StoreError::Rejected { .. }), "{shown}");
    assert!(!shown.contains("sekrit"), "{shown}");
}

/// Options for a store behind the relay: give up quickly while the relay is down.
fn impatient() -> ClickHouseOptions {
    ClickHouseOptions { request_timeout: Duration::from_secs(5), attempts: 2 }
}

#[tokio::test]
async fn log_rows_survive_an_outage_through_the_spool() {
    let Some(direct) = test_server("log_rows_survive_an_outage") else { return };
    let target = (direct.host.as_str(), direct.port).to_socket_addrs().unwrap().next().unwrap();
    let mut relay = TcpRelay::start(target).await;
    let relayed = via(&direct, "127.0.0.1", relay.port());
    let spool = tempfile::tempdir().unwrap();
    let store = ClickHouseStore::connect_with(&relayed, spool.path(), impatient()).unwrap();
    store.init().await.unwrap();

    let batch = |n: u32| -> Vec<LogRow> {
        (0..500).map(|i| log_row("outage", n * 1000 + i, 1_700_000_000.0 + f64::from(n * 1000 + i))).collect()
    };
    store.insert_logs(&batch(0)).await.unwrap();
    assert!(store.spool().batches().unwrap().is_empty());

    relay.stop().await;
    for n in 1..=4 {
        store.insert_logs(&batch(n)).await.expect("an unreachable server does not fail a log insert");
    }
    assert_eq!(store.spool().batches().unwrap().len(), 4, "each batch spooled");
    // Synchronous writes are not spooled: the caller must see them fail.
    let err = store.put_checkpoint(&checkpoint("outage", 1, 1, 10)).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    assert!(!format!("{err}").contains("sekrit"));
    let report = store.flush_spool().await.unwrap();
    assert_eq!((report.sent_batches, report.remaining), (0, 4));
    assert!(matches!(report.stopped, Some(StoreError::Unavailable { .. })), "{report:?}");

    relay.restart().await;
    // Two flushers on one spool (as two processes would be): the spool's lock lets one send.
    let other = ClickHouseStore::connect_with(&relayed, spool.path(), impatient()).unwrap();
    let (report, other_report) = tokio::join!(store.flush_spool(), other.flush_spool());
    let (report, other_report) = (report.unwrap(), other_report.unwrap());
    assert!(report.stopped.is_none() && other_report.stopped.is_none(), "{report:?} {other_report:?}");
    assert_eq!(report.sent_batches + other_report.sent_batches, 4, "{report:?} {other_report:?}");
    assert_eq!(report.sent_rows + other_report.sent_rows, 2000);
    assert!(store.spool().batches().unwrap().is_empty(), "spool files deleted after delivery");
    let report = store.flush_spool().await.unwrap();
    assert_eq!((report.sent_batches, report.remaining), (0, 0), "{report:?}");
    assert!(!store.spool().may_have_pending());

    assert_eq!(count(&direct, "SELECT uniqExact(message_id) FROM unified_logs").await, 2500);
    assert_eq!(count(&direct, "SELECT count() FROM unified_logs").await, 2500, "no row sent twice");
    let read = store.logs(&sid("outage"), None, 0).await.unwrap();
    assert_eq!(read.len(), 2500);
    assert!(read.windows(2).all(|w| w[0].timestamp < w[1].timestamp));

    drop_database(&direct).await;
}

#[tokio::test]
async fn the_next_insert_delivers_the_spool_first() {
    let Some(direct) = test_server("the_next_insert_delivers_the_spool_first") else { return };
    let target = (direct.host.as_str(), direct.port).to_socket_addrs().unwrap().next().unwrap();
    let mut relay = TcpRelay::start(target).await;
    let relayed = via(&direct, "127.0.0.1", relay.port());
    let spool = tempfile::tempdir().unwrap();
    {
        let store = ClickHouseStore::connect_with(&relayed, spool.path(), impatient()).unwrap();
        store.init().await.unwrap();
        relay.stop().await;
        store.insert_logs(&[log_row("later", 1, 1.0), log_row("later", 2, 2.0)]).await.unwrap();
        store.insert_logs(&[log_row("later", 3, 3.0)]).await.unwrap();
    }
    relay.restart().await;

    // A new process (a new store on the same spool) delivers the leftovers with its first insert.
    let store = ClickHouseStore::connect_with(&relayed, spool.path(), impatient()).unwrap();
    assert!(store.spool().may_have_pending());
    store.insert_logs(&[log_row("later", 4, 4.0)]).await.unwrap();
    assert!(store.spool().batches().unwrap().is_empty());
    let seqs: Vec<u32> = store.logs(&sid("later"), None, 0).await.unwrap().iter().map(|r| r.turn).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(count(&direct, "SELECT count() FROM unified_logs").await, 4);
    drop_database(&direct).await;
}

#[tokio::test]
async fn poison_is_set_aside_and_the_rest_flows() {
    let Some(direct) = test_server("poison_is_set_aside") else { return };
    let target = (direct.host.as_str(), direct.port).to_socket_addrs().unwrap().next().unwrap();
    let mut relay = TcpRelay::start(target).await;
    let relayed = via(&direct, "127.0.0.1", relay.port());
    let spool = tempfile::tempdir().unwrap();
    let store = ClickHouseStore::connect_with(&relayed, spool.path(), impatient()).unwrap();
    store.init().await.unwrap();

    // Three batches wait; the middle one is damaged on disk.
    relay.stop().await;
    for n in 0..3 {
        store.insert_logs(&[log_row("p", n, f64::from(n))]).await.unwrap();
    }
    let batches = store.spool().batches().unwrap();
    std::fs::write(batches[1].path(), "{not json\n").unwrap();
    relay.restart().await;
    let report = store.flush_spool().await.unwrap();
    assert_eq!((report.sent_batches, report.poisoned, report.remaining), (2, 1, 0), "{report:?}");
    let poisoned = store.spool().poisoned().unwrap();
    assert_eq!(poisoned.len(), 1);
    let reason = std::fs::read_to_string(format!("{}.reason", poisoned[0].display())).unwrap();
    assert!(reason.contains("line 1"), "{reason}");
    let turns: Vec<u32> = store.logs(&sid("p"), None, 0).await.unwrap().iter().map(|r| r.turn).collect();
    assert_eq!(turns, [0, 2]);

    // The server cannot store rows the table has no column for: that is poison too, kept
    // with the server's message, while the batches behind it are still tried.
    raw_client(&direct).query("ALTER TABLE unified_logs DROP COLUMN content").execute().await.unwrap();
    let err = store.insert_logs(&[log_row("p", 10, 10.0)]).await.unwrap_err();
    let StoreError::Rejected { detail, .. } = &err else { panic!("{err}") };
    assert!(detail.contains("content"), "{detail}");
    assert_eq!(store.spool().poisoned().unwrap().len(), 2);
    relay.stop().await;
    store.insert_logs(&[log_row("p", 11, 11.0)]).await.unwrap();
    store.insert_logs(&[log_row("p", 12, 12.0)]).await.unwrap();
    relay.restart().await;
    let report = store.flush_spool().await.unwrap();
    assert_eq!((report.sent_batches, report.poisoned, report.remaining), (0, 2, 0), "{report:?}");
    let reasons: Vec<String> = store
        .spool()
        .poisoned()
        .unwrap()
        .iter()
        .map(|p| std::fs::read_to_string(format!("{}.reason", p.display())).unwrap())
        .collect();
    assert!(reasons.iter().filter(|r| r.contains("content")).count() == 3, "{reasons:?}");
    drop_database(&direct).await;
}
