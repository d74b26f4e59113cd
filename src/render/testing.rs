//! A scripted run and a capturing writer, shared by the renderers' tests.

use crate::runner::event::{Envelope, RouteReason, RunEvent, RunStatus};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A `Write` whose bytes the test can read after handing a clone to a renderer.
#[derive(Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 2024-01-01T14:03:07Z.
const START: f64 = 1_704_117_787.0;

fn envelope(session: &str, seq: u64, offset: f64, depth: u32, event: RunEvent) -> Envelope {
    Envelope { session_id: session.into(), seq, at: START + offset, depth, event }
}

/// A two-phase run: `research` (a turn, a tool call, soundings) routes to `write`, which starts
/// a sub-cascade, warns and fails.
pub fn script() -> Vec<Envelope> {
    let events = vec![
        (
            0.0,
            RunEvent::CascadeStarted {
                cascade_id: "demo".into(),
                phases: 2,
                input: json!({}),
                parent_session_id: None,
            },
        ),
        (0.0, RunEvent::PhaseStarted { phase: "research".into(), kind: "llm", model: Some("m/x".into()), visit: 1 }),
        (0.0, RunEvent::TurnStarted { phase: "research".into(), turn: 1, max_turns: 2, attempt: 1, max_attempts: 1 }),
        (
            0.0,
            RunEvent::LlmRequest {
                phase: "research".into(),
                model: "m/x".into(),
                messages: 3,
                request_hash: "h".into(),
                sounding_index: None,
            },
        ),
        (
            1.0,
            RunEvent::LlmResponse {
                phase: "research".into(),
                model_requested: "m/x".into(),
                model: "m/x".into(),
                tokens_in: 1000,
                tokens_out: 200,
                cost: Some(0.001),
                duration_ms: 1000,
                request_hash: "h".into(),
                content: "ok".into(),
                tool_calls: 1,
                native_tool_calls: Vec::new(),
                replayed: false,
                sounding_index: None,
            },
        ),
        (
            1.0,
            RunEvent::ToolCall {
                phase: "research".into(),
                tool: "set_state".into(),
                arguments: json!({"key": "topic", "value": "rust"}),
            },
        ),
        (
            1.0,
            RunEvent::ToolResult {
                phase: "research".into(),
                tool: "set_state".into(),
                ok: true,
                result: "state.topic set".into(),
                duration_ms: 2,
            },
        ),
        (1.0, RunEvent::StateSet { phase: "research".into(), key: "topic".into(), value: json!("rust") }),
        (
            1.0,
            RunEvent::SoundingStarted {
                phase: "research".into(),
                index: 1,
                factor: 3,
                model: Some("m/y".into()),
                mutation: None,
            },
        ),
        (1.1, RunEvent::SoundingFinished { phase: "research".into(), index: 1, ok: true, output: "b".into() }),
        (
            1.1,
            RunEvent::SoundingsEvaluated {
                phase: "research".into(),
                winner: Some(1),
                reply: "2 is best".into(),
                mode: "evaluate".into(),
            },
        ),
        (1.2, RunEvent::PhaseFinished { phase: "research".into(), output: "notes".into(), duration_ms: 1200 }),
        (1.2, RunEvent::Checkpoint { phase: "research".into(), seq: 12, next_phase: Some("write".into()) }),
        (1.2, RunEvent::Routed { from: "research".into(), to: "write".into(), reason: RouteReason::RouteTo }),
        (1.2, RunEvent::PhaseStarted { phase: "write".into(), kind: "llm", model: Some("m/x".into()), visit: 1 }),
        (
            1.3,
            RunEvent::SubCascadeStarted {
                phase: "write".into(),
                child_session_id: "s2".into(),
                cascade_id: "child".into(),
                r#async: false,
            },
        ),
        (
            1.3,
            RunEvent::CascadeStarted {
                cascade_id: "child".into(),
                phases: 1,
                input: json!({}),
                parent_session_id: Some("s1".into()),
            },
        ),
        (1.4, RunEvent::Warning { phase: Some("write".into()), message: "slow model".into() }),
        (2.0, RunEvent::PhaseFailed { phase: "write".into(), error: "model said no".into() }),
        (
            3.0,
            RunEvent::CascadeFinished {
                status: RunStatus::Error,
                output: String::new(),
                error: Some("model said no".into()),
                tokens_in: 1200,
                tokens_out: 300,
                cost: 0.0012,
                duration_ms: 3400,
            },
        ),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(seq, (offset, event))| {
            let child = matches!(&event, RunEvent::CascadeStarted { cascade_id, .. } if cascade_id == "child");
            let (session, depth) = if child { ("s2", 1) } else { ("s1", 0) };
            envelope(session, seq as u64, offset, depth, event)
        })
        .collect()
}
