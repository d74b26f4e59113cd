//! Reading a tool's arguments the way models actually send them: usually an object, sometimes
//! a bare string for a one-argument tool, numbers where a string was meant.

use super::ToolError;
use serde_json::Value;

/// The argument `name` as text. Numbers and booleans become their JSON text, objects and lists
/// their JSON (a model writing a JSON file often passes the document itself as `content`).
/// A bare string stands for the first argument.
pub(crate) fn text(args: &Value, tool: &str, name: &str) -> Result<String, ToolError> {
    optional_text(args, name).ok_or_else(|| missing(tool, name))
}

/// Like [`text`], `None` when absent or null.
pub(crate) fn optional_text(args: &Value, name: &str) -> Option<String> {
    match args {
        Value::String(bare) => Some(bare.clone()),
        Value::Object(map) => match map.get(name)? {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            other => Some(other.to_string()),
        },
        _ => None,
    }
}

/// The argument `name` as any JSON value.
pub(crate) fn value(args: &Value, tool: &str, name: &str) -> Result<Value, ToolError> {
    match args.get(name) {
        Some(value) => Ok(value.clone()),
        None => Err(missing(tool, name)),
    }
}

fn missing(tool: &str, name: &str) -> ToolError {
    ToolError::InvalidArguments(format!("{tool} needs the argument `{name}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_text() {
        assert_eq!(text(&json!({"path": "a.txt"}), "t", "path").unwrap(), "a.txt");
        assert_eq!(text(&json!("a.txt"), "t", "path").unwrap(), "a.txt");
        assert_eq!(text(&json!({"content": {"a": 1}}), "t", "content").unwrap(), r#"{"a":1}"#);
        assert_eq!(text(&json!({"n": 3}), "t", "n").unwrap(), "3");
        let err = text(&json!({}), "read_file", "path").unwrap_err();
        assert_eq!(err.to_string(), "read_file needs the argument `path`");
    }
}
