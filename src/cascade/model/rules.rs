//! `rules` (turns, attempts, loop_until), `wards`, and the cascade `token_budget`.

use super::ValidatorRef;
use crate::cascade::lax;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct Rules {
    /// Turns per attempt (default 1).
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub max_turns: Option<u32>,
    /// Attempts (default 1).
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub max_attempts: Option<u32>,
    #[serde(default)]
    pub loop_until: Option<ValidatorRef>,
    /// Replaces the auto-generated notice of the validation goal.
    #[serde(default)]
    pub loop_until_prompt: Option<String>,
    /// Validate silently: no notice of the goal is appended.
    #[serde(default, deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub loop_until_silent: bool,
    #[serde(default)]
    pub retry_instructions: Option<String>,
    #[serde(default)]
    pub turn_prompt: Option<String>,
}

impl Rules {
    pub fn max_turns(&self) -> u32 {
        self.max_turns.unwrap_or(1).max(1)
    }
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(1).max(1)
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct Wards {
    #[serde(default)]
    pub pre: Vec<Ward>,
    #[serde(default)]
    pub post: Vec<Ward>,
    /// Run after each turn (fix: the original ignored them).
    #[serde(default)]
    pub turn: Vec<Ward>,
}

impl Wards {
    pub fn is_empty(&self) -> bool {
        self.pre.is_empty() && self.post.is_empty() && self.turn.is_empty()
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Ward {
    pub validator: ValidatorRef,
    #[serde(default)]
    pub mode: WardMode,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub max_attempts: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WardMode {
    /// A failure stops the cascade.
    #[default]
    Blocking,
    /// A failure retries the phase.
    Retry,
    /// A failure is only reported.
    Advisory,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct TokenBudget {
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub max_total: Option<u32>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub reserve_for_output: Option<u32>,
    #[serde(default)]
    pub strategy: TokenBudgetStrategy,
    #[serde(default, deserialize_with = "lax::opt_number")]
    #[schemars(schema_with = "lax::opt_number_schema")]
    pub warning_threshold: Option<f64>,
    /// `{model, target_size}` for the `summarize` strategy.
    #[serde(default)]
    pub summarizer: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenBudgetStrategy {
    #[default]
    SlidingWindow,
    PruneOldest,
    Summarize,
    Fail,
}
