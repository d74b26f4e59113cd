//! Child runs: `sub_cascades` and `async_cascades` of a phase, `for_each_row`, cascades used
//! as tools and the `spawn_cascade`/`map_cascade` tools.
//!
//! Every child session starts through [`run`] or [`spawn`], with the run loop's entry point
//! that the env carries ([`RunChild`]): this folder sits below the run loop and never imports
//! it.

pub mod cascade_as_tool;
pub mod for_each_row;
pub mod spawn_tools;
pub mod sub_cascades;

pub use crate::runner::phase_env::RunChild;
pub use sub_cascades::MAX_DEPTH;

use crate::runner::emitter::Emitter;
use crate::runner::event::RunResult;
use crate::runner::{CascadeDef, Runner};
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Run `def` as a child session (its own `emitter`, linked to `parent`) to its end.
pub async fn run(
    run_child: RunChild,
    runner: &Runner,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    emitter: &Emitter,
    parent: Option<String>,
) -> RunResult {
    run_child(runner, def, input, emitter, parent).await
}

/// Start `def` as a child session in the background; the handle yields its result.
pub fn spawn(
    run_child: RunChild,
    runner: Runner,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    emitter: Emitter,
    parent: Option<String>,
) -> JoinHandle<RunResult> {
    tokio::spawn(async move { run_child(&runner, def, input, &emitter, parent).await })
}
