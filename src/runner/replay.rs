//! Serving LLM answers from the session log on resume: a request made again with the same
//! hash (model, messages, tools) gets the logged answer instead of a new, paid call.

use crate::llm::{ChatResponse, ToolCall, Usage};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Replay {
    answers: Mutex<HashMap<String, VecDeque<ChatResponse>>>,
}

impl Replay {
    /// Build from logged `llm_response` events (their JSON content), oldest first.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Value>) -> Replay {
        let mut answers: HashMap<String, VecDeque<ChatResponse>> = HashMap::new();
        for e in events {
            if e["event"] != "llm_response" || e["replayed"] == true {
                continue;
            }
            let Some(hash) = e["request_hash"].as_str() else { continue };
            let calls: Vec<ToolCall> = serde_json::from_value(e["native_tool_calls"].clone()).unwrap_or_default();
            let resp = ChatResponse {
                content: e["content"].as_str().unwrap_or_default().to_string(),
                tool_calls: calls,
                model: e["model"].as_str().unwrap_or_default().to_string(),
                usage: Usage {
                    tokens_in: e["tokens_in"].as_u64().unwrap_or(0),
                    tokens_out: e["tokens_out"].as_u64().unwrap_or(0),
                    cost: e["cost"].as_f64(),
                },
                finish_reason: None,
                id: None,
                attempts: 0,
            };
            answers.entry(hash.to_string()).or_default().push_back(resp);
        }
        Replay { answers: Mutex::new(answers) }
    }

    /// The next logged answer for this request, once.
    pub fn take(&self, hash: &str) -> Option<ChatResponse> {
        let mut a = self.answers.lock().ok()?;
        let q = a.get_mut(hash)?;
        let r = q.pop_front();
        if q.is_empty() {
            a.remove(hash);
        }
        r
    }

    pub fn len(&self) -> usize {
        self.answers.lock().map(|a| a.values().map(VecDeque::len).sum()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
