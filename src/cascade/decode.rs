//! Decode a parsed document into model types, turning serde errors and ignored keys into
//! located diagnostics (`file:line:col` plus the field path).

use super::diagnostic::{Diagnostic, Severity};
use super::tree::{join_index, join_key, SpanMap};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Decode `value` (found at `prefix` in the document) as `T`.
///
/// A decode error becomes one error diagnostic and `None`; every key the model does not
/// know becomes a warning, so nothing is dropped without a trace.
pub fn decode<T: DeserializeOwned>(
    value: &Value,
    prefix: &str,
    spans: &SpanMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    let mut unknown = Vec::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(prefix, &path));
    let de = serde_ignored::Deserializer::new(value, &mut on_ignored);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    for path in unknown {
        let key = path.rsplit(['.', '[']).next().unwrap_or(&path).trim_end_matches(']');
        let parent = super::tree::parent_path(&path);
        let place = if parent.is_empty() { "the top level".to_string() } else { format!("`{parent}`") };
        diags.push(at_key(
            spans,
            Severity::Warning,
            "unknown-key",
            &path,
            format!("unknown key `{key}` in {place} is ignored"),
        ));
    }
    match result {
        Ok(v) => Some(v),
        Err(err) => {
            let path = error_path(prefix, err.path());
            let inner = err.inner().to_string();
            let message = humanize(&inner);
            let text = if path.is_empty() { message } else { format!("`{path}`: {message}") };
            diags.push(at_value(spans, Severity::Error, "invalid-value", &path, text));
            None
        }
    }
}

/// A diagnostic placed at the value found at `path` (or its nearest parent).
pub fn at_value(spans: &SpanMap, severity: Severity, code: &'static str, path: &str, message: String) -> Diagnostic {
    let span = spans.value(path);
    Diagnostic {
        severity,
        code,
        message,
        line: span.map(|s| s.line),
        column: span.map(|s| s.column),
        field: (!path.is_empty()).then(|| path.to_string()),
    }
}

/// A diagnostic placed at the key that introduces `path`.
pub fn at_key(spans: &SpanMap, severity: Severity, code: &'static str, path: &str, message: String) -> Diagnostic {
    let span = spans.key(path);
    Diagnostic {
        severity,
        code,
        message,
        line: span.map(|s| s.line),
        column: span.map(|s| s.column),
        field: (!path.is_empty()).then(|| path.to_string()),
    }
}

fn humanize(serde_message: &str) -> String {
    if let Some(rest) = serde_message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return format!("missing required key `{field}`");
    }
    if let Some(rest) = serde_message.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    serde_message.to_string()
}

fn error_path(prefix: &str, path: &serde_path_to_error::Path) -> String {
    let mut out = prefix.to_string();
    for seg in path.iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => out = join_index(&out, *index),
            serde_path_to_error::Segment::Map { key } => out = join_key(&out, key),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

fn ignored_path(prefix: &str, path: &serde_ignored::Path<'_>) -> String {
    match path {
        serde_ignored::Path::Root => prefix.to_string(),
        serde_ignored::Path::Seq { parent, index } => join_index(&ignored_path(prefix, parent), *index),
        serde_ignored::Path::Map { parent, key } => join_key(&ignored_path(prefix, parent), key),
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_path(prefix, parent),
    }
}
