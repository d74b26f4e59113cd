//! The replicated store (`WINDLASS_CLICKHOUSE_CLUSTER`): each worker talks to one replica of a
//! ClickHouse cluster that replicates through ZooKeeper, and sessions still run exactly once.
//!
//! - Tables are `Replicated*MergeTree` (schema.rs). A quorum insert needs the table on a
//!   quorum of replicas, so the first process to find its replica without them creates them
//!   `ON CLUSTER` (the cluster of the servers' `remote_servers` named like the setting), which
//!   queues the DDL in ZooKeeper for replicas that are down, without waiting long for them;
//!   then every process makes sure of its own replica (`IF NOT EXISTS`).
//! - Session rows, checkpoints and signals (claims among them) go through the `durable` client:
//!   `insert_quorum` (default 2, [`DEFAULT_INSERT_QUORUM`](crate::settings::DEFAULT_INSERT_QUORUM))
//!   with an `insert_quorum_timeout` below the request timeout, so an insert returns only once
//!   the row is on a quorum of replicas. Their reads go through the `consistent` client
//!   (`select_sequential_consistency=1`): a replica that lacks the latest quorum write refuses
//!   to answer (code 289, retried) rather than answering from the past. (Such a read skips
//!   rows inserted without the quorum after the latest quorum insert, so every insert into
//!   these tables goes through `durable`.) Together: a row whose insert returned is seen by
//!   every later decisive read on any replica, which is the one property the claim protocol
//!   (session/claim.rs) and the fencing reads need of a store.
//! - Replicated tables drop a block identical to one inserted before (`insert_deduplicate`).
//!   Every row here is idempotent (a retry, a re-sent spool batch), so that changes nothing
//!   a reader sees.
//! - Log rows are inserted without a quorum and replicate asynchronously: a row on a replica
//!   that is down shows on the others when it is back. They decide nothing (readers
//!   de-duplicate them), and the spool keeps them while the replica is unreachable.
//!
//! What a failed quorum insert means. Refusals before anything is written (too few live
//! replicas, code 285; a previous quorum write pending, 286) are retried. A quorum insert that
//! timed out or lost ZooKeeper (159, 319, or no answer) is ambiguous: the row may sit on one
//! replica and replicate later. The store reports it as not written ([`StoreError::Unavailable`])
//! after its retries, and every caller treats it so: a checkpoint is retried (rows are
//! idempotent, and a retried block is de-duplicated by the replicated table), and a claim
//! whose insert failed is withdrawn and not run; if the claim row turns up later anyway, it is
//! a claim whose claimer never started, which the protocol already tolerates (it makes no
//! second runner; at worst the others lose that round and hold off for a lease).
//!
//! Deleting sessions (`windlass cleanup`, `ALTER TABLE ... DELETE`): 18.16 does not mutate a
//! table's latest quorum-inserted part until a later quorum insert into that table supersedes
//! it. So after the deletes the store inserts, with the quorum and without de-duplication, a
//! marker row whose `session_id` is empty into each quorum table: its block comes after the
//! delete (which therefore cannot touch it), and no read of the store sees it (reads name
//! session ids, `list_sessions` leaves the empty id out, and the marker signal is dated 0).
//! Markers share one key per table, so merges keep one of each; `windlass sql` shows it.

//! 18.16 allows one pending quorum insert per table: a concurrent one is refused with 286
//! ([`Failure::Contended`](super::error::Failure)), and the store retries it after a short
//! random pause for up to the request timeout. Quorum writes are therefore serialised per
//! table across the cluster; this is the cost of the replicated store on 18.16 (newer servers
//! have `insert_quorum_parallel`).

use std::time::Duration;

use ::clickhouse::Client;

use super::error::Failure;
use super::{created, schema, ClickHouseOptions, ClickHouseStore};
use crate::settings::Replication;
use crate::store::{StoreError, TABLES};

/// The tables written with the quorum (all but the log).
const QUORUM_TABLES: [&str; 4] = ["session_state", "cascade_sessions", "checkpoints", "signals"];

