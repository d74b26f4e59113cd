//! Everything a run knows between phases: what a checkpoint saves and resume restores.

use super::event::LineageEntry;
use crate::llm::Message;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The state of one session between phases.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunState {
    pub input: Map<String, Value>,
    /// `state.*`: set by `set_state`, deterministic phases and `output_<phase>`.
    pub state: Map<String, Value>,
    /// Phase name -> its latest output.
    pub outputs: Map<String, Value>,
    pub lineage: Vec<LineageEntry>,
    /// Phase name -> the conversation of its latest run (for `context: messages`).
    pub conversations: HashMap<String, Vec<Message>>,
    /// Phase names in the order they ran (a phase may appear more than once).
    pub order: Vec<String>,
    pub visits: HashMap<String, u32>,
    /// Every callout so far, in order (for `context` auto-mode anchors).
    #[serde(default)]
    pub callouts: Vec<CalloutRecord>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost: f64,
}

/// One labelled piece of a phase's output or messages (`callouts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalloutRecord {
    pub phase: String,
    pub label: String,
    pub content: String,
}

impl RunState {
    pub fn new(input: Map<String, Value>) -> Self {
        RunState { input, ..RunState::default() }
    }

    /// Record a finished phase: outputs, lineage, `state.output_<name>`, order, conversation.
    /// `value` is the structured output of a deterministic or data phase (outputs keep their
    /// shape); without one the output is `output`, the phase's text. The one value is what
    /// `outputs`, `state.output_<name>`, `lineage` and the result document all hold.
    pub fn record_phase(&mut self, phase: &str, output: &str, value: Option<&Value>, conversation: Vec<Message>) {
        let shaped = value.cloned().unwrap_or_else(|| Value::String(output.to_string()));
        self.outputs.insert(phase.to_string(), shaped.clone());
        self.state.insert(format!("output_{phase}"), shaped.clone());
        self.lineage.push(LineageEntry { phase: phase.to_string(), output: shaped });
        self.conversations.insert(phase.to_string(), conversation);
    }

    /// The output of the phase that finished last, with its shape (`""` before any phase).
    pub fn last_output(&self) -> Value {
        self.lineage.last().map(|l| l.output.clone()).unwrap_or_else(|| Value::String(String::new()))
    }

    /// [`Self::last_output`] as text (see [`output_text`]).
    pub fn last_output_text(&self) -> String {
        self.lineage.last().map(|l| output_text(&l.output)).unwrap_or_default()
    }

    pub fn add_usage(&mut self, tokens_in: u64, tokens_out: u64, cost: Option<f64>) {
        self.tokens_in += tokens_in;
        self.tokens_out += tokens_out;
        self.cost += cost.unwrap_or(0.0);
    }
}

/// A phase output as text: a string as it is, a structured value as its JSON (as a template
/// prints it whole). For logs, the console, validators and everything else that reads text.
pub fn output_text(output: &Value) -> String {
    match output {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
