//! Validators: resolve a [`ValidatorRef`] and run it on some content. Every validator
//! returns a [`Verdict`] `{valid, reason}`.
//!
//! Names resolve to a cascade-level `validators` entry (an LLM judge, see [`super::judges`],
//! or another validator under a name), a built-in, or a cascade with that `cascade_id` on
//! the tool path, in that order.

use super::builtins;
use super::judges;
use super::scripts;
use crate::cascade::catalog;
use crate::cascade::load_file;
use crate::cascade::model::{InlineValidator, ValidatorDef, ValidatorRef};
use crate::runner::children;
use crate::runner::emitter::Emitter;
use crate::runner::event::{RunEvent, RunStatus};
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;
use crate::runner::{ids, CascadeDef};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// A validator's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    pub reason: String,
}

impl Verdict {
    pub fn pass(reason: impl Into<String>) -> Self {
        Verdict { valid: true, reason: reason.into() }
    }
    pub fn fail(reason: impl Into<String>) -> Self {
        Verdict { valid: false, reason: reason.into() }
    }
}

/// A readable name for a validator reference (for events and messages).
pub fn label(v: &ValidatorRef) -> String {
    match v {
        ValidatorRef::Name(n) => n.clone(),
        ValidatorRef::Inline(InlineValidator::Bash(_)) => "inline bash".into(),
        ValidatorRef::Inline(InlineValidator::Python(_)) => "inline python".into(),
        ValidatorRef::Inline(InlineValidator::JavaScript(_)) => "inline javascript".into(),
        ValidatorRef::Inline(InlineValidator::Tool { tool, .. }) => tool.clone(),
    }
}

/// Where a verdict was asked for: its role (`loop_until`, `ward:post`, ...) and phase.
#[derive(Debug, Clone, Copy)]
pub struct Use<'a> {
    pub phase: &'a str,
    pub role: &'a str,
    pub mode: Option<&'a str>,
}

/// Run a validator and report its verdict as an event.
pub async fn check(
    env: &PhaseEnv<'_>,
    v: &ValidatorRef,
    content: &str,
    state: &mut RunState,
    usage: Use<'_>,
) -> Verdict {
    let verdict = Box::pin(run(env, v, content, state, usage.phase, 0)).await;
    env.emitter.emit(RunEvent::ValidatorVerdict {
        phase: usage.phase.to_string(),
        role: usage.role.to_string(),
        validator: label(v),
        valid: verdict.valid,
        reason: verdict.reason.clone(),
        mode: usage.mode.map(str::to_string),
    });
    verdict
}

async fn run(
    env: &PhaseEnv<'_>,
    v: &ValidatorRef,
    content: &str,
    state: &mut RunState,
    phase: &str,
    depth: u32,
) -> Verdict {
    if depth > 8 {
        return Verdict::fail(format!("validator `{}` refers to itself", label(v)));
    }
    match v {
        ValidatorRef::Name(name) => {
            if let Some(def) = env.def.cascade.validator_def(name) {
                return match def {
                    Ok(ValidatorDef::Judge(judge)) => judges::run(env, name, &judge, content, state, phase).await,
                    Ok(ValidatorDef::Ref(inner)) => Box::pin(run(env, &inner, content, state, phase, depth + 1)).await,
                    Err(e) => Verdict::fail(format!("validator `{name}` is malformed: {e}")),
                };
            }
            if catalog::is_builtin_validator(name) {
                return builtins::run(env, name, &Map::new(), content, state, phase).await;
            }
            match env.tool_path.find(name) {
                Some(found) => cascade_validator(env, &found.path.clone(), content, phase).await,
                None => Verdict::fail(format!("unknown validator `{name}`")),
            }
        }
        ValidatorRef::Inline(InlineValidator::Tool { tool, inputs }) => {
            if catalog::is_builtin_validator(tool) {
                return builtins::run(env, tool, inputs, content, state, phase).await;
            }
            tool_validator(env, tool, inputs, content, state, phase).await
        }
        ValidatorRef::Inline(InlineValidator::Bash(src)) => {
            scripts::verdict(env, scripts::Language::Bash, src, content, phase).await
        }
        ValidatorRef::Inline(InlineValidator::Python(src)) => {
            scripts::verdict(env, scripts::Language::Python, src, content, phase).await
        }
        ValidatorRef::Inline(InlineValidator::JavaScript(src)) => {
            scripts::verdict(env, scripts::Language::JavaScript, src, content, phase).await
        }
    }
}

