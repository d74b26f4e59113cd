//! Where control goes after a phase (cascade-format.md, Routing): a `route_to` choice among
//! the handoffs wins; else a deterministic `routing` match; else the first handoff; else the
//! next phase in the file; after the last phase the cascade ends.

use crate::cascade::model::Cascade;
use crate::runner::error::RunError;
use crate::runner::event::RouteReason;
use crate::runner::phase_env::PhaseOutcome;
use serde_json::Value;

pub fn next(cascade: &Cascade, i: usize, outcome: &PhaseOutcome) -> Result<Option<(usize, RouteReason)>, RunError> {
    let phase = &cascade.phases[i];
    let find = |name: &str, reason| -> Result<Option<(usize, RouteReason)>, RunError> {
        match name {
            "next" => Ok((i + 1 < cascade.phases.len()).then_some((i + 1, reason))),
            "self" => Ok(Some((i, reason))),
            // A phase may be named `end`; otherwise `end` stops the cascade (compat).
            "end" if cascade.phase_index("end").is_none() => Ok(None),
            _ => cascade.phase_index(name).map(|n| Some((n, reason))).ok_or_else(|| {
                RunError::phase(&phase.name, format!("routes to `{name}`, which is not a phase of this cascade"))
            }),
        }
    };
    if let Some(target) = &outcome.on_error {
        return find(target, RouteReason::OnError);
    }
    if let Some(target) = &outcome.route {
        return find(target, RouteReason::RouteTo);
    }
    if !phase.routing.is_empty() {
        let matched = outcome
            .routing_value
            .as_deref()
            .and_then(|v| phase.routing.get(v))
            .or_else(|| phase.routing.get("default"))
            .and_then(Value::as_str);
        if let Some(target) = matched {
            return find(target, RouteReason::Routing);
        }
    }
    if let Some(first) = phase.handoffs.first() {
        return find(first.target(), RouteReason::Handoff);
    }
    Ok((i + 1 < cascade.phases.len()).then_some((i + 1, RouteReason::Next)))
}
