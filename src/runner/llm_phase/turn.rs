//! One turn of an LLM phase: a call, the tool calls in its reply, and one follow-up call
//! when tools ran.

use super::reply_tool_calls;
use crate::cascade::model::Phase;
use crate::llm::{ChatResponse, Message, Role, ToolCall, ToolSpec};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::llm_call::{self, Caller};
use crate::runner::llm_phase::budget::{self, Verdict};
use crate::runner::llm_phase::prompting;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::toolbox::phase_toolset::{self, PhaseTools};
use crate::tools::ToolContext;
use serde_json::Value;

/// The turn loop's fixed parts, and the route chosen so far.
pub struct Turns<'a> {
    pub env: &'a PhaseEnv<'a>,
    pub phase: &'a Phase,
    pub model: &'a str,
    pub tools: &'a PhaseTools,
    pub native_specs: Vec<ToolSpec>,
    pub native: bool,
    pub tool_ctx: ToolContext,
    pub sounding: SoundingVars,
    pub route: Option<String>,
    /// Feedback messages taken into this phase so far (`audibles.budget` caps them).
    pub audibles_used: usize,
}

impl Turns<'_> {
    /// Run turn `n`; returns the turn's output (final text, plus tool results when tools ran).
    pub async fn run(
        &mut self,
        state: &mut RunState,
        messages: &mut Vec<Message>,
        n: u32,
        max_turns: u32,
    ) -> Result<String, RunError> {
        let phase = self.phase;
        if n > 1 {
            let prompt = match &phase.rules.turn_prompt {
                Some(t) => {
                    let mut vars = templating::base_for(t, state, self.sounding);
                    vars.insert("turn".into(), n.into());
                    vars.insert("max_turns".into(), max_turns.into());
                    templating::render(t, &vars)
                        .map_err(|e| RunError::phase(&phase.name, format!("rendering turn_prompt: {e}")))?
                }
                None => prompting::DEFAULT_TURN_PROMPT.to_string(),
            };
            messages.push(Message::user(prompt));
        }
        let resp = self.call(state, messages).await?;
        messages.push(assistant(&resp));
        let calls = self.calls_in(&resp);
        if calls.is_empty() {
            return Ok(resp.content);
        }
        let ran = phase_toolset::run_calls(self.tools, &calls, &self.tool_ctx, state, self.env.emitter).await;
        self.route = ran.route.clone().or(self.route.take());
        push_results(messages, &ran.results, self.native);
        let follow = self.call(state, messages).await?;
        messages.push(assistant(&follow));
        // Calls in the follow-up still take effect (a late route_to), without another round.
        let mut results: Vec<String> = ran.results.iter().map(|(c, r, _)| format!("[{}] {r}", c.name)).collect();
        let late = self.calls_in(&follow);
        if !late.is_empty() {
            let ran_late = phase_toolset::run_calls(self.tools, &late, &self.tool_ctx, state, self.env.emitter).await;
            self.route = ran_late.route.clone().or(self.route.take());
            results.extend(ran_late.results.iter().map(|(c, r, _)| format!("[{}] {r}", c.name)));
        }
        Ok(if follow.content.trim().is_empty() {
            results.join("\n")
        } else {
            format!("{}\n\n{}", follow.content.trim_end(), results.join("\n"))
        })
    }

    fn calls_in(&self, resp: &ChatResponse) -> Vec<ToolCall> {
        if self.native {
            resp.tool_calls.clone()
        } else if self.tools.is_empty() {
            Vec::new()
        } else {
            reply_tool_calls::parse(&resp.content)
        }
    }

    /// One call under the cascade's token budget.
    async fn call(&mut self, state: &mut RunState, messages: &mut Vec<Message>) -> Result<ChatResponse, RunError> {
        let env = self.env;
        let phase = self.phase;
        // Messages sent with `windlass signal` join the conversation before the next call, as
        // many as the phase's `audibles` allow; the rest wait for a later phase.
        if let Some(mailbox) = &env.runner.mailbox {
            for s in mailbox.take_messages(audible_room(phase, self.audibles_used)).await {
                self.audibles_used += 1;
                env.emitter.emit(RunEvent::SignalReceived {
                    phase: Some(phase.name.clone()),
                    name: None,
                    payload: serde_json::json!({"signal_id": s.id, "kind": "message", "as": "feedback", "message": s.text()}),
                });
                messages.push(Message::user(feedback(&s.text())));
            }
        }
        if let Some(b) = &env.def.cascade.token_budget {
            match budget::apply(b, messages, &phase.name)? {
                Verdict::Fits { warning: Some(w) } => {
                    env.emitter.emit(RunEvent::Warning { phase: Some(phase.name.clone()), message: w })
                }
                Verdict::Fits { warning: None } => {}
                Verdict::Trimmed(kept) => *messages = kept,
                Verdict::Summarize { drop } => self.summarize(state, messages, drop, b).await?,
            }
        }
        let caller = Caller {
            phase: &phase.name,
            sounding_index: self.sounding.active.then_some(self.sounding.index),
            fallbacks: env.def.cascade.fallback_models(phase),
        };
        llm_call::call(env.runner, env.emitter, state, caller, self.model, messages, &self.native_specs).await
    }

    async fn summarize(
        &self,
        state: &mut RunState,
        messages: &mut Vec<Message>,
        drop: usize,
        b: &crate::cascade::model::TokenBudget,
    ) -> Result<(), RunError> {
        let old: Vec<String> = messages[..drop]
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| format!("{:?}: {}", m.role, m.content))
            .collect();
        let model = b
            .summarizer
            .as_ref()
            .and_then(|s| s.get("model"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| self.model.to_string());
        let ask = [
            Message::system("Summarize the conversation so far, keeping every fact needed to continue."),
            Message::user(old.join("\n\n")),
        ];
        let caller = Caller { phase: &self.phase.name, sounding_index: None, fallbacks: &[] };
        let summary = llm_call::call(self.env.runner, self.env.emitter, state, caller, &model, &ask, &[]).await?;
        let systems: Vec<Message> = messages[..drop].iter().filter(|m| m.role == Role::System).cloned().collect();
        let rest = messages[drop..].to_vec();
        *messages = systems;
        messages.push(Message::user(format!("Summary of the earlier conversation:\n{}", summary.content)));
        messages.extend(rest);
        Ok(())
    }
}

