//! The cascade model: serde types for every key of the cascade format.
//!
//! Decoding goes through [`super::decode`], which adds field paths, `line:col` and
//! warnings for unknown keys; these types only say what each key means.

pub mod context;
pub mod deterministic;
mod either;
pub mod human;
pub mod phase;
pub mod rules;
pub mod soundings;
pub mod validator;

pub use context::{
    AnchorInclude, Anchors, ContextMode, ContextSource, ContextSpec, Include, MessagesFilter, Role, Selection,
    SourceDetail, Strategy,
};
pub use deterministic::{Backoff, ForEachRow, ForEachRowOnError, OnError, RetrySpec};
pub use human::{
    Audibles, Callouts, DecisionPoints, HumanInput, HumanInputKind, HumanInputSpec, OnTimeout, OutputExtraction,
};
pub use phase::{Handoff, Phase, PhaseKind, Tackle};
pub use rules::{Rules, TokenBudget, TokenBudgetStrategy, Ward, WardMode, Wards};
pub use soundings::{Factor, ModelChoice, Models, MutationMode, Reforge, Soundings, SoundingsMode, Threshold};
pub use validator::{InlineValidator, JudgeValidator, ValidatorDef, ValidatorRef};

use crate::cascade::lax;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A whole cascade file.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct Cascade {
    pub cascade_id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Declared inputs: name -> description (or a richer object, kept as it is).
    #[serde(default)]
    pub inputs_schema: Map<String, Value>,
    /// `phases` (alias `cells`): decoded one by one by the loader, so every phase reports
    /// its own problems.
    #[serde(skip)]
    pub phases: Vec<Phase>,
    /// Cascade-level soundings: run the whole cascade N times and keep the best.
    #[serde(default, alias = "candidates")]
    pub soundings: Option<Soundings>,
    #[serde(default)]
    pub token_budget: Option<TokenBudget>,
    /// The phases' `fallback_models` when a phase has none of its own.
    #[serde(default)]
    pub fallback_models: Vec<String>,
    /// Named validators usable by `loop_until`, wards and soundings: LLM judges or other
    /// validators under a name (decode one with [`ValidatorDef::from_value`]; kept raw so a
    /// malformed entry is a `check` diagnostic, not a failed load).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, ValidatorDef>")]
    pub validators: Map<String, Value>,
    #[serde(default)]
    pub memory: Option<Value>,
    #[serde(default)]
    pub research_db: Option<Value>,
    #[serde(default)]
    pub tool_caching: Option<ToolCaching>,
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    #[serde(default)]
    pub auto_context: Option<Value>,
    #[serde(default)]
    pub narrator: Option<Value>,
    /// The original's visual editor layout; kept so such files load cleanly.
    #[serde(default, rename = "_playground")]
    pub playground: Option<Value>,
}

impl Cascade {
    /// The models `phase` falls back to, in order: its own list, else the cascade's.
    pub fn fallback_models<'a>(&'a self, phase: &'a Phase) -> &'a [String] {
        phase.fallback_models.as_deref().unwrap_or(&self.fallback_models)
    }

    /// The phase with this name.
    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// The cascade-level `validators` entry with this name, decoded.
    pub fn validator_def(&self, name: &str) -> Option<Result<ValidatorDef, String>> {
        self.validators.get(name).map(ValidatorDef::from_value)
    }

    /// Index of the phase with this name.
    pub fn phase_index(&self, name: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.name == name)
    }
}

/// `tool_caching` (parsed; caching itself is an optimisation this build may skip).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ToolCaching {
    #[serde(default, deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub enabled: bool,
    #[serde(default)]
    pub global_ttl: Option<Value>,
    #[serde(default)]
    pub max_cache_size: Option<Value>,
    #[serde(default)]
    pub tools: Map<String, Value>,
}

/// A `triggers` entry: `cron` and `webhook` ones run through `windlass schedules add` (see
/// `crate::session::schedules`); `manual` documents inputs; `sensor` is reported unsupported.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Trigger {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub inputs: Map<String, Value>,
    #[serde(default)]
    pub inputs_schema: Map<String, Value>,
    #[serde(default)]
    pub check: Option<Value>,
    #[serde(default)]
    pub args: Option<Value>,
    #[serde(default)]
    pub poll_interval: Option<Value>,
    #[serde(default)]
    pub timeout: Option<Value>,
    /// Webhook: `hmac:${VARIABLE}`, the environment variable holding the shared secret of
    /// the `X-Windlass-Signature-256` (or GitHub's `X-Hub-Signature-256`) header.
    #[serde(default)]
    pub auth: Option<String>,
    /// Webhook: a JSON Schema the payload must satisfy.
    #[serde(default)]
    pub payload_schema: Option<Value>,
    /// Cron: what a worker does with ticks missed while no worker ran: `latest` (default,
    /// fire the newest), `all` (fire each, up to 100), `none` (fire only a tick that is due now).
    #[serde(default)]
    pub catch_up: Option<String>,
    /// Cron: fire a tick while the previous tick's session is still running (default: skip it).
    #[serde(default, deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub allow_overlap: bool,
}
