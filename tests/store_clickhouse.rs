//! The ClickHouse store against a real server (ClickHouse 18.16 in CI, see
//! `tests/support/clickhouse.rs`): every trait method, de-duplication, bound values, the
//! read-only guard, and the spool across a server outage staged with a TCP relay.

mod support;

use std::net::ToSocketAddrs;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use support::clickhouse::{drop_database, raw_client, test_server, via};
use support::tcp_relay::TcpRelay;
use windlass::settings::{ClickHouseSettings, Secret};
use windlass::store::{
    CascadeSessionRow, CheckpointRow, ClickHouseOptions, ClickHouseStore, LogRow, SessionFilter, SessionStateRow,
    SessionStatus, SignalRow, Store, StoreError,
};

/// A store on a fresh database, initialised, or `None` when the test should skip.
async fn fresh_store(test: &str, spool: &Path) -> Option<(ClickHouseStore, ClickHouseSettings)> {
    let settings = test_server(test)?;
    let store = ClickHouseStore::connect(&settings, spool).expect("connect");
    store.init().await.expect("init");
    Some((store, settings))
}

fn log_row(session: &str, seq: u32, timestamp: f64) -> LogRow {
    LogRow {
        message_id: format!("{session}:1:{seq}"),
        session_id: session.into(),
        parent_session_id: String::new(),
        cascade_id: "demo".into(),
        phase_name: "draft".into(),
        sounding_index: -1,
        attempt: 1,
        turn: seq,
        node_type: "llm_response".into(),
        role: "assistant".into(),
        timestamp,
        model: "test/model".into(),
        tokens_in: 10 + u64::from(seq),
        tokens_out: 5,
        cost: 0.001,
        duration_ms: 42,
        request_hash: format!("h{seq}"),
        content: json!({"text": format!("reply {seq}"), "quote": "it's \"fine\"\n"}).to_string(),
    }
}

fn state_row(session: &str, version: u64, status: SessionStatus, started_at: f64) -> SessionStateRow {
    SessionStateRow {
        session_id: session.into(),
        version,
        status: status.as_str().into(),
        cascade_id: "demo".into(),
        parent_session_id: String::new(),
        current_phase: format!("phase{version}"),
        blocked_on: String::new(),
        heartbeat_at: started_at + version as f64,
        lease_seconds: 30.0,
        owner: "worker-a".into(),
        owner_epoch: 1,
        cancel_requested: 0,
        error_message: String::new(),
        started_at,
        updated_at: started_at + version as f64,
        completed_at: 0.0,
        tokens_in: 100 * version,
        tokens_out: 10 * version,
        cost: 0.5,
    }
}

fn checkpoint(session: &str, seq: u64, epoch: u64) -> CheckpointRow {
    CheckpointRow {
        session_id: session.into(),
        seq,
        phase: format!("p{seq}"),
        next_phase: format!("p{}", seq + 1),
        state: json!({"seq": seq, "epoch": epoch}).to_string(),
        cascade_hash: "abc".into(),
        owner_epoch: epoch,
        created_at: 1_700_000_000.0 + seq as f64,
    }
}

fn signal(session: &str, id: &str, kind: &str, at: f64) -> SignalRow {
    SignalRow {
        signal_id: id.into(),
        session_id: session.into(),
        kind: kind.into(),
        name: if kind == "named" { "approve".into() } else { String::new() },
        payload: json!("go ahead").to_string(),
        created_at: at,
    }
}

