//! `mode: auto`: anchors always, then earlier messages chosen within a token budget.
//!
//! The messages, in order:
//!
//! 1. the input (a user message) when `include_input` says so, or, when it is not set,
//!    when `anchors.include` has `input`; never when the input is empty;
//! 2. for each phase of `anchors.from_phases` (default `[previous]`; names, `all`, `first`,
//!    `previous`, less `exclude`), as assistant messages: its output (`output`), then its
//!    callouts (`callouts`); then the last phase error (`errors`, from `state.last_error`);
//! 3. earlier messages (the non-system messages of the conversations of the phases that
//!    ran, oldest first, less `exclude`, the anchored texts and repeats — a phase's
//!    conversation holds the context it was given), in the order they happened:
//!    the last `anchors.window` always, and of the rest those `selection.strategy` keeps
//!    within `selection.max_tokens` (estimated, for the whole context) and
//!    `selection.max_messages`.
//!
//! When every candidate fits, all are kept and no strategy runs (so `llm` and `hybrid`
//! make no model call). `hybrid` gives the model the heuristic's best candidates, up to
//! twice the budget. `semantic` ranks by embeddings ([`super::semantic`]; without them, the
//! heuristic, with a `warning` event).

use super::explicit::as_text;
use super::selection::{self, Candidate, Limits};
use super::{input_message, output_text, resolve, Current};
use crate::cascade::model::{AnchorInclude, ContextSpec, Strategy};
use crate::llm::types::estimated_tokens;
use crate::llm::{Message, Role};
use crate::runner::error::RunError;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use serde_json::Value;

/// The context messages of a `mode: auto` block.
pub async fn build(
    env: &PhaseEnv<'_>,
    spec: &ContextSpec,
    current: Current<'_>,
    state: &mut RunState,
) -> Result<Vec<Message>, RunError> {
    let name = current.phase.name.as_str();
    let wants = |what: AnchorInclude| spec.anchors.include.contains(&what);
    let mut out: Vec<Message> =
        input_message(spec.include_input.unwrap_or(wants(AnchorInclude::Input)), state).into_iter().collect();
    // Texts already in the context (an earlier phase's conversation may hold them too).
    let mut anchored: Vec<String> = out.iter().map(|m| m.content.clone()).collect();
    let mut anchor_phases: Vec<&str> = Vec::new();
    for source in &spec.anchors.from_phases {
        for p in resolve(source, state, name, spec) {
            if !anchor_phases.contains(&p) {
                anchor_phases.push(p);
            }
        }
    }
    for p in &anchor_phases {
        if wants(AnchorInclude::Output) {
            if let Some(v) = state.outputs.get(*p) {
                out.push(Message::assistant(output_text(p, v)));
                anchored.push(super::text(v));
            }
        }
        if wants(AnchorInclude::Callouts) {
            for c in state.callouts.iter().filter(|c| c.phase == *p) {
                out.push(Message::assistant(format!("Callout `{}` from phase `{p}`:\n{}", c.label, c.content)));
                anchored.push(c.content.clone());
            }
        }
    }
    if wants(AnchorInclude::Errors) {
        if let Some(Value::String(e)) = state.state.get("last_error") {
            out.push(Message::assistant(format!("Error:\n{e}")));
        }
    }

    let history = earlier_messages(spec, state, name, &anchored);
    let window_start = history.len().saturating_sub(spec.anchors.window as usize);
    let (candidates, window) = history.split_at(window_start);
    let used = estimated_tokens(&out) + window.iter().map(Candidate::tokens).sum::<u64>();
    let limits = Limits {
        tokens: u64::from(spec.selection.max_tokens).saturating_sub(used),
        messages: spec.selection.max_messages as usize,
    };
    let kept = if selection::all_fit(candidates, limits) {
        (0..candidates.len()).collect()
    } else {
        choose(env, spec, current, state, candidates, limits).await?
    };
    out.extend(kept.into_iter().map(|i| candidates[i].message.clone()));
    out.extend(window.iter().map(|c| c.message.clone()));
    Ok(out)
}

/// Run the strategy over candidates that do not all fit.
async fn choose(
    env: &PhaseEnv<'_>,
    spec: &ContextSpec,
    current: Current<'_>,
    state: &mut RunState,
    candidates: &[Candidate],
    limits: Limits,
) -> Result<Vec<usize>, RunError> {
    let instructions = current.instructions;
    let model = spec.selection.model.as_deref().unwrap_or(current.model);
    match spec.selection.strategy {
        Strategy::Heuristic => Ok(selection::heuristic(candidates, instructions, limits)),
        Strategy::Semantic => {
            Ok(super::semantic::choose(env, &current.phase.name, candidates, instructions, limits).await)
        }
        Strategy::Llm => {
            let pool: Vec<usize> = (0..candidates.len()).collect();
            super::llm_pick::pick(env, current, state, model, candidates, &pool, limits).await
        }
        Strategy::Hybrid => {
            let wide = Limits { tokens: limits.tokens.saturating_mul(2), messages: limits.messages.saturating_mul(2) };
            let pool = selection::fit(candidates, &selection::ranked(candidates, instructions), wide);
            let pooled: Vec<Candidate> = pool.iter().map(|&i| candidates[i].clone()).collect();
            if selection::all_fit(&pooled, limits) {
                return Ok(pool);
            }
            super::llm_pick::pick(env, current, state, model, candidates, &pool, limits).await
        }
    }
}

/// The non-system messages of the phases that ran (latest run of each, in run order), less
/// `exclude`, this phase, empty ones, texts already anchored and repeats.
fn earlier_messages(spec: &ContextSpec, state: &RunState, current: &str, anchored: &[String]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for p in resolve("all", state, current, spec) {
        let Some(conv) = state.conversations.get(p) else { continue };
        for m in conv.iter().filter(|m| m.role != Role::System) {
            let seen = anchored.iter().any(|a| a == &m.content) || out.iter().any(|c| c.message.content == m.content);
            if m.content.trim().is_empty() || seen {
                continue;
            }
            let called_out = state.callouts.iter().any(|c| c.content == m.content);
            out.push(Candidate { phase: p.to_string(), message: as_text(m), called_out });
        }
    }
    out
}
