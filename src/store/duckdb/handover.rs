//! Handing the embedded store's database file between processes.
//!
//! (Not to be confused with a session's heartbeat lease in `crate::session`: this is about
//! which process may have the DuckDB file open.)
//!
//! DuckDB lets one process at a time open a database file; a second one fails to open it at
//! all, read-only included. Opening is too slow to do per write (tens of milliseconds, see the
//! `store_duckdb` bench), so a process keeps the file open while it is busy and hands it over
//! on request:
//!
//! - An exclusive `flock` on `<db>.lock` says who may open the database. Polling it costs one
//!   system call, unlike a failed DuckDB open, and the kernel drops it when a process dies.
//! - A process that finds the lock taken "knocks": it creates a file in `<db>.knock/` and polls
//!   the lock. The holder looks for knocks every few milliseconds; it finishes a burst of
//!   operations (a checkpoint, the state row and a log batch come together) but no more than
//!   `BURST_MAX` once it saw a knock, then closes the database and unlocks. It also closes after
//!   `linger` without use, and runs the store's idle work (folding a grown write-ahead log, so
//!   the close is short) once the file has been unused for a moment.
//! - A holder that just gave way waits for the knock to go away (the knocker got in) before it
//!   tries again, so it cannot snatch the lock back while the knocker sleeps.
//!
//! Within a process, all stores on one file share one [`Handover`] (a second DuckDB instance on the
//! same file in the same process is not locked out by the kernel and would corrupt it), and
//! every operation runs under its mutex.

pub use super::open::Access;
use super::open::{self as duckdb_open, close};
use crate::store::StoreError;
use ::duckdb::Connection;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

/// How long a holder keeps the file open after its last use and how long a caller waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandoverOptions {
    /// Keep the database open this long after the last operation (saves reopening between
    /// log batches); a knock from another process ends it after the current burst.
    pub linger: Duration,
    /// Give up with [`StoreError::Unavailable`] after waiting this long for the file.
    pub wait_limit: Duration,
}

impl Default for HandoverOptions {
    fn default() -> Self {
        HandoverOptions { linger: Duration::from_secs(1), wait_limit: Duration::from_secs(10) }
    }
}

/// How often a holder looks for knocks while idle.
const KNOCK_POLL: Duration = Duration::from_millis(5);
/// A holder idle this long has finished its burst and gives way to a knock.
const BURST_GAP: Duration = Duration::from_millis(3);
/// A holder gives way after its current operation once a knock has waited this long.
const BURST_MAX: Duration = Duration::from_millis(100);
/// A waiter renews its knock this often, so it never looks stale.
const KNOCK_RENEW: Duration = Duration::from_secs(1);
/// After giving way, wait at most this long for the knocker to get in.
const YIELD_MAX: Duration = Duration::from_millis(250);
/// How long the file must be unused before the hand-over thread runs [`Hooks::on_idle`].
const IDLE_WORK_AFTER: Duration = Duration::from_millis(20);
/// A knock older than this was left by a process that died while waiting.
const STALE_KNOCK: Duration = Duration::from_secs(60);

/// What the store does with a fresh read-write connection.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// Create the tables; run on the first read-write open in a process.
    pub create: fn(&Connection) -> ::duckdb::Result<()>,
    /// Run on every read-write open (register functions the writes use).
    pub on_open: fn(&Connection) -> ::duckdb::Result<()>,
    /// Run by the hand-over thread on a read-write connection idle for [`IDLE_WORK_AFTER`]
    /// (once per idle spell), while nobody knocks: work best done between bursts.
    pub on_idle: fn(&Handover, &mut Connection),
}

pub struct Handover {
    db_path: PathBuf,
    knock_dir: PathBuf,
    /// This process's knock file name.
    me: String,
    lock_file: File,
    opts: HandoverOptions,
    hooks: Hooks,
    state: Mutex<State>,
    warnings: Mutex<Vec<String>>,
}

struct State {
    conn: Option<(Connection, Access)>,
    flock_held: bool,
    last_used: Instant,
    /// When this process last gave the file away because of a knock.
    gave_way_at: Option<Instant>,
    /// When the holder first saw the knock it has not answered yet.
    knock_seen_at: Option<Instant>,
    reaper_running: bool,
    schema_ready: bool,
    /// [`Hooks::on_idle`] ran since the last use.
    idle_work_done: bool,
}

