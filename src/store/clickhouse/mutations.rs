//! Waiting for `ALTER TABLE ... DELETE` to finish. ClickHouse runs such a delete as a
//! background mutation, and 18.16 has no `mutations_sync` setting to wait for it, so the
//! store polls `system.mutations` until every mutation of its database is done: when
//! [`Store::delete_sessions`](crate::store::Store::delete_sessions) returns, readers no
//! longer see the rows.

use std::time::{Duration, Instant};

use super::ClickHouseStore;
use crate::store::{Store, StoreError};

/// How long a delete may take before the store gives up waiting (the mutation goes on).
const PATIENCE: Duration = Duration::from_secs(60);

/// How often `system.mutations` is asked.
const POLL: Duration = Duration::from_millis(50);

impl ClickHouseStore {
    /// Wait until no mutation of this database is left unfinished. Mutations started by
    /// other processes count too: waiting for them is harmless, missing ours is not.
    pub(super) async fn wait_for_mutations(&self) -> Result<(), StoreError> {
        let sql = "SELECT count() FROM system.mutations WHERE database = ? AND is_done = 0";
        let started = Instant::now();
        loop {
            let running = self
                .run(|| self.client.query(sql).bind(self.database.as_str()).fetch_one::<u64>())
                .await
                .map_err(self.fail("wait for the deletion to finish"))?;
            if running == 0 {
                return Ok(());
            }
            if started.elapsed() > PATIENCE {
                return Err(StoreError::Rejected {
                    store: self.describe(),
                    action: "wait for the deletion to finish".into(),
                    detail: format!(
                        "{running} mutation(s) still running after {}s; the rows go when the server \
                         finishes them (see system.mutations)",
                        PATIENCE.as_secs()
                    ),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
