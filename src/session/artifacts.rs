//! What a session leaves on disk besides its store rows, for `windlass cleanup`: its folder
//! (`<data dir>/sessions/<id>`: scratch files, the session database) and, with ClickHouse,
//! spool files that hold only its log rows.
//!
//! Session ids come from the store, so they are checked before they become a path: only an id
//! that is one plain file name has a folder here.

use crate::store::spool::{self, Spool, SpoolError, SpoolLock};
use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::{Component, Path, PathBuf};

/// A session's folder, the one `RunOptions::session_dir` names; `None` when the id is not
/// a plain file name (it could not have a folder of its own, and must not reach a path).
pub fn session_dir(data_dir: &Path, session_id: &str) -> Option<PathBuf> {
    let mut parts = Path::new(session_id).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(name)), None) if name == session_id => Some(data_dir.join("sessions").join(name)),
        _ => None,
    }
}

/// Bytes in the files under `path` (0 when it does not exist). Symbolic links count as
/// themselves and are not followed, as removing does not follow them either.
pub fn disk_size(path: &Path) -> io::Result<u64> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in fs::read_dir(path)? {
        total += disk_size(&entry?.path())?;
    }
    Ok(total)
}

/// Remove a folder and everything in it; one that is already gone is fine.
pub fn remove_dir(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A spool file whose every row belongs to removed sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct SpoolLeftover {
    /// The batch, and the reason file beside a poisoned one.
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    pub sessions: BTreeSet<String>,
}

/// Spool files that belong only to `sessions`, found under the spool's flush lock (held until
/// this is dropped, so no other process sends a batch while it is being removed).
#[derive(Debug, Default)]
pub struct SpoolLeftovers {
    pub files: Vec<SpoolLeftover>,
    _lock: Option<SpoolLock>,
}

/// The spool files that hold rows of `sessions` only. Poisoned batches are always candidates
/// (they are never delivered); pending ones only with `pending`, since deleting them loses
/// rows that would otherwise still reach the store (`cleanup --logs` deletes those rows
/// anyway). When another process is flushing the spool, its pending batches are left alone.
/// A file that cannot be read as log rows is not attributed to anyone and stays.
pub fn spool_leftovers(spool: &Spool, sessions: &HashSet<String>, pending: bool) -> Result<SpoolLeftovers, SpoolError> {
    let mut found = SpoolLeftovers::default();
    for poisoned in spool.poisoned()? {
        let reason = spool::reason_path(&poisoned);
        found.files.extend(attribute(vec![poisoned, reason], sessions));
    }
    if pending {
        found._lock = spool.try_lock()?;
        if found._lock.is_some() {
            for batch in spool.batches()? {
                found.files.extend(attribute(vec![batch.path().to_path_buf()], sessions));
            }
        }
    }
    Ok(found)
}

impl SpoolLeftovers {
    /// Delete the files; a file already gone is fine.
    pub fn remove(&self) -> io::Result<()> {
        for path in self.files.iter().flat_map(|f| &f.files) {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The leftover for `files` (the batch first) when every row of the batch is one of `sessions`.
fn attribute(files: Vec<PathBuf>, sessions: &HashSet<String>) -> Option<SpoolLeftover> {
    let owners = batch_sessions(&files[0]).ok()??;
    if owners.is_empty() || !owners.iter().all(|s| sessions.contains(s)) {
        return None;
    }
    let bytes = files.iter().map(|f| disk_size(f).unwrap_or(0)).sum();
    Some(SpoolLeftover { files, bytes, sessions: owners })
}

/// The `session_id`s of a batch file's rows; `None` when a line is not a JSON row with one.
fn batch_sessions(path: &Path) -> io::Result<Option<BTreeSet<String>>> {
    let mut ids = BTreeSet::new();
    for line in BufReader::new(fs::File::open(path)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let row: serde_json::Value = match serde_json::from_str(&line) {
            Ok(row) => row,
            Err(_) => return Ok(None),
        };
        match row.get("session_id").and_then(|v| v.as_str()) {
            Some(id) => ids.insert(id.to_string()),
            None => return Ok(None),
        };
    }
    Ok(Some(ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LogRow;

    fn row(session: &str) -> LogRow {
        LogRow { cascade_id: "c".into(), ..LogRow::new(format!("{session}:0:1"), session, "phase_started", 1.0, "{}") }
    }

    #[test]
    fn only_plain_ids_have_a_folder() {
        let data = Path::new("/data");
        assert_eq!(session_dir(data, "done-1"), Some(PathBuf::from("/data/sessions/done-1")));
        for bad in ["", ".", "..", "../x", "a/b", "/etc", "a/", "./a"] {
            assert_eq!(session_dir(data, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sizes_and_removal() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("s");
        fs::create_dir_all(s.join("scratch")).unwrap();
        fs::write(s.join("scratch/a.txt"), "12345").unwrap();
        fs::write(s.join("session.duckdb"), "123").unwrap();
        assert_eq!(disk_size(&s).unwrap(), 8);
        assert_eq!(disk_size(&dir.path().join("missing")).unwrap(), 0);
        remove_dir(&s).unwrap();
        assert!(!s.exists());
        remove_dir(&s).unwrap();
    }

    #[test]
    fn spool_files_are_attributed_only_when_every_row_is_doomed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let mine = spool.append(&[row("a"), row("b")]).unwrap();
        spool.append(&[row("a"), row("keep")]).unwrap();
        let poison = spool.set_aside_rows(&[row("b")], "Code: 27").unwrap();
        spool.set_aside_rows(&[row("keep")], "Code: 27").unwrap();
        let doomed: HashSet<String> = ["a".to_string(), "b".to_string()].into();

        let found = spool_leftovers(&spool, &doomed, false).unwrap();
        assert_eq!(found.files.len(), 1, "pending batches stay without `pending`");
        assert_eq!(found.files[0].files, vec![poison.clone(), spool::reason_path(&poison)]);
        drop(found);

        let found = spool_leftovers(&spool, &doomed, true).unwrap();
        assert_eq!(found.files.len(), 2);
        assert_eq!(found.files[1].files, vec![mine.path().to_path_buf()]);
        assert_eq!(found.files[1].sessions, ["a".to_string(), "b".to_string()].into());
        found.remove().unwrap();
        drop(found);
        assert_eq!(spool.batches().unwrap().len(), 1);
        assert_eq!(spool.poisoned().unwrap().len(), 1);
        assert!(!spool::reason_path(&poison).exists());
    }
}
