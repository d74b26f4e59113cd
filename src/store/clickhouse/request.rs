//! One request to the server: bounded by the timeout, retried while the server is
//! unreachable (rows are idempotent, so a retry is safe), its failure classified and turned
//! into a [`StoreError`] that names the store but never its credentials.

use std::future::Future;
use std::time::Duration;

use ::clickhouse::{RowOwned, RowRead, RowWrite};

use super::error::{classify, Failure};
use super::ClickHouseStore;
use crate::session_id::SessionId;
use crate::store::spool::SpoolError;
use crate::store::{Store, StoreError};

impl ClickHouseStore {
    /// One request, bounded by the timeout, its failure classified.
    pub(super) async fn attempt<T>(
        &self,
        request: impl Future<Output = ::clickhouse::error::Result<T>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.options.request_timeout, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(classify(&e)),
            Err(_) => Err(Failure::Unreachable(format!("no answer within {:?}", self.options.request_timeout))),
        }
    }

    /// A request tried up to `attempts` times while the server is unreachable, and again
    /// after a short random pause while it is [`Failure::Contended`], for up to the request
    /// timeout.
    pub(super) async fn run<T, F, Fut>(&self, mut request: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ::clickhouse::error::Result<T>>,
    {
        let mut delay = Duration::from_millis(100);
        let mut tries = 1;
        let started = std::time::Instant::now();
        loop {
            match self.attempt(request()).await {
                Err(Failure::Contended(_)) if started.elapsed() < self.options.request_timeout => {
                    tokio::time::sleep(Duration::from_millis(fastrand::u64(2..30))).await;
                }
                Err(Failure::Unreachable(_)) if tries < self.options.attempts => {
                    tokio::time::sleep(delay).await;
                    delay *= 3;
                    tries += 1;
                }
                result => return result,
            }
        }
    }

    /// Turns a failure into the trait's error, naming what was being done.
    pub(super) fn fail<'a>(&'a self, action: &'a str) -> impl FnOnce(Failure) -> StoreError + 'a {
        move |failure| match failure {
            Failure::Unreachable(detail) | Failure::Contended(detail) => {
                StoreError::Unavailable { store: self.describe(), detail }
            }
            Failure::Poison(detail) | Failure::Refused(detail) => {
                StoreError::Rejected { store: self.describe(), action: action.into(), detail }
            }
        }
    }

    /// One INSERT of all `parts` (RowBinary), without a quorum (log rows).
    pub(super) async fn insert<T: RowOwned + RowWrite>(
        &self,
        table: &str,
        parts: &[&[T]],
    ) -> ::clickhouse::error::Result<()> {
        self.insert_with(&self.client, table, parts).await
    }

    /// One INSERT of all `parts` through `client`.
    async fn insert_with<T: RowOwned + RowWrite>(
        &self,
        client: &::clickhouse::Client,
        table: &str,
        parts: &[&[T]],
    ) -> ::clickhouse::error::Result<()> {
        if parts.iter().all(|part| part.is_empty()) {
            return Ok(());
        }
        let mut insert = client.insert::<T>(table).await?;
        for row in parts.iter().flat_map(|part| part.iter()) {
            insert.write(row).await?;
        }
        insert.end().await
    }

    /// A synchronous write of one row: retried while unreachable, never spooled.
    pub(super) async fn put<T: RowOwned + RowWrite + Sync>(
        &self,
        table: &str,
        row: &T,
        action: &str,
    ) -> Result<(), StoreError> {
        self.put_all(table, std::slice::from_ref(row), action).await
    }

    /// A synchronous write of several rows in one INSERT: retried while unreachable, never
    /// spooled.
    pub(super) async fn put_all<T: RowOwned + RowWrite + Sync>(
        &self,
        table: &str,
        rows: &[T],
        action: &str,
    ) -> Result<(), StoreError> {
        self.run(|| async move { self.insert_with(&self.durable, table, &[rows]).await })
            .await
            .map_err(self.fail(action))
    }
}

/// The session ids of one batched read, at most: they are bound into the query text, which
/// the server caps (`max_query_size`, 256 KiB by default).
const IDS_PER_QUERY_BYTES: usize = 64 * 1024;

impl ClickHouseStore {
    /// The rows `sql` (whose one `?` is the list of ids) returns for many sessions, in as many
    /// queries as keep each one's text small.
    pub(super) async fn by_ids<T: RowOwned + RowRead>(
        &self,
        sql: &str,
        ids: &[SessionId],
        action: &str,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for chunk in id_chunks(ids, IDS_PER_QUERY_BYTES) {
            let rows =
                self.run(|| self.client.query(sql).bind(chunk).fetch_all::<T>()).await.map_err(self.fail(action))?;
            out.extend(rows);
        }
        Ok(out)
    }
}

/// `ids` in consecutive runs of at most `max_bytes` of id text each (an id longer than that
/// goes alone); none for no ids.
fn id_chunks<T: AsRef<str>>(ids: &[T], max_bytes: usize) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, id) in ids.iter().enumerate() {
        let len = id.as_ref().len() + 4; // quotes, comma, space
        if i > start && bytes + len > max_bytes {
            chunks.push(&ids[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += len;
    }
    if start < ids.len() {
        chunks.push(&ids[start..]);
    }
    chunks
}

pub(super) fn spool_error(e: SpoolError) -> StoreError {
    StoreError::Unavailable { store: format!("the local spool {}", e.path.display()), detail: e.to_string() }
}

/// Run blocking spool IO off the async worker threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SpoolError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(spool_error),
        Err(e) => Err(StoreError::Unavailable { store: "the local spool".into(), detail: e.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::id_chunks;

    #[test]
    fn ids_are_split_by_size_keeping_order() {
        let ids: Vec<String> = (0..10).map(|i| format!("id-{i}")).collect();
        assert!(id_chunks::<String>(&[], 100).is_empty());
        assert_eq!(id_chunks(&ids, 10_000), vec![&ids[..]]);
        let chunks = id_chunks(&ids, 20); // each id takes 8 bytes: two per chunk
        assert_eq!(chunks.len(), 5);
        assert_eq!(chunks.concat(), ids);
        let long = vec!["x".repeat(50), "y".into()];
        assert_eq!(id_chunks(&long, 20), vec![&long[..1], &long[1..]]);
    }
}
