//! A phase: the unit of work. Exactly one of `instructions`, `tool` or `for_each_row`.

use super::either::string_or_struct;
use super::{
    Audibles, Callouts, ContextSpec, DecisionPoints, ForEachRow, HumanInput, OnError, OutputExtraction, RetrySpec,
    Rules, Soundings, Wards,
};
use crate::cascade::lax;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Phase {
    pub name: String,

    // --- what kind of phase -------------------------------------------------
    /// LLM phase: the task, a template (may be `@file`).
    #[serde(default)]
    pub instructions: Option<String>,
    /// Deterministic phase: a registered tool, `python:...`, `sql:<file>` or `shell:<script>`.
    #[serde(default)]
    pub tool: Option<String>,
    /// Fan out over a table's rows.
    #[serde(default)]
    pub for_each_row: Option<ForEachRow>,

    // --- common --------------------------------------------------------------
    #[serde(default)]
    pub handoffs: Vec<Handoff>,
    #[serde(default)]
    pub context: Option<ContextSpec>,
    #[serde(default)]
    pub sub_cascades: Vec<SubCascade>,
    #[serde(default)]
    pub async_cascades: Vec<AsyncCascade>,
    #[serde(default)]
    pub human_input: Option<HumanInput>,
    #[serde(default)]
    pub audibles: Option<Audibles>,
    #[serde(default)]
    pub callouts: Option<Callouts>,
    #[serde(default)]
    pub decision_points: Option<DecisionPoints>,
    #[serde(default)]
    pub output_extraction: Option<OutputExtraction>,

    // --- LLM phases ------------------------------------------------------------
    #[serde(default)]
    pub model: Option<String>,
    /// Models tried in order when `model` keeps failing on the provider's side after its
    /// retries (server errors, rate limits, timeouts, an unreachable endpoint); never for a
    /// request the provider refused. Replaces the cascade's list.
    #[serde(default)]
    pub fallback_models: Option<Vec<String>>,
    #[serde(default, alias = "traits")]
    pub tackle: Tackle,
    /// Which context the manifest (tool picker) sees (compat; `current` or `full`).
    #[serde(default)]
    pub manifest_context: Option<String>,
    #[serde(default, deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub use_native_tools: bool,
    #[serde(default)]
    pub rules: Rules,
    #[serde(default)]
    pub output_schema: Option<Value>,
    #[serde(default)]
    pub wards: Wards,
    #[serde(default, alias = "candidates")]
    pub soundings: Option<Soundings>,
    /// The original's UI scaffolding switch; parsed, not used.
    #[serde(default)]
    pub ui_mode: Option<String>,

    // --- deterministic phases --------------------------------------------------
    #[serde(default)]
    pub inputs: Map<String, Value>,
    #[serde(default)]
    pub routing: Map<String, Value>,
    #[serde(default)]
    pub on_error: Option<OnError>,
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    #[serde(default, deserialize_with = "lax::opt_duration")]
    #[schemars(schema_with = "lax::opt_duration_schema")]
    pub timeout: Option<Duration>,
}

/// What a phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    Llm,
    Deterministic,
    ForEachRow,
}

impl Phase {
    /// The kinds this phase declares (exactly one in a valid cascade).
    pub fn kinds(&self) -> Vec<PhaseKind> {
        let mut kinds = Vec::new();
        if self.instructions.is_some() {
            kinds.push(PhaseKind::Llm);
        }
        if self.tool.is_some() {
            kinds.push(PhaseKind::Deterministic);
        }
        if self.for_each_row.is_some() {
            kinds.push(PhaseKind::ForEachRow);
        }
        kinds
    }

    /// The phase's kind when it declares exactly one.
    pub fn kind(&self) -> Option<PhaseKind> {
        match self.kinds().as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Handoff target names, in order.
    pub fn handoff_targets(&self) -> impl Iterator<Item = &str> {
        self.handoffs.iter().map(Handoff::target)
    }
}

/// Where control may go next: a phase name or `{target, description}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Handoff {
    Name(String),
    Described(HandoffDetail),
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct HandoffDetail {
    pub target: String,
    #[serde(default)]
    pub description: Option<String>,
}

string_or_struct!(Handoff, Handoff::Name, Handoff::Described, HandoffDetail, "a phase name or {target, description}");

impl Handoff {
    pub fn target(&self) -> &str {
        match self {
            Handoff::Name(n) => n,
            Handoff::Described(d) => &d.target,
        }
    }
    pub fn description(&self) -> Option<&str> {
        match self {
            Handoff::Name(_) => None,
            Handoff::Described(d) => d.description.as_deref(),
        }
    }
}

/// The tools a phase may call: names, or `manifest` (an LLM call picks them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tackle {
    pub tools: Vec<String>,
    pub manifest: bool,
}

impl<'de> Deserialize<'de> for Tackle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
            Nothing(()),
        }
        let names = match Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom("expected a list of tool names, or `manifest`"))?
        {
            Raw::One(s) => vec![s],
            Raw::Many(v) => v,
            Raw::Nothing(()) => Vec::new(),
        };
        let manifest = names.iter().any(|n| n == "manifest");
        let tools = names.into_iter().filter(|n| n != "manifest").collect();
        Ok(Tackle { tools, manifest })
    }
}

impl JsonSchema for Tackle {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Tackle".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Tool names the phase may call (one name or a list); `manifest` lets an LLM call pick them",
            "anyOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }, { "type": "null" }]
        })
    }
}

/// A child cascade run before the phase's turns.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SubCascade {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default)]
    pub input_map: Map<String, Value>,
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub context_in: bool,
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub context_out: bool,
}

/// A child cascade started without waiting.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct AsyncCascade {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default)]
    pub input_map: Map<String, Value>,
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub context_in: bool,
    #[serde(default)]
    pub trigger: AsyncTrigger,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AsyncTrigger {
    #[default]
    OnStart,
    OnEnd,
}

fn yes() -> bool {
    true
}
