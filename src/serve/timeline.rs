//! What a session's log rows add up to for `GET /api/sessions/{id}`: one entry per phase
//! visit (when, how long, turns, attempts, tool calls, soundings with the evaluator's
//! reason, validator and ward verdicts, tokens and cost), and the question it waits on.

use crate::cascade::load_str;
use crate::cascade::model::HumanInput;
use crate::store::{CascadeSessionRow, LogRow, SessionStateRow, SessionStatus};
use serde_json::{json, Map, Value};

/// Text fields longer than this are cut in the timeline (the logs have them whole).
const CLIP: usize = 4_000;

fn clip(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if s.len() > CLIP => {
            let mut end = CLIP;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Value::String(format!("{}…", &s[..end]))
        }
        _ => v.clone(),
    }
}

/// The phase visits of a session, in the order they started.
pub fn phases(logs: &[LogRow]) -> Vec<Value> {
    let mut out: Vec<Map<String, Value>> = Vec::new();
    for row in logs {
        let Ok(event) = serde_json::from_str::<Value>(&row.content) else { continue };
        let phase = event["phase"].as_str().unwrap_or(&row.phase_name).to_string();
        if row.node_type == "phase_started" {
            let mut p = Map::new();
            p.insert("name".into(), json!(phase));
            p.insert("kind".into(), event["kind"].clone());
            p.insert("model".into(), event["model"].clone());
            p.insert("visit".into(), event["visit"].clone());
            p.insert("status".into(), json!("running"));
            p.insert("started_at".into(), json!(row.timestamp));
            for k in ["tool_calls", "verdicts", "soundings", "failed_attempts"] {
                p.insert(k.into(), json!([]));
            }
            for k in ["turns", "attempts", "tokens_in", "tokens_out"] {
                p.insert(k.into(), json!(0));
            }
            p.insert("cost".into(), json!(0.0));
            out.push(p);
            continue;
        }
        let Some(p) = out.iter_mut().rev().find(|p| p["name"] == phase.as_str()) else { continue };
        match row.node_type.as_str() {
            "turn_started" => {
                // Both count from 1.
                bump_max(p, "turns", event["turn"].as_u64());
                bump_max(p, "attempts", event["attempt"].as_u64());
            }
            "llm_response" => {
                add(p, "tokens_in", json!(row.tokens_in));
                add(p, "tokens_out", json!(row.tokens_out));
                add(p, "cost", json!(row.cost));
            }
            "tool_call" => push(
                p,
                "tool_calls",
                json!({"tool": event["tool"], "arguments": event["arguments"], "at": row.timestamp}),
            ),
            "tool_result" => {
                if let Some(last) = p["tool_calls"].as_array_mut().and_then(|a| a.last_mut()) {
                    last["ok"] = event["ok"].clone();
                    last["result"] = clip(&event["result"]);
                    last["duration_ms"] = event["duration_ms"].clone();
                }
            }
            "validator_verdict" => push(
                p,
                "verdicts",
                json!({"role": event["role"], "validator": event["validator"], "valid": event["valid"], "reason": clip(&event["reason"]), "mode": event["mode"]}),
            ),
            "attempt_failed" => {
                push(p, "failed_attempts", json!({"attempt": event["attempt"], "reason": clip(&event["reason"])}))
            }
            "sounding_started" => push(
                p,
                "soundings",
                json!({"index": event["index"], "model": event["model"], "mutation": event["mutation"], "status": "running"}),
            ),
            "sounding_finished" => {
                let index = event["index"].clone();
                if let Some(s) =
                    p["soundings"].as_array_mut().and_then(|a| a.iter_mut().rev().find(|s| s["index"] == index))
                {
                    s["status"] = json!(if event["ok"].as_bool() == Some(true) { "ok" } else { "failed" });
                    s["output"] = clip(&event["output"]);
                }
            }
            "soundings_evaluated" => {
                p.insert(
                    "evaluation".into(),
                    json!({"winner": event["winner"], "reply": clip(&event["reply"]), "mode": event["mode"]}),
                );
            }
            "phase_finished" => {
                p.insert("status".into(), json!("completed"));
                p.insert("finished_at".into(), json!(row.timestamp));
                p.insert("duration_ms".into(), event["duration_ms"].clone());
                p.insert("output".into(), clip(&event["output"]));
            }
            "phase_failed" => {
                let started = p["started_at"].as_f64().unwrap_or(row.timestamp);
                p.insert("status".into(), json!("failed"));
                p.insert("finished_at".into(), json!(row.timestamp));
                p.insert("duration_ms".into(), json!(((row.timestamp - started) * 1000.0).max(0.0).round() as u64));
                p.insert("error".into(), clip(&event["error"]));
            }
            _ => {}
        }
    }
    out.into_iter().map(Value::Object).collect()
}

fn bump_max(p: &mut Map<String, Value>, key: &str, v: Option<u64>) {
    let cur = p[key].as_u64().unwrap_or(0);
    if let Some(v) = v.filter(|v| *v > cur) {
        p.insert(key.into(), json!(v));
    }
}

fn add(p: &mut Map<String, Value>, key: &str, v: Value) {
    let sum = match (p[key].as_u64(), v.as_u64()) {
        (Some(a), Some(b)) => json!(a + b),
        _ => json!(p[key].as_f64().unwrap_or(0.0) + v.as_f64().unwrap_or(0.0)),
    };
    p.insert(key.into(), sum);
}

fn push(p: &mut Map<String, Value>, key: &str, v: Value) {
    if let Some(a) = p[key].as_array_mut() {
        a.push(v);
    }
}

/// What a session blocked on a human is asked: the prompt, the options of the phase's
/// `human_input` (from the stored definition), and any HTML the cascade gave with it (shown
/// by the page only in a sandboxed frame). `None` unless it waits on a human.
pub fn question(row: &SessionStateRow, cascade: Option<&CascadeSessionRow>, logs: &[LogRow]) -> Option<Value> {
    if row.status != SessionStatus::Blocked {
        return None;
    }
    let prompt = row.blocked_on.strip_prefix("human: ")?;
    let spec = cascade.and_then(|c| {
        let loaded = load_str(&c.definition, std::path::Path::new(&c.cascade_path));
        let phase = loaded.cascade?.phases.into_iter().find(|p| p.name == row.current_phase)?;
        match phase.human_input {
            Some(HumanInput::Spec(spec)) => Some(spec),
            _ => None,
        }
    });
    // `ask_human` may carry HTML with its question.
    let html = logs
        .iter()
        .rev()
        .filter(|r| r.node_type == "tool_call")
        .filter_map(|r| serde_json::from_str::<Value>(&r.content).ok())
        .find(|e| e["tool"] == "ask_human")
        .and_then(|e| e["arguments"]["html"].as_str().map(str::to_string));
    Some(json!({
        "phase": row.current_phase,
        "prompt": prompt,
        "kind": spec.as_ref().map(|s| format!("{:?}", s.kind).to_lowercase()),
        "options": spec.map(|s| s.options).unwrap_or_default(),
        "html": html,
    }))
}
