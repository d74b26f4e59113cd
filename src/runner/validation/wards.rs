//! Wards (cascade-format.md, "Wards"): validators around an LLM phase. Pre-wards check the
//! cascade input before the phase starts; turn wards check each turn's output and post-wards
//! the final output. A `blocking` ward stops the cascade, a `retry` ward asks for another
//! attempt, an `advisory` ward only warns.

use crate::cascade::model::{Phase, Ward, WardMode};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::runner::validation::validators::{self, Use};
use serde_json::Value;

/// A ward that failed and wants more than a warning.
pub enum Failed {
    /// A blocking ward: with no attempts left the cascade stops.
    Blocking { validator: String, reason: String },
    /// A retrying ward: another attempt, a warning once attempts run out.
    Retry { reason: String },
}

/// Attempts: the phase's `max_attempts`, raised by any retrying ward's own `max_attempts`.
pub fn attempts(phase: &Phase) -> u32 {
    let wards = phase.wards.post.iter().chain(&phase.wards.turn);
    let ward_max = wards.filter(|w| w.mode != WardMode::Advisory).filter_map(|w| w.max_attempts).max().unwrap_or(1);
    phase.rules.max_attempts().max(ward_max)
}

fn mode_name(m: WardMode) -> &'static str {
    match m {
        WardMode::Blocking => "blocking",
        WardMode::Retry => "retry",
        WardMode::Advisory => "advisory",
    }
}

/// Pre-wards see the cascade input. Only `blocking` stops; the others warn.
pub async fn pre(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<(), RunError> {
    let content = serde_json::to_string_pretty(&Value::Object(state.input.clone())).unwrap_or_default();
    for ward in &phase.wards.pre {
        let mode = mode_name(ward.mode);
        let usage = Use { phase: &phase.name, role: "ward:pre", mode: Some(mode) };
        let verdict = validators::check(env, &ward.validator, &content, state, usage).await;
        if verdict.valid {
            continue;
        }
        if ward.mode == WardMode::Blocking {
            return Err(RunError::Blocked {
                phase: phase.name.clone(),
                validator: validators::label(&ward.validator),
                reason: verdict.reason,
            });
        }
        env.emitter.emit(RunEvent::Warning {
            phase: Some(phase.name.clone()),
            message: format!("{mode} pre-ward `{}` failed: {}", validators::label(&ward.validator), verdict.reason),
        });
    }
    Ok(())
}

/// Turn wards run after each turn (fix: the original ignored them).
pub async fn turn(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState, output: &str) -> Option<Failed> {
    check(env, phase, state, output, &phase.wards.turn, "ward:turn").await
}

/// Post-wards run on the final output of an attempt.
pub async fn post(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState, output: &str) -> Option<Failed> {
    check(env, phase, state, output, &phase.wards.post, "ward:post").await
}

/// The first ward of `list` that fails and is not advisory; advisory ones warn.
async fn check(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    output: &str,
    list: &[Ward],
    role: &str,
) -> Option<Failed> {
    for ward in list {
        let mode = mode_name(ward.mode);
        let usage = Use { phase: &phase.name, role, mode: Some(mode) };
        let verdict = validators::check(env, &ward.validator, output, state, usage).await;
        if verdict.valid {
            continue;
        }
        let label = validators::label(&ward.validator);
        match ward.mode {
            WardMode::Advisory => env.emitter.emit(RunEvent::Warning {
                phase: Some(phase.name.clone()),
                message: format!("advisory ward `{label}` failed: {}", verdict.reason),
            }),
            WardMode::Blocking => return Some(Failed::Blocking { validator: label, reason: verdict.reason }),
            WardMode::Retry => return Some(Failed::Retry { reason: verdict.reason }),
        }
    }
    None
}
