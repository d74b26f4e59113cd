//! `output_extraction`: pull a regex match out of a phase's output into the state.

use crate::cascade::model::{OutputExtraction, Phase};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use regex::Regex;
use serde_json::Value;

pub fn apply(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    ex: &OutputExtraction,
    output: &str,
    state: &mut RunState,
) -> Result<(), RunError> {
    let re = Regex::new(&format!("(?s){}", ex.pattern))
        .map_err(|e| RunError::phase(&phase.name, format!("output_extraction.pattern is not a valid regex: {e}")))?;
    let Some(caps) = re.captures(output) else {
        if ex.required {
            return Err(RunError::phase(
                &phase.name,
                format!("output_extraction: the output has no match for `{}` (required)", ex.pattern),
            ));
        }
        return Ok(());
    };
    let text = caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str().trim().to_string()).unwrap_or_default();
    let value = if ex.format.as_deref() == Some("json") {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    };
    state.state.insert(ex.store_as.clone(), value.clone());
    env.emitter.emit(RunEvent::StateSet { phase: phase.name.clone(), key: ex.store_as.clone(), value });
    Ok(())
}
