//! `windlass_data`: a whole LLM phase given inline (`inputs.phase_yaml`, or `inputs.code` as the
//! original's notebooks write it): instructions, model, output_schema, soundings, wards, tackle.
//! It runs under the deterministic phase's name with the usual template variables, and its
//! structured output is kept like any data phase's result (table `_<phase>` for a list of
//! records, see [`crate::tools::data::shape`]).

use crate::cascade::model::Phase;
use crate::runner::error::RunError;
use crate::runner::llm_phase::output_schema::extract_json;
use crate::runner::phase_env::{PhaseEnv, PhaseOutcome};
use crate::runner::state::RunState;
use crate::tools::data::shape::{self, Produced};
use serde_json::Value;

/// The input keys that may hold the phase, in the order they are looked for.
pub const PHASE_KEYS: &[&str] = &["phase_yaml", "cell_yaml", "code"];

pub async fn run(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<PhaseOutcome, RunError> {
    let inner = inner_phase(phase)?;
    let outcome = crate::runner::llm_phase::phase::run(env, &inner, state).await?;
    let produced = match extract_json(&outcome.output) {
        Some(v) => Produced::Value(v),
        None => Produced::Value(Value::String(outcome.output.clone())),
    };
    let ctx = env.tool_context(&phase.name, state);
    let kept = shape::keep(produced, &ctx).await.map_err(|e| RunError::phase(&phase.name, e.to_string()))?;
    Ok(PhaseOutcome { conversation: outcome.conversation, ..PhaseOutcome::shaped(kept.value) })
}

/// The LLM phase the inputs describe, named like the phase that holds it.
fn inner_phase(phase: &Phase) -> Result<Phase, RunError> {
    let fail = |message: String| RunError::phase(&phase.name, message);
    let (key, given) = PHASE_KEYS
        .iter()
        .find_map(|k| phase.inputs.get(*k).map(|v| (*k, v)))
        .ok_or_else(|| fail("windlass_data needs the LLM phase in inputs.phase_yaml (or inputs.code)".into()))?;
    let mut value = match given {
        Value::String(text) => {
            crate::cascade::tree::parse_yaml(text)
                .map_err(|d| {
                    let first =
                        d.first().map(|d| format!("line {}: {}", d.line.unwrap_or(0), d.message)).unwrap_or_default();
                    fail(format!("inputs.{key} is not valid YAML: {first}"))
                })?
                .value
        }
        other => other.clone(),
    };
    let Value::Object(map) = &mut value else {
        return Err(fail(format!(
            "windlass_data: inputs.{key} must be an LLM phase (a mapping with `instructions`), not {}",
            short(given)
        )));
    };
    if !map.get("instructions").is_some_and(Value::is_string) {
        return Err(fail(format!("windlass_data: the phase in inputs.{key} has no `instructions`")));
    }
    map.insert("name".into(), Value::String(phase.name.clone()));
    map.remove("tool");
    // The holding phase routes; the inner one only answers.
    map.remove("handoffs");
    serde_json::from_value(value).map_err(|e| fail(format!("windlass_data: the phase in inputs.{key}: {e}")))
}

fn short(v: &Value) -> String {
    let text = match v {
        Value::String(s) => format!("the text `{s}`"),
        other => other.to_string(),
    };
    let cut: String = text.chars().take(120).collect();
    if cut.len() < text.len() {
        format!("{cut}...")
    } else {
        cut
    }
}
