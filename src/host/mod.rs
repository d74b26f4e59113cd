//! Hosting durable sessions in this process: the one path by which `run`, `resume`,
//! `orphans --resume` and `worker` run a session (heartbeats, checkpoints, logs, signals,
//! claims), and the worker loop with its counters (its HTTP endpoints are `crate::serve`).
//!
//! Depends on the engine (`runner`), the durable side (`session`) and the `store`; the
//! command line sits above it and only chooses renderers, prints and maps exit codes.

pub mod already_ended;
pub mod cassette;
pub mod drive;
pub mod log_rows;
pub mod logger;
pub mod metrics;
pub mod schedules;
pub mod start;
pub mod worker;

pub use drive::{drive, Ended, Limits};
pub use logger::{LogSink, StoreLogger};
pub use start::Start;

use crate::runner::Runner;
use crate::session::{Clock, Hub};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// What every session hosted by this process shares.
#[derive(Clone)]
pub struct Host {
    pub store: Arc<dyn Store>,
    /// The signal poller of this process.
    pub hub: Arc<Hub>,
    /// The log writer of this process, shared by its sessions.
    pub logs: Arc<LogSink>,
    /// The engine each session starts from (provider, tools, options).
    pub runner: Runner,
    pub lease: Duration,
    pub heartbeat_interval: Duration,
    /// What heartbeats, leases, claims and `--timeout` run on (tests pass a manual one).
    pub clock: Arc<dyn Clock>,
    /// The log writer is flushed once more before the process exits (a worker), so a slow
    /// flush at the end of one session is not worth a warning.
    pub flushes_at_exit: bool,
}
