//! Durable sessions on top of the [`crate::store::Store`]: the log subscriber that streams
//! every event to `unified_logs`, session rows with heartbeats, checkpoints, and what a
//! resume needs to pick a session up again; and what `windlass cleanup` removes.

pub mod artifacts;
pub mod claim;
pub mod cleanup;
pub mod clock;
pub mod control;
pub mod durable;
pub mod hub;
pub mod log_tail;
pub mod mailbox;
pub mod orphans;
pub mod schedules;
pub mod signals;

pub use clock::{Clock, ManualClock, SystemClock};
pub use durable::{CheckpointError, Durable};
pub use hub::Hub;
pub use mailbox::Mailbox;
