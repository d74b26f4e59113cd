//! The text windlass adds to a phase's conversation: tool descriptions (prompt mode), the
//! route menu, the validation notice.

use crate::cascade::model::Handoff;
use crate::llm::ToolSpec;

/// How a model calls a tool in prompt mode; appended after the tool list.
const CALL_FORMAT: &str = "To call a tool, reply with a fenced JSON block like this (one block per call):\n```json\n{\"tool\": \"<tool name>\", \"arguments\": {<arguments>}}\n```\nYou will get each tool's result back. Without a tool call, your reply is your answer.";

/// The system message describing tools for prompt mode.
pub fn tool_descriptions(tools: &[ToolSpec]) -> String {
    let mut s = String::from("You can use these tools:\n");
    for t in tools {
        s.push_str(&format!("\n- {}: {}\n  arguments (JSON Schema): {}\n", t.name, t.description, t.parameters));
    }
    s.push('\n');
    s.push_str(CALL_FORMAT);
    s
}

/// The menu of handoff targets that comes with `route_to`.
pub fn route_menu(handoffs: &[Handoff]) -> String {
    let mut s = String::from(
        "When you are done, choose where the work goes next by calling the route_to tool with one of these targets:\n",
    );
    for h in handoffs {
        match h.description() {
            Some(d) => s.push_str(&format!("- {}: {d}\n", h.target())),
            None => s.push_str(&format!("- {}\n", h.target())),
        }
    }
    s
}

/// The short notice of the validation goal appended for `loop_until` (unless silent).
pub fn loop_until_notice(validator: &str, custom: Option<&str>) -> String {
    match custom {
        Some(c) => c.to_string(),
        None => format!("Your answer will be checked by the validator `{validator}`; make sure it passes."),
    }
}

/// What opens turns 2..N without a `turn_prompt`.
pub const DEFAULT_TURN_PROMPT: &str = "Continue/Refine based on previous output.";

/// Introduces the JSON Schema an `output_schema` phase must answer with.
pub const SCHEMA_NOTICE: &str = "Reply with JSON that matches this JSON Schema:";
