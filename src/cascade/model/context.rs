//! `context`: which earlier material a phase sees.

use super::either::string_or_struct;
use crate::cascade::lax;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ContextSpec {
    #[serde(default)]
    pub from: Vec<ContextSource>,
    /// Phase names to leave out (useful with `all`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Prepend the cascade's original input.
    #[serde(default, deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub include_input: bool,
    /// Default artifacts for plain-name sources (default: output).
    #[serde(default)]
    pub include: Vec<Include>,
    /// `auto` (compat): treated as `from: [previous]` plus the input.
    #[serde(default)]
    pub mode: Option<String>,
    /// Auto-context options of the original (parsed; `auto` is simplified).
    #[serde(default)]
    pub anchors: Option<Value>,
    #[serde(default)]
    pub selection: Option<Value>,
}

/// A context source: a phase name, `all`, `first`, `previous`, or a detailed object.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextSource {
    Name(String),
    Detailed(SourceDetail),
}

string_or_struct!(
    ContextSource,
    ContextSource::Name,
    ContextSource::Detailed,
    SourceDetail,
    "a phase name (or all/first/previous) or {phase, include, messages_filter, as_role}"
);

impl ContextSource {
    pub fn phase(&self) -> &str {
        match self {
            ContextSource::Name(n) => n,
            ContextSource::Detailed(d) => &d.phase,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct SourceDetail {
    pub phase: String,
    #[serde(default)]
    pub include: Vec<Include>,
    #[serde(default)]
    pub messages_filter: MessagesFilter,
    #[serde(default)]
    pub as_role: Role,
}

/// What to take from a source phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Include {
    Output,
    Messages,
    State,
    Images,
    /// A name this build does not know (compat: the corpus uses `winner`); `check` warns.
    Other(String),
}

impl JsonSchema for Include {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Include".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // Any name loads (`check` warns about unknown ones); the enum is for completion.
        schemars::json_schema!({
            "description": "What to take from a source phase: output, messages, state or images",
            "anyOf": [{ "enum": ["output", "messages", "state", "images"] }, { "type": "string" }]
        })
    }
}

impl<'de> Deserialize<'de> for Include {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "output" => Include::Output,
            "messages" => Include::Messages,
            "state" => Include::State,
            "images" => Include::Images,
            _ => Include::Other(s),
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessagesFilter {
    #[default]
    All,
    AssistantOnly,
    LastTurn,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    User,
    System,
}
