//! Durable sessions on top of the [`crate::store::Store`]: the log subscriber that streams
//! every event to `unified_logs`, session rows with heartbeats, checkpoints, and what a
//! resume needs to pick a session up again; and what `windlass cleanup` removes.

pub mod artifacts;
pub mod cleanup;
pub mod durable;
pub mod logger;
pub mod rows;

pub use durable::Durable;
pub use logger::StoreLogger;
