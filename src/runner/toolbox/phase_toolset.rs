//! The tools one phase may call, and running its tool calls with their effects applied.

use super::human::AskHuman;
use super::signals::{AwaitSignal, FireSignal};
use crate::cascade::model::{Handoff, Phase};
use crate::llm::{ToolCall, ToolSpec};
use crate::runner::children::spawn_tools;
use crate::runner::emitter::Emitter;
use crate::runner::event::RunEvent;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::tools::{Effect, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// The tools a phase offers, by name.
#[derive(Clone, Default)]
pub struct PhaseTools {
    pub tools: Vec<Arc<dyn Tool>>,
    /// Handoff targets `route_to` accepts; empty when `route_to` is not offered.
    pub route_targets: Vec<String>,
}

impl PhaseTools {
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools
            .iter()
            .map(|t| ToolSpec {
                name: t.name().to_string(),
                description: t.description().to_string(),
                parameters: t.parameters(),
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.name() == name)
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

/// Whether a phase gets `route_to` and the menu: more than one handoff, or any described.
pub fn offers_route_to(handoffs: &[Handoff]) -> bool {
    handoffs.len() > 1 || handoffs.iter().any(|h| h.description().is_some())
}

/// Resolve a tool name: a built-in, an engine tool, or a cascade on the tool path.
/// `None`: not available.
pub fn resolve(env: &PhaseEnv<'_>, name: &str) -> Option<Arc<dyn Tool>> {
    let name = name.strip_prefix("python:windlass.demo_tools.").unwrap_or(name);
    if let Some(t) = env.runner.tools.get(name) {
        return Some(t);
    }
    // Tools that talk back to the run live in the engine.
    if let Some(t) = engine_tool(env, name) {
        return Some(t);
    }
    let Some(found) = env.tool_path.find(name) else {
        let def = env.tool_path.find_tool_file(name)?.def.clone().ok()?;
        return Some(Arc::new(crate::tools::declarative::DeclarativeTool::new(def)));
    };
    if !found.has_inputs_schema {
        return None;
    }
    crate::runner::children::cascade_as_tool::CascadeTool::load(
        env.runner.clone(),
        env.run_child,
        &found.path,
        env.emitter.clone(),
    )
    .map(|t| Arc::new(t) as Arc<dyn Tool>)
}

/// A tool that needs the engine itself: a human, signals, child sessions.
fn engine_tool(env: &PhaseEnv<'_>, name: &str) -> Option<Arc<dyn Tool>> {
    let mailbox = || env.runner.mailbox.clone();
    match name {
        "ask_human" => Some(Arc::new(AskHuman {
            emitter: env.emitter.clone(),
            mailbox: mailbox(),
            console: env.runner.console.clone(),
        })),
        "await_signal" => Some(Arc::new(AwaitSignal { mailbox: mailbox(), emitter: env.emitter.clone() })),
        "fire_signal" => Some(Arc::new(FireSignal { mailbox: mailbox() })),
        _ => spawn_tools::get(env, name),
    }
}

/// The tools named by a phase's `tackle` (plus `route_to` when its handoffs call for it).
/// Names that resolve to nothing produce a warning event and are left out.
pub fn for_phase(env: &PhaseEnv<'_>, phase: &Phase) -> PhaseTools {
    let mut out = PhaseTools::default();
    for name in &phase.tackle.tools {
        match resolve(env, name) {
            Some(t) => out.tools.push(t),
            None => {
                let message = match env.tool_path.find_tool_file(name).map(|t| &t.def) {
                    Some(Err(why)) => format!("tool `{name}`: {why}; the phase runs without it"),
                    _ => format!("tool `{name}` is not available in this build; the phase runs without it"),
                };
                env.emitter.emit(RunEvent::Warning { phase: Some(phase.name.clone()), message })
            }
        }
    }
    if offers_route_to(&phase.handoffs) {
        out.route_targets = phase.handoffs.iter().map(|h| h.target().to_string()).collect();
        if !out.tools.iter().any(|t| t.name() == "route_to") {
            out.tools.push(Arc::new(RouteTo));
        }
    }
    out
}

/// `route_to` when a phase has handoffs but did not name it in `tackle`.
struct RouteTo;

#[async_trait]
impl Tool for RouteTo {
    fn name(&self) -> &str {
        "route_to"
    }
    fn description(&self) -> &str {
        "Choose the next phase: route_to(target) with one of the listed targets"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"target": {"type": "string"}}, "required": ["target"]})
    }
    async fn call(&self, args: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let target = args
            .get("target")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::InvalidArguments("route_to needs a `target` (a phase name)".into()))?;
        Ok(ToolOutput::text(format!("routing to {target}")).with_effect(Effect::Route { target: target.to_string() }))
    }
}

/// The result of running the tool calls of one reply.
#[derive(Debug, Default)]
pub struct CallsOutcome {
    /// `(call, result text, ok)` in order.
    pub results: Vec<(ToolCall, String, bool)>,
    /// The last valid `route_to` choice.
    pub route: Option<String>,
}

/// Run tool calls one after another, applying their effects to `state`.
pub async fn run_calls(
    tools: &PhaseTools,
    calls: &[ToolCall],
    ctx: &ToolContext,
    state: &mut RunState,
    emitter: &Emitter,
) -> CallsOutcome {
    let mut out = CallsOutcome::default();
    for call in calls {
        emitter.emit(RunEvent::ToolCall {
            phase: ctx.phase.clone(),
            tool: call.name.clone(),
            arguments: call.arguments.clone(),
        });
        let started = Instant::now();
        let result = match tools.get(&call.name) {
            None => {
                let names: Vec<&str> = tools.tools.iter().map(|t| t.name()).collect();
                Err(format!("unknown tool `{}`; available tools: {}", call.name, names.join(", ")))
            }
            Some(tool) => {
                let mut tool_ctx = ctx.clone();
                tool_ctx.state = state.state.clone();
                match tool.call(call.arguments.clone(), &tool_ctx).await {
                    Ok(output) => apply_effects(output, tools, state, emitter, &ctx.phase, &mut out.route),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        let (text, ok) = match result {
            Ok(text) => (text, true),
            Err(e) => (format!("error: {e}"), false),
        };
        emitter.emit(RunEvent::ToolResult {
            phase: ctx.phase.clone(),
            tool: call.name.clone(),
            ok,
            result: text.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
        });
        out.results.push((call.clone(), text, ok));
    }
    out
}

/// Apply a tool's effects. A `route_to` outside the handoffs is an error the model is told
/// about, not a silent jump.
pub fn apply_effects(
    output: ToolOutput,
    tools: &PhaseTools,
    state: &mut RunState,
    emitter: &Emitter,
    phase: &str,
    route: &mut Option<String>,
) -> Result<String, String> {
    for effect in &output.effects {
        if let Effect::Route { target } = effect {
            if !tools.route_targets.iter().any(|t| t == target) {
                return Err(format!(
                    "`{target}` is not a handoff of this phase; choose one of: {}",
                    tools.route_targets.join(", ")
                ));
            }
        }
    }
    for effect in output.effects {
        match effect {
            Effect::SetState { key, value } => {
                state.state.insert(key.clone(), value.clone());
                emitter.emit(RunEvent::StateSet { phase: phase.to_string(), key, value });
            }
            Effect::Route { target } => *route = Some(target),
        }
    }
    Ok(output.text)
}
