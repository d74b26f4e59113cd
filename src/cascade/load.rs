//! Loading a cascade file: read, parse (YAML or JSON), resolve `@file` templates, decode.
//!
//! Loading never panics and never stops at the first problem it can step over: every
//! diagnostic it finds is returned, each with file position and field path.

use super::decode::{at_value, decode};
use super::diagnostic::{Diagnostic, Severity};
use super::model::{Cascade, Phase};
use super::tree::{self, join_index, join_key, Document, SpanMap};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Everything loading found out about one file.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub path: PathBuf,
    /// The working directory relative references fall back to.
    pub cwd: PathBuf,
    /// The raw text (stored with sessions; hashed to detect changed files).
    pub text: String,
    /// `None` when the file could not be parsed or its top level could not be decoded.
    pub cascade: Option<Cascade>,
    /// For each decoded phase, its index in the file (phases that failed to decode are skipped).
    pub phase_index: Vec<usize>,
    /// Names of all phases in the file, including ones that failed to decode.
    pub raw_phase_names: Vec<Option<String>>,
    pub spans: SpanMap,
    /// Template fields that came from an `@file`: field path -> that file.
    pub template_files: HashMap<String, PathBuf>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    /// The field path of the decoded phase `i` (`phases[3]`).
    pub fn phase_path(&self, i: usize) -> String {
        join_index("phases", self.phase_index.get(i).copied().unwrap_or(i))
    }

    /// The folder references in this file are resolved against first.
    pub fn dir(&self) -> PathBuf {
        super::resolve::folder_of(&self.path).to_path_buf()
    }
}

/// Keys whose string value is a template and may name an `@file`.
const TEMPLATE_KEYS: &[&str] = &[
    "instructions",
    "turn_prompt",
    "retry_instructions",
    "loop_until_prompt",
    "evaluator_instructions",
    "aggregator_instructions",
    "honing_prompt",
];

/// Load a cascade file from disk; relative references also look in the process's
/// working directory.
pub fn load_file(path: &Path) -> Loaded {
    load_file_in(path, &std::env::current_dir().unwrap_or_default())
}

/// Load a cascade file from disk, with `cwd` as the working directory for references.
pub fn load_file_in(path: &Path, cwd: &Path) -> Loaded {
    let mut loaded = Loaded { path: path.to_path_buf(), cwd: cwd.to_path_buf(), ..Loaded::default() };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::IsADirectory => "it is a directory, not a cascade file".to_string(),
                _ => e.to_string(),
            };
            loaded.diagnostics.push(file_error("unreadable", format!("cannot read the cascade file: {what}")));
            return loaded;
        }
    };
    let format = Format::from_path(path);
    load_bytes(loaded, &bytes, format)
}

/// Load a cascade from text (`origin` names it in diagnostics and anchors relative paths).
pub fn load_str(text: &str, origin: &Path) -> Loaded {
    load_slice(text.as_bytes(), origin)
}

/// Load a cascade from raw bytes, which may be anything (`origin` as for [`load_str`]).
pub fn load_slice(bytes: &[u8], origin: &Path) -> Loaded {
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded = Loaded { path: origin.to_path_buf(), cwd, ..Loaded::default() };
    load_bytes(loaded, bytes, Format::from_path(origin))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
}

