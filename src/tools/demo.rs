//! The demo functions of the original project (`python:windlass.demo_tools.<fn>`), built in,
//! returning the original's fields so templates that read them work unchanged:
//!
//! | function | fields | `_route` |
//! |---|---|---|
//! | `validate_sql(query)` | `valid`, `error` (null when valid), `cleaned_query` (the trimmed query; null when invalid) | `valid` / `invalid` |
//! | `transform_data(data, operation="identity")` | `result`, `count` (`error` instead of `result` on failure) | `success` / `empty` / `error` |
//! | `file_exists(path)` | `exists`, `is_file`, `is_directory`, `path` | `exists` / `not_found` |
//! | `parse_json(text)` | `data`, `type` (Python's type name: `dict`, `list`, `str`, ...); `error` and `data: null` on failure | `success` / `error` |
//!
//! `_route` carries the values the corpus's `routing:` maps use, so deterministic phases route
//! on them. A bad input is a result that routes, not a tool failure.

use super::{args, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Map, Value};

/// Statements a query may start with.
const SQL_KEYWORDS: &[&str] = &[
    "SELECT",
    "WITH",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "EXPLAIN",
    "DESCRIBE",
    "SHOW",
    "PRAGMA",
    "VALUES",
    "COPY",
    "MERGE",
    "TRUNCATE",
    "REPLACE",
    "SUMMARIZE",
    "FROM",
    "TABLE",
];

/// `validate_sql(query)`.
pub struct ValidateSql;

#[async_trait]
impl Tool for ValidateSql {
    fn name(&self) -> &str {
        "validate_sql"
    }
    fn description(&self) -> &str {
        "Check that a SQL query looks valid (known statement, balanced parentheses and quotes); routes valid/invalid."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"query": {"type": "string", "description": "the SQL query"}},
            "required": ["query"]
        })
    }
    async fn call(&self, args: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let query = args::text(&args, self.name(), "query")?;
        let result = match check_sql(&query) {
            Ok(_) => json!({"_route": "valid", "valid": true, "error": null, "cleaned_query": query.trim()}),
            Err(error) => json!({"_route": "invalid", "valid": false, "error": error, "cleaned_query": null}),
        };
        Ok(ToolOutput::value(result))
    }
}

/// The statement keyword of a plausible query, or what is wrong with it.
fn check_sql(query: &str) -> Result<String, String> {
    let body = strip_leading_comments(query);
    let keyword: String = body.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_uppercase();
    if body.is_empty() {
        return Err("the query is empty".into());
    }
    if !SQL_KEYWORDS.contains(&keyword.as_str()) {
        let first = body.split_whitespace().next().unwrap_or_default();
        return Err(format!("`{first}` does not start a SQL statement (expected SELECT, WITH, INSERT, ...)"));
    }
    let (mut depth, mut quote) = (0i64, None::<char>);
    for c in body.chars() {
        match (quote, c) {
            // A doubled quote inside a string closes and reopens it: still balanced.
            (Some(open), c) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return Err("a `)` has no matching `(`".into());
                }
            }
            (None, _) => {}
        }
    }
    if let Some(open) = quote {
        return Err(format!("a string opened with {open} is not closed"));
    }
    if depth > 0 {
        return Err(format!("{depth} `(` not closed"));
    }
    Ok(keyword)
}

fn strip_leading_comments(query: &str) -> &str {
    let mut rest = query.trim_start();
    loop {
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map(|(_, after)| after).unwrap_or("").trim_start();
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map(|(_, after)| after).unwrap_or("").trim_start();
        } else {
            return rest.trim_end();
        }
    }
}

/// `transform_data(data, operation="identity")`.
pub struct TransformData;

const OPERATIONS: &str = "identity, count, sum_numeric, uppercase, lowercase, drop_nulls";

