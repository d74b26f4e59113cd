//! Human-facing phase keys: `human_input`, `audibles`, `callouts`, `decision_points`,
//! `output_extraction`.

use crate::cascade::lax;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// `human_input: true` or a full spec.
#[derive(Debug, Clone, PartialEq)]
pub enum HumanInput {
    Enabled(bool),
    Spec(HumanInputSpec),
}

impl HumanInput {
    pub fn is_enabled(&self) -> bool {
        !matches!(self, HumanInput::Enabled(false))
    }
}

impl JsonSchema for HumanInput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HumanInput".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // A boolean or a lax boolean word; unlike other lax booleans, not 0/1.
        let words = lax::bool_schema(g);
        let word = words.get("anyOf").and_then(|a| a.get(2)).cloned().unwrap_or(serde_json::json!({"type": "string"}));
        schemars::json_schema!({
            "description": "Ask a person after the phase: true/false, or a full spec",
            "anyOf": [{ "type": "boolean" }, word, g.subschema_for::<HumanInputSpec>()]
        })
    }
}

impl<'de> Deserialize<'de> for HumanInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HumanInput;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true/false or {type, prompt, options, timeout_seconds, on_timeout, default_value}")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<HumanInput, E> {
                Ok(HumanInput::Enabled(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanInput, E> {
                lax::parse_bool(v)
                    .map(HumanInput::Enabled)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HumanInput, A::Error> {
                HumanInputSpec::deserialize(de::value::MapAccessDeserializer::new(map)).map(HumanInput::Spec)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct HumanInputSpec {
    #[serde(rename = "type", default)]
    pub kind: HumanInputKind,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub options: Vec<Value>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub timeout_seconds: Option<u32>,
    #[serde(default)]
    pub on_timeout: OnTimeout,
    #[serde(default)]
    pub default_value: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HumanInputKind {
    #[default]
    Confirmation,
    Choice,
    MultiChoice,
    Rating,
    Text,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    #[default]
    Abort,
    Continue,
    Default,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Audibles {
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub enabled: bool,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub budget: Option<u32>,
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub allow_retry: bool,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub timeout_seconds: Option<u32>,
}

/// Tag messages of a phase for later lookup: a label, or which output/messages to tag.
#[derive(Debug, Clone, PartialEq)]
pub enum Callouts {
    Label(String),
    Spec(CalloutsSpec),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct CalloutsSpec {
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub messages: Option<String>,
    #[serde(default)]
    pub messages_filter: Option<super::MessagesFilter>,
}

super::either::string_or_struct!(
    Callouts,
    Callouts::Label,
    Callouts::Spec,
    CalloutsSpec,
    "a label or {output, messages, messages_filter}"
);

/// Ask a human when the output holds a `<decision>` block.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct DecisionPoints {
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub enabled: bool,
    #[serde(default)]
    pub trigger: Option<String>,
    /// Choice id -> phase name (`next`, `self` are special).
    #[serde(default)]
    pub routing: Map<String, Value>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub timeout_seconds: Option<u32>,
    #[serde(default)]
    pub ui: Option<Value>,
}

/// Regex-extract from the output into state.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct OutputExtraction {
    pub pattern: String,
    pub store_as: String,
    #[serde(default, deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub required: bool,
    /// `text` (default) or `json`.
    #[serde(default)]
    pub format: Option<String>,
}

fn yes() -> bool {
    true
}
