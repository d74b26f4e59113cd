//! Durable sessions on top of the [`crate::store::Store`]: the log subscriber that streams
//! every event to `unified_logs`, session rows with heartbeats, checkpoints, and what a
//! resume needs to pick a session up again; and what `windlass cleanup` removes.

pub mod artifacts;
pub mod claim;
pub mod cleanup;
pub mod control;
pub mod durable;
pub mod hub;
pub mod logger;
pub mod mailbox;
pub mod rows;
pub mod signals;

pub use durable::{CheckpointError, Durable};
pub use hub::Hub;
pub use logger::{LogSink, StoreLogger};
pub use mailbox::Mailbox;
