//! `soundings`: parallel attempts, selection, and reforge.

use super::ValidatorRef;
use crate::cascade::lax;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Soundings {
    #[serde(default)]
    pub factor: Factor,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub max_parallel: Option<u32>,
    #[serde(default)]
    pub evaluator_instructions: Option<String>,
    #[serde(default = "yes", deserialize_with = "lax::bool")]
    #[schemars(schema_with = "lax::bool_schema")]
    pub mutate: bool,
    #[serde(default)]
    pub mutation_mode: MutationMode,
    /// Custom mutation texts, used in turn instead of the built-in ones.
    #[serde(default)]
    pub mutations: Vec<String>,
    #[serde(default)]
    pub mode: SoundingsMode,
    #[serde(default)]
    pub aggregator_instructions: Option<String>,
    /// Filters attempts before evaluation.
    #[serde(default)]
    pub validator: Option<ValidatorRef>,
    #[serde(default)]
    pub models: Option<Models>,
    /// How models are assigned to attempts (`round_robin`, `random`).
    #[serde(default)]
    pub model_strategy: Option<String>,
    #[serde(default)]
    pub reforge: Option<Reforge>,
    /// Weigh cost against quality when picking a winner (parsed; shown to the evaluator).
    #[serde(default)]
    pub cost_aware_evaluation: Option<Value>,
    /// Pareto selection (parsed).
    #[serde(default)]
    pub pareto_frontier: Option<Value>,
}

impl Soundings {
    pub fn max_parallel(&self) -> u32 {
        self.max_parallel.unwrap_or(3).max(1)
    }
}

/// How many attempts: a number, or a template rendering to one.
#[derive(Debug, Clone, PartialEq)]
pub enum Factor {
    Count(u32),
    Template(String),
}

impl Default for Factor {
    fn default() -> Self {
        Factor::Count(1)
    }
}

impl JsonSchema for Factor {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Factor".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "How many attempts: a number, or a template such as \"{{ input.n }}\"",
            "anyOf": [
                { "type": "integer", "minimum": 0, "maximum": u32::MAX },
                { "type": "string", "pattern": "^\\s*\\+?[0-9]+\\s*$|\\{\\{|\\{%" }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Factor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Factor;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of attempts or a template such as \"{{ input.n }}\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Factor, E> {
                u32::try_from(v).map(Factor::Count).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Factor, E> {
                u32::try_from(v).map(Factor::Count).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Factor, E> {
                match v.trim().parse::<u32>() {
                    Ok(n) => Ok(Factor::Count(n)),
                    Err(_) if v.contains("{{") || v.contains("{%") => Ok(Factor::Template(v.to_string())),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Models for multi-model soundings: a list, or a map model -> `{factor}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Models(pub Vec<ModelChoice>);

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
pub struct ModelChoice {
    #[serde(default)]
    pub model: String,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub factor: Option<u32>,
}

impl JsonSchema for Models {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Models".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Models for multi-model soundings: a list of names, or a map of name to {factor}",
            "anyOf": [
                { "type": "array", "items": { "type": "string" } },
                { "type": "object", "additionalProperties": { "anyOf": [{ "type": "null" }, g.subschema_for::<ModelChoice>()] } }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Models {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Models;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of model names, or a map of model name to {factor}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Models, A::Error> {
                let mut out = Vec::new();
                while let Some(model) = seq.next_element::<String>()? {
                    out.push(ModelChoice { model, factor: None });
                }
                Ok(Models(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Models, A::Error> {
                let mut out = Vec::new();
                while let Some(model) = map.next_key::<String>()? {
                    let spec: Option<ModelChoice> = map.next_value()?;
                    let factor = spec.and_then(|s| s.factor);
                    out.push(ModelChoice { model, factor });
                }
                Ok(Models(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MutationMode {
    #[default]
    Rewrite,
    Augment,
    Approach,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SoundingsMode {
    /// An evaluator picks one winner.
    #[default]
    Evaluate,
    /// An aggregator merges all attempts.
    Aggregate,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Reforge {
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub steps: Option<u32>,
    #[serde(default)]
    pub honing_prompt: Option<String>,
    #[serde(default, deserialize_with = "lax::opt_count")]
    #[schemars(schema_with = "lax::opt_count_schema")]
    pub factor_per_step: Option<u32>,
    #[serde(default)]
    pub threshold: Option<Threshold>,
    #[serde(default)]
    pub evaluator_override: Option<String>,
    #[serde(default, deserialize_with = "lax::opt_bool")]
    #[schemars(schema_with = "lax::opt_bool_schema")]
    pub mutate: Option<bool>,
}

/// Stop refining early once this validator passes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Threshold {
    pub validator: ValidatorRef,
    #[serde(default)]
    pub mode: Option<String>,
}

fn yes() -> bool {
    true
}