/// How long an `ON CLUSTER` statement waits for the other replicas; once one did not answer
/// in time, the remaining statements do not wait (they run there when it is back).
const DDL_PATIENCE: Duration = Duration::from_secs(5);

impl ClickHouseStore {
    /// Create the database and tables on every replica of the cluster, unless this replica
    /// has them all already (then a process before this one did).
    pub(super) async fn create_on_cluster(&self) -> Result<(), StoreError> {
        let Some(replication) = &self.replication else { return Ok(()) };
        let sql = "SELECT count() FROM system.tables WHERE database = ? AND has(?, name)";
        let present = self
            .run(|| self.server.query(sql).bind(self.database.as_str()).bind(TABLES.as_slice()).fetch_one::<u64>())
            .await
            .map_err(self.fail("look for the tables"))?;
        if present == TABLES.len() as u64 {
            return Ok(());
        }
        let cluster = replication.cluster.as_str();
        let mut statements = vec![(
            "the database".to_string(),
            format!("CREATE DATABASE IF NOT EXISTS {} ON CLUSTER {cluster}", self.database),
        )];
        for (table, ddl) in schema::create_tables(&self.database, Some(cluster)) {
            let ddl = ddl.replacen(
                &format!("CREATE TABLE IF NOT EXISTS {table} ("),
                &format!("CREATE TABLE IF NOT EXISTS {}.{table} ON CLUSTER {cluster} (", self.database),
                1,
            );
            statements.push((format!("the table {table}"), ddl));
        }
        let mut patience = DDL_PATIENCE;
        for (what, ddl) in statements {
            let timeout = patience.as_secs().to_string();
            let result = self
                .attempt(self.server.query_raw(&ddl).with_setting("distributed_ddl_task_timeout", timeout).execute())
                .await;
            match created(result) {
                Ok(()) => {}
                // Queued for a replica that is away (code 159 names the unfinished hosts).
                Err(Failure::Unreachable(detail)) if detail.contains("distributed_ddl_task_timeout") => {
                    patience = Duration::ZERO;
                }
                Err(failure) => {
                    return Err(self.fail(&format!("create {what} on cluster {cluster}"))(failure));
                }
            }
        }
        Ok(())
    }
}

impl ClickHouseStore {
    /// After `ALTER TABLE ... DELETE`: a quorum marker row in each quorum table, so the server
    /// mutates the part that was the latest quorum part (see the module docs). Does nothing
    /// without a quorum.
    pub(super) async fn supersede_quorum_parts(&self) -> Result<(), StoreError> {
        if self.replication.as_ref().is_none_or(|r| r.insert_quorum < 2) {
            return Ok(());
        }
        let marker = self.durable.clone().with_setting("insert_deduplicate", "0");
        for table in QUORUM_TABLES {
            let sql = format!("INSERT INTO {table} (session_id) VALUES ('')");
            self.run(|| marker.query(&sql).execute())
                .await
                .map_err(self.fail(&format!("finish deleting sessions from {table}")))?;
        }
        Ok(())
    }
}

/// The `durable` and `consistent` clients over `client` (both `client` itself without
/// replication, or with a quorum of 1 for the inserts).
pub(super) fn clients(
    client: &Client,
    replication: Option<&Replication>,
    options: &ClickHouseOptions,
) -> (Client, Client) {
    let Some(replication) = replication else { return (client.clone(), client.clone()) };
    let mut durable = client.clone();
    if replication.insert_quorum > 1 {
        // The server gives up waiting for the quorum before the client gives up on the
        // request, so the answer says which it was.
        let timeout = (options.request_timeout / 2).as_millis().max(1000);
        durable = durable
            .with_setting("insert_quorum", replication.insert_quorum.to_string())
            .with_setting("insert_quorum_timeout", timeout.to_string());
    }
    let consistent = client.clone().with_setting("select_sequential_consistency", "1");
    (durable, consistent)
}
