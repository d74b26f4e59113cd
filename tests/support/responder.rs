//! A fake model that answers the way a cooperative one would, for running whole cascades:
//! verdict JSON for validator judges, schema-shaped JSON for `output_schema` phases, a
//! winner for evaluators, and otherwise a paragraph long enough for length checks.

use super::fake_llm::Reply;
use serde_json::{json, Map, Value};

/// A reply to any request, chosen from what the request asks for.
pub fn cooperative(body: &Value) -> Reply {
    let msgs = super::requests::messages(body);
    let system: String =
        msgs.iter().filter(|(r, _)| r == "system").map(|(_, c)| c.as_str()).collect::<Vec<_>>().join("\n");
    let last_user = msgs.iter().rev().find(|(r, _)| r == "user").map(|(_, c)| c.clone()).unwrap_or_default();
    if system.contains("\"valid\": true or false") {
        return Reply::text("{\"valid\": true, \"reason\": \"looks fine\"}");
    }
    if system.contains("You select tools for a task.") {
        return Reply::text("[]");
    }
    if system.contains("Rewrite the prompt") {
        return Reply::text(format!("Please do this: {last_user}"));
    }
    if system.contains("The attempts are numbered 1 to") {
        return Reply::text("1 is the clearest.");
    }
    // A schema asked for anywhere in the conversation still applies on later turns.
    if let Some(schema) = msgs.iter().rev().filter(|(r, _)| r == "user").find_map(|(_, c)| schema_in(c)) {
        return Reply::text(format!("```json\n{}\n```", instance(&schema)));
    }
    // Answer inside every <tag> the task asks for (scratchpads, extraction patterns).
    let task: String = msgs.iter().filter(|(r, _)| r == "user").map(|(_, c)| c.as_str()).collect::<Vec<_>>().join("\n");
    let mut text = PARAGRAPH.to_string();
    for tag in tags(&task) {
        text.push_str(&format!("\n<{tag}>{PARAGRAPH}</{tag}>"));
    }
    Reply::text(text)
}

/// Tag names written as `<name>` in a text.
fn tags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(0);
        let name = &rest[..end];
        if !name.is_empty()
            && name.len() < 30
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !out.iter().any(|t| t == name)
        {
            out.push(name.to_string());
        }
    }
    out
}

/// Long enough for length validators, with the words the corpus's inline validators look for.
pub const PARAGRAPH: &str = "Here is a complete answer. Summary: the plan has clear steps and an action for each week. \
Resources: a small team and a modest budget. Timeline: four weeks, one month in all. Risks: schedule slips and unclear \
requirements, each with a mitigation. Metrics: we measure progress with two KPIs every day. This is important, thorough \
and specific, so it should satisfy a careful reader who wants detail, structure and concrete next steps. \
Finally, every section above was checked twice for accuracy, and the open questions are listed with owners and dates.";

fn schema_in(text: &str) -> Option<Value> {
    let at = text.find("matches this JSON Schema:")?;
    let rest = &text[at..];
    let start = rest.find("```json")? + 7;
    let end = rest[start..].find("```")? + start;
    serde_json::from_str(rest[start..end].trim()).ok()
}

/// A small instance of a JSON Schema: required properties filled with typed values.
pub fn instance(schema: &Value) -> Value {
    if let Some(e) = schema.get("enum").and_then(Value::as_array).and_then(|a| a.first()) {
        return e.clone();
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or(if schema.get("properties").is_some() {
        "object"
    } else {
        "string"
    });
    match ty {
        "object" => {
            let mut m = Map::new();
            let props = schema.get("properties").and_then(Value::as_object);
            let required: Vec<String> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if let Some(props) = props {
                for (k, v) in props {
                    m.insert(k.clone(), instance(v));
                }
            }
            for k in required {
                m.entry(k).or_insert_with(|| json!("example"));
            }
            Value::Object(m)
        }
        "array" => {
            let item = schema.get("items").map(instance).unwrap_or(json!("item"));
            Value::Array(vec![item])
        }
        "integer" | "number" => {
            let min = schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.0);
            if ty == "integer" {
                json!(min.ceil() as i64)
            } else {
                json!(min)
            }
        }
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => {
            let pattern = schema.get("pattern").and_then(Value::as_str).unwrap_or("");
            let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
            let mut s = if pattern.contains('@') || format == "email" {
                "someone@example.com".to_string()
            } else if pattern.contains(r"\d{4}-\d{2}-\d{2}") || format == "date-time" {
                "2024-01-01T00:00:00Z".to_string()
            } else {
                "example".to_string()
            };
            let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            while s.len() < min {
                s.push('x');
            }
            json!(s)
        }
    }
}
