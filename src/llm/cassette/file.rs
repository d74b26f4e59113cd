//! The cassette file: YAML, one exchange per entry, made to be read in a pull request (long
//! prompts and answers as literal blocks, so a changed prompt is a changed line). Each entry
//! holds the full normalised request (for review and for the diff of a miss), its hash and
//! occurrence number (what replay matches on), the call site, the decoded answer, usage and
//! cost. Nothing from the environment goes in: no key, header or store credential is part of
//! a request, and known secret values are also scrubbed from the text as a last guard.

use crate::llm::{ChatRequest, ChatResponse, ToolCall, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use yaml_rust2::yaml::{Hash, Yaml};

/// The format version written at the top of every cassette.
pub const VERSION: u64 = 1;

const HEADER: &str = "\
# windlass cassette: the model exchanges of a run, replayed with `windlass run --replay FILE`.
# Each exchange is matched by `hash` (of the normalised request) and `occurrence` (the n-th
# exchange with that hash); `request` is kept in full for review and for the diff of a miss.
# Re-record with `--record FILE` (or `--replay-or-record FILE` to add what is missing).
";

/// One recorded model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// [`ChatRequest::hash`] of `request`, as the run computed it.
    pub hash: String,
    /// 1 for the first exchange with this hash in the file, 2 for the next, ...
    pub occurrence: u32,
    pub phase: String,
    /// The n-th model call of this phase (in this sounding, at this depth).
    pub turn: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sounding: Option<u32>,
    /// 0 for the session, 1 for a sub-cascade, ...
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u32,
    /// The cascade-level sounding, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    pub request: ChatRequest,
    pub response: Answer,
    pub usage: Usage,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The decoded answer of an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The model that answered, as the provider names it.
    pub model: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

impl Exchange {
    pub fn response(&self) -> ChatResponse {
        ChatResponse {
            content: self.response.content.clone(),
            tool_calls: self.response.tool_calls.clone(),
            model: self.response.model.clone(),
            usage: self.usage,
            finish_reason: self.response.finish_reason.clone(),
            id: None,
            // Served from the cassette: no HTTP attempt was made.
            attempts: 0,
        }
    }
}

/// A whole cassette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tape {
    pub version: u64,
    #[serde(default)]
    pub exchanges: Vec<Exchange>,
}

impl Default for Tape {
    fn default() -> Self {
        Tape { version: VERSION, exchanges: Vec::new() }
    }
}

/// Why a cassette cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("read the cassette {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("write the cassette {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("read the cassette {path}: {detail}; re-record it with --record")]
    Invalid { path: String, detail: String },
}

impl Tape {
    /// Parse a cassette's text (YAML; JSON works too, being YAML).
    pub fn parse(text: &str, path: &Path) -> Result<Tape, FileError> {
        let invalid = |detail: String| FileError::Invalid { path: path.display().to_string(), detail };
        let doc = crate::cascade::tree::parse_yaml(text).map_err(|diags| {
            let d = diags.first();
            invalid(d.map(|d| format!("line {}: {}", d.line.unwrap_or(0), d.message)).unwrap_or_default())
        })?;
        let tape: Tape = serde_json::from_value(doc.value).map_err(|e| invalid(e.to_string()))?;
        if tape.version != VERSION {
            return Err(invalid(format!("it is format version {}, this windlass reads {VERSION}", tape.version)));
        }
        Ok(tape)
    }

    pub fn read(path: &Path) -> Result<Tape, FileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| FileError::Read { path: path.display().to_string(), source })?;
        Tape::parse(&text, path)
    }

    /// The text of this cassette, with every occurrence of `secrets` replaced.
    pub fn render(&self, secrets: &[String]) -> String {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        scrub(&mut value, secrets);
        format!("{HEADER}{}\n", yaml_text(&value).trim_end())
    }

    /// Write atomically (a temporary file renamed over the old one), so a run stopped while
    /// writing leaves the previous complete cassette.
    pub fn write(&self, path: &Path, secrets: &[String]) -> Result<(), FileError> {
        let err = |source| FileError::Write { path: path.display().to_string(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, self.render(secrets)).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }
}

/// Replace each secret (of a useful length) inside every string of `value`.
fn scrub(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => {
            for secret in secrets.iter().filter(|s| s.len() >= 6) {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "[redacted]");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub(v, secrets)),
        _ => {}
    }
}

/// `value` as YAML for people to read, multi-line strings as literal blocks. YAML that does not
/// read back as the same value (an odd string the emitter gets wrong) is not worth a corrupt
/// file: then it is pretty JSON, which is YAML too and always exact. (Also the text of the
/// request snapshots in tests/request_snapshots.rs.)
pub fn yaml_text(value: &Value) -> String {
    let mut yaml = String::new();
    let mut emitter = yaml_rust2::YamlEmitter::new(&mut yaml);
    emitter.multiline_strings(true);
    let emitted = emitter.dump(&to_yaml(value)).is_ok();
    let yaml = yaml.strip_prefix("---\n").unwrap_or(&yaml).to_string();
    let exact = emitted && crate::cascade::tree::parse_yaml(&yaml).map(|d| d.value == *value).unwrap_or(false);
    if exact {
        yaml
    } else {
        serde_json::to_string_pretty(value).unwrap_or_default()
    }
}

fn to_yaml(value: &Value) -> Yaml {
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(format!("{:?}", n.as_f64().unwrap_or_default())),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Value::Object(map) => {
            let mut h = Hash::new();
            for (k, v) in map {
                h.insert(Yaml::String(k.clone()), to_yaml(v));
            }
            Yaml::Hash(h)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Message;
    use serde_json::json;

    fn exchange(content: &str) -> Exchange {
        Exchange {
            hash: "abc".into(),
            occurrence: 1,
            phase: "greet".into(),
            turn: 1,
            sounding: Some(2),
            depth: 0,
            attempt: None,
            request: ChatRequest {
                model: "m".into(),
                messages: vec![Message::system("Be brief.\nReally.\n"), Message::user(content)],
                tools: Vec::new(),
                temperature: Some(0.5),
                max_tokens: None,
            },
            response: Answer {
                model: "m-1".into(),
                content: "Hello,\n  Ada: 'yes' # no comment".into(),
                tool_calls: vec![ToolCall { id: "c1".into(), name: "t".into(), arguments: json!({"n": 1.0}) }],
                finish_reason: Some("stop".into()),
            },
            usage: Usage { tokens_in: 12, tokens_out: 3, cost: Some(0.0001) },
        }
    }

    #[test]
    fn a_cassette_reads_back_exactly_with_prompts_as_literal_blocks() {
        let tape = Tape { version: VERSION, exchanges: vec![exchange("Greet Ada.\nWarmly."), exchange("  odd\t")] };
        let text = tape.render(&[]);
        assert!(text.starts_with("# windlass cassette"), "{text}");
        assert!(text.contains("Greet Ada.\n"), "multi-line text is a literal block:\n{text}");
        assert_eq!(Tape::parse(&text, Path::new("c.yaml")).unwrap(), tape);
    }

    #[test]
    fn secrets_are_scrubbed() {
        let tape = Tape { version: VERSION, exchanges: vec![exchange("my key is sk-secret-123")] };
        let text = tape.render(&["sk-secret-123".into()]);
        assert!(!text.contains("sk-secret-123"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn a_wrong_version_is_refused() {
        let err = Tape::parse("version: 9\nexchanges: []\n", Path::new("c.yaml")).unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
    }
}
