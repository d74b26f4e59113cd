//! Human-facing phase keys: `human_input`, `audibles`, `callouts`, `decision_points`,
//! `output_extraction`.

use crate::cascade::lax;
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

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HumanInputSpec {
    #[serde(rename = "type", default)]
    pub kind: HumanInputKind,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub options: Vec<Value>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    pub timeout_seconds: Option<u32>,
    #[serde(default)]
    pub on_timeout: OnTimeout,
    #[serde(default)]
    pub default_value: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HumanInputKind {
    #[default]
    Confirmation,
    Choice,
    MultiChoice,
    Rating,
    Text,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    #[default]
    Abort,
    Continue,
    Default,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Audibles {
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    pub enabled: bool,
    #[serde(default, deserialize_with = "lax::opt_count")]
    pub budget: Option<u32>,
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    pub allow_retry: bool,
    #[serde(default, deserialize_with = "lax::opt_count")]
    pub timeout_seconds: Option<u32>,
}

/// Tag messages of a phase for later lookup: a label, or which output/messages to tag.
#[derive(Debug, Clone, PartialEq)]
pub enum Callouts {
    Label(String),
    Spec(CalloutsSpec),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
pub struct DecisionPoints {
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    pub enabled: bool,
    #[serde(default)]
    pub trigger: Option<String>,
    /// Choice id -> phase name (`next`, `self` are special).
    #[serde(default)]
    pub routing: Map<String, Value>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    pub timeout_seconds: Option<u32>,
    #[serde(default)]
    pub ui: Option<Value>,
}

/// Regex-extract from the output into state.
#[derive(Debug, Clone, Deserialize)]
pub struct OutputExtraction {
    pub pattern: String,
    pub store_as: String,
    #[serde(default, deserialize_with = "lax::bool")]
    pub required: bool,
    /// `text` (default) or `json`.
    #[serde(default)]
    pub format: Option<String>,
}

fn yes() -> bool {
    true
}
