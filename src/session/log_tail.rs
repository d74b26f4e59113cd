//! Reading a session's log as it grows, for `windlass logs [--follow]`: every row once, in
//! order, from any machine that reaches the store, each decoded into a [`LogLine`].

use crate::session_id::SessionId;
use crate::store::{LogRow, SessionStatus, Store, StoreError};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// How often a followed log is read again.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
/// Rows read per query.
const PAGE: usize = 10_000;

/// One log row as people read it: when, which event, in which phase, and a one-line summary.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub timestamp: f64,
    pub event: String,
    pub phase: String,
    /// The whole summary on one line (newlines become spaces); the reader may shorten it.
    pub detail: String,
    /// Every field of the row, its content decoded from JSON when it is JSON.
    pub record: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum TailError<E> {
    #[error("unknown session {0}")]
    UnknownSession(SessionId),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// What `each` returned (a closed stdout, say).
    #[error("{0}")]
    Sink(E),
}

/// Hand every stored row of `id` to `each`, once; with `follow`, keep reading until the
/// session has ended and a read brought nothing new.
pub async fn tail<E>(
    store: &dyn Store,
    id: &SessionId,
    follow: bool,
    mut each: impl FnMut(&[LogLine]) -> Result<(), E>,
) -> Result<(), TailError<E>> {
    if store.session_state(id).await?.is_none() && store.logs(id, None, 1).await?.is_empty() {
        return Err(TailError::UnknownSession(id.clone()));
    }
    let mut seen = HashSet::new();
    let mut after: Option<f64> = None;
    loop {
        let rows = store.logs(id, after, PAGE).await?;
        let mut fresh = Vec::new();
        for r in &rows {
            if seen.insert(r.message_id.clone()) {
                fresh.push(LogLine::of(r));
            }
            // Rows with the same timestamp as the last one are fetched again; `seen` drops them.
            after = Some(after.map_or(r.timestamp, |a: f64| a.max(r.timestamp)) - 1e-6);
        }
        each(&fresh).map_err(TailError::Sink)?;
        if !follow {
            return Ok(());
        }
        let state = store.session_state(id).await?;
        let ended = state
            .map(|s| s.status)
            .is_some_and(|s| !s.is_live() && !matches!(s, SessionStatus::Queued | SessionStatus::Unknown));
        if ended && fresh.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

impl LogLine {
    /// Decode a row: its event's content picks the summary.
    pub fn of(r: &LogRow) -> LogLine {
        let event: Value = serde_json::from_str(&r.content).unwrap_or(Value::Null);
        let text = |key: &str| event[key].as_str().unwrap_or("").to_string();
        let detail = match r.node_type.as_str() {
            "llm_response" => format!("{} tokens in, {} out: {}", r.tokens_in, r.tokens_out, text("content")),
            "llm_request" => format!("calling {} ({} messages)", r.model, event["messages"]),
            "tool_call" => format!("{}({})", text("tool"), event["arguments"]),
            "tool_result" => format!("{}: {}", text("tool"), text("result")),
            "phase_finished" => text("output"),
            "cascade_finished" => {
                format!("{} ({} tokens in, {} out, ${:.4})", text("status"), r.tokens_in, r.tokens_out, r.cost)
            }
            "signal_received" => event["payload"].to_string(),
            "warning" | "phase_failed" => {
                event["message"].as_str().or(event["error"].as_str()).unwrap_or("").to_string()
            }
            _ => String::new(),
        };
        let mut record = serde_json::to_value(r).unwrap_or(Value::Null);
        if !event.is_null() {
            record["content"] = event.clone();
        }
        let detail = detail.replace('\n', " ");
        LogLine { timestamp: r.timestamp, event: r.node_type.clone(), phase: r.phase_name.clone(), detail, record }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_multiline_answer_is_whole_on_one_line_and_the_record_keeps_it_as_sent() {
        let answer = "a\nb ".repeat(100);
        let content = serde_json::json!({ "content": answer }).to_string();
        let line = LogLine::of(&LogRow::new("m1", "s1", "llm_response", 1.0, content));
        assert!(!line.detail.contains('\n'));
        assert!(line.detail.ends_with(&answer.replace('\n', " ")), "{}", line.detail);
        assert_eq!(line.record["content"]["content"], answer.as_str());
        assert_eq!(line.record["session_id"], "s1");
    }
}
