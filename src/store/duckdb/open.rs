//! Opening the embedded store's DuckDB file: the configuration every instance gets, waiting
//! out programs that hold the file outside the hand-over, and setting aside a write-ahead log that
//! cannot be replayed after a crash (a known DuckDB failure) instead of failing every start.

use ::duckdb::{AccessMode, Config, Connection};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Read-write, or read-only for user queries (so the engine itself refuses writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

/// An open database, and a warning when its write-ahead log had to be set aside.
pub struct Opened {
    pub conn: Connection,
    pub warning: Option<String>,
}

/// `<db>.wal`, DuckDB's write-ahead log.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".wal");
    PathBuf::from(name)
}

/// Open DuckDB, retrying while a program outside this protocol (the `duckdb` shell, an
/// older windlass) holds the file, and setting aside a write-ahead log that cannot replay.
pub fn open(path: &Path, access: Access, deadline: Instant) -> Result<Opened, String> {
    let mut backoff = Duration::from_millis(5);
    let mut warning = None;
    loop {
        let err = match open_db(path, access) {
            Ok(conn) => return Ok(Opened { conn, warning }),
            Err(e) => e.to_string(),
        };
        if is_lock_conflict(&err) && Instant::now() < deadline {
            let jitter = Duration::from_micros(fastrand::u64(..=backoff.as_micros() as u64));
            std::thread::sleep(backoff / 2 + jitter);
            backoff = (backoff * 2).min(Duration::from_millis(100));
            continue;
        }
        if is_broken_wal(&err) && warning.is_none() && access == Access::ReadWrite {
            warning = Some(set_aside_wal(path, &err)?);
            continue;
        }
        return Err(format!("open the database: {err}"));
    }
}

/// Rename the `.wal` that cannot replay, so the store opens again (its rows are lost, but
/// the file is kept for inspection). Returns the warning the caller must show.
fn set_aside_wal(path: &Path, err: &str) -> Result<String, String> {
    let wal = wal_path(path);
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut aside = wal.clone().into_os_string();
    aside.push(format!(".broken-{stamp}"));
    let aside = PathBuf::from(aside);
    fs::rename(&wal, &aside).map_err(|e| format!("open the database: {err} (and set aside {}: {e})", wal.display()))?;
    Ok(format!(
        "the store's write-ahead log could not be replayed ({err}); it was set aside as {} and the \
         store opened without it: rows written just before the crash are missing",
        aside.display()
    ))
}

/// Close an instance. Closing checkpoints the log into the file; on failure the instance is
/// dropped anyway and the next open replays the log.
pub fn close(conn: Connection) {
    if let Err((conn, _)) = conn.close() {
        drop(conn);
    }
}

fn open_db(path: &Path, access: Access) -> ::duckdb::Result<Connection> {
    let mode = match access {
        Access::ReadWrite => AccessMode::ReadWrite,
        Access::ReadOnly => AccessMode::ReadOnly,
    };
    let config = Config::default()
        .access_mode(mode)?
        // Queries can't read or write other files (read_csv, COPY, ATTACH) or fetch extensions.
        .enable_external_access(false)?
        .enable_autoload_extension(false)?
        // No automatic checkpoint inside a commit at the default 16 MB: a synchronous checkpoint
        // write would pay for it. The store checkpoints after commits at 16 MB and when idle at
        // a few MB instead, and DuckDB on close; this is only a backstop.
        .with("checkpoint_threshold", "64MB")?
        // The store's tables are small and its queries simple: one thread and a modest
        // buffer pool keep a run's memory near the engine's own.
        .threads(1)?
        .max_memory("64MB")?;
    Connection::open_with_flags(path, config)
}

/// DuckDB's message when another process has the file open.
pub fn is_lock_conflict(msg: &str) -> bool {
    msg.contains("Could not set lock on file") || msg.contains("Conflicting lock")
}

/// DuckDB's messages for a write-ahead log that cannot be replayed.
pub fn is_broken_wal(msg: &str) -> bool {
    msg.contains("replaying WAL") || msg.contains("Corrupt WAL") || msg.contains("WAL does not match")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdb_messages_are_recognised() {
        let lock = r#"IO Error: Could not set lock on file "/d/store.duckdb": Conflicting lock is held in /usr/bin/duckdb (PID 12)"#;
        assert!(is_lock_conflict(lock));
        assert!(!is_broken_wal(lock));
        let wal = r#"Data Corruption Error: Failure while replaying WAL file "/d/store.duckdb.wal": Corrupt WAL file: entry at byte position 95 computed checksum 1 does not match stored checksum 2"#;
        assert!(is_broken_wal(wal));
        assert!(!is_lock_conflict(wal));
        assert!(!is_broken_wal("Catalog Error: Table with name x does not exist!"));
    }
}
