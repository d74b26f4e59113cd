//! Cascade-level LLM validators (cascade-format.md, "Validators"): `validators: {name:
//! {instructions, model, max_turns}}`. Each runs as a one-phase cascade would: its input is
//! `{content, original_input}`, the rendered instructions are the task (one user message),
//! turns 2..N open with the default turn prompt, and the last reply is read as the verdict
//! `{valid, reason}` (JSON, possibly fenced or inside prose; else a VALID/INVALID word).
//!
//! The calls go through [`llm_call::call`] under the calling phase's name, so they are logged,
//! recorded in cassettes, replayed, and reused on resume like every other LLM call.

use crate::cascade::model::JudgeValidator;
use crate::llm::Message;
use crate::runner::llm_call::{self, Caller};
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::validation::validators::{from_text, Verdict};
use serde_json::{Map, Value};

/// What opens turns 2..N, as for a phase without `turn_prompt` (the same words as
/// `llm_phase::prompting::DEFAULT_TURN_PROMPT`; validation may not import the phase engine).
const TURN_PROMPT: &str = "Continue/Refine based on previous output.";

/// Ask the judge `name` about `content`; usage is added to `state`.
pub async fn run(
    env: &PhaseEnv<'_>,
    name: &str,
    judge: &JudgeValidator,
    content: &str,
    state: &mut RunState,
    phase: &str,
) -> Verdict {
    let mut input = Map::new();
    input.insert("content".into(), Value::String(content.to_string()));
    input.insert("original_input".into(), Value::Object(state.input.clone()));
    // A fresh one-phase run: its own input, no state or outputs of the caller.
    let scratch = RunState::new(input);
    let vars = templating::base_for(&judge.instructions, &scratch, SoundingVars::default());
    let task = match templating::render(&judge.instructions, &vars) {
        Ok(t) => t,
        Err(e) => return Verdict::fail(format!("validator `{name}`: rendering its instructions: {e}")),
    };
    let model = judge.model.clone().unwrap_or_else(|| env.runner.opts.default_model.clone());
    let caller = Caller { phase, sounding_index: None, fallbacks: &[] };
    let mut messages = vec![Message::user(task)];
    let mut reply = String::new();
    for turn in 1..=judge.max_turns() {
        if turn > 1 {
            messages.push(Message::user(TURN_PROMPT));
        }
        match llm_call::call(env.runner, env.emitter, state, caller, &model, &messages, &[]).await {
            Ok(resp) => {
                reply = resp.content.clone();
                messages.push(Message::assistant(resp.content));
            }
            Err(e) => return Verdict::fail(format!("validator `{name}` could not answer: {e}")),
        }
    }
    from_text(&reply)
}
