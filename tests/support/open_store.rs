//! The store a bench's `windlass` processes use, opened from the same environment: ClickHouse
//! when it names a host (replicated when it names a cluster), else the embedded DuckDB file under `data`. Shared by the benches that
//! drive the real binary (`worker`, `serve`) and the tests that set a store up in-process.

use std::sync::Arc;
use windlass::settings::{ClickHouseSettings, Replication, Secret, DEFAULT_INSERT_QUORUM};
use windlass::store::{ClickHouseStore, DuckStore, Store};

pub fn open_store(env: &[(String, String)], data: &std::path::Path) -> Arc<dyn Store> {
    let get = |k: &str| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    match get("WINDLASS_CLICKHOUSE_HOST") {
        None => Arc::new(DuckStore::open(data).unwrap()),
        Some(host) => {
            let settings = ClickHouseSettings {
                host,
                port: get("WINDLASS_CLICKHOUSE_PORT").unwrap().parse().unwrap(),
                database: get("WINDLASS_CLICKHOUSE_DATABASE").unwrap(),
                user: "default".into(),
                password: Secret::new(""),
                secure: false,
                replication: get("WINDLASS_CLICKHOUSE_CLUSTER")
                    .map(|cluster| Replication { cluster, insert_quorum: DEFAULT_INSERT_QUORUM }),
            };
            Arc::new(ClickHouseStore::connect(&settings, &data.join("spool")).unwrap())
        }
    }
}
