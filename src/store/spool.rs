//! The local spool in front of ClickHouse log inserts (store.md, "Write path").
//!
//! When ClickHouse cannot take a batch of log rows, the batch goes to one file here and is
//! re-sent later, oldest first, by this process or the next. The spool only stores and lists
//! batches; sending them is the store's job (`ClickHouseStore::flush_spool`).
//!
//! Files, all in one directory:
//! - `<stamp>-<pid>-<seq>.ndjson`: a pending batch, one `LogRow` as JSON per line. Written to
//!   a `.tmp` name, fsync'd, then renamed, so a listed batch is always complete. The names
//!   sort in the order the batches were written (stamp: nanoseconds, never decreasing within
//!   a process).
//! - `<name>.poison` and `<name>.poison.reason`: a batch the server (or this parser) cannot
//!   take, set aside with the reason. Renaming `.poison` back to `.ndjson` queues it again.
//! - `.lock`: held (advisory `flock`) by whichever process is flushing, so two processes do
//!   not send the same batch at once. Sending twice would still be safe (rows carry
//!   deterministic ids and readers de-duplicate); the lock only saves the work.
//!
//! A batch file is deleted only after the insert that carried it succeeded.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::rows::LogRow;

const PENDING: &str = "ndjson";
const POISON: &str = "poison";

/// Why the spool could not do its job (the disk, not the server).
#[derive(Debug, thiserror::Error)]
#[error("{action} in the spool {}: {source}", path.display())]
pub struct SpoolError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> SpoolError + 'a {
    move |source| SpoolError { action, path: path.to_path_buf(), source }
}

/// A directory of pending log batches.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    /// The stamp of the last file written by this process, to keep names increasing.
    last_stamp: AtomicU64,
    seq: AtomicU64,
    /// Counts batches written since the spool was last seen empty (plus one when files were
    /// left by an earlier process), so inserts can skip listing the directory when there
    /// is nothing to send.
    written: AtomicU64,
    drained: AtomicU64,
}

impl Spool {
    /// Open (creating if needed) the spool in `dir`.
    pub fn open(dir: &Path) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(err("create the directory", dir))?;
        let spool = Spool {
            dir: dir.to_path_buf(),
            last_stamp: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            written: AtomicU64::new(0),
            drained: AtomicU64::new(0),
        };
        if !spool.batches()?.is_empty() {
            spool.written.store(1, Ordering::SeqCst);
        }
        Ok(spool)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether batches may be waiting: written by this process, or found at open.
    pub fn may_have_pending(&self) -> bool {
        self.written.load(Ordering::SeqCst) != self.drained.load(Ordering::SeqCst)
    }

    /// A mark to pass to [`Spool::mark_drained`] after sending every batch listed after it.
    pub fn drain_mark(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Every batch written before `mark` was taken has been sent or set aside.
    pub fn mark_drained(&self, mark: u64) {
        self.drained.fetch_max(mark, Ordering::SeqCst);
    }

    /// Write a batch durably. Blocking: call it off the async worker threads.
    pub fn append(&self, rows: &[LogRow]) -> Result<SpooledBatch, SpoolError> {
        let name = self.next_name();
        let path = self.dir.join(format!("{name}.{PENDING}"));
        write_durably(&self.dir, &path, rows)?;
        self.written.fetch_add(1, Ordering::SeqCst);
        Ok(SpooledBatch { path })
    }

    /// Write a batch straight to the poison pile (the server refused it on first sending).
    pub fn set_aside_rows(&self, rows: &[LogRow], reason: &str) -> Result<PathBuf, SpoolError> {
        let name = self.next_name();
        let path = self.dir.join(format!("{name}.{POISON}"));
        write_reason(&path, reason)?;
        write_durably(&self.dir, &path, rows)?;
        Ok(path)
    }

    /// The pending batches, oldest first.
    pub fn batches(&self) -> Result<Vec<SpooledBatch>, SpoolError> {
        let mut paths = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(err("list", &self.dir))? {
            let path = entry.map_err(err("list", &self.dir))?.path();
            if path.extension().is_some_and(|ext| ext == PENDING) {
                paths.push(path);
            }
        }
        paths.sort();
        Ok(paths.into_iter().map(|path| SpooledBatch { path }).collect())
    }

    /// The batches set aside as poison.
    pub fn poisoned(&self) -> Result<Vec<PathBuf>, SpoolError> {
        let mut paths = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(err("list", &self.dir))? {
            let path = entry.map_err(err("list", &self.dir))?.path();
            if path.extension().is_some_and(|ext| ext == POISON) {
                paths.push(path);
            }
        }
        paths.sort();
        Ok(paths)
    }

    /// Take the flush lock, unless another process holds it (then `None`: it is flushing).
    pub fn try_lock(&self) -> Result<Option<SpoolLock>, SpoolError> {
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(err("open the lock", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SpoolLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(err("lock", &path)(e)),
        }
    }

    /// `<stamp>-<pid>-<seq>`: sorts by time of writing, unique across processes.
    fn next_name(&self) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        // A clock stepping back must not reorder this process's batches.
        let prev = self.last_stamp.fetch_max(now, Ordering::SeqCst);
        let stamp = if now > prev { now } else { self.last_stamp.fetch_add(1, Ordering::SeqCst) + 1 };
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        format!("{stamp:020}-{:010}-{seq:010}", std::process::id())
    }
}

/// Held while flushing; released when dropped.
#[derive(Debug)]
pub struct SpoolLock {
    _file: File,
}

/// Why a spooled batch could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] SpoolError),
    /// The file is not a batch of log rows: poison, like a batch the server cannot parse.
    #[error("line {line}: {message}")]
    Corrupt { line: usize, message: String },
}

