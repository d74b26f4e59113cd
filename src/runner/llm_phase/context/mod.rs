//! Which earlier material a phase sees: the `context` key (cascade-format.md, Context).
//!
//! No `context` block: a clean slate. With one, the cascade's input comes first (unless
//! `include_input: false`, and never when the input is empty), as a user message. Then:
//!
//! - [`explicit`] (`mode: explicit`, the default): the `from` sources in source order, each
//!   with its `as_role` (default user).
//! - [`auto`] (`mode: auto`): the anchors (outputs, callouts and errors of
//!   `anchors.from_phases`, as assistant messages, and the last `anchors.window` earlier
//!   messages), then earlier messages chosen within `selection.max_tokens` by
//!   `selection.strategy` ([`selection`] ranks them by a heuristic, [`llm_pick`] asks a
//!   model, [`semantic`] compares embeddings).

pub mod auto;
pub mod explicit;
pub mod llm_pick;
pub mod selection;
pub mod semantic;

use crate::cascade::model::{ContextSpec, Phase};
use crate::llm::Message;
use crate::runner::error::RunError;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use serde_json::Value;

/// What the context builder needs to know about the phase being run.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub phase: &'a Phase,
    /// The rendered instructions (auto mode ranks earlier messages against them).
    pub instructions: &'a str,
    /// The phase's model (the default for the `llm` selection call).
    pub model: &'a str,
    pub sounding_index: Option<u32>,
}

/// The context messages for a phase, in order.
pub async fn build(env: &PhaseEnv<'_>, current: Current<'_>, state: &mut RunState) -> Result<Vec<Message>, RunError> {
    let Some(spec) = current.phase.context.as_ref() else { return Ok(Vec::new()) };
    if spec.is_auto() {
        auto::build(env, spec, current, state).await
    } else {
        Ok(explicit::build(spec, state, &current.phase.name))
    }
}

/// The input as the first context message, when it is wanted and not empty.
fn input_message(wanted: bool, state: &RunState) -> Option<Message> {
    (wanted && !state.input.is_empty())
        .then(|| Message::user(format!("Input:\n{}", pretty(&Value::Object(state.input.clone())))))
}

/// Phases that ran, each once at the place of its latest run, without `current`.
fn ran<'s>(state: &'s RunState, current: &str) -> Vec<&'s str> {
    let mut ran: Vec<&str> = Vec::new();
    for p in state.order.iter().rev() {
        if p != current && !ran.contains(&p.as_str()) {
            ran.insert(0, p);
        }
    }
    ran
}

/// The phases a source name stands for: `all`, `first`, `previous` or a phase name (only
/// if it ran), leaving out `spec.exclude`.
fn resolve<'s>(name: &str, state: &'s RunState, current: &str, spec: &ContextSpec) -> Vec<&'s str> {
    let ran = ran(state, current);
    let names: Vec<&str> = match name {
        "all" => ran,
        "first" => ran.first().copied().into_iter().collect(),
        "previous" => {
            state.order.iter().rev().find(|p| p.as_str() != current).map(String::as_str).into_iter().collect()
        }
        name => ran.into_iter().filter(|p| *p == name).collect(),
    };
    names.into_iter().filter(|n| !spec.exclude.iter().any(|e| e == n)).collect()
}

/// "Output of phase `x`:" and the output as text.
fn output_text(phase: &str, v: &Value) -> String {
    format!("Output of phase `{phase}`:\n{}", text(v))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => pretty(other),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
