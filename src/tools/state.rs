//! `set_state` and `route_to`: tools that only ask the engine to do something, through
//! [`Effect`]s, so the engine stays the one place that changes state and chooses phases.

use super::{args, Effect, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};

/// `set_state(key, value)`.
pub struct SetState;

#[async_trait]
impl Tool for SetState {
    fn name(&self) -> &str {
        "set_state"
    }
    fn description(&self) -> &str {
        "Store a value in the session state; later phases read it as {{ state.<key> }}."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "key": {"type": "string", "description": "the state key"},
                "value": {"description": "any JSON value"}
            },
            "required": ["key", "value"]
        })
    }
    async fn call(&self, args: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let key = args::text(&args, self.name(), "key")?.trim().to_string();
        if key.is_empty() {
            return Err(ToolError::InvalidArguments("set_state needs a non-empty `key`".into()));
        }
        // Kept as given, even a string that looks like JSON: whether to decode it is the
        // engine's decision, made once for every way state is set.
        let value = args::value(&args, self.name(), "value")?;
        Ok(ToolOutput::text(format!("state.{key} set")).with_effect(Effect::SetState { key, value }))
    }
}

/// `route_to(target)`.
pub struct RouteTo;

#[async_trait]
impl Tool for RouteTo {
    fn name(&self) -> &str {
        "route_to"
    }
    fn description(&self) -> &str {
        "Choose the next phase; the target must be one of this phase's handoffs."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"target": {"type": "string", "description": "the name of the next phase"}},
            "required": ["target"]
        })
    }
    async fn call(&self, args: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let target = args::text(&args, self.name(), "target")?.trim().to_string();
        if target.is_empty() {
            return Err(ToolError::InvalidArguments("route_to needs a non-empty `target`".into()));
        }
        // Whether the target is a handoff is checked by the engine, which knows the phase.
        Ok(ToolOutput::text(format!("routing to {target}")).with_effect(Effect::Route { target }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::context;

    #[tokio::test]
    async fn set_state_asks_the_engine() {
        let (ctx, _dir) = context(false);
        let output = SetState.call(json!({"key": "topic", "value": {"a": [1]}}), &ctx).await.unwrap();
        assert_eq!(output.text, "state.topic set");
        assert_eq!(output.effects, [Effect::SetState { key: "topic".into(), value: json!({"a": [1]}) }]);

        let output = SetState.call(json!({"key": "raw", "value": "{\"a\": 1}"}), &ctx).await.unwrap();
        assert_eq!(output.effects, [Effect::SetState { key: "raw".into(), value: json!("{\"a\": 1}") }]);

        assert!(SetState.call(json!({"key": "x"}), &ctx).await.is_err());
        assert!(SetState.call(json!({"key": " ", "value": 1}), &ctx).await.is_err());
    }

    #[tokio::test]
    async fn route_to_asks_the_engine() {
        let (ctx, _dir) = context(false);
        let output = RouteTo.call(json!({"target": "write"}), &ctx).await.unwrap();
        assert_eq!(output.text, "routing to write");
        assert_eq!(output.effects, [Effect::Route { target: "write".into() }]);
        let output = RouteTo.call(json!("write"), &ctx).await.unwrap();
        assert_eq!(output.effects, [Effect::Route { target: "write".into() }]);
    }
}
