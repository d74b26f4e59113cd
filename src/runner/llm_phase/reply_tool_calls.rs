//! Tool calls in prompt mode: found in the reply text, in the three shapes models use:
//! fenced JSON `{"tool", "arguments"}`, `<tool_call>` tags, and OpenAI-shaped JSON
//! (`{"name", "arguments"}`, `{"function": {...}}`, `{"tool_calls": [...]}`).

use crate::llm::ToolCall;
use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

fn fenced() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?s)```[ \t]*(?:json|JSON|tool_call|tool)?[ \t]*\r?\n(.*?)```").expect("regex"))
}

fn tagged() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?s)<tool_call>\s*(.*?)\s*</tool_call>").expect("regex"))
}

/// Every tool call in a reply, in order. Text that merely mentions JSON is not a call: a
/// candidate must name a tool (`tool`, `name` or `function.name`).
pub fn parse(text: &str) -> Vec<ToolCall> {
    let mut calls = Vec::new();
    for cap in tagged().captures_iter(text) {
        collect(&cap[1], &mut calls);
    }
    if calls.is_empty() {
        for cap in fenced().captures_iter(text) {
            collect(&cap[1], &mut calls);
        }
    }
    if calls.is_empty() {
        let t = text.trim();
        if t.starts_with('{') || t.starts_with('[') {
            collect(t, &mut calls);
        }
    }
    for (i, c) in calls.iter_mut().enumerate() {
        c.id = format!("call_{}", i + 1);
    }
    calls
}

fn collect(block: &str, calls: &mut Vec<ToolCall>) {
    let Ok(v) = serde_json::from_str::<Value>(block.trim()) else { return };
    from_value(&v, calls);
}

fn from_value(v: &Value, calls: &mut Vec<ToolCall>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| from_value(i, calls)),
        Value::Object(o) => {
            if let Some(Value::Array(list)) = o.get("tool_calls") {
                list.iter().for_each(|i| from_value(i, calls));
                return;
            }
            if let Some(f) = o.get("function").filter(|f| f.is_object()) {
                return from_value(f, calls);
            }
            let name = o.get("tool").or_else(|| o.get("name")).and_then(Value::as_str);
            let Some(name) = name else { return };
            let args =
                o.get("arguments").or_else(|| o.get("args")).or_else(|| o.get("parameters")).or_else(|| o.get("input"));
            calls.push(ToolCall { id: String::new(), name: name.to_string(), arguments: decode_arguments(args) });
        }
        _ => {}
    }
}

/// Arguments may be an object or a JSON string holding one (OpenAI's shape).
pub fn decode_arguments(args: Option<&Value>) -> Value {
    match args {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        Some(other) => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fenced_json() {
        let t = "I'll save it.\n```json\n{\"tool\": \"set_state\", \"arguments\": {\"key\": \"k\", \"value\": 1}}\n```\nDone.";
        let c = parse(t);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name, "set_state");
        assert_eq!(c[0].arguments, json!({"key": "k", "value": 1}));
    }

    #[test]
    fn tags_and_openai_shapes() {
        let t = "<tool_call>{\"name\": \"route_to\", \"arguments\": \"{\\\"target\\\": \\\"b\\\"}\"}</tool_call>";
        let c = parse(t);
        assert_eq!(c[0].name, "route_to");
        assert_eq!(c[0].arguments, json!({"target": "b"}));
        let t = "{\"tool_calls\": [{\"id\": \"x\", \"type\": \"function\", \"function\": {\"name\": \"a\", \"arguments\": \"{}\"}}, {\"function\": {\"name\": \"b\", \"arguments\": {\"q\": 1}}}]}";
        let c = parse(t);
        assert_eq!(c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(c[1].id, "call_2");
    }

    #[test]
    fn prose_and_plain_json_are_not_calls() {
        assert!(parse("Here is some text with {braces}.").is_empty());
        assert!(parse("```json\n{\"answer\": 42}\n```").is_empty());
        assert!(parse("```\nnot json\n```").is_empty());
    }
}
