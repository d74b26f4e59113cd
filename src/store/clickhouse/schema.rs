//! The ClickHouse DDL of the five tables (store.md, "Tables").
//!
//! Written for ClickHouse 18.16, which newer servers accept unchanged: no `DateTime64`,
//! `LowCardinality`, `TTL`, `Map` or `JSON`; times are `Float64` epoch seconds, JSON is
//! `String`. Every table is a `ReplacingMergeTree` keyed on the row's identity, so a retried
//! insert (the spool re-sends whole batches) collapses into one row when parts merge; until
//! then, readers de-duplicate (`FINAL`, or `LIMIT 1 BY`/`ORDER BY ... LIMIT 1`).
//!
//! With replication (`WINDLASS_CLICKHOUSE_CLUSTER`, [`create_tables`]) every engine becomes
//! its `Replicated` twin with the same arguments after the ZooKeeper path
//! (`/clickhouse/windlass/<cluster>/<database>/<table>`) and the server's `{replica}` macro.
//! Each process creates the tables on the replica it talks to (`IF NOT EXISTS`), not
//! `ON CLUSTER`: a worker must start while another replica is down, and 18.16's distributed
//! DDL waits for every host of the cluster.
//!
//! Column names and order follow `rows.rs` field for field; inserts name their columns, so the
//! order only matters to people reading `DESCRIBE`.

/// `CREATE TABLE IF NOT EXISTS` statements, one per table, run against the store's database.
pub const CREATE_TABLES: [(&str, &str); 5] = [
    (
        "unified_logs",
        // Partitioned by month so cleanup of old months stays cheap. The key is the message id,
        // so duplicates of one row always share a partition (same timestamp) and FINAL sees
        // them together.
        "CREATE TABLE IF NOT EXISTS unified_logs (
            message_id String,
            session_id String,
            parent_session_id String,
            cascade_id String,
            phase_name String,
            sounding_index Int32,
            attempt UInt32,
            turn UInt32,
            node_type String,
            role String,
            timestamp Float64,
            model String,
            tokens_in UInt64,
            tokens_out UInt64,
            cost Float64,
            duration_ms UInt64,
            request_hash String,
            content String
        ) ENGINE = ReplacingMergeTree()
        PARTITION BY toYYYYMM(toDateTime(toUInt32(timestamp)))
        ORDER BY (session_id, message_id)",
    ),
    (
        "session_state",
        // The version column makes the newest version win when parts merge.
        "CREATE TABLE IF NOT EXISTS session_state (
            session_id String,
            version UInt64,
            status String,
            cascade_id String,
            parent_session_id String,
            current_phase String,
            blocked_on String,
            heartbeat_at Float64,
            lease_seconds Float64,
            owner String,
            owner_epoch UInt64,
            cancel_requested UInt8,
            error_message String,
            started_at Float64,
            updated_at Float64,
            completed_at Float64,
            tokens_in UInt64,
            tokens_out UInt64,
            cost Float64
        ) ENGINE = ReplacingMergeTree(version)
        ORDER BY session_id",
    ),
    (
        "cascade_sessions",
        "CREATE TABLE IF NOT EXISTS cascade_sessions (
            session_id String,
            cascade_id String,
            cascade_path String,
            definition String,
            definition_hash String,
            input String,
            parent_session_id String,
            created_at Float64
        ) ENGINE = ReplacingMergeTree()
        ORDER BY session_id",
    ),
    (
        "checkpoints",
        // The epoch is part of the key: a fenced owner's checkpoint for the same seq is kept
        // beside the winner's instead of replacing it, and readers choose by epoch.
        "CREATE TABLE IF NOT EXISTS checkpoints (
            session_id String,
            seq UInt64,
            phase String,
            next_phase String,
            state String,
            cascade_hash String,
            owner_epoch UInt64,
            created_at Float64
        ) ENGINE = ReplacingMergeTree()
        ORDER BY (session_id, seq, owner_epoch)",
    ),
    (
        "signals",
        // `kind` is in the key so the `consumed` marker of a signal never replaces the signal.
        "CREATE TABLE IF NOT EXISTS signals (
            signal_id String,
            session_id String,
            kind String,
            name String,
            payload String,
            created_at Float64
        ) ENGINE = ReplacingMergeTree()
        ORDER BY (session_id, signal_id, kind)",
    ),
];