/// A count through the bare crate client, not the code under test.
async fn count(settings: &ClickHouseSettings, sql: &str) -> u64 {
    raw_client(settings).query(sql).fetch_one::<u64>().await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn every_method_round_trips() {
    let spool = tempfile::tempdir().unwrap();
    let Some((store, settings)) = fresh_store("every_method_round_trips", spool.path()).await else { return };
    store.init().await.expect("init is idempotent");
    assert_eq!(store.backend(), "clickhouse");

    // Logs: time order, `after`, `limit`.
    let rows: Vec<LogRow> = (0..10).map(|i| log_row("s1", i, 1_700_000_000.0 + f64::from(i))).collect();
    store.insert_logs(&rows[5..]).await.unwrap();
    store.insert_logs(&rows[..5]).await.unwrap();
    store.insert_logs(&[log_row("other", 0, 1_700_000_000.0)]).await.unwrap();
    assert_eq!(store.logs("s1", None, 0).await.unwrap(), rows);
    assert_eq!(store.logs("s1", Some(1_700_000_006.0), 0).await.unwrap(), rows[7..]);
    assert_eq!(store.logs("s1", None, 3).await.unwrap(), rows[..3]);
    assert!(store.logs("nobody", None, 0).await.unwrap().is_empty());

    // Session state: the newest version wins, whatever the insert order.
    for version in [2, 3, 1] {
        store.put_session_state(&state_row("s1", version, SessionStatus::Running, 1000.0)).await.unwrap();
    }
    let mut done = state_row("s1", 4, SessionStatus::Completed, 1000.0);
    done.completed_at = 1010.0;
    store.put_session_state(&done).await.unwrap();
    assert_eq!(store.session_state("s1").await.unwrap(), Some(done.clone()));
    assert_eq!(store.session_state("nobody").await.unwrap(), None);

    // Listing: one row per session (its newest), filters on that newest row, newest first.
    store.put_session_state(&state_row("s2", 1, SessionStatus::Running, 2000.0)).await.unwrap();
    let mut queued = state_row("s3", 1, SessionStatus::Queued, 0.0);
    queued.updated_at = 3000.0;
    queued.cascade_id = "other".into();
    store.put_session_state(&queued).await.unwrap();
    let ids = |rows: Vec<SessionStateRow>| rows.into_iter().map(|r| r.session_id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_sessions(&SessionFilter::default()).await.unwrap()), ["s3", "s2", "s1"]);
    let running = SessionFilter { status: Some(SessionStatus::Running), ..SessionFilter::default() };
    assert_eq!(ids(store.list_sessions(&running).await.unwrap()), ["s2"], "s1's old running rows must not match");
    let by_cascade = SessionFilter { cascade_id: Some("demo".into()), limit: 1, ..SessionFilter::default() };
    assert_eq!(ids(store.list_sessions(&by_cascade).await.unwrap()), ["s2"]);

    // Cascade definition and input.
    let cascade = CascadeSessionRow {
        session_id: "s1".into(),
        cascade_id: "demo".into(),
        cascade_path: "/tmp/demo.yaml".into(),
        definition: "cascade_id: demo\nphases: []\n".into(),
        definition_hash: "f00d".into(),
        input: json!({"topic": "ünïcödé"}).to_string(),
        parent_session_id: String::new(),
        created_at: 1000.0,
    };
    store.put_cascade_session(&cascade).await.unwrap();
    assert_eq!(store.cascade_session("s1").await.unwrap(), Some(cascade));
    assert_eq!(store.cascade_session("nobody").await.unwrap(), None);

    // Checkpoints: highest seq among rows of the allowed epochs.
    for (seq, epoch) in [(1, 1), (2, 1), (3, 1), (2, 2)] {
        store.put_checkpoint(&checkpoint("s1", seq, epoch)).await.unwrap();
    }
    assert_eq!(store.latest_checkpoint("s1", 0).await.unwrap(), Some(checkpoint("s1", 3, 1)));
    assert_eq!(store.latest_checkpoint("s1", 2).await.unwrap(), Some(checkpoint("s1", 2, 2)));
    assert_eq!(store.latest_checkpoint("s1", 3).await.unwrap(), None);

    // Signals and their consumption markers, oldest first.
    let sent = signal("s1", "sig1", "named", 10.0);
    let consumed = signal("s1", "sig1", "consumed", 11.0);
    store.put_signal(&consumed).await.unwrap();
    store.put_signal(&sent).await.unwrap();
    store.put_signal(&signal("s2", "sig2", "message", 5.0)).await.unwrap();
    assert_eq!(store.signals("s1").await.unwrap(), vec![sent, consumed]);

    // Read-only queries see the same table names; 64-bit integers come back as numbers.
    let result = store
        .query("SELECT session_id, count() AS n, sum(tokens_in) AS t FROM unified_logs GROUP BY session_id ORDER BY session_id;")
        .await
        .unwrap();
    assert_eq!(result.columns, ["session_id", "n", "t"]);
    assert_eq!(result.rows, vec![vec![json!("other"), json!(1), json!(10)], vec![json!("s1"), json!(10), json!(145)]]);

    // The server's clock (this machine's here, so they agree).
    let server_now = store.now().await.unwrap();
    let local_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((server_now - local_now).abs() < 5.0, "server {server_now} vs local {local_now}");

    // Deleting is a mutation that runs in the background; the store waits for it, so the
    // rows are gone for every reader when `delete_sessions` returns.
    store.delete_sessions(&["s1".to_string()]).await.unwrap();
    for table in ["unified_logs", "session_state", "cascade_sessions", "checkpoints", "signals"] {
        let left = count(&settings, &format!("SELECT count() FROM {table} WHERE session_id = 's1'")).await;
        assert_eq!(left, 0, "{left} rows of s1 still in {table}");
    }
    assert_eq!(store.logs("other", None, 0).await.unwrap().len(), 1, "other sessions stay");
    assert_eq!(store.session_state("s2").await.unwrap().map(|s| s.version), Some(1));
    store.delete_sessions(&[]).await.unwrap();

    drop_database(&settings).await;
}

