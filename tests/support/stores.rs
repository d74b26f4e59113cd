//! Stores opened in the test's own process, for stories told through the library: the
//! embedded DuckDB always, and ClickHouse when the tests have a server (`clickhouse.rs`).

use std::sync::Arc;
use windlass::store::{ClickHouseStore, DuckStore, Store};

/// (backend, store, what keeps its files alive), each opened fresh; ClickHouse initialised
/// in a database of its own for `test`.
pub async fn in_process(test: &str) -> Vec<(&'static str, Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let mut out: Vec<(&'static str, Arc<dyn Store>, tempfile::TempDir)> =
        vec![("duckdb", Arc::new(DuckStore::open(dir.path()).unwrap()), dir)];
    if let Some(settings) = super::clickhouse::test_server(test) {
        let dir = tempfile::tempdir().unwrap();
        let store = ClickHouseStore::connect(&settings, &dir.path().join("spool")).unwrap();
        store.init().await.unwrap();
        out.push(("clickhouse", Arc::new(store), dir));
    }
    out
}
