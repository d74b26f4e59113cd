//! Template contexts: the variables each kind of template sees (cascade-format.md).

use super::state::RunState;
use crate::cascade::template;
use minijinja::value::Value as JValue;
use minijinja::Environment;
use serde_json::{Map, Value};

/// The process-wide template environment (compiling filters once).
pub fn env() -> &'static Environment<'static> {
    template::shared()
}

/// Sounding variables (`sounding_index`, `sounding_factor`, `is_sounding`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SoundingVars {
    pub index: u32,
    pub factor: u32,
    pub active: bool,
}

/// The base variables: `input`, `state`, `outputs`, `lineage`, sounding vars (and
/// `history` through [`base_for`], since it is the costly one).
pub fn base(state: &RunState, sounding: SoundingVars) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("input".into(), Value::Object(state.input.clone()));
    m.insert("state".into(), Value::Object(state.state.clone()));
    m.insert("outputs".into(), Value::Object(state.outputs.clone()));
    m.insert("lineage".into(), serde_json::to_value(&state.lineage).unwrap_or_default());
    m.insert("sounding_index".into(), sounding.index.into());
    m.insert("sounding_factor".into(), sounding.factor.max(1).into());
    m.insert("is_sounding".into(), sounding.active.into());
    m
}

/// [`base`] plus `history` (every earlier message) when `source` uses it.
pub fn base_for(source: &str, state: &RunState, sounding: SoundingVars) -> Map<String, Value> {
    let mut m = base(state, sounding);
    if !source.contains("history") {
        return m;
    }
    let history: Vec<Value> = state
        .order
        .iter()
        .filter_map(|p| state.conversations.get(p))
        .flatten()
        .map(|msg| serde_json::json!({"role": msg.role, "content": msg.content}))
        .collect();
    m.insert("history".into(), Value::Array(history));
    m
}

/// Render a template with variables. Inputs are data: the result is never rendered again.
pub fn render(source: &str, vars: &Map<String, Value>) -> Result<String, String> {
    if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
        return Ok(source.to_string());
    }
    // Convert only the variables the template can name: outputs and lineage grow with the run.
    let used: Map<String, Value> =
        vars.iter().filter(|(k, _)| source.contains(k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let ctx = JValue::from(minijinja::value::Serde(&used));
    template::render(env(), source, &ctx).map_err(|e| {
        let mut msg = e.kind().to_string();
        if let Some(detail) = e.detail() {
            msg = format!("{msg}: {detail}");
        }
        if let Some(line) = e.line() {
            msg = format!("{msg} (template line {line})");
        }
        msg
    })
}

/// A rendered `inputs` value that looks like JSON is decoded (cascade-format.md).
pub fn decode_if_json(rendered: String) -> Value {
    let t = rendered.trim();
    let looks_json = (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
    if looks_json {
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            return v;
        }
    }
    Value::String(rendered)
}

/// Render every string inside a JSON value (for `inputs`, `input_map`).
pub fn render_value(value: &Value, vars: &Map<String, Value>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => decode_if_json(render(s, vars)?),
        Value::Array(items) => Value::Array(items.iter().map(|v| render_value(v, vars)).collect::<Result<_, _>>()?),
        Value::Object(map) => Value::Object(
            map.iter().map(|(k, v)| Ok((k.clone(), render_value(v, vars)?))).collect::<Result<Map<_, _>, String>>()?,
        ),
        other => other.clone(),
    })
}
