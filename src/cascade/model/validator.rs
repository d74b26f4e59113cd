//! Validators: a name, or an inline object.

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::fmt;

/// A validator reference as written in `loop_until`, a ward, or a soundings `validator`.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidatorRef {
    /// A cascade-level `validators` entry, a built-in, or a cascade on the tool path.
    Name(String),
    Inline(InlineValidator),
}

/// The inline validator forms.
#[derive(Debug, Clone, PartialEq)]
pub enum InlineValidator {
    /// `{bash: script}`: the content is in `$CONTENT`; the script prints the verdict JSON.
    Bash(String),
    /// `{python: code}` (compat, the original's polyglot validators): `content` in, `result` out.
    Python(String),
    /// `{javascript: code}` (compat).
    JavaScript(String),
    /// `{tool, inputs}`: a registered tool whose result is the verdict.
    Tool { tool: String, inputs: Map<String, Value> },
}

impl ValidatorRef {
    pub fn name(&self) -> Option<&str> {
        match self {
            ValidatorRef::Name(n) => Some(n),
            ValidatorRef::Inline(_) => None,
        }
    }
}

impl JsonSchema for ValidatorRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ValidatorRef".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let string = json!({ "type": "string" });
        let inline = json!({
            "type": "object",
            "description": "An inline validator: exactly one of bash, python, javascript (js) or tool",
            "properties": {
                "bash": { "type": "string", "description": "A script; the content is in $CONTENT, it prints the verdict JSON" },
                "python": string,
                "javascript": string,
                "js": string,
                "tool": { "type": "string", "description": "A registered tool whose result is the verdict" },
                "inputs": { "type": "object" }
            },
            "additionalProperties": false,
            "oneOf": [
                { "required": ["bash"] },
                { "required": ["python"] },
                { "anyOf": [{ "required": ["javascript"] }, { "required": ["js"] }] },
                { "required": ["tool"] }
            ]
        });
        schemars::json_schema!({
            "description": "A validator: a name (cascade `validators`, a built-in, or a cascade on the tool path), or inline",
            "anyOf": [string, inline]
        })
    }
}

impl<'de> Deserialize<'de> for ValidatorRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RefVisitor)
    }
}

struct RefVisitor;

const INLINE_FORMS: &[&str] = &["bash", "python", "javascript", "tool", "inputs"];

impl<'de> Visitor<'de> for RefVisitor {
    type Value = ValidatorRef;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a validator name, or an inline validator {bash: ...} / {python: ...} / {tool, inputs}")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ValidatorRef, E> {
        Ok(ValidatorRef::Name(v.to_string()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValidatorRef, A::Error> {
        let mut bash = None;
        let mut python = None;
        let mut javascript = None;
        let mut tool = None;
        let mut inputs = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "bash" => bash = Some(map.next_value::<String>()?),
                "python" => python = Some(map.next_value::<String>()?),
                "javascript" | "js" => javascript = Some(map.next_value::<String>()?),
                "tool" => tool = Some(map.next_value::<String>()?),
                "inputs" => inputs = map.next_value()?,
                other => return Err(de::Error::unknown_field(other, INLINE_FORMS)),
            }
        }
        let inline = match (bash, python, javascript, tool) {
            (Some(s), None, None, None) => InlineValidator::Bash(s),
            (None, Some(s), None, None) => InlineValidator::Python(s),
            (None, None, Some(s), None) => InlineValidator::JavaScript(s),
            (None, None, None, Some(tool)) => InlineValidator::Tool { tool, inputs },
            (None, None, None, None) => {
                return Err(de::Error::custom(
                    "an inline validator needs one of `bash`, `python`, `javascript` or `tool`",
                ))
            }
            _ => {
                return Err(de::Error::custom(
                    "an inline validator takes only one of `bash`, `python`, `javascript` or `tool`",
                ))
            }
        };
        Ok(ValidatorRef::Inline(inline))
    }
}
