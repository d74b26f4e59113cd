//! Validators: a name, or an inline object; and the cascade-level `validators` entries,
//! which are LLM judges defined in place (`{instructions, model, max_turns}`) or another
//! validator under a new name.

use crate::cascade::lax;
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

/// A cascade-level `validators` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidatorDef {
    /// `{instructions, model, max_turns}`: an LLM judge (compat).
    Judge(JudgeValidator),
    /// A validator name or an inline form, under this entry's name.
    Ref(ValidatorRef),
}

/// An LLM judge declared at cascade level. It runs as a one-phase cascade whose input is
/// `{content, original_input}`; its last reply is read as the verdict `{valid, reason}`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct JudgeValidator {
    /// Template; `{{ input.content }}` is the text to judge.
    pub instructions: String,
    /// Model override (default: the run's default model).
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub max_turns: Option<u32>,
    /// Human text (the original's editor shows it).
    #[serde(default)]
    pub description: Option<String>,
}

impl JudgeValidator {
    pub fn max_turns(&self) -> u32 {
        self.max_turns.unwrap_or(1).max(1)
    }
}

impl ValidatorDef {
    /// Whether a `validators` entry is written as an LLM judge (an object with `instructions`).
    pub fn is_judge(value: &Value) -> bool {
        value.as_object().is_some_and(|o| o.contains_key("instructions"))
    }

    /// Decode a `validators` entry.
    pub fn from_value(value: &Value) -> Result<ValidatorDef, String> {
        if Self::is_judge(value) {
            serde_json::from_value(value.clone()).map(ValidatorDef::Judge).map_err(|e| e.to_string())
        } else {
            serde_json::from_value(value.clone()).map(ValidatorDef::Ref).map_err(|e| e.to_string())
        }
    }
}

impl ValidatorRef {
    pub fn name(&self) -> Option<&str> {
        match self {
            ValidatorRef::Name(n) => Some(n),
            ValidatorRef::Inline(_) => None,
        }
    }
}

impl JsonSchema for ValidatorDef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ValidatorDef".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let judge = generator.subschema_for::<JudgeValidator>();
        let reference = generator.subschema_for::<ValidatorRef>();
        schemars::json_schema!({
            "description": "An LLM judge ({instructions, model, max_turns}), or another validator under this name",
            "anyOf": [judge, reference]
        })
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
