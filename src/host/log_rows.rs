//! Turning engine events into `unified_logs` rows.

use crate::runner::event::{Envelope, RunEvent};
use crate::store::LogRow;

/// The log row for one event. `epoch` is the owner's fencing token: with the session id and
/// the event's sequence number it makes the row's id deterministic, so a retried insert is
/// recognisable and a resumed session (a higher epoch) never collides with the crashed one.
/// The end of a run is `<session>:<epoch>:end`: one owner ends its run once, and the worker
/// that finds a session checkpointed to its end logs that end under the same id (see
/// `already_ended`), so it is one row whether or not the owner had logged it.
pub fn log_row(e: &Envelope, epoch: u64, cascade_id: &str, parent: &str) -> LogRow {
    let message_id = match e.event {
        RunEvent::CascadeFinished { .. } => format!("{}:{epoch}:end", e.session_id),
        _ => format!("{}:{epoch}:{}", e.session_id, e.seq),
    };
    let mut row = LogRow {
        parent_session_id: parent.to_string(),
        cascade_id: cascade_id.to_string(),
        ..LogRow::new(
            message_id,
            e.session_id.to_string(),
            e.event.name(),
            e.at,
            serde_json::to_string(&e.event).unwrap_or_default(),
        )
    };
    match &e.event {
        RunEvent::CascadeStarted { cascade_id: c, parent_session_id, .. } => {
            row.cascade_id = c.clone();
            row.parent_session_id = parent_session_id.clone().unwrap_or_default();
        }
        RunEvent::PhaseStarted { phase, model, .. } => {
            row.phase_name = phase.clone();
            row.model = model.clone().unwrap_or_default();
        }
        RunEvent::TurnStarted { phase, turn, attempt, .. } => {
            row.phase_name = phase.clone();
            row.turn = *turn;
            row.attempt = *attempt;
        }
        RunEvent::LlmRequest { phase, model, request_hash, sounding_index, .. } => {
            row.phase_name = phase.clone();
            row.role = "user".into();
            row.model = model.clone();
            row.request_hash = request_hash.clone();
            row.sounding_index = sounding_index.map(|i| i as i32).unwrap_or(-1);
        }
        RunEvent::LimitWait { phase, model, sounding_index, .. } => {
            row.phase_name = phase.clone();
            row.model = model.clone();
            row.sounding_index = sounding_index.map(|i| i as i32).unwrap_or(-1);
        }
        RunEvent::LlmResponse {
            phase,
            model,
            tokens_in,
            tokens_out,
            cost,
            duration_ms,
            request_hash,
            sounding_index,
            ..
        } => {
            row.phase_name = phase.clone();
            row.role = "assistant".into();
            row.model = model.clone();
            row.tokens_in = *tokens_in;
            row.tokens_out = *tokens_out;
            row.cost = cost.unwrap_or(0.0);
            row.duration_ms = *duration_ms;
            row.request_hash = request_hash.clone();
            row.sounding_index = sounding_index.map(|i| i as i32).unwrap_or(-1);
        }
        RunEvent::ToolCall { phase, .. } => {
            row.phase_name = phase.clone();
            row.role = "assistant".into();
        }
        RunEvent::ToolResult { phase, duration_ms, .. } => {
            row.phase_name = phase.clone();
            row.role = "tool".into();
            row.duration_ms = *duration_ms;
        }
        RunEvent::SoundingStarted { phase, index, model, .. } => {
            row.phase_name = phase.clone();
            row.sounding_index = *index as i32;
            row.model = model.clone().unwrap_or_default();
        }
        RunEvent::SoundingFinished { phase, index, .. } => {
            row.phase_name = phase.clone();
            row.sounding_index = *index as i32;
        }
        RunEvent::AttemptFailed { phase, attempt, .. } => {
            row.phase_name = phase.clone();
            row.attempt = *attempt;
        }
        RunEvent::PhaseFinished { phase, duration_ms, .. } => {
            row.phase_name = phase.clone();
            row.duration_ms = *duration_ms;
        }
        RunEvent::CascadeFinished { tokens_in, tokens_out, cost, duration_ms, .. } => {
            row.tokens_in = *tokens_in;
            row.tokens_out = *tokens_out;
            row.cost = *cost;
            row.duration_ms = *duration_ms;
        }
        RunEvent::StateSet { phase, .. }
        | RunEvent::ValidatorVerdict { phase, .. }
        | RunEvent::SoundingsEvaluated { phase, .. }
        | RunEvent::SubCascadeStarted { phase, .. }
        | RunEvent::SubCascadeFinished { phase, .. }
        | RunEvent::HumanInputRequested { phase, .. }
        | RunEvent::Callout { phase, .. }
        | RunEvent::Checkpoint { phase, .. }
        | RunEvent::PhaseFailed { phase, .. } => row.phase_name = phase.clone(),
        RunEvent::Routed { from, .. } => row.phase_name = from.clone(),
        RunEvent::SignalReceived { phase, .. } | RunEvent::Warning { phase, .. } => {
            row.phase_name = phase.clone().unwrap_or_default()
        }
    }
    row
}