#[async_trait]
impl Tool for TransformData {
    fn name(&self) -> &str {
        "transform_data"
    }
    fn description(&self) -> &str {
        "Transform rows of data (a JSON list of objects) with an operation (identity, count, sum_numeric, \
         uppercase, lowercase, drop_nulls); routes success/empty/error."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "data": {"description": "a JSON list of rows (objects), or its text"},
                "operation": {"type": "string", "description": format!("one of: {OPERATIONS}"), "default": "identity"}
            },
            "required": ["data"]
        })
    }
    async fn call(&self, args: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let data = args::value(&args, self.name(), "data")?;
        let operation = args::optional_text(&args, "operation").unwrap_or_default();
        let result = match rows_of(data) {
            // As in the original, no rows is `empty` whatever the operation.
            Ok(rows) if rows.is_empty() => json!({"_route": "empty", "result": null, "count": 0}),
            Ok(rows) => transform(rows, operation.trim()),
            Err(error) => json!({"_route": "error", "error": error, "count": 0}),
        };
        Ok(ToolOutput::value(result))
    }
}

/// The rows in `data`: a list, a list inside `{"rows": ...}` / `{"data": ...}`, one object, or
/// any of these as JSON text (inputs that look like JSON usually arrive decoded already).
fn rows_of(data: Value) -> Result<Vec<Value>, String> {
    match data {
        Value::String(text) if text.trim().is_empty() => Ok(Vec::new()),
        Value::String(text) => match serde_json::from_str(&text) {
            Ok(Value::String(_)) | Err(_) => Err("data is not a JSON list of rows".into()),
            Ok(value) => rows_of(value),
        },
        Value::Array(rows) => Ok(rows),
        Value::Object(mut map) => match map.remove("rows").or_else(|| map.remove("data")) {
            Some(Value::Array(rows)) => Ok(rows),
            Some(other) => rows_of(other),
            None => Ok(vec![Value::Object(map)]),
        },
        Value::Null => Ok(Vec::new()),
        other => Err(format!("data is a {}, not a list of rows", kind(&other))),
    }
}

/// The original's result shape: `result` and `count` (the number of input rows), routed
/// `success`; an unknown operation routes `error`. `uppercase`, `lowercase` and
/// `drop_nulls` are windlass's additions and return the changed rows.
fn transform(rows: Vec<Value>, operation: &str) -> Value {
    let count = rows.len();
    let result = match operation {
        "" | "identity" | "none" | "passthrough" => Value::Array(rows),
        "count" => json!(count),
        "sum_numeric" => sum_numeric(&rows),
        "uppercase" => rows.into_iter().map(|row| map_strings(row, &|s| s.to_uppercase())).collect(),
        "lowercase" => rows.into_iter().map(|row| map_strings(row, &|s| s.to_lowercase())).collect(),
        "drop_nulls" => rows
            .into_iter()
            .filter(|row| !row.is_null() && !row.as_object().is_some_and(|map| map.values().any(Value::is_null)))
            .collect(),
        other => {
            return json!({
                "_route": "error",
                "error": format!("Unknown operation: {other} (known: {OPERATIONS})"),
                "count": 0
            })
        }
    };
    json!({"_route": "success", "result": result, "count": count})
}

/// Per numeric field, the sum over the rows (integers stay integers). Bare numbers in the
/// list are summed as `sum`.
fn sum_numeric(rows: &[Value]) -> Value {
    let mut sums: Map<String, Value> = Map::new();
    let mut add = |field: &str, number: &serde_json::Number| {
        let sum = match (sums.get(field), number.as_i64()) {
            (None, Some(int)) => json!(int),
            (Some(Value::Number(current)), Some(int)) if current.is_i64() => {
                json!(current.as_i64().unwrap_or(0).saturating_add(int))
            }
            (current, _) => {
                json!(current.and_then(Value::as_f64).unwrap_or(0.0) + number.as_f64().unwrap_or(0.0))
            }
        };
        sums.insert(field.to_string(), sum);
    };
    for row in rows {
        match row {
            Value::Object(map) => {
                for (field, value) in map {
                    if let Value::Number(number) = value {
                        add(field, number);
                    }
                }
            }
            Value::Number(number) => add("sum", number),
            _ => {}
        }
    }
    Value::Object(sums)
}

