//! Running a deterministic phase: a tool with rendered `inputs`, with `retry`, `timeout`,
//! `on_error`, and `routing` on the result's `_route` or `status`.

use super::tool_specs;
use crate::cascade::model::{Backoff, OnError, Phase};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::llm_phase::phase::{run_variant, Variant};
use crate::runner::phase_env::{PhaseEnv, PhaseOutcome};
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::toolbox::phase_toolset::{self, PhaseTools};
use crate::tools::ToolOutput;
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

pub async fn run(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<PhaseOutcome, RunError> {
    match attempt_all(env, phase, state).await {
        Ok(outcome) => Ok(outcome),
        Err(error) => on_error(env, phase, state, error).await,
    }
}

async fn attempt_all(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<PhaseOutcome, RunError> {
    let name = phase.tool.as_deref().unwrap_or_default();
    if name == "windlass_data" {
        return super::windlass_data::run(env, phase, state).await;
    }
    let tool = tool_specs::resolve(env, &phase.name, name)?;
    let vars = { templating::base(state, SoundingVars::default()) };
    let mut args = Map::new();
    for (k, v) in &phase.inputs {
        let rendered = templating::render_value(v, &vars)
            .map_err(|e| RunError::phase(&phase.name, format!("rendering inputs.{k}: {e}")))?;
        args.insert(k.clone(), rendered);
    }
    let args = Value::Object(args);
    let mut ctx = env.tool_context(&phase.name, state);
    let udf = std::sync::Arc::new(crate::runner::deterministic::sql_functions::UdfEngine::new(
        tokio::runtime::Handle::current(),
        env.runner.clone(),
        env.run_child,
        env.emitter.clone(),
        &phase.name,
        env.model_for(phase),
        env.def.dir().to_path_buf(),
    ));
    ctx.sql_functions =
        Some(std::sync::Arc::new(crate::runner::deterministic::sql_functions::EngineFunctions(udf.clone())));
    let result = attempts(env, phase, state, &tool, name, &args, &ctx).await;
    if let Ok(spent) = udf.usage.lock() {
        state.add_usage(spent.tokens_in, spent.tokens_out, Some(spent.cost));
    }
    result
}

/// The tool call with `retry` and `timeout`.
#[allow(clippy::too_many_arguments)]
async fn attempts(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    tool: &std::sync::Arc<dyn crate::tools::Tool>,
    name: &str,
    args: &Value,
    ctx: &crate::tools::ToolContext,
) -> Result<PhaseOutcome, RunError> {
    let retry = phase.retry.as_ref();
    let max_attempts = retry.map(|r| r.max_attempts.max(1)).unwrap_or(1);
    let mut last_error = String::new();
    for attempt in 1..=max_attempts {
        if attempt > 1 {
            if let Some(r) = retry {
                tokio::time::sleep(backoff(r.backoff, r.backoff_base_seconds.unwrap_or(1.0), attempt - 1)).await;
            }
        }
        env.emitter.emit(RunEvent::ToolCall {
            phase: phase.name.clone(),
            tool: name.to_string(),
            arguments: args.clone(),
        });
        let started = Instant::now();
        let call = tool.call(args.clone(), ctx);
        let result = match phase.timeout {
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("timed out after {}", humanize(limit))),
            },
            None => call.await.map_err(|e| e.to_string()),
        };
        let text = match &result {
            Ok(o) => o.text.clone(),
            Err(e) => format!("error: {e}"),
        };
        env.emitter.emit(RunEvent::ToolResult {
            phase: phase.name.clone(),
            tool: name.to_string(),
            ok: result.is_ok(),
            result: text,
            duration_ms: started.elapsed().as_millis() as u64,
        });
        match result {
            Ok(output) => return finish(env, phase, state, output),
            Err(e) => {
                last_error = e;
                if attempt < max_attempts {
                    env.emitter.emit(RunEvent::AttemptFailed {
                        phase: phase.name.clone(),
                        attempt,
                        max_attempts,
                        reason: last_error.clone(),
                    });
                }
            }
        }
    }
    Err(RunError::phase(&phase.name, format!("tool `{name}` failed: {last_error}")))
}

fn finish(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    output: ToolOutput,
) -> Result<PhaseOutcome, RunError> {
    let mut route = None;
    // A deterministic `route_to` may name any handoff.
    let tools = PhaseTools {
        tools: Vec::new(),
        route_targets: phase.handoffs.iter().map(|h| h.target().to_string()).collect(),
    };
    let routing_value = routing_value(&output.value);
    let value = output.value.clone();
    let text = phase_toolset::apply_effects(output, &tools, state, env.emitter, &phase.name, &mut route)
        .map_err(|e| RunError::phase(&phase.name, e))?;
    // A text result is the text the effects leave; any other value is the output itself.
    let outcome = match value {
        Value::String(_) | Value::Null => PhaseOutcome { output: text, ..PhaseOutcome::default() },
        other => PhaseOutcome::shaped(other),
    };
    Ok(PhaseOutcome { route, routing_value, ..outcome })
}

/// The value `routing` matches on: `_route`, else `status`.
fn routing_value(v: &Value) -> Option<String> {
    let pick = v.get("_route").or_else(|| v.get("status"))?;
    Some(match pick {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

async fn on_error(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    error: RunError,
) -> Result<PhaseOutcome, RunError> {
    let message = match &error {
        RunError::Phase { message, .. } => message.clone(),
        other => other.to_string(),
    };
    match &phase.on_error {
        None => Err(error),
        Some(OnError::Phase(target)) => {
            state.state.insert("last_error".into(), Value::String(message.clone()));
            Ok(PhaseOutcome {
                output: format!("error: {message}"),
                on_error: Some(target.clone()),
                ..PhaseOutcome::default()
            })
        }
        Some(OnError::Inline(inline)) => {
            state.state.insert("last_error".into(), Value::String(message.clone()));
            let mut vars = Map::new();
            vars.insert("error".into(), Value::String(message));
            let handler = Phase {
                name: phase.name.clone(),
                instructions: Some(inline.instructions.clone()),
                model: inline.model.clone(),
                rules: inline.rules.clone(),
                tackle: inline.tackle.clone(),
                handoffs: phase.handoffs.clone(),
                ..empty_phase()
            };
            let variant = Variant { vars, ..Variant::default() };
            run_variant(env, &handler, state, &variant).await
        }
    }
}

fn empty_phase() -> Phase {
    serde_json::from_value(serde_json::json!({"name": "on_error"})).expect("a phase with only a name decodes")
}

fn backoff(kind: Backoff, base: f64, retries: u32) -> Duration {
    let secs = match kind {
        Backoff::None => 0.0,
        Backoff::Linear => base * f64::from(retries),
        Backoff::Exponential => base * 2f64.powi(retries as i32 - 1),
    };
    Duration::from_secs_f64(secs.clamp(0.0, 300.0))
}

fn humanize(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