#[tokio::test]
async fn a_retried_insert_is_read_once() {
    let spool = tempfile::tempdir().unwrap();
    let Some((store, settings)) = fresh_store("a_retried_insert_is_read_once", spool.path()).await else { return };
    let rows: Vec<LogRow> = (0..100).map(|i| log_row("dup", i, 1_700_000_000.0 + f64::from(i) / 10.0)).collect();
    store.insert_logs(&rows).await.unwrap();
    store.insert_logs(&rows).await.unwrap();
    store.insert_logs(&rows[10..20]).await.unwrap();
    assert_eq!(count(&settings, "SELECT count() FROM unified_logs").await, 210, "stored three times before merging");
    assert_eq!(store.logs("dup", None, 0).await.unwrap(), rows, "read once");

    for _ in 0..2 {
        store.put_signal(&signal("dup", "sig", "message", 1.0)).await.unwrap();
        store.put_session_state(&state_row("dup", 7, SessionStatus::Running, 1.0)).await.unwrap();
        store.put_checkpoint(&checkpoint("dup", 1, 1)).await.unwrap();
    }
    assert_eq!(store.signals("dup").await.unwrap().len(), 1);
    assert_eq!(store.list_sessions(&SessionFilter::default()).await.unwrap().len(), 1);
    assert_eq!(store.latest_checkpoint("dup", 0).await.unwrap(), Some(checkpoint("dup", 1, 1)));

    drop_database(&settings).await;
}

#[tokio::test]
async fn hostile_session_ids_stay_values() {
    let spool = tempfile::tempdir().unwrap();
    let Some((store, settings)) = fresh_store("hostile_session_ids_stay_values", spool.path()).await else { return };
    let ids = ["x'); DROP TABLE signals; --", "x\\'; DROP TABLE signals; --", "a?b ?fields ??", "tab\there\nnewline"];
    for id in ids {
        store.put_signal(&signal(id, "sig", "message", 1.0)).await.unwrap();
        store.put_session_state(&state_row(id, 1, SessionStatus::Running, 1.0)).await.unwrap();
        store.insert_logs(&[log_row(id, 0, 1.0)]).await.unwrap();
    }
    for id in ids {
        let signals = store.signals(id).await.unwrap();
        assert_eq!(signals.len(), 1, "{id}");
        assert_eq!(signals[0].session_id, id);
        assert_eq!(store.session_state(id).await.unwrap().unwrap().session_id, id);
        assert_eq!(store.logs(id, None, 0).await.unwrap()[0].session_id, id);
    }
    let hostile_status = SessionFilter { cascade_id: Some("x' OR 1=1 --".into()), ..SessionFilter::default() };
    assert!(store.list_sessions(&hostile_status).await.unwrap().is_empty());
    store.delete_sessions(&[ids[0].to_string()]).await.unwrap();
    assert_eq!(count(&settings, "SELECT count() FROM system.tables WHERE database = currentDatabase()").await, 5);
    drop_database(&settings).await;
}

#[tokio::test]
async fn queries_cannot_write() {
    let spool = tempfile::tempdir().unwrap();
    let Some((store, settings)) = fresh_store("queries_cannot_write", spool.path()).await else { return };
    for sql in [
        "DELETE FROM signals WHERE 1",
        "INSERT INTO signals (signal_id) VALUES ('x')",
        "SELECT 1; DROP TABLE signals",
        "DROP TABLE signals",
        "ALTER TABLE signals DELETE WHERE 1",
    ] {
        let err = store.query(sql).await.unwrap_err();
        assert!(matches!(err, StoreError::NotReadOnly(_)), "{sql}: {err}");
    }

    // The server's guard holds on its own, for statements that get past the client check...
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

    let err = store.query("SELECT * FROM no_such_table").await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
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
    let err = store.put_checkpoint(&checkpoint("outage", 1, 1)).await.unwrap_err();
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
    let read = store.logs("outage", None, 0).await.unwrap();
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
    let seqs: Vec<u32> = store.logs("later", None, 0).await.unwrap().iter().map(|r| r.turn).collect();
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
    let turns: Vec<u32> = store.logs("p", None, 0).await.unwrap().iter().map(|r| r.turn).collect();
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
