//! Plain timestamped lines on stderr when it is not a terminal (CI logs, `2> run.log`): one
//! line per event worth reading, nothing redrawn, so the log reads top to bottom.

use super::format::{clock, cost, duration, excerpt};
use crate::runner::event::{Envelope, RouteReason, RunEvent, RunStatus, Subscriber};
use std::io::Write;
use std::sync::Mutex;

/// Longest excerpt of a tool argument, result or state value on one line.
const EXCERPT: usize = 120;

/// Writes one plain line per event, `14:03:07 phase research started (model x)`.
pub struct PlainRenderer {
    out: Mutex<Box<dyn Write + Send>>,
}

impl PlainRenderer {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        PlainRenderer { out: Mutex::new(out) }
    }

    /// Plain lines on this process's stderr.
    pub fn stderr() -> Self {
        Self::new(Box::new(std::io::stderr()))
    }
}

impl Subscriber for PlainRenderer {
    fn on_event(&self, envelope: &Envelope) {
        let Some(text) = line(envelope) else { return };
        let indent = "  ".repeat(envelope.depth as usize);
        let mut out = self.out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A closed stderr must not stop the run; there is nobody left to tell.
        let _ = writeln!(out, "{} {indent}{text}", clock(envelope.at));
        let _ = out.flush();
    }
}

/// The text of an event's line, without time and indentation; `None` for events that would
/// only add noise to a log.
fn line(envelope: &Envelope) -> Option<String> {
    let text = match &envelope.event {
        RunEvent::CascadeStarted { cascade_id, phases, input: _, parent_session_id: _ } => {
            format!("cascade {cascade_id} started (session {}, {phases} phases)", envelope.session_id)
        }
        RunEvent::PhaseStarted { phase, kind, model, visit } => {
            let mut details = Vec::new();
            match model {
                Some(model) => details.push(format!("model {model}")),
                None if *kind != "llm" => details.push((*kind).to_string()),
                None => {}
            }
            if *visit > 1 {
                details.push(format!("visit {visit}"));
            }
            if details.is_empty() {
                format!("phase {phase} started")
            } else {
                format!("phase {phase} started ({})", details.join(", "))
            }
        }
        RunEvent::TurnStarted { phase, turn, max_turns, attempt, max_attempts } => {
            if *max_attempts > 1 {
                format!("phase {phase} turn {turn}/{max_turns}, attempt {attempt}/{max_attempts}")
            } else {
                format!("phase {phase} turn {turn}/{max_turns}")
            }
        }
        RunEvent::LlmRequest { phase, model, messages, request_hash: _, sounding_index } => {
            format!("phase {phase}{} calling {model} ({messages} messages)", sounding(*sounding_index))
        }
        RunEvent::LimitWait { phase, model, limit, max_concurrent, sounding_index, .. } => match max_concurrent {
            Some(_) => {
                format!("phase {phase}{} waiting for a slot for {model} (limit {limit})", sounding(*sounding_index))
            }
            None => format!(
                "phase {phase}{} waiting on the rate limit for {model} (limit {limit})",
                sounding(*sounding_index)
            ),
        },
        RunEvent::LlmResponse {
            phase,
            model_requested: _,
            model,
            tokens_in,
            tokens_out,
            cost: price,
            duration_ms,
            request_hash: _,
            content: _,
            tool_calls,
            native_tool_calls: _,
            replayed,
            sounding_index,
        } => {
            let mut text = format!(
                "phase {phase}{} reply from {model} in {}: {tokens_in} tokens in, {tokens_out} out",
                sounding(*sounding_index),
                duration(*duration_ms)
            );
            if let Some(price) = price {
                text.push_str(&format!(", {}", cost(*price)));
            }
            if *tool_calls > 0 {
                text.push_str(&format!(", {tool_calls} tool calls"));
            }
            if *replayed {
                text.push_str(" (replayed from the session log)");
            }
            text
        }
        RunEvent::ToolCall { phase, tool, arguments } => {
            format!("phase {phase} tool {tool}({})", excerpt(&arguments.to_string(), EXCERPT))
        }
        RunEvent::ToolResult { phase, tool, ok, result, duration_ms } => {
            let outcome = if *ok { "ok" } else { "failed" };
            format!("phase {phase} tool {tool} {outcome} in {}: {}", duration(*duration_ms), excerpt(result, EXCERPT))
        }
        RunEvent::StateSet { phase, key, value } => {
            format!("phase {phase} state.{key} = {}", excerpt(&value.to_string(), EXCERPT))
        }
        RunEvent::Routed { from, to, reason } => format!("routed {from} -> {to} ({})", route_reason(*reason)),
        RunEvent::ValidatorVerdict { phase, role, validator, valid, reason, mode } => {
            let verdict = if *valid { "passed" } else { "failed" };
            let mode = mode.as_deref().map(|mode| format!(" [{mode}]")).unwrap_or_default();
            let reason = if reason.is_empty() { String::new() } else { format!(": {}", excerpt(reason, EXCERPT)) };
            format!("phase {phase} {role} {validator}{mode} {verdict}{reason}")
        }
        RunEvent::AttemptFailed { phase, attempt, max_attempts, reason } => {
            format!("phase {phase} attempt {attempt}/{max_attempts} failed: {}", excerpt(reason, EXCERPT))
        }
        RunEvent::SoundingStarted { phase, index, factor, model, mutation } => {
            let mut details = Vec::new();
            if let Some(model) = model {
                details.push(format!("model {model}"));
            }
            if let Some(mutation) = mutation {
                details.push(format!("mutation: {}", excerpt(mutation, 60)));
            }
            let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join(", ")) };
            format!("phase {phase} sounding {}/{factor} started{details}", index + 1)
        }
        RunEvent::SoundingFinished { phase, index, ok, output: _ } => {
            let outcome = if *ok { "done" } else { "failed" };
            format!("phase {phase} sounding {} {outcome}", index + 1)
        }
        RunEvent::SoundingsEvaluated { phase, winner, reply: _, mode } => match winner {
            Some(winner) => format!("phase {phase} soundings evaluated ({mode}): sounding {} wins", winner + 1),
            None => format!("phase {phase} soundings combined ({mode})"),
        },
        RunEvent::SubCascadeStarted { phase, child_session_id, cascade_id, r#async } => {
            let how = if *r#async { "async sub-cascade" } else { "sub-cascade" };
            format!("phase {phase} {how} {cascade_id} started (session {child_session_id})")
        }
        RunEvent::SubCascadeFinished { phase, child_session_id, status } => {
            format!("phase {phase} sub-cascade session {child_session_id} {}", status_word(*status))
        }
        RunEvent::HumanInputRequested { phase, prompt } => format!(
            "phase {phase} waiting for a human answer: {} (answer with: windlass signal {} \"...\")",
            excerpt(prompt, EXCERPT),
            envelope.session_id
        ),
        RunEvent::SignalReceived { phase, name, payload } => {
            let name = name.as_deref().map(|name| format!(" {name}")).unwrap_or_default();
            let at = phase.as_deref().map(|phase| format!("phase {phase} ")).unwrap_or_default();
            format!("{at}signal{name} received: {}", excerpt(&payload.to_string(), EXCERPT))
        }
        RunEvent::Callout { phase, label, content } => {
            format!("phase {phase} callout {label}: {}", excerpt(content, EXCERPT))
        }
        RunEvent::PhaseFinished { phase, output: _, duration_ms } => {
            format!("phase {phase} done in {}", duration(*duration_ms))
        }
        // Checkpoints happen after every phase; the log already shows the phase finishing.
        RunEvent::Checkpoint { .. } => return None,
        RunEvent::Warning { phase, message } => match phase {
            Some(phase) => format!("warning: phase {phase}: {message}"),
            None => format!("warning: {message}"),
        },
        RunEvent::PhaseFailed { phase, error } => format!("phase {phase} failed: {error}"),
        RunEvent::CascadeFinished { status, output: _, error, tokens_in, tokens_out, cost: price, duration_ms } => {
            let mut text = format!(
                "cascade {} in {}: {tokens_in} tokens in, {tokens_out} out, {}",
                status_word(*status),
                duration(*duration_ms),
                cost(*price)
            );
            if let Some(error) = error {
                text.push_str(&format!(": {error}"));
            }
            text
        }
    };
    Some(text)
}

