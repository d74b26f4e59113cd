//! Keys of deterministic phases (`on_error`, `retry`) and `for_each_row`.

use super::either::string_or_struct;
use super::Rules;
use crate::cascade::lax;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Where a failing deterministic phase goes: a phase name or an inline LLM phase.
#[derive(Debug, Clone)]
pub enum OnError {
    Phase(String),
    Inline(Box<InlineLlmPhase>),
}

string_or_struct!(
    OnError,
    OnError::Phase,
    |p: InlineLlmPhase| OnError::Inline(Box::new(p)),
    InlineLlmPhase,
    "a phase name or an inline LLM phase {instructions, ...}"
);

/// An inline LLM phase used as an error handler; `{{ error }}` holds the failure.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct InlineLlmPhase {
    pub instructions: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub rules: Rules,
    #[serde(default, alias = "traits")]
    pub tackle: super::Tackle,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct RetrySpec {
    #[serde(default = "three", deserialize_with = "lax::count")]
    #[schemars(schema_with = "lax::count_schema")]
    pub max_attempts: u32,
    #[serde(default)]
    pub backoff: Backoff,
    #[serde(default, deserialize_with = "lax::opt_number")]
    #[schemars(schema_with = "lax::opt_number_schema")]
    pub backoff_base_seconds: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    #[default]
    None,
    Linear,
    Exponential,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ForEachRow {
    /// A table of the session database (`_<phase>` for `sql_data` results).
    pub table: String,
    /// A cascade run once per row (relative to this file) ...
    #[serde(default)]
    pub cascade: Option<String>,
    /// ... or one LLM call per row.
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub inputs: Map<String, Value>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub max_parallel: Option<u32>,
    #[serde(default)]
    pub result_table: Option<String>,
    #[serde(default)]
    pub on_error: ForEachRowOnError,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForEachRowOnError {
    #[default]
    Continue,
    FailFast,
    CollectErrors,
}

fn three() -> u32 {
    3
}