/// Feedback messages per phase when `audibles` gives no budget (cascade-format.md).
const AUDIBLE_BUDGET: u32 = 3;

/// How many more feedback messages the phase takes now: `None` without `audibles` (any
/// number), 0 when they are disabled or the budget is spent.
fn audible_room(phase: &Phase, used: usize) -> Option<usize> {
    let a = phase.audibles.as_ref()?;
    if !a.enabled {
        return Some(0);
    }
    Some((a.budget.unwrap_or(AUDIBLE_BUDGET) as usize).saturating_sub(used))
}

/// A message from `windlass signal` as the user turn the model sees; `[AUDIBLE]` is the mark
/// the original used, and cascades written for it tell the model to look for it.
fn feedback(text: &str) -> String {
    format!("[AUDIBLE] Feedback from the user: {text}")
}

fn assistant(resp: &ChatResponse) -> Message {
    let mut m = Message::assistant(resp.content.clone());
    m.tool_calls = resp.tool_calls.clone();
    m
}

/// Tool results go back as `tool` messages in native mode, as one user message otherwise.
fn push_results(messages: &mut Vec<Message>, results: &[(ToolCall, String, bool)], native: bool) {
    if native {
        for (call, text, _) in results {
            let mut m = Message::new(Role::Tool, text.clone());
            m.tool_call_id = Some(call.id.clone());
            messages.push(m);
        }
    } else {
        let body: Vec<String> = results.iter().map(|(c, r, _)| format!("Result of {}:\n{r}", c.name)).collect();
        messages.push(Message::user(format!("Tool results:\n\n{}", body.join("\n\n"))));
    }
}

/// `tackle: manifest`: let the model pick tools from everything available.
pub async fn add_manifest_tools(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    model: &str,
    task: &str,
    tools: &mut PhaseTools,
) -> Result<(), RunError> {
    let mut available: Vec<ToolSpec> = env
        .runner
        .tools
        .iter()
        .filter(|t| !tools.tools.iter().any(|have| have.name() == t.name()))
        .map(|t| ToolSpec {
            name: t.name().to_string(),
            description: t.description().to_string(),
            parameters: t.parameters(),
        })
        .collect();
    for c in env.tool_path.entries() {
        if c.has_inputs_schema && !available.iter().any(|t| t.name == c.cascade_id) && c.path != env.def.path {
            available.push(ToolSpec {
                name: c.cascade_id.clone(),
                description: c.description.clone().unwrap_or_default(),
                parameters: Value::Null,
            });
        }
    }
    let picked = crate::runner::llm_phase::manifest::select(
        env.runner,
        env.emitter,
        state,
        &phase.name,
        model,
        task,
        &available,
    )
    .await?;
    for name in picked {
        if let Some(t) = phase_toolset::resolve(env, &name) {
            tools.tools.push(t);
        }
    }
    Ok(())
}
