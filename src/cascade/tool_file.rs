//! Declarative tool files (`<name>.tool.json`, `<name>.tool.yaml`) on the tool search path:
//! their definition and how a bad one is reported (cascade-format.md, "Declarative tools").

use super::tree;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The file name endings of a declarative tool.
pub const SUFFIXES: &[&str] = &[".tool.json", ".tool.yaml", ".tool.yml"];

/// One declarative tool.
#[derive(Debug, Clone)]
pub struct ToolDef {
    pub tool_id: String,
    pub description: String,
    pub inputs_schema: Map<String, Value>,
    pub kind: ToolKind,
    /// Seconds.
    pub timeout: Option<u64>,
    pub output_transform: OutputTransform,
}

#[derive(Debug, Clone)]
pub enum ToolKind {
    Shell {
        command: String,
    },
    Http {
        method: String,
        url: String,
        headers: Map<String, Value>,
        body: Option<Value>,
        /// A dotted path into the JSON reply (`data.items[0].name`).
        response_jq: Option<String>,
    },
}

/// The file as written (flat, so errors keep their field path and line).
#[derive(Debug, Deserialize)]
struct RawToolDef {
    tool_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    inputs_schema: Map<String, Value>,
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    response_jq: Option<String>,
    #[serde(default)]
    timeout: Option<u64>,
    #[serde(default)]
    output_transform: OutputTransform,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Shell,
    Http,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum OutputTransform {
    #[default]
    Text,
    Lines,
    Json,
}

/// A tool file as found: its definition, or why it cannot be used.
#[derive(Debug, Clone)]
pub struct ToolFile {
    /// The tool's name: its `tool_id`, or the file name without the suffix when unreadable.
    pub name: String,
    pub path: PathBuf,
    pub def: Result<ToolDef, String>,
}

/// Whether a path names a declarative tool file.
pub fn is_tool_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| SUFFIXES.iter().any(|s| n.ends_with(s)))
}

/// Read a tool file. Errors name the file and, when known, the line and column.
pub fn read(path: &Path) -> ToolFile {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let stem = SUFFIXES.iter().find_map(|s| file_name.strip_suffix(s)).unwrap_or(file_name).to_string();
    let def = parse(path);
    let name = def.as_ref().map(|d| d.tool_id.clone()).unwrap_or(stem);
    ToolFile { name, path: path.to_path_buf(), def }
}

fn parse(path: &Path) -> Result<ToolDef, String> {
    let at = |line: Option<usize>, column: Option<usize>| match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        (Some(l), None) => format!("{}:{l}", path.display()),
        _ => path.display().to_string(),
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read the tool file: {e}", at(None, None)))?;
    let json = path.extension().is_some_and(|e| e == "json");
    let doc = if json { tree::parse_json(&text) } else { tree::parse_yaml(&text) }.map_err(|diags| {
        diags.first().map(|d| format!("{}: {}", at(d.line, d.column), d.message)).unwrap_or_else(|| at(None, None))
    })?;
    let raw: RawToolDef = serde_path_to_error::deserialize(&doc.value).map_err(|e| {
        let field = e.path().to_string();
        let span = doc.spans.key(if field == "." { "" } else { &field });
        format!("{}: invalid tool definition: {}", at(span.map(|s| s.line), span.map(|s| s.column)), e.inner())
    })?;
    let near = |field: &str| {
        let span = doc.spans.key(field);
        at(span.map(|s| s.line), span.map(|s| s.column))
    };
    if raw.tool_id.trim().is_empty() {
        return Err(format!("{}: `tool_id` is empty", near("tool_id")));
    }
    let kind = match raw.kind {
        Kind::Shell => ToolKind::Shell {
            command: raw.command.ok_or_else(|| format!("{}: a `shell` tool needs a `command`", near("type")))?,
        },
        Kind::Http => ToolKind::Http {
            method: raw.method.unwrap_or_else(|| "GET".into()),
            url: raw.url.ok_or_else(|| format!("{}: an `http` tool needs a `url`", near("type")))?,
            headers: raw.headers,
            body: raw.body,
            response_jq: raw.response_jq,
        },
    };
    Ok(ToolDef {
        tool_id: raw.tool_id,
        description: raw.description,
        inputs_schema: raw.inputs_schema,
        kind,
        timeout: raw.timeout,
        output_transform: raw.output_transform,
    })
}

/// Every tool file in `dir`, sorted by file name.
pub fn scan_dir(dir: &Path) -> Vec<ToolFile> {
    let Ok(read_dir) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        read_dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && is_tool_file(p)).collect();
    files.sort();
    files.iter().map(|p| read(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_yaml_tool_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greet.tool.yaml");
        std::fs::write(&path, "tool_id: greet\ntype: shell\ncommand: [1, 2]\n").unwrap();
        let found = read(&path);
        assert_eq!(found.name, "greet");
        let err = found.def.unwrap_err();
        assert!(err.starts_with(&format!("{}:3", path.display())), "{err}");
    }

    #[test]
    fn shell_and_http() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tool.json");
        std::fs::write(&path, r#"{"tool_id": "a", "type": "http", "url": "http://x/{{ q }}"}"#).unwrap();
        let def = read(&path).def.unwrap();
        assert!(matches!(def.kind, ToolKind::Http { ref method, .. } if method == "GET"));
    }
}
