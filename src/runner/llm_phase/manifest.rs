//! `tackle: manifest`: one LLM call picks, from every available tool, the ones a phase needs.

use crate::llm::{Message, ToolSpec};
use crate::runner::emitter::Emitter;
use crate::runner::error::RunError;
use crate::runner::llm_call::{self, Caller};
use crate::runner::state::RunState;
use crate::runner::Runner;
use regex::Regex;
use std::sync::OnceLock;

/// Ask the model which of `available` tools fit `task`; returns their names.
pub async fn select(
    runner: &Runner,
    emitter: &Emitter,
    state: &mut RunState,
    phase: &str,
    model: &str,
    task: &str,
    available: &[ToolSpec],
) -> Result<Vec<String>, RunError> {
    if available.is_empty() {
        return Ok(Vec::new());
    }
    let mut menu = String::new();
    for t in available {
        menu.push_str(&format!("- {}: {}\n", t.name, t.description));
    }
    let prompt = format!(
        "Pick the tools that would help with the task below. Reply with a JSON array of tool names only (an empty array if none helps).\n\nTools:\n{menu}\nTask:\n{task}"
    );
    let messages = [Message::system("You select tools for a task."), Message::user(prompt)];
    let resp = llm_call::call(
        runner,
        emitter,
        state,
        Caller { phase, sounding_index: None, fallbacks: &[] },
        model,
        &messages,
        &[],
    )
    .await?;
    Ok(parse_names(&resp.content).into_iter().filter(|n| available.iter().any(|t| &t.name == n)).collect())
}

/// The first JSON array of strings in a reply.
fn parse_names(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(?s)\[.*?\]").expect("regex"));
    re.find_iter(text).find_map(|m| serde_json::from_str::<Vec<String>>(m.as_str()).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_from_replies() {
        assert_eq!(super::parse_names("Use these: [\"set_state\", \"read_file\"]."), ["set_state", "read_file"]);
        assert!(super::parse_names("none").is_empty());
    }
}