/// The `CREATE TABLE` statements for a store in `database`, replicated when `cluster` is set.
pub fn create_tables(database: &str, cluster: Option<&str>) -> Vec<(&'static str, String)> {
    CREATE_TABLES
        .iter()
        .map(|(table, ddl)| {
            let ddl = match cluster {
                None => ddl.to_string(),
                Some(cluster) => replicated(ddl, &format!("/clickhouse/windlass/{cluster}/{database}/{table}")),
            };
            (*table, ddl)
        })
        .collect()
}

/// `ddl` with its `ENGINE = XMergeTree(args)` turned into
/// `ENGINE = ReplicatedXMergeTree('path', '{replica}', args)`.
fn replicated(ddl: &str, path: &str) -> String {
    const ENGINE: &str = "ENGINE = ";
    let start = ddl.find(ENGINE).map(|i| i + ENGINE.len()).unwrap_or(ddl.len());
    let open = start + ddl[start..].find('(').unwrap_or(0);
    let close = open + ddl[open..].find(')').unwrap_or(0);
    let args = ddl[open + 1..close].trim();
    let mut out = format!("{}Replicated{}('{path}', '{{replica}}'", &ddl[..start], &ddl[start..open]);
    if !args.is_empty() {
        out.push_str(", ");
        out.push_str(args);
    }
    out.push_str(&ddl[close..]);
    out
}

#[cfg(test)]
mod tests {
    use super::{create_tables, CREATE_TABLES};
    use crate::store::{CascadeSessionRow, CheckpointRow, LogRow, SessionStateRow, SignalRow, TABLES};
    use ::clickhouse::Row;

    /// The column names of a `CREATE TABLE` statement, in order.
    fn columns(sql: &str) -> Vec<&str> {
        let body = &sql[sql.find('(').unwrap() + 1..sql.find(") ENGINE").unwrap()];
        body.split(',').map(|column| column.split_whitespace().next().unwrap()).collect()
    }

    #[test]
    fn columns_are_the_row_fields() {
        let expected: [&[&str]; 5] = [
            <LogRow as Row>::COLUMN_NAMES,
            <SessionStateRow as Row>::COLUMN_NAMES,
            <CascadeSessionRow as Row>::COLUMN_NAMES,
            <CheckpointRow as Row>::COLUMN_NAMES,
            <SignalRow as Row>::COLUMN_NAMES,
        ];
        for ((name, sql), fields) in CREATE_TABLES.iter().zip(expected) {
            assert_eq!(columns(sql), fields, "{name}");
        }
    }

    #[test]
    fn one_statement_per_table_in_order() {
        let names: Vec<&str> = CREATE_TABLES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, TABLES);
        for (name, sql) in CREATE_TABLES {
            assert!(sql.starts_with(&format!("CREATE TABLE IF NOT EXISTS {name} (")), "{name}");
        }
    }

    #[test]
    fn a_cluster_makes_every_engine_replicated_with_its_own_path() {
        let plain = create_tables("wl", None);
        assert!(plain.iter().zip(CREATE_TABLES).all(|((_, a), (_, b))| a == b));
        for (table, ddl) in create_tables("wl", Some("prod")) {
            let path = format!("'/clickhouse/windlass/prod/wl/{table}', '{{replica}}'");
            assert!(ddl.contains(&format!("ENGINE = ReplicatedReplacingMergeTree({path}")), "{ddl}");
            assert!(!ddl.contains("ENGINE = ReplacingMergeTree"), "{ddl}");
        }
        let state = &create_tables("wl", Some("prod"))[1].1;
        assert!(state.contains("'{replica}', version)\n        ORDER BY session_id"), "{state}");
        let logs = &create_tables("wl", Some("prod"))[0].1;
        assert!(logs.contains("'{replica}')\n        PARTITION BY"), "{logs}");
    }

    #[test]
    fn no_types_the_old_server_lacks() {
        for (name, sql) in CREATE_TABLES {
            for banned in ["DateTime64", "LowCardinality", "TTL", "Map(", "JSON", "Nullable"] {
                assert!(!sql.contains(banned), "{name} uses {banned}");
            }
        }
    }
}
