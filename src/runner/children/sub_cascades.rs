//! `sub_cascades` (run before a phase's turns) and `async_cascades` (started without
//! waiting, `on_start` or `on_end`): child sessions with their own ids, linked to the parent.

use crate::cascade::load_file;
use crate::cascade::model::phase::AsyncTrigger;
use crate::cascade::model::Phase;
use crate::cascade::resolve::resolve_reference;
use crate::runner::emitter::Emitter;
use crate::runner::error::RunError;
use crate::runner::event::{RunEvent, RunResult, RunStatus};
pub use crate::runner::phase_env::Children;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::{ids, CascadeDef};
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// How deep sub-cascades may nest.
pub const MAX_DEPTH: u32 = 10;

/// Load a referenced cascade relative to the referring file, then the working directory.
pub fn load_child(env: &PhaseEnv<'_>, phase: &str, reference: &str) -> Result<Arc<CascadeDef>, RunError> {
    let path = resolve_reference(reference, env.def.dir(), &env.runner.opts.working_dir).ok_or_else(|| {
        RunError::phase(
            phase,
            format!(
                "the cascade `{reference}` is not found next to {} or in {}",
                env.def.path.display(),
                env.runner.opts.working_dir.display()
            ),
        )
    })?;
    let loaded = load_file(&path);
    if let Some(d) = loaded.diagnostics.iter().find(|d| d.severity == crate::cascade::Severity::Error) {
        return Err(RunError::phase(
            phase,
            format!("the cascade {} does not load: {}", path.display(), d.render(&path)),
        ));
    }
    let cascade =
        loaded.cascade.ok_or_else(|| RunError::phase(phase, format!("the cascade {} is empty", path.display())))?;
    Ok(Arc::new(CascadeDef { cascade, path, text: loaded.text }))
}

/// The child's input: with `context_in`, the parent's input and state; then `input_map`.
fn child_input(
    phase: &Phase,
    state: &RunState,
    input_map: &Map<String, Value>,
    context_in: bool,
) -> Result<Map<String, Value>, RunError> {
    let mut input = Map::new();
    if context_in {
        input.extend(state.input.clone());
        input.extend(state.state.clone());
    }
    let vars = templating::base(state, SoundingVars::default());
    for (k, v) in input_map {
        let r = templating::render_value(v, &vars)
            .map_err(|e| RunError::phase(&phase.name, format!("rendering input_map.{k}: {e}")))?;
        input.insert(k.clone(), r);
    }
    Ok(input)
}

fn child_emitter(env: &PhaseEnv<'_>, phase: &str) -> Result<(String, Emitter), RunError> {
    if env.emitter.depth() + 1 > MAX_DEPTH {
        return Err(RunError::phase(
            phase,
            format!("sub-cascades nest deeper than {MAX_DEPTH} levels; a cascade probably includes itself"),
        ));
    }
    let id = format!("{}-{}", env.emitter.session_id(), ids::new_session_id().trim_start_matches("s-"));
    let e = env.emitter.child(&id);
    Ok((id, e))
}

/// Run the phase's `sub_cascades` and start its `on_start` async cascades. What the children
/// produced reaches the phase through its context, not as extra messages.
pub async fn before(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<(), RunError> {
    for sub in &phase.sub_cascades {
        let def = load_child(env, &phase.name, &sub.reference)?;
        let input = child_input(phase, state, &sub.input_map, sub.context_in)?;
        let (id, emitter) = child_emitter(env, &phase.name)?;
        env.emitter.emit(RunEvent::SubCascadeStarted {
            phase: phase.name.clone(),
            child_session_id: id.clone(),
            cascade_id: def.cascade.cascade_id.clone(),
            r#async: false,
        });
        let parent = Some(env.emitter.session_id().to_string());
        let result = super::run(env.run_child, env.runner, def.clone(), input, &emitter, parent).await;
        env.emitter.emit(RunEvent::SubCascadeFinished {
            phase: phase.name.clone(),
            child_session_id: id.clone(),
            status: result.status,
        });
        if result.status != RunStatus::Completed {
            return Err(RunError::phase(
                &phase.name,
                format!("sub-cascade `{}` ({id}) failed: {}", def.cascade.cascade_id, result.errors.join("; ")),
            ));
        }
        state.add_usage(result.tokens_in, result.tokens_out, Some(result.cost));
        let cid = def.cascade.cascade_id.clone();
        if sub.context_out {
            join_lineage(state, &result);
            state.outputs.insert(cid.clone(), result.output.clone());
            state.state.insert(format!("output_{cid}"), result.output.clone());
        }
    }
    start_async(env, phase, state, AsyncTrigger::OnStart)?;
    Ok(())
}

/// `context_out`: the child's phases join the parent's lineage (so `from: all` and references
/// by name see them, with their outputs' shape), and its state merges into the parent's.
fn join_lineage(state: &mut RunState, child: &RunResult) {
    for entry in &child.lineage {
        state.outputs.insert(entry.phase.clone(), entry.output.clone());
        state.lineage.push(entry.clone());
        state.order.push(entry.phase.clone());
    }
    state.state.extend(child.state.clone());
}

/// Start the phase's `on_end` async cascades.
pub fn after(env: &PhaseEnv<'_>, phase: &Phase, state: &RunState) -> Result<(), RunError> {
    start_async(env, phase, state, AsyncTrigger::OnEnd)
}

fn start_async(env: &PhaseEnv<'_>, phase: &Phase, state: &RunState, trigger: AsyncTrigger) -> Result<(), RunError> {
    for a in phase.async_cascades.iter().filter(|a| a.trigger == trigger) {
        let def = load_child(env, &phase.name, &a.reference)?;
        let input = child_input(phase, state, &a.input_map, a.context_in)?;
        let (id, emitter) = child_emitter(env, &phase.name)?;
        env.emitter.emit(RunEvent::SubCascadeStarted {
            phase: phase.name.clone(),
            child_session_id: id.clone(),
            cascade_id: def.cascade.cascade_id.clone(),
            r#async: true,
        });
        let parent = Some(env.emitter.session_id().to_string());
        let handle = super::spawn(env.run_child, env.runner.clone(), def, input, emitter, parent);
        env.children.lock().expect("children lock").push((phase.name.clone(), handle));
    }
    Ok(())
}

/// Wait for the async children a session started, reporting each as it ends.
pub async fn wait_all(children: &Children, emitter: &Emitter) {
    let pending: Vec<(String, JoinHandle<RunResult>)> = std::mem::take(&mut *children.lock().expect("children lock"));
    for (phase, handle) in pending {
        match handle.await {
            Ok(result) => emitter.emit(RunEvent::SubCascadeFinished {
                phase,
                child_session_id: result.session_id.clone(),
                status: result.status,
            }),
            Err(e) => emitter.emit(RunEvent::Warning {
                phase: Some(phase),
                message: format!("an async sub-cascade stopped unexpectedly: {e}"),
            }),
        }
    }
}