impl Format {
    fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

fn file_error(code: &'static str, message: String) -> Diagnostic {
    Diagnostic { severity: Severity::Error, code, message, line: None, column: None, field: None }
}

fn load_bytes(mut loaded: Loaded, bytes: &[u8], format: Format) -> Loaded {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        loaded
            .diagnostics
            .push(file_error("empty-file", "the file is empty; a cascade needs `cascade_id` and `phases`".into()));
        return loaded;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            loaded.diagnostics.push(Diagnostic {
                line: Some(line),
                ..file_error(
                    "not-text",
                    format!("the file is not UTF-8 text (invalid byte at offset {at}); is it a binary file?"),
                )
            });
            return loaded;
        }
    };
    if let Some(at) = text.find(|c: char| c == '\0' || (c.is_control() && !c.is_whitespace())) {
        let line = text[..at].lines().count().max(1);
        loaded.diagnostics.push(Diagnostic {
            line: Some(line),
            ..file_error("not-text", format!("the file holds control characters (offset {at}); is it a binary file?"))
        });
        return loaded;
    }
    loaded.text = text.to_string();
    let parsed = match format {
        Format::Yaml => tree::parse_yaml(text),
        Format::Json => tree::parse_json(text),
    };
    let Document { mut value, spans } = match parsed {
        Ok(doc) => doc,
        Err(diags) => {
            loaded.diagnostics.extend(diags);
            return loaded;
        }
    };
    loaded.spans = spans;
    let dir = loaded.dir();
    resolve_template_files(&mut value, "", &dir, &mut loaded);
    decode_cascade(&value, &mut loaded);
    loaded
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn decode_cascade(root: &Value, loaded: &mut Loaded) {
    let spans = loaded.spans.clone();
    let diags = &mut loaded.diagnostics;
    let Value::Object(map) = root else {
        diags.push(at_value(
            &spans,
            Severity::Error,
            "not-a-cascade",
            "",
            format!(
                "a cascade file must be a mapping with `cascade_id` and `phases`, but this file holds {}",
                kind_of(root)
            ),
        ));
        return;
    };
    if !map.contains_key("cascade_id") {
        diags.push(Diagnostic {
            line: Some(1),
            column: Some(1),
            ..file_error("missing-key", "missing required key `cascade_id` (the cascade's identifier)".into())
        });
    }
    let phases_key = if map.contains_key("phases") { "phases" } else { "cells" };
    let raw_phases = map.get(phases_key);
    if raw_phases.is_none() {
        diags.push(Diagnostic {
            line: Some(1),
            column: Some(1),
            ..file_error("missing-key", "missing required key `phases` (the list of phases)".into())
        });
    }

    // The top level without its phases; phases are decoded one by one below.
    let mut head_value = map.clone();
    head_value.remove("phases");
    head_value.remove("cells");
    head_value.entry("cascade_id").or_insert(Value::String(String::new()));
    let head: Option<Cascade> = decode(&Value::Object(head_value), "", &spans, diags);
    let mut cascade = head.unwrap_or_else(|| Cascade {
        cascade_id: map.get("cascade_id").and_then(Value::as_str).unwrap_or_default().to_string(),
        ..Cascade::default()
    });

    match raw_phases {
        None => {}
        Some(Value::Array(items)) => {
            if items.is_empty() {
                diags.push(at_value(
                    &spans,
                    Severity::Error,
                    "no-phases",
                    phases_key,
                    "`phases` is empty; a cascade needs at least one phase".into(),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                let path = join_index(phases_key, i);
                let name = item.get("name").and_then(Value::as_str).map(str::to_string);
                loaded.raw_phase_names.push(name.clone());
                if !item.is_object() {
                    diags.push(at_value(
                        &spans,
                        Severity::Error,
                        "invalid-phase",
                        &path,
                        format!("`{path}`: a phase must be a mapping with a `name`, but this is {}", kind_of(item)),
                    ));
                    continue;
                }
                if name.is_none() {
                    let msg = match item.get("name") {
                        None => format!("`{path}`: the phase has no `name`"),
                        Some(v) => format!("`{path}.name`: a phase name must be a string, found {}", kind_of(v)),
                    };
                    diags.push(at_value(&spans, Severity::Error, "missing-key", &join_key(&path, "name"), msg));
                    continue;
                }
                if let Some(phase) = decode::<Phase>(item, &path, &spans, diags) {
                    cascade.phases.push(phase);
                    loaded.phase_index.push(i);
                }
            }
        }
        Some(other) => {
            diags.push(at_value(
                &spans,
                Severity::Error,
                "phases-not-a-list",
                phases_key,
                format!("`{phases_key}` must be a list of phases, but it is {}", kind_of(other)),
            ));
        }
    }
    loaded.cascade = Some(cascade);
}

/// Replace `@file` template values with the file's text, relative to the cascade's folder.
fn resolve_template_files(value: &mut Value, path: &str, dir: &Path, loaded: &mut Loaded) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let child_path = join_key(path, key);
                if TEMPLATE_KEYS.contains(&key.as_str()) {
                    if let Value::String(s) = child {
                        if let Some(file) = s.strip_prefix('@') {
                            let file = file.trim();
                            match find_template_file(file, dir, &loaded.cwd) {
                                Some(file_path) => match std::fs::read_to_string(&file_path) {
                                    Ok(text) => {
                                        *s = text;
                                        loaded.template_files.insert(child_path, file_path);
                                    }
                                    Err(e) => loaded.diagnostics.push(at_value(
                                        &loaded.spans,
                                        Severity::Error,
                                        "template-file",
                                        &child_path,
                                        format!("`{child_path}` names the template file {} which cannot be read: {e}", file_path.display()),
                                    )),
                                },
                                // A warning: the working directory at run time may hold it.
                                None => loaded.diagnostics.push(at_value(
                                    &loaded.spans,
                                    Severity::Warning,
                                    "missing-file",
                                    &child_path,
                                    format!(
                                        "`{child_path}` names the template file `{file}`, which is not found next to the cascade or in the working directory; the phase fails at run time unless it exists then"
                                    ),
                                )),
                            }
                            continue;
                        }
                    }
                }
                resolve_template_files(child, &child_path, dir, loaded);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                resolve_template_files(child, &join_index(path, i), dir, loaded);
            }
        }
        _ => {}
    }
}

/// A template file: relative to the cascade's folder, then the working directory.
fn find_template_file(file: &str, dir: &Path, cwd: &Path) -> Option<PathBuf> {
    [dir.join(file), cwd.join(file)].into_iter().find(|p| p.is_file())
}
