//! `output_schema`: the phase output must be JSON satisfying a JSON Schema. The JSON is
//! taken from a fenced block or the whole reply; the validated JSON becomes the output.

use serde_json::Value;

/// The JSON a reply holds: a fenced ```json block, else the whole reply, else the first
/// `{...}`/`[...]` span that parses.
pub fn extract_json(text: &str) -> Option<Value> {
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let nl = after.find('\n')?;
        let body = &after[nl + 1..];
        let end = body.find("```")?;
        if let Ok(v) = serde_json::from_str::<Value>(body[..end].trim()) {
            return Some(v);
        }
        rest = &body[end + 3..];
    }
    if let Ok(v) = serde_json::from_str::<Value>(text.trim()) {
        return Some(v);
    }
    for (open, close) in [('{', '}'), ('[', ']')] {
        if let (Some(a), Some(b)) = (text.find(open), text.rfind(close)) {
            if a < b {
                if let Ok(v) = serde_json::from_str::<Value>(&text[a..=b]) {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// Check `text` against `schema`: the validated JSON, or a description of what is wrong.
pub fn validate(schema: &Value, text: &str) -> Result<Value, String> {
    let Some(instance) = extract_json(text) else {
        return Err("the output is not JSON (expected a JSON document, optionally in a ```json block)".into());
    };
    let errors =
        schema_errors(schema, &instance, 10).map_err(|e| format!("the output_schema itself is invalid: {e}"))?;
    if errors.is_empty() {
        Ok(instance)
    } else {
        Err(errors.join("; "))
    }
}

/// Where `instance` breaks `schema`, at most `max` problems, each prefixed with its JSON
/// pointer; `Err` when the schema itself is not one.
pub fn schema_errors(schema: &Value, instance: &Value, max: usize) -> Result<Vec<String>, String> {
    let validator = jsonschema::validator_for(schema).map_err(|e| e.to_string())?;
    Ok(validator
        .iter_errors(instance)
        .take(max)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_and_validates() {
        let schema = json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}});
        assert_eq!(validate(&schema, "```json\n{\"name\": \"x\"}\n```").unwrap(), json!({"name": "x"}));
        assert_eq!(validate(&schema, "Here: {\"name\": \"y\"} done").unwrap(), json!({"name": "y"}));
        let err = validate(&schema, "{\"other\": 1}").unwrap_err();
        assert!(err.contains("name"), "{err}");
        assert!(validate(&schema, "no json").unwrap_err().contains("not JSON"));
    }
}
