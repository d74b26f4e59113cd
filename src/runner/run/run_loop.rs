//! One run of a cascade: phase after phase until routing ends it, with every step
//! reported as an event.

use super::{callouts, cascade_soundings, checkpoints, routing};
use crate::cascade::model::PhaseKind;
use crate::runner::children::{for_each_row, sub_cascades};
use crate::runner::deterministic;
use crate::runner::emitter::Emitter;
use crate::runner::error::RunError;
use crate::runner::event::{RunEvent, RunResult, RunStatus};
use crate::runner::llm_phase;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::runner::{CascadeDef, Runner};
use crate::session::Durable;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// Run a cascade from its first phase (a child session: no checkpoints of its own).
pub async fn run(
    runner: &Runner,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    emitter: &Emitter,
    parent_session_id: Option<String>,
) -> RunResult {
    run_durable(runner, def, input, emitter, parent_session_id, None).await
}

/// [`run`] as the env's [`crate::runner::children::RunChild`]: how the phases below this loop start
/// child sessions.
pub(crate) fn run_child<'a>(
    runner: &'a Runner,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    emitter: &'a Emitter,
    parent_session_id: Option<String>,
) -> BoxFuture<'a, RunResult> {
    Box::pin(run(runner, def, input, emitter, parent_session_id))
}

/// Run a cascade from its first phase, checkpointing through `durable` when given.
pub async fn run_durable(
    runner: &Runner,
    def: Arc<CascadeDef>,
    input: Map<String, Value>,
    emitter: &Emitter,
    parent_session_id: Option<String>,
    durable: Option<Arc<Durable>>,
) -> RunResult {
    emitter.emit(RunEvent::CascadeStarted {
        cascade_id: def.cascade.cascade_id.clone(),
        phases: def.cascade.phases.len(),
        input: Value::Object(input.clone()),
        parent_session_id,
    });
    if def.cascade.soundings.is_some() {
        return cascade_soundings::run(runner, def, input, emitter).await;
    }
    let state = RunState::new(input);
    let start = if def.cascade.phases.is_empty() { None } else { Some(0) };
    run_from(runner, def, state, start, emitter, durable).await
}

/// Continue a session at phase `start` with `state` (a fresh run starts at 0).
pub async fn run_from(
    runner: &Runner,
    def: Arc<CascadeDef>,
    mut state: RunState,
    start: Option<usize>,
    emitter: &Emitter,
    durable: Option<Arc<Durable>>,
) -> RunResult {
    let started = Instant::now();
    let tool_path = crate::runner::resolve_tool_path(runner, &def);
    let keep_conversations = uses_conversations(&def);
    let env = PhaseEnv {
        runner,
        def: &def,
        emitter,
        tool_path: &tool_path,
        children: Default::default(),
        durable,
        keep_conversations,
        run_child,
    };
    let result = match runner.mailbox.clone() {
        // `windlass cancel` stops the session wherever it is: between phases, in an LLM
        // call, or blocked on a human or a signal.
        Some(mailbox) => tokio::select! {
            r = phases(&env, &mut state, start) => r,
            reason = mailbox.cancelled() => Err(cancelled(emitter, reason)),
        },
        None => phases(&env, &mut state, start).await,
    };
    // The session ends only after its checkpoints are durable; a lost one fails the run.
    let settled = checkpoints::settle(&env).await;
    let result = result.and(settled);
    // The process waits for async children so their work is not cut off (unless cancelled).
    if !matches!(result, Err(RunError::Cancelled { .. })) {
        sub_cascades::wait_all(&env.children, emitter).await;
    }
    finish(&def, state, result, emitter, started)
}

fn cancelled(emitter: &Emitter, reason: String) -> RunError {
    let reason = (!reason.is_empty()).then_some(reason);
    emitter.emit(RunEvent::SignalReceived {
        phase: None,
        name: Some("cancel".into()),
        payload: serde_json::json!({ "reason": reason }),
    });
    RunError::Cancelled { reason }
}

/// Whether any phase can read earlier conversations.
pub fn uses_conversations(def: &CascadeDef) -> bool {
    use crate::cascade::model::{ContextSource, Include};
    def.text.contains("history")
        || def.cascade.phases.iter().any(|p| {
            p.context.as_ref().is_some_and(|c| {
                c.is_auto()
                    || c.include.contains(&Include::Messages)
                    || c.from
                        .iter()
                        .any(|s| matches!(s, ContextSource::Detailed(d) if d.include.contains(&Include::Messages)))
            })
        })
}