fn map_strings(value: Value, change: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(text) => Value::String(change(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(|item| map_strings(item, change)).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, map_strings(v, change))).collect()),
        other => other,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// `file_exists(path)`.
pub struct FileExists;

#[async_trait]
impl Tool for FileExists {
    fn name(&self) -> &str {
        "file_exists"
    }
    fn description(&self) -> &str {
        "Whether a file or folder exists (relative paths are taken in the working folder); routes exists/not_found."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"path": {"type": "string", "description": "the path to check"}},
            "required": ["path"]
        })
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let raw = args::text(&args, self.name(), "path")?;
        // Only existence is revealed, never content, so absolute paths are allowed here (the
        // corpus checks `/tmp/...`) without --allow-shell.
        let path = ctx.working_dir.join(raw.trim());
        let metadata = tokio::fs::metadata(&path).await.ok();
        let exists = metadata.is_some();
        Ok(ToolOutput::value(json!({
            "_route": if exists { "exists" } else { "not_found" },
            "exists": exists,
            "is_file": metadata.as_ref().is_some_and(|m| m.is_file()),
            "is_directory": metadata.as_ref().is_some_and(|m| m.is_dir()),
            "path": raw,
        })))
    }
}

/// `parse_json(text)`.
pub struct ParseJson;

#[async_trait]
impl Tool for ParseJson {
    fn name(&self) -> &str {
        "parse_json"
    }
    fn description(&self) -> &str {
        "Parse a JSON document (also inside a ```json fence); routes success/error."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"text": {"description": "the JSON text"}},
            "required": ["text"]
        })
    }
    async fn call(&self, args: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let text = match &args {
            Value::String(_) => args.clone(),
            _ => args::value(&args, self.name(), "text")?,
        };
        let parsed = match text {
            Value::String(text) => {
                serde_json::from_str::<Value>(unfence(&text).trim()).map_err(|err| format!("not valid JSON: {err}"))
            }
            // Inputs that look like JSON arrive decoded: that already proves they parse.
            decoded => Ok(decoded),
        };
        let result = match parsed {
            Ok(data) => json!({"_route": "success", "data": data, "type": python_type(&data)}),
            Err(error) => json!({"_route": "error", "error": error, "data": null}),
        };
        Ok(ToolOutput::value(result))
    }
}

/// The body of the first Markdown code fence in `text`, or `text` itself.
fn unfence(text: &str) -> &str {
    let Some(start) = text.find("```") else { return text };
    let rest = &text[start + 3..];
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    match rest.find("```") {
        Some(end) => &rest[..end],
        None => text,
    }
}

