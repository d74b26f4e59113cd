//! `context`: which earlier material a phase sees.

use super::either::string_or_struct;
use crate::cascade::lax;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ContextSpec {
    #[serde(default)]
    pub from: Vec<ContextSource>,
    /// Phase names to leave out (useful with `all`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Put the cascade's original input first (default: true once a phase has a `context`
    /// block; an empty input is never sent).
    #[serde(default, deserialize_with = "lax::opt_bool")]
    #[schemars(schema_with = "lax::opt_bool_schema")]
    pub include_input: Option<bool>,
    /// Default artifacts for plain-name sources (default: output).
    #[serde(default)]
    pub include: Vec<Include>,
    /// `explicit` (the default: exactly the `from` sources) or `auto` (anchors, then
    /// earlier messages chosen within `selection.max_tokens`).
    #[serde(default)]
    pub mode: ContextMode,
    /// `mode: auto`: what is always included.
    #[serde(default)]
    pub anchors: Anchors,
    /// `mode: auto`: how the rest of the earlier messages is chosen.
    #[serde(default)]
    pub selection: Selection,
}

impl ContextSpec {
    /// Whether the input goes first: `include_input`, true unless set to false.
    pub fn includes_input(&self) -> bool {
        self.include_input.unwrap_or(true)
    }

    pub fn is_auto(&self) -> bool {
        self.mode == ContextMode::Auto
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContextMode {
    #[default]
    Explicit,
    Auto,
}

/// `mode: auto`: material always included, whatever the selection budget.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct Anchors {
    /// The last N earlier messages (default 5).
    #[serde(default = "default_window", deserialize_with = "lax::count")]
    #[schemars(schema_with = "lax::count_schema")]
    pub window: u32,
    /// Phases whose anchored material is included: names, `all`, `first`, `previous`
    /// (default `[previous]`).
    #[serde(default = "default_from_phases")]
    pub from_phases: Vec<String>,
    /// What is anchored: `output` (of `from_phases`), `callouts` (of `from_phases`),
    /// `input`, `errors` (the last phase error). Default: all four.
    #[serde(default = "default_anchor_include")]
    pub include: Vec<AnchorInclude>,
}

impl Default for Anchors {
    fn default() -> Self {
        Anchors { window: default_window(), from_phases: default_from_phases(), include: default_anchor_include() }
    }
}

fn default_window() -> u32 {
    5
}

fn default_from_phases() -> Vec<String> {
    vec!["previous".into()]
}

fn default_anchor_include() -> Vec<AnchorInclude> {
    vec![AnchorInclude::Output, AnchorInclude::Callouts, AnchorInclude::Input, AnchorInclude::Errors]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnchorInclude {
    Output,
    Callouts,
    Input,
    Errors,
}

/// `mode: auto`: choosing earlier messages beyond the anchors.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct Selection {
    #[serde(default)]
    pub strategy: Strategy,
    /// Estimated tokens for the whole context, anchors included (default 30000).
    #[serde(default = "default_max_tokens", deserialize_with = "lax::count")]
    #[schemars(schema_with = "lax::count_schema")]
    pub max_tokens: u32,
    /// At most this many chosen messages (default 50).
    #[serde(default = "default_max_messages", deserialize_with = "lax::count")]
    #[schemars(schema_with = "lax::count_schema")]
    pub max_messages: u32,
    /// The model for the `llm` and `hybrid` selection call (default: the phase's model).
    #[serde(default)]
    pub model: Option<String>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            strategy: Strategy::default(),
            max_tokens: default_max_tokens(),
            max_messages: default_max_messages(),
            model: None,
        }
    }
}

fn default_max_tokens() -> u32 {
    30_000
}

fn default_max_messages() -> u32 {
    50
}

/// How `mode: auto` ranks the earlier messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Keyword overlap with the phase's instructions, recency, callouts.
    Heuristic,
    /// Embedding similarity (needs an embeddings endpoint; else heuristic).
    Semantic,
    /// A model call picks from message summaries.
    Llm,
    /// Heuristic prefilter, then the model picks.
    #[default]
    Hybrid,
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