/// Run phases from `start` until routing ends the cascade.
pub(crate) async fn phases(env: &PhaseEnv<'_>, state: &mut RunState, start: Option<usize>) -> Result<(), RunError> {
    let cascade = &env.def.cascade;
    let mut current = start;
    while let Some(i) = current {
        let phase = &cascade.phases[i];
        let visits = state.visits.entry(phase.name.clone()).or_insert(0);
        *visits += 1;
        let visit = *visits;
        let limit = env.runner.opts.max_phase_visits;
        if visit > limit {
            return Err(RunError::VisitLimit { phase: phase.name.clone(), visits: visit, limit });
        }
        if !checkpoints::only_asks_the_model(phase) {
            checkpoints::settle(env).await?;
        }
        let kind = phase.kind();
        env.emitter.emit(RunEvent::PhaseStarted {
            phase: phase.name.clone(),
            kind: match kind {
                Some(PhaseKind::Llm) | None => "llm",
                Some(PhaseKind::Deterministic) => "deterministic",
                Some(PhaseKind::ForEachRow) => "for_each_row",
            },
            model: (kind == Some(PhaseKind::Llm))
                .then(|| phase.model.clone().unwrap_or_else(|| env.runner.opts.default_model.clone())),
            visit,
        });
        let started = Instant::now();
        let outcome = match kind {
            Some(PhaseKind::Llm) => llm_phase::phase::run(env, phase, state).await,
            Some(PhaseKind::Deterministic) => deterministic::phase::run(env, phase, state).await,
            Some(PhaseKind::ForEachRow) => match &phase.for_each_row {
                Some(spec) => for_each_row::run(env, phase, spec, state).await,
                None => Err(RunError::phase(&phase.name, "for_each_row is missing")),
            },
            None => Err(RunError::phase(&phase.name, "a phase needs exactly one of instructions, tool, for_each_row")),
        };
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                env.emitter.emit(RunEvent::PhaseFailed { phase: phase.name.clone(), error: e.to_string() });
                return Err(e);
            }
        };
        callouts::emit(env.emitter, phase, &outcome.output, &outcome.conversation, state);
        callouts::decision_points(env.emitter, phase, &outcome.output);
        state.record_phase(&phase.name, &outcome.output, outcome.value.as_ref(), outcome.conversation.clone());
        state.order.push(phase.name.clone());
        env.emitter.emit(RunEvent::PhaseFinished {
            phase: phase.name.clone(),
            output: outcome.output.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
        });
        let next = routing::next(cascade, i, &outcome)?;
        if let Some(d) = &env.durable {
            let next_name = next.map(|(n, _)| cascade.phases[n].name.as_str());
            checkpoints::save(env, d, &phase.name, next_name, state)?;
        }
        if let Some((n, reason)) = next {
            env.emitter.emit(RunEvent::Routed { from: phase.name.clone(), to: cascade.phases[n].name.clone(), reason });
        }
        current = next.map(|(n, _)| n);
    }
    Ok(())
}

pub(crate) fn finish(
    def: &CascadeDef,
    state: RunState,
    result: Result<(), RunError>,
    emitter: &Emitter,
    started: Instant,
) -> RunResult {
    let (status, failure) = match result {
        Ok(()) => (RunStatus::Completed, None),
        Err(RunError::Cancelled { reason }) => (RunStatus::Cancelled, Some(RunError::Cancelled { reason })),
        Err(RunError::Interrupted) => (RunStatus::Interrupted, Some(RunError::Interrupted)),
        Err(e) => (RunStatus::Error, Some(e)),
    };
    let output = state.last_output();
    let duration_ms = started.elapsed().as_millis() as u64;
    let error = failure.as_ref().map(ToString::to_string);
    emitter.emit(RunEvent::CascadeFinished {
        status,
        output: crate::runner::state::output_text(&output),
        error: error.clone(),
        tokens_in: state.tokens_in,
        tokens_out: state.tokens_out,
        cost: state.cost,
        duration_ms,
    });
    RunResult {
        session_id: emitter.session_id().to_string(),
        cascade_id: def.cascade.cascade_id.clone(),
        status,
        output,
        state: state.state,
        lineage: state.lineage,
        errors: error.into_iter().collect(),
        tokens_in: state.tokens_in,
        tokens_out: state.tokens_out,
        cost: state.cost,
        duration_ms,
        failure,
    }
}