/// A registered tool used as a validator: its result is `{valid, reason}` or a boolean.
async fn tool_validator(
    env: &PhaseEnv<'_>,
    tool: &str,
    inputs: &Map<String, Value>,
    content: &str,
    state: &mut RunState,
    phase: &str,
) -> Verdict {
    let Some(t) = crate::runner::toolbox::phase_toolset::resolve(env, tool) else {
        return Verdict::fail(format!("validator tool `{tool}` is not available"));
    };
    let mut vars = crate::runner::templating::base(state, Default::default());
    vars.insert("content".into(), Value::String(content.to_string()));
    let mut args = Map::new();
    for (k, v) in inputs {
        match crate::runner::templating::render_value(v, &vars) {
            Ok(r) => {
                args.insert(k.clone(), r);
            }
            Err(e) => return Verdict::fail(format!("rendering validator input `{k}`: {e}")),
        }
    }
    args.entry("content").or_insert_with(|| Value::String(content.to_string()));
    let ctx = env.tool_context(phase, state);
    match t.call(Value::Object(args), &ctx).await {
        Ok(out) => from_value(&out.value).unwrap_or_else(|| from_text(&out.text)),
        Err(e) => Verdict::fail(format!("validator tool `{tool}` failed: {e}")),
    }
}

/// A validator cascade: run it with the content as input; its output is the verdict.
async fn cascade_validator(env: &PhaseEnv<'_>, path: &std::path::Path, content: &str, phase: &str) -> Verdict {
    let loaded = load_file(path);
    let ok = !loaded.has_errors();
    let Some(cascade) = loaded.cascade.filter(|_| ok) else {
        return Verdict::fail(format!("validator cascade {} does not load", path.display()));
    };
    let def = Arc::new(CascadeDef { cascade, path: path.to_path_buf(), text: loaded.text });
    let child_id = format!("{}-v{}", env.emitter.session_id(), ids::new_session_id().trim_start_matches("s-"));
    let child: Emitter = env.emitter.child(&child_id);
    let input: Map<String, Value> =
        [("content", content), ("text", content)].into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    env.emitter.emit(RunEvent::SubCascadeStarted {
        phase: phase.to_string(),
        child_session_id: child_id.clone(),
        cascade_id: def.cascade.cascade_id.clone(),
        r#async: false,
    });
    let result =
        children::run(env.run_child, env.runner, def, input, &child, Some(env.emitter.session_id().to_string())).await;
    env.emitter.emit(RunEvent::SubCascadeFinished {
        phase: phase.to_string(),
        child_session_id: child_id,
        status: result.status,
    });
    if result.status != RunStatus::Completed {
        return Verdict::fail(format!("validator cascade failed: {}", result.errors.join("; ")));
    }
    from_text(&crate::runner::state::output_text(&result.output))
}

/// A verdict from a JSON value: `{valid, reason}`, or a plain boolean.
pub fn from_value(v: &Value) -> Option<Verdict> {
    match v {
        Value::Bool(b) => Some(Verdict { valid: *b, reason: String::new() }),
        Value::Object(o) => {
            let valid = match o.get("valid").or_else(|| o.get("is_valid")).or_else(|| o.get("passed"))? {
                Value::Bool(b) => *b,
                Value::String(s) => crate::cascade::lax::parse_bool(s)?,
                _ => return None,
            };
            let reason = o.get("reason").map(|r| r.as_str().map(str::to_string).unwrap_or_else(|| r.to_string()));
            Some(Verdict { valid, reason: reason.unwrap_or_default() })
        }
        _ => None,
    }
}

/// A verdict from text: the first JSON object holding `valid`, else a VALID/INVALID word.
pub fn from_text(text: &str) -> Verdict {
    let mut start = 0;
    while let Some(i) = text[start..].find('{') {
        let from = start + i;
        let mut de = serde_json::Deserializer::from_str(&text[from..]).into_iter::<Value>();
        if let Some(Ok(v)) = de.next() {
            if let Some(verdict) = from_value(&v) {
                return verdict;
            }
        }
        start = from + 1;
    }
    let upper = text.to_ascii_uppercase();
    if upper.contains("INVALID") || upper.contains("\"VALID\": FALSE") {
        Verdict::fail(text.trim().to_string())
    } else if upper.contains("VALID") || upper.trim() == "YES" || upper.contains("PASS") {
        Verdict::pass(text.trim().to_string())
    } else {
        Verdict::fail(format!("the validator's answer is not a verdict: {}", text.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_from_text() {
        assert!(from_text("Sure. {\"valid\": true, \"reason\": \"ok\"}").valid);
        let v = from_text("```json\n{\"valid\": false, \"reason\": \"too short\"}\n```");
        assert!(!v.valid);
        assert_eq!(v.reason, "too short");
        assert!(!from_text("INVALID: nope").valid);
        assert!(from_text("VALID").valid);
        assert!(!from_text("hmm").valid);
        assert!(from_value(&json!(true)).unwrap().valid);
        assert!(!from_value(&json!({"valid": "no"})).unwrap().valid);
    }
}
