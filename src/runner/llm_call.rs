//! Every provider call of a run goes through [`call`]: request hash, events, usage, and the
//! `--max-cost` limit.

use super::emitter::Emitter;
use super::error::RunError;
use super::event::RunEvent;
use super::state::RunState;
use super::Runner;
use crate::llm::cassette::{self, site::CallSite};
use crate::llm::{limits, ChatRequest, ChatResponse, Message, ToolSpec};
use std::sync::Arc;
use std::time::Instant;

/// Who is calling, for events.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub phase: &'a str,
    pub sounding_index: Option<u32>,
    /// Models to try in turn when the model keeps failing on the provider's side
    /// (`fallback_models`).
    pub fallbacks: &'a [String],
}

/// The stable hash of a request: same model, messages and tools, same hash.
pub fn request_hash(req: &ChatRequest) -> String {
    req.hash()
}

/// Make one chat completion for a phase and account for it: with `model`, then with each of
/// the caller's fallback models while the one before kept failing on the provider's side.
pub async fn call(
    runner: &Runner,
    emitter: &Emitter,
    state: &mut RunState,
    caller: Caller<'_>,
    model: &str,
    messages: &[Message],
    tools: &[ToolSpec],
) -> Result<ChatResponse, RunError> {
    let models: Vec<&str> = std::iter::once(model).chain(caller.fallbacks.iter().map(String::as_str)).collect();
    let mut i = 0;
    loop {
        match call_model(runner, emitter, state, caller, models[i], messages, tools).await {
            Err(RunError::Provider(e)) if i + 1 < models.len() && e.is_the_providers() => {
                emitter.emit(RunEvent::Warning {
                    phase: Some(caller.phase.to_string()),
                    message: format!("{} kept failing ({e}); falling back to {}", models[i], models[i + 1]),
                });
                i += 1;
            }
            answer => return answer,
        }
    }
}

/// One chat completion with `model`.
async fn call_model(
    runner: &Runner,
    emitter: &Emitter,
    state: &mut RunState,
    caller: Caller<'_>,
    model: &str,
    messages: &[Message],
    tools: &[ToolSpec],
) -> Result<ChatResponse, RunError> {
    let req = ChatRequest {
        model: model.to_string(),
        messages: messages.to_vec(),
        tools: tools.to_vec(),
        temperature: None,
        max_tokens: None,
    };
    let hash = request_hash(&req);
    emitter.emit(RunEvent::LlmRequest {
        phase: caller.phase.to_string(),
        model: model.to_string(),
        messages: messages.len(),
        request_hash: hash.clone(),
        sounding_index: caller.sounding_index,
    });
    let started = Instant::now();
    // On resume, a request already answered before the crash is served from the log.
    let cached = runner.replay.as_ref().and_then(|r| r.take(&hash));
    let replayed = cached.is_some();
    let resp = match cached {
        Some(resp) => resp,
        // The call site lets a cassette keep parallel soundings apart and name a miss.
        None => {
            let site = CallSite {
                phase: caller.phase.to_string(),
                sounding: caller.sounding_index,
                depth: emitter.depth(),
                attempt: None,
            };
            let waits = emitter.clone();
            let (phase, sounding_index, wait_model) =
                (caller.phase.to_string(), caller.sounding_index, model.to_string());
            let hook: limits::WaitHook = Arc::new(move |prefix: &str, cap: limits::Cap| {
                waits.emit(RunEvent::LimitWait {
                    phase: phase.clone(),
                    model: wait_model.clone(),
                    prefix: prefix.to_owned(),
                    limit: format!("{}={cap}", if prefix.is_empty() { "*" } else { prefix }),
                    max_concurrent: cap.max_concurrent(),
                    sounding_index,
                });
            });
            limits::on_wait(hook, cassette::site::scope(site, runner.provider.chat(&req))).await?
        }
    };
    state.add_usage(resp.usage.tokens_in, resp.usage.tokens_out, resp.usage.cost);
    emitter.emit(RunEvent::LlmResponse {
        phase: caller.phase.to_string(),
        model_requested: model.to_string(),
        model: resp.model.clone(),
        tokens_in: resp.usage.tokens_in,
        tokens_out: resp.usage.tokens_out,
        cost: resp.usage.cost,
        duration_ms: started.elapsed().as_millis() as u64,
        request_hash: hash,
        content: resp.content.clone(),
        tool_calls: resp.tool_calls.len(),
        native_tool_calls: resp.tool_calls.clone(),
        replayed,
        sounding_index: caller.sounding_index,
    });
    if let Some(limit) = runner.opts.max_cost {
        if state.cost > limit {
            return Err(RunError::CostLimit { spent: state.cost, limit });
        }
    }
    Ok(resp)
}
