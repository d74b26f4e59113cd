//! Choosing the backend from settings: ClickHouse when `WINDLASS_CLICKHOUSE_HOST` is set,
//! the embedded DuckDB store under `WINDLASS_DATA_DIR` otherwise. The schema is created on
//! first use.

use super::{Store, StoreError};
use crate::settings::{Settings, StoreSettings};
use std::sync::Arc;

/// Open the configured store and make sure its tables exist.
pub async fn open(settings: &Settings) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = match &settings.store {
        StoreSettings::ClickHouse(ch) => {
            let s = super::ClickHouseStore::connect(ch, &settings.data_dir.join("spool"))?;
            // Rows a previous process could not deliver go out first (no duplicates: reads
            // de-duplicate by id).
            let _ = s.flush_spool().await;
            Arc::new(s)
        }
        StoreSettings::Embedded => Arc::new(super::duckdb::DuckStore::open(&settings.data_dir)?),
    };
    store.init().await?;
    Ok(store)
}
