//! The run loop: a cascade's phases one after another, routing between them, callouts after
//! each phase, and cascade-level soundings (the whole loop run N times).

pub mod callouts;
pub mod cascade_soundings;
pub mod checkpoints;
pub mod routing;
pub mod run_loop;

pub use run_loop::{run, run_durable, run_from};