/// One hand-over per database file in this process.
fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Handover>>> {
    static HANDOVERS: OnceLock<Mutex<HashMap<PathBuf, Weak<Handover>>>> = OnceLock::new();
    HANDOVERS.get_or_init(Default::default)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside an operation leaves the state consistent (the connection is dropped or
    // kept whole), so a poisoned mutex is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Handover {
    /// The hand-over of `db_path` (creating its folder), shared with other stores of this process.
    /// When one exists already, its options and hooks are kept.
    pub fn get(db_path: &Path, opts: HandoverOptions, hooks: Hooks) -> Result<Arc<Handover>, StoreError> {
        let unavailable = |detail: String| StoreError::Unavailable { store: db_path.display().to_string(), detail };
        let dir = db_path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| unavailable(format!("create the folder {}: {e}", dir.display())))?;
        let dir = dir.canonicalize().map_err(|e| unavailable(format!("resolve {}: {e}", dir.display())))?;
        let db_path = dir.join(db_path.file_name().unwrap_or("store.duckdb".as_ref()));
        let mut handovers = lock(registry());
        if let Some(handover) = handovers.get(&db_path).and_then(Weak::upgrade) {
            return Ok(handover);
        }
        let sibling = |suffix: &str| {
            let mut name = db_path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        let knock_dir = sibling(".knock");
        fs::create_dir_all(&knock_dir)
            .map_err(|e| unavailable(format!("create the folder {}: {e}", knock_dir.display())))?;
        let lock_path = sibling(".lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| unavailable(format!("open {}: {e}", lock_path.display())))?;
        let handover = Arc::new(Handover {
            db_path: db_path.clone(),
            knock_dir,
            me: format!("{}-{:016x}", std::process::id(), fastrand::u64(..)),
            lock_file,
            opts,
            hooks,
            state: Mutex::new(State {
                conn: None,
                flock_held: false,
                last_used: Instant::now(),
                gave_way_at: None,
                knock_seen_at: None,
                reaper_running: false,
                schema_ready: false,
                idle_work_done: false,
            }),
            warnings: Mutex::new(Vec::new()),
        });
        handovers.retain(|_, l| l.strong_count() > 0);
        handovers.insert(db_path, Arc::downgrade(&handover));
        Ok(handover)
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The size of the write-ahead log (0 when there is none).
    pub fn wal_len(&self) -> u64 {
        fs::metadata(duckdb_open::wal_path(&self.db_path)).map(|m| m.len()).unwrap_or(0)
    }

    /// Warnings since the last call (a write-ahead log set aside after a crash).
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.warnings))
    }

    /// Run `f` on the open database, opening it (and waiting for other processes) if needed.
    /// Blocking: call from `spawn_blocking`.
    pub fn with_conn<T>(
        self: &Arc<Self>,
        access: Access,
        action: &str,
        f: impl FnOnce(&mut Connection) -> ::duckdb::Result<T>,
    ) -> Result<T, StoreError> {
        let mut st = lock(&self.state);
        if st.conn.as_ref().is_some_and(|(_, a)| *a != access) {
            self.close(&mut st);
        }
        if st.conn.is_none() {
            self.acquire(&mut st, access)?;
        }
        let (conn, _) = st.conn.as_mut().expect("opened above");
        let result = f(conn);
        st.last_used = Instant::now();
        st.idle_work_done = false;
        if let Err(e) = &result {
            // A fatal error invalidates the instance: start afresh next time.
            if e.to_string().contains("invalidated") {
                self.close(&mut st);
            }
        }
        if st.conn.is_some() && self.foreign_knock() {
            let seen = *st.knock_seen_at.get_or_insert_with(Instant::now);
            if seen.elapsed() >= BURST_MAX {
                self.give_way(&mut st);
            }
        }
        result.map_err(|e| StoreError::Rejected {
            store: self.db_path.display().to_string(),
            action: action.to_string(),
            detail: e.to_string(),
        })
    }

    /// Close the database now and let other processes have it.
    pub fn release(&self) {
        self.close(&mut lock(&self.state));
    }

    fn unavailable(&self, detail: String) -> StoreError {
        StoreError::Unavailable { store: self.db_path.display().to_string(), detail }
    }

    fn acquire(self: &Arc<Self>, st: &mut State, access: Access) -> Result<(), StoreError> {
        let deadline = Instant::now() + self.opts.wait_limit;
        if let Some(at) = st.gave_way_at.take() {
            while at.elapsed() < YIELD_MAX && self.foreign_knock() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        if !st.flock_held {
            self.take_flock(deadline)?;
            st.flock_held = true;
        }
        let conn = match self.open_with_schema(st, access, deadline) {
            Ok(c) => c,
            Err(e) => {
                self.close(st);
                return Err(e);
            }
        };
        st.conn = Some((conn, access));
        st.last_used = Instant::now();
        if !st.reaper_running {
            let weak = Arc::downgrade(self);
            let spawned = std::thread::Builder::new().name("windlass-store-handover".into()).spawn(move || reap(weak));
            if let Err(e) = spawned {
                // Without it no other process could get the file while this one idles.
                self.close(st);
                return Err(self.unavailable(format!("start the hand-over thread: {e}")));
            }
            st.reaper_running = true;
        }
        Ok(())
    }

    /// Open the database, creating the tables on the first read-write open of this process.
    fn open_with_schema(&self, st: &mut State, access: Access, deadline: Instant) -> Result<Connection, StoreError> {
        let conn = if st.schema_ready {
            self.open(access, deadline)?
        } else {
            // A read-only open of a missing file fails, so the first open is read-write.
            let conn = self.open(Access::ReadWrite, deadline)?;
            (self.hooks.create)(&conn).map_err(|e| self.unavailable(format!("create the tables: {e}")))?;
            st.schema_ready = true;
            if access == Access::ReadWrite {
                conn
            } else {
                close(conn);
                self.open(access, deadline)?
            }
        };
        if access == Access::ReadWrite {
            (self.hooks.on_open)(&conn).map_err(|e| self.unavailable(format!("prepare the connection: {e}")))?;
        }
        Ok(conn)
    }

    /// Take the process-level lock, knocking while another process has it.
    fn take_flock(&self, deadline: Instant) -> Result<(), StoreError> {
        let knock = self.knock_dir.join(&self.me);
        let mut knocked: Option<Instant> = None;
        let result = loop {
            match self.lock_file.try_lock() {
                Ok(()) => break Ok(()),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => break Err(self.unavailable(format!("lock the database file: {e}"))),
            }
            if knocked.is_none_or(|at| at.elapsed() >= KNOCK_RENEW) {
                // Best effort: without a knock the holder still lets go after `linger`.
                // Creating it again renews its time, so a long wait never looks stale.
                knocked = File::create(&knock).is_ok().then(Instant::now);
            }
            if Instant::now() >= deadline {
                break Err(self.unavailable(format!(
                    "another windlass process kept the database busy for {:.0} s; try again",
                    self.opts.wait_limit.as_secs_f64()
                )));
            }
            std::thread::sleep(Duration::from_micros(1_000 + fastrand::u64(..3_000)));
        };
        if knocked.is_some() {
            let _ = fs::remove_file(&knock);
        }
        result
    }

    fn open(&self, access: Access, deadline: Instant) -> Result<Connection, StoreError> {
        let opened = duckdb_open::open(&self.db_path, access, deadline)
            .map_err(|detail| StoreError::Unavailable { store: self.db_path.display().to_string(), detail })?;
        if let Some(warning) = opened.warning {
            eprintln!("windlass: warning: {warning}");
            lock(&self.warnings).push(warning);
        }
        Ok(opened.conn)
    }

    fn give_way(&self, st: &mut State) {
        self.close(st);
        st.gave_way_at = Some(Instant::now());
    }

    fn close(&self, st: &mut State) {
        if let Some((conn, _)) = st.conn.take() {
            close(conn);
        }
        if st.flock_held {
            let _ = self.lock_file.unlock();
            st.flock_held = false;
        }
        st.knock_seen_at = None;
    }

    /// Whether another process is waiting for the file. Removes knocks of dead processes.
    fn foreign_knock(&self) -> bool {
        let Ok(entries) = fs::read_dir(&self.knock_dir) else { return false };
        for entry in entries.flatten() {
            if entry.file_name().to_str() == Some(self.me.as_str()) {
                continue;
            }
            let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if age.is_some_and(|a| a > STALE_KNOCK) {
                let _ = fs::remove_file(entry.path());
                continue;
            }
            return true;
        }
        false
    }

    /// One tick of the hand-over thread: close when idle or knocked. False when the file is closed.
    fn reap_tick(&self) -> bool {
        let mut st = match self.state.try_lock() {
            Ok(st) => st,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            // Busy with an operation: it looks for knocks itself when done.
            Err(std::sync::TryLockError::WouldBlock) => return true,
        };
        if st.conn.is_none() {
            st.reaper_running = false;
            return false;
        }
        if self.foreign_knock() {
            let seen = *st.knock_seen_at.get_or_insert_with(Instant::now);
            if st.last_used.elapsed() < BURST_GAP && seen.elapsed() < BURST_MAX {
                return true;
            }
            self.give_way(&mut st);
        } else if st.last_used.elapsed() >= self.opts.linger {
            self.close(&mut st);
        } else {
            if !st.idle_work_done && st.last_used.elapsed() >= IDLE_WORK_AFTER {
                st.idle_work_done = true;
                if let Some((conn, Access::ReadWrite)) = st.conn.as_mut() {
                    (self.hooks.on_idle)(self, conn);
                }
            }
            return true;
        }
        st.reaper_running = false;
        false
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some((conn, _)) = st.conn.take() {
            close(conn);
        }
        if st.flock_held {
            let _ = self.lock_file.unlock();
        }
    }
}

fn reap(weak: Weak<Handover>) {
    loop {
        std::thread::sleep(KNOCK_POLL);
        let Some(handover) = weak.upgrade() else { return };
        if !handover.reap_tick() {
            return;
        }
    }
}
