//! Checkpoints from the run loop: one after every phase of a durable session, committed in
//! the background while the next phase asks its model.
//!
//! Only a phase that does nothing but ask the model ([`only_asks_the_model`]) starts before
//! the previous checkpoint is durable: if the process dies first, resume repeats its model
//! calls, which is what a crash during a model call costs anyway. Every other phase (a tool, a
//! data phase, child sessions, wards, a human) and the session's end wait for the checkpoints
//! before them ([`settle`]), so no side effect of a phase runs twice because an earlier
//! checkpoint was lost. Against a fast model, checkpoints queued during a commit share the next
//! one.

use crate::cascade::model::{Phase, PhaseKind};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::session::{CheckpointError, Durable};

/// Whether `phase` only renders its prompt and asks the model (with retries, soundings of
/// plain attempts, routing and an output schema): nothing it does has an effect outside the
/// session's own state.
pub fn only_asks_the_model(phase: &Phase) -> bool {
    phase.kind() == Some(PhaseKind::Llm)
        && phase.tackle.tools.is_empty()
        && !phase.tackle.manifest
        && phase.sub_cascades.is_empty()
        && phase.async_cascades.is_empty()
        && !phase.human_input.as_ref().is_some_and(|h| h.is_enabled())
        && phase.audibles.is_none()
        && phase.wards.pre.is_empty()
        && phase.wards.post.is_empty()
        && phase.wards.turn.is_empty()
        && phase.rules.loop_until.is_none()
        && phase.soundings.is_none()
        && phase.on_error.is_none()
}

/// Queue the checkpoint of `phase` (its `next` phase and the state so far); its
/// [`RunEvent::Checkpoint`] goes out once it is durable.
pub fn save(
    env: &PhaseEnv<'_>,
    durable: &std::sync::Arc<Durable>,
    phase: &str,
    next: Option<&str>,
    state: &mut RunState,
) -> Result<(), RunError> {
    let json = checkpoint_json(state, env.keep_conversations);
    let emitter = env.emitter.clone();
    let (name, next_name) = (phase.to_string(), next.map(str::to_string));
    let on_durable = Box::new(move |seq| {
        emitter.emit(RunEvent::Checkpoint { phase: name, seq, next_phase: next_name });
    });
    durable
        .checkpoint(phase, next, json, (state.tokens_in, state.tokens_out, state.cost), on_durable)
        .map(drop)
        .map_err(|e| run_error(durable, e))
}

/// The checkpoint of a state. Conversations are only kept when a later phase can use them
/// (`include: messages` or `history`); they are most of a state's size.
fn checkpoint_json(state: &mut RunState, keep_conversations: bool) -> String {
    if keep_conversations {
        return serde_json::to_string(&*state).unwrap_or_default();
    }
    let conversations = std::mem::take(&mut state.conversations);
    let json = serde_json::to_string(&*state).unwrap_or_default();
    state.conversations = conversations;
    json
}

/// Wait until every checkpoint queued so far is durable (nothing to wait for without a store).
pub async fn settle(env: &PhaseEnv<'_>) -> Result<(), RunError> {
    match &env.durable {
        Some(d) => d.settled().await.map_err(|e| run_error(d, e)),
        None => Ok(()),
    }
}

fn run_error(durable: &Durable, e: CheckpointError) -> RunError {
    match e {
        CheckpointError::Fenced { by } => RunError::Fenced { epoch: durable.epoch, by },
        CheckpointError::Store(e) => RunError::Store(e),
    }
}
