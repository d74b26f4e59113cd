//! Log rows through the spool (store.md, "Write path"): send a batch, spool it when the
//! server is away, and send spooled batches later, oldest first.
//!
//! A batch file is deleted only after the insert that carried it succeeded; if the process
//! dies in between, the batch is sent again later and readers de-duplicate it by
//! `message_id`. Consecutive batches go together in one insert (up to [`GROUP_ROWS`] rows):
//! after an outage the spool may hold hundreds of small batches, and one insert each would
//! run into 18.16's "Too many parts".

use super::request::{blocking, spool_error};
use super::{ClickHouseStore, Failure};
use crate::store::spool::{ReadError, SpooledBatch};
use crate::store::{LogRow, StoreError};

/// Rows per insert when sending spooled batches together.
const GROUP_ROWS: usize = 20_000;

/// What [`ClickHouseStore::flush_spool`] did.
#[derive(Debug, Default)]
pub struct FlushReport {
    pub sent_batches: usize,
    pub sent_rows: usize,
    /// Batches set aside as poison (their `.poison.reason` file says why).
    pub poisoned: usize,
    /// Batches still waiting.
    pub remaining: usize,
    /// Why sending stopped early: the server is unreachable, or refuses for a reason that
    /// is not the data's fault (missing table, credentials). `None` when the spool emptied.
    pub stopped: Option<StoreError>,
    /// Another flush (this process or another) held the spool; nothing was done.
    pub busy: bool,
}

impl ClickHouseStore {
    /// The write path of [`Store::insert_logs`](crate::store::Store::insert_logs), documented there.
    pub(super) async fn write_logs(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        if self.spool.may_have_pending() {
            let report = self.flush_spool().await?;
            if let Some(stopped) = report.stopped {
                // The older batches could not go: queue this one behind them.
                self.spool_rows(rows).await?;
                return match stopped {
                    StoreError::Unavailable { .. } => Ok(()),
                    refused => Err(refused),
                };
            }
        }
        match self.attempt(self.insert("unified_logs", &[rows])).await {
            Ok(()) => Ok(()),
            Err(Failure::Unreachable(_) | Failure::Contended(_)) => self.spool_rows(rows).await,
            Err(Failure::Poison(detail)) => {
                let spool = self.spool.clone();
                let (batch, reason) = (rows.to_vec(), detail.clone());
                blocking(move || spool.set_aside_rows(&batch, &reason).map(drop)).await?;
                Err(self.fail("insert log rows")(Failure::Poison(detail)))
            }
            Err(refused) => {
                self.spool_rows(rows).await?;
                Err(self.fail("insert log rows")(refused))
            }
        }
    }

    async fn spool_rows(&self, rows: &[LogRow]) -> Result<(), StoreError> {
        let spool = self.spool.clone();
        let rows = rows.to_vec();
        blocking(move || spool.append(&rows).map(drop)).await
    }

    /// Send every spooled batch, oldest first. Returns `Err` only when the local disk fails;
    /// an unreachable server ends the flush early with [`FlushReport::stopped`] set.
    pub async fn flush_spool(&self) -> Result<FlushReport, StoreError> {
        let busy = FlushReport { busy: true, ..FlushReport::default() };
        let Ok(_in_process) = self.flushing.try_lock() else { return Ok(busy) };
        let spool = self.spool.clone();
        let listed = blocking(move || {
            let Some(lock) = spool.try_lock()? else { return Ok(None) };
            // Taken before listing: a batch written after this is not in the list.
            let mark = spool.drain_mark();
            Ok(Some((lock, mark, spool.batches()?)))
        })
        .await?;
        let Some((_lock, mark, batches)) = listed else { return Ok(busy) };

        let mut report = FlushReport::default();
        let mut queue = batches.into_iter();
        loop {
            let group = self.read_group(&mut queue, &mut report).await?;
            if group.is_empty() {
                break;
            }
            let parts: Vec<&[LogRow]> = group.iter().map(|(_, rows)| rows.as_slice()).collect();
            match self.attempt(self.insert("unified_logs", &parts)).await {
                Ok(()) => {
                    for (batch, rows) in group {
                        self.sent(batch, rows.len(), &mut report).await?;
                    }
                }
                // Some batch in the group is bad: find it by sending them one at a time.
                Err(Failure::Poison(_)) => {
                    let mut group = group.into_iter();
                    while let Some((batch, rows)) = group.next() {
                        match self.attempt(self.insert("unified_logs", &[&rows])).await {
                            Ok(()) => self.sent(batch, rows.len(), &mut report).await?,
                            Err(Failure::Poison(reason)) => self.set_aside(batch, reason, &mut report).await?,
                            Err(failure) => {
                                report.remaining = 1 + group.len() + queue.len();
                                report.stopped = Some(self.fail("send spooled log rows")(failure));
                                return Ok(report);
                            }
                        }
                    }
                }
                Err(failure) => {
                    report.remaining = group.len() + queue.len();
                    report.stopped = Some(self.fail("send spooled log rows")(failure));
                    return Ok(report);
                }
            }
        }
        self.spool.mark_drained(mark);
        Ok(report)
    }

    /// Read the next batches, up to about [`GROUP_ROWS`] rows. Unreadable files are set aside.
    async fn read_group(
        &self,
        queue: &mut std::vec::IntoIter<SpooledBatch>,
        report: &mut FlushReport,
    ) -> Result<Vec<(SpooledBatch, Vec<LogRow>)>, StoreError> {
        let mut group = Vec::new();
        let mut rows_in_group = 0;
        while rows_in_group < GROUP_ROWS {
            let Some(batch) = queue.next() else { break };
            let (batch, read) = blocking(move || {
                let read = batch.read();
                Ok((batch, read))
            })
            .await?;
            match read {
                Ok(rows) => {
                    rows_in_group += rows.len();
                    group.push((batch, rows));
                }
                Err(ReadError::Corrupt { line, message }) => {
                    let reason = format!("unreadable spool file, line {line}: {message}");
                    self.set_aside(batch, reason, report).await?;
                }
                Err(ReadError::Io(e)) => return Err(spool_error(e)),
            }
        }
        Ok(group)
    }

    async fn sent(&self, batch: SpooledBatch, rows: usize, report: &mut FlushReport) -> Result<(), StoreError> {
        blocking(move || batch.delete()).await?;
        report.sent_batches += 1;
        report.sent_rows += rows;
        Ok(())
    }

    async fn set_aside(&self, batch: SpooledBatch, reason: String, report: &mut FlushReport) -> Result<(), StoreError> {
        blocking(move || batch.set_aside(&reason).map(drop)).await?;
        report.poisoned += 1;
        Ok(())
    }
}