/// The name Python gives the type of a parsed JSON value (the original reports it).
fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::context;

    async fn call(tool: &dyn Tool, args: Value) -> Value {
        let (ctx, _dir) = context(false);
        tool.call(args, &ctx).await.unwrap().value
    }

    #[tokio::test]
    async fn validate_sql_routes_valid_and_invalid() {
        for query in [
            "SELECT * FROM users WHERE active = true",
            "SELECT 'full' as mode, 'today' as date",
            "-- count\nselect count(*) from t where name = 'O''Brien';",
            "WITH a AS (SELECT 1) SELECT * FROM a",
        ] {
            let result = call(&ValidateSql, json!({ "query": format!("  {query}\n") })).await;
            assert_eq!(result["_route"], "valid", "{query}: {result}");
            assert_eq!((&result["valid"], &result["error"]), (&json!(true), &Value::Null));
            assert_eq!(result["cleaned_query"], query, "the trimmed query");
        }
        for (query, error) in [
            ("", "empty"),
            ("DROPP TABLE x", "`DROPP`"),
            ("SELECT (1", "not closed"),
            ("SELECT 1)", "no matching"),
            ("SELECT 'abc", "not closed"),
        ] {
            let result = call(&ValidateSql, json!({ "query": query })).await;
            assert_eq!(result["_route"], "invalid", "{query}");
            assert_eq!((&result["valid"], &result["cleaned_query"]), (&json!(false), &Value::Null));
            assert!(result["error"].as_str().unwrap().contains(error), "{query}: {result}");
        }
    }

    #[tokio::test]
    async fn transform_data_routes_success_empty_error() {
        // As the corpus passes it: text, or decoded by the engine.
        let text = r#"[{"id": 1, "value": 100, "category": "A"}, {"id": 2, "value": 250.5, "category": "B"}]"#;
        let result = call(&TransformData, json!({"data": text, "operation": "sum_numeric"})).await;
        assert_eq!(result, json!({"_route": "success", "result": {"id": 3, "value": 350.5}, "count": 2}));
        let decoded: Value = serde_json::from_str(text).unwrap();
        let result = call(&TransformData, json!({"data": decoded.clone()})).await;
        assert_eq!(result, json!({"_route": "success", "result": decoded, "count": 2}), "identity by default");
        let result = call(&TransformData, json!({"data": decoded, "operation": "count"})).await;
        assert_eq!(result["result"], 2);

        let empty = json!({"_route": "empty", "result": null, "count": 0});
        assert_eq!(call(&TransformData, json!({"data": "[]", "operation": "pivot"})).await, empty);
        assert_eq!(call(&TransformData, json!({"data": "not json"})).await["_route"], "error");
        let result = call(&TransformData, json!({"data": [1], "operation": "pivot"})).await;
        assert_eq!((&result["_route"], &result["count"]), (&json!("error"), &json!(0)));
        assert!(result["error"].as_str().unwrap().starts_with("Unknown operation: pivot"), "{result}");
    }

    #[tokio::test]
    async fn file_exists_routes_exists_and_not_found() {
        let (ctx, _dir) = context(false);
        std::fs::write(ctx.working_dir.join("data.json"), "{}").unwrap();
        let found = FileExists.call(json!({"path": "data.json"}), &ctx).await.unwrap().value;
        assert_eq!(
            found,
            json!({"_route": "exists", "exists": true, "is_file": true, "is_directory": false, "path": "data.json"})
        );
        let folder = FileExists.call(json!({"path": "."}), &ctx).await.unwrap().value;
        assert_eq!((&folder["is_file"], &folder["is_directory"]), (&json!(false), &json!(true)));
        let missing = FileExists.call(json!({"path": "/no/such/file.json"}), &ctx).await.unwrap().value;
        assert_eq!((missing["exists"].clone(), missing["_route"].clone()), (json!(false), json!("not_found")));
    }

    #[tokio::test]
    async fn parse_json_routes_success_and_error() {
        let result = call(&ParseJson, json!({"text": r#"{"records": [1, 2]}"#})).await;
        assert_eq!(result, json!({"_route": "success", "data": {"records": [1, 2]}, "type": "dict"}));
        let result = call(&ParseJson, json!({"text": "Here:\n```json\n[1, 2.5]\n```\nDone."})).await;
        assert_eq!((&result["data"], &result["type"]), (&json!([1, 2.5]), &json!("list")));
        let result = call(&ParseJson, json!({"text": {"already": "decoded"}})).await;
        assert_eq!(result["data"], json!({"already": "decoded"}));
        assert_eq!(call(&ParseJson, json!({"text": "3.5"})).await["type"], "float");
        let result = call(&ParseJson, json!({"text": "{oops"})).await;
        assert_eq!((result["data"].clone(), result["_route"].clone()), (Value::Null, json!("error")));
        assert!(result["error"].as_str().unwrap().contains("line 1"));
    }
}
