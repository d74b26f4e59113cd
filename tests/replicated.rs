//! The replicated store (`WINDLASS_CLICKHOUSE_CLUSTER`, issue 14): queued sessions run on
//! `windlass worker` processes split across two ClickHouse replicas while one replica is
//! killed (SIGKILL) and restarted. At the end:
//!
//! - the tables are Replicated on both replicas;
//! - every session completed, and logged its end exactly once; no checkpointed phase ran
//!   again; every repeated model call repeats one that was in flight during the outage
//!   (tests/support/invariants.rs, shared with tests/chaos.rs);
//! - after `SYSTEM SYNC REPLICA`, both replicas hold the same rows: no log row was lost;
//! - `windlass cleanup --logs` deletes every row of the sessions on both replicas.
//!
//! Needs the cluster of `scripts/clickhouse_cluster.sh` (`scripts/test.sh` starts it and sets
//! `WINDLASS_TEST_CLICKHOUSE_REPLICAS` and `WINDLASS_TEST_CLICKHOUSE_CLUSTER`); it skips with a
//! note without them, and fails under `WINDLASS_TEST_REQUIRE_CLICKHOUSE=1`.
//! `WINDLASS_REPLICATED_SESSIONS` makes the run longer.

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::backends::sandbox;
use support::clickhouse::{fresh_database, test_cluster};
use support::invariants::{assert_each_ran_once, assert_repeats_explained, completed, Call};
use support::requests::last_user;
use support::{FakeLlm, Reply, Sandbox};

const CASCADE: &str = "cascade_id: replicated
phases:
  - name: one
    instructions: 'ONE {{ input.n }}'
  - name: two
    instructions: 'TWO {{ input.n }}'
";

/// Workers per replica.
const WORKERS_PER_REPLICA: usize = 2;

/// How long the killed replica stays down.
const OUTAGE: Duration = Duration::from_secs(3);

/// The lease the workers hold sessions for.
const LEASE: Duration = Duration::from_secs(4);