fn sounding(index: Option<u32>) -> String {
    index.map(|index| format!(" sounding {}", index + 1)).unwrap_or_default()
}

pub(super) fn route_reason(reason: RouteReason) -> &'static str {
    match reason {
        RouteReason::RouteTo => "route_to",
        RouteReason::Routing => "routing",
        RouteReason::Handoff => "first handoff",
        RouteReason::Next => "next phase",
        RouteReason::OnError => "on_error",
    }
}

pub(super) fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Completed => "completed",
        RunStatus::Error => "failed",
        RunStatus::Cancelled => "cancelled",
        RunStatus::Blocked => "waiting (blocked)",
        RunStatus::Interrupted => "interrupted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::{script, SharedBuffer};

    #[test]
    fn a_run_reads_as_timestamped_lines() {
        let buffer = SharedBuffer::default();
        let renderer = PlainRenderer::new(Box::new(buffer.clone()));
        for envelope in script() {
            renderer.on_event(&envelope);
        }
        let text = buffer.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "14:03:07 cascade demo started (session s1, 2 phases)",
                "14:03:07 phase research started (model m/x)",
                "14:03:07 phase research turn 1/2",
                "14:03:07 phase research calling m/x (3 messages)",
                "14:03:08 phase research reply from m/x in 1.0s: 1000 tokens in, 200 out, $0.0010, 1 tool calls",
                "14:03:08 phase research tool set_state({\"key\":\"topic\",\"value\":\"rust\"})",
                "14:03:08 phase research tool set_state ok in 2ms: state.topic set",
                "14:03:08 phase research state.topic = \"rust\"",
                "14:03:08 phase research sounding 2/3 started (model m/y)",
                "14:03:08 phase research sounding 2 done",
                "14:03:08 phase research soundings evaluated (evaluate): sounding 2 wins",
                "14:03:08 phase research done in 1.2s",
                "14:03:08 routed research -> write (route_to)",
                "14:03:08 phase write started (model m/x)",
                "14:03:08 phase write sub-cascade child started (session s2)",
                "14:03:08   cascade child started (session s2, 1 phases)",
                "14:03:08 warning: phase write: slow model",
                "14:03:09 phase write failed: model said no",
                "14:03:10 cascade failed in 3.4s: 1200 tokens in, 300 out, $0.0012: model said no",
            ]
        );
    }
}