/// One pending batch file.
#[derive(Debug)]
pub struct SpooledBatch {
    path: PathBuf,
}

impl SpooledBatch {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read(&self) -> Result<Vec<LogRow>, ReadError> {
        let file = File::open(&self.path).map_err(err("open", &self.path))?;
        let mut rows = Vec::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(err("read", &self.path))?;
            if line.trim().is_empty() {
                continue;
            }
            let row =
                serde_json::from_str(&line).map_err(|e| ReadError::Corrupt { line: i + 1, message: e.to_string() })?;
            rows.push(row);
        }
        Ok(rows)
    }

    /// The batch reached the store: forget it.
    pub fn delete(self) -> Result<(), SpoolError> {
        fs::remove_file(&self.path).map_err(err("delete", &self.path))
    }

    /// The batch can never be stored as it is: keep it beside the queue with the reason.
    pub fn set_aside(self, reason: &str) -> Result<PathBuf, SpoolError> {
        let target = self.path.with_extension(POISON);
        write_reason(&target, reason)?;
        fs::rename(&self.path, &target).map_err(err("set aside", &self.path))?;
        Ok(target)
    }
}

/// The file beside a poisoned batch that says why it was set aside.
pub fn reason_path(poison: &Path) -> PathBuf {
    let mut name = poison.as_os_str().to_owned();
    name.push(".reason");
    PathBuf::from(name)
}

fn write_reason(poison: &Path, reason: &str) -> Result<(), SpoolError> {
    let path = reason_path(poison);
    fs::write(&path, format!("{reason}\n")).map_err(err("write the reason", &path))
}

/// Write to a temporary name, fsync, rename, fsync the directory: after a crash the batch
/// is either complete under its final name or absent.
fn write_durably(dir: &Path, path: &Path, rows: &[LogRow]) -> Result<(), SpoolError> {
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp).map_err(err("create", &tmp))?;
    let mut out = BufWriter::new(file);
    for row in rows {
        serde_json::to_writer(&mut out, row).map_err(|e| err("write", &tmp)(e.into()))?;
        out.write_all(b"\n").map_err(err("write", &tmp))?;
    }
    let file = out.into_inner().map_err(|e| err("write", &tmp)(e.into_error()))?;
    file.sync_all().map_err(err("fsync", &tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(err("rename", &tmp))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(err("fsync", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> LogRow {
        LogRow {
            cascade_id: "c".into(),
            phase_name: "p".into(),
            ..LogRow::new(id, "s", "phase_started", 1.5, "{\"a\":\"line\\nbreak\"}")
        }
    }

    #[test]
    fn batches_come_back_in_order_and_intact() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        assert!(!spool.may_have_pending());
        for i in 0..50 {
            spool.append(&[row(&format!("m{i}a")), row(&format!("m{i}b"))]).unwrap();
        }
        assert!(spool.may_have_pending());
        let batches = spool.batches().unwrap();
        assert_eq!(batches.len(), 50);
        for (i, batch) in batches.iter().enumerate() {
            let rows = batch.read().unwrap();
            assert_eq!(rows, vec![row(&format!("m{i}a")), row(&format!("m{i}b"))]);
        }
        let mark = spool.drain_mark();
        for batch in batches {
            batch.delete().unwrap();
        }
        spool.mark_drained(mark);
        assert!(!spool.may_have_pending());
        assert!(spool.batches().unwrap().is_empty());
    }

    #[test]
    fn a_later_process_finds_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        Spool::open(dir.path()).unwrap().append(&[row("m1")]).unwrap();
        let again = Spool::open(dir.path()).unwrap();
        assert!(again.may_have_pending());
        assert_eq!(again.batches().unwrap().len(), 1);
    }

    #[test]
    fn poison_is_kept_with_its_reason_and_leaves_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let batch = spool.append(&[row("m1")]).unwrap();
        let poison = batch.set_aside("Code: 27, cannot parse").unwrap();
        assert!(spool.batches().unwrap().is_empty());
        assert_eq!(spool.poisoned().unwrap(), vec![poison.clone()]);
        assert_eq!(fs::read_to_string(reason_path(&poison)).unwrap(), "Code: 27, cannot parse\n");

        let direct = spool.set_aside_rows(&[row("m2")], "Code: 53").unwrap();
        assert_eq!(spool.poisoned().unwrap().len(), 2);
        assert!(direct.exists());
    }

    #[test]
    fn a_corrupt_file_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let batch = spool.append(&[row("m1")]).unwrap();
        fs::write(batch.path(), "{\"message_id\": 3}\n").unwrap();
        assert!(matches!(batch.read(), Err(ReadError::Corrupt { line: 1, .. })));
    }

    #[test]
    fn only_one_flusher_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let held = spool.try_lock().unwrap();
        assert!(held.is_some());
        assert!(spool.try_lock().unwrap().is_none());
        drop(held);
        assert!(spool.try_lock().unwrap().is_some());
    }
}