/// `scripts/clickhouse_cluster.sh` with `args` (it knows the replicas' processes and ports).
fn cluster_script(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clickhouse_cluster.sh");
    let out = Command::new(script).args(args).stdout(Stdio::null()).output().expect("run clickhouse_cluster.sh");
    assert!(out.status.success(), "clickhouse_cluster.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// One statement against one replica, its answer as text (TabSeparated).
fn on_replica(replica: &(String, u16), statement: &str) -> String {
    let answer = support::http::post(&format!("{}:{}", replica.0, replica.1), "/", statement);
    assert_eq!(answer.status, 200, "{statement} on {replica:?}: {}", answer.body);
    answer.body
}

/// A worker talking to `replica`, its stderr in `worker-<n>.log`.
fn worker(sb: &Sandbox, replica: &(String, u16), n: usize) -> Child {
    let log = std::fs::File::create(sb.path().join(format!("worker-{n}.log"))).unwrap();
    sb.command(&["worker", "--concurrency", "4"])
        .env("WINDLASS_CLICKHOUSE_HOST", &replica.0)
        .env("WINDLASS_CLICKHOUSE_PORT", replica.1.to_string())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

#[test]
fn workers_on_two_replicas_run_each_session_once_while_one_replica_restarts() {
    let Some(cluster) = test_cluster("replicated") else { return };
    assert_eq!(cluster.replicas.len(), 2, "the test kills the second of two replicas: {cluster:?}");
    let (a, b) = (cluster.replicas[0].clone(), cluster.replicas[1].clone());
    let sessions: u64 = std::env::var("WINDLASS_REPLICATED_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let database = fresh_database("replicated");

    let llm = FakeLlm::start();
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
    let seen = calls.clone();
    llm.respond_with(move |body| {
        let prompt = last_user(body);
        let delay = Duration::from_millis(50 + fastrand::u64(..150));
        seen.lock().unwrap().push((prompt.clone(), Instant::now(), delay));
        Reply::text(format!("done {prompt}")).with_delay(delay)
    });
    let env: Vec<(String, String)> = [
        ("WINDLASS_CLICKHOUSE_HOST", a.0.clone()),
        ("WINDLASS_CLICKHOUSE_PORT", a.1.to_string()),
        ("WINDLASS_CLICKHOUSE_DATABASE", database.clone()),
        ("WINDLASS_CLICKHOUSE_CLUSTER", cluster.name.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut sb = sandbox(&llm, &env);
    sb.set("WINDLASS_HEARTBEAT_INTERVAL", "500ms");
    sb.set("WINDLASS_HEARTBEAT_LEASE", &format!("{}s", LEASE.as_secs()));
    sb.write("c.yaml", CASCADE);
    let ids: Vec<String> = (0..sessions).map(|n| format!("rep-{n}")).collect();
    for (n, id) in ids.iter().enumerate() {
        // Half of them queued through each replica.
        let replica = if n % 2 == 0 { &a } else { &b };
        let out = sb
            .command(&["submit", "c.yaml", "--session", id, "-i", &format!("n={n}")])
            .env("WINDLASS_CLICKHOUSE_PORT", replica.1.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "submit {id}: {}", String::from_utf8_lossy(&out.stderr));
    }
    for replica in [&a, &b] {
        let ddl = on_replica(replica, &format!("SHOW CREATE TABLE {database}.session_state"));
        let path = format!("/clickhouse/windlass/{}/{database}/session_state", cluster.name);
        assert!(ddl.contains("ReplicatedReplacingMergeTree") && ddl.contains(&path), "{replica:?}: {ddl}");
    }

    let started = Instant::now();
    let mut workers: Vec<Child> = Vec::new();
    for n in 0..WORKERS_PER_REPLICA * 2 {
        workers.push(worker(&sb, if n % 2 == 0 { &a } else { &b }, n + 1));
    }
    // Mid-run: some sessions done, most not.
    while completed(&sb, "rep-") < sessions / 8 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = Instant::now();
    cluster_script(&["kill", "2"]);
    std::thread::sleep(OUTAGE);
    cluster_script(&["start"]);
    let restarted = Instant::now();
    println!("replica 2 down from {:?} to {:?}", killed.duration_since(started), restarted.duration_since(started));

    let limit = Duration::from_secs(90 + sessions * 2);
    let mut done = 0;
    while started.elapsed() < limit {
        done = completed(&sb, "rep-");
        if done == sessions {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    for w in &workers {
        unsafe { libc::kill(w.id() as i32, libc::SIGTERM) };
    }
    for mut w in workers {
        w.wait().unwrap();
    }
    assert_eq!(done, sessions, "only {done} of {sessions} completed within {limit:?}");

    // Both replicas hold every row, logs included (they replicate asynchronously).
    let tables = ["unified_logs", "session_state", "cascade_sessions", "checkpoints", "signals"];
    for replica in [&a, &b] {
        for table in tables {
            on_replica(replica, &format!("SYSTEM SYNC REPLICA {database}.{table}"));
        }
    }
    let count = |replica, table: &str| {
        let text = on_replica(replica, &format!("SELECT count() FROM (SELECT DISTINCT * FROM {database}.{table})"));
        text.trim().parse::<u64>().unwrap_or_else(|_| panic!("count of {table}: {text}"))
    };
    for table in tables {
        assert_eq!(count(&a, table), count(&b, table), "{table} differs between the replicas");
    }
    for replica in [&a, &b] {
        let phases = on_replica(
            replica,
            &format!(
                "SELECT count() FROM (SELECT DISTINCT session_id, phase_name FROM {database}.unified_logs \
                 WHERE node_type = 'phase_finished' AND session_id LIKE 'rep-%')"
            ),
        );
        assert_eq!(phases.trim(), (sessions * 2).to_string(), "phases logged as finished on {replica:?}");
    }

    assert_each_ran_once(&sb, "replicated", &ids, 2);
    let calls = calls.lock().unwrap().clone();
    // A session whose owner lost its replica is taken over once its lease runs out.
    let outage = [(killed, restarted + LEASE + Duration::from_secs(2))];
    let repeated = assert_repeats_explained(&sb, "rep-", "replicated", &calls, &outage, started);
    assert_eq!(calls.len() as u64 - repeated, sessions * 2, "every phase was asked");
    println!("{sessions} sessions, {repeated} repeated calls, {:?}", started.elapsed());

    // `cleanup --logs` deletes the sessions' rows on both replicas, and the marker rows that
    // let 18.16 finish the deletes are not sessions. (The store's clock has whole seconds on
    // 18.16: wait until the last session finished at least 0 s ago by it.)
    std::thread::sleep(Duration::from_millis(1500));
    let out = sb.run(&["cleanup", "--older-than", "0s", "--logs"]);
    assert_eq!(out.code, 0, "cleanup: {}", out.stderr);
    for replica in [&a, &b] {
        for table in tables {
            on_replica(replica, &format!("SYSTEM SYNC REPLICA {database}.{table}"));
            let left =
                on_replica(replica, &format!("SELECT count() FROM {database}.{table} WHERE session_id LIKE 'rep-%'"));
            assert_eq!(left.trim(), "0", "{table} on {replica:?} still has rows of deleted sessions");
        }
    }
    let listed = sb.run(&["sessions", "--format", "json"]);
    assert_eq!(listed.stdout.trim(), "[]", "{}", listed.stderr);

    // Dropping replicated tables can take 18.16 most of a minute; the server goes on with it
    // when the test has ended, so it is not waited for.
    for replica in [a, b] {
        let drop = format!("DROP DATABASE IF EXISTS {database}");
        std::thread::spawn(move || support::http::post(&format!("{}:{}", replica.0, replica.1), "/", &drop));
    }
    std::thread::sleep(Duration::from_millis(200));
}
