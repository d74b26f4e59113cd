//! `await_signal` and `fire_signal`: named signals between sessions, through the store.
//!
//! A named signal fired with `fire_signal` (or `windlass signal --name`) reaches every
//! session waiting on that name; `windlass signal <session> --name` reaches one. The result
//! of `await_signal` has `status: fired` or `status: timeout`, so a deterministic phase can
//! route on it (`routing: {fired: ..., timeout: ...}`).

use crate::session::Mailbox;
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Waiting without a timeout is allowed, but a typo should not hang forever unnoticed.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

fn mailbox(m: &Option<Arc<Mailbox>>, tool: &str) -> Result<Arc<Mailbox>, ToolError> {
    m.clone().ok_or_else(|| ToolError::Failed(format!("{tool} needs a durable session (run it with `windlass run`)")))
}

fn signal_name(args: &Value) -> Result<String, ToolError> {
    args.get("signal_name")
        .or_else(|| args.get("name"))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_string())
        .ok_or_else(|| ToolError::InvalidArguments("name the signal in `signal_name`".into()))
}

/// `timeout` as "30s", "2m", "4h", or a number of seconds.
fn timeout(args: &Value) -> Result<Duration, ToolError> {
    match args.get("timeout").or_else(|| args.get("timeout_seconds")) {
        None | Some(Value::Null) => Ok(DEFAULT_TIMEOUT),
        Some(Value::Number(n)) => {
            n.as_f64().filter(|s| *s >= 0.0).map(Duration::from_secs_f64).ok_or_else(|| bad_timeout(&n.to_string()))
        }
        Some(Value::String(s)) => crate::cascade::lax::parse_duration(s)
            .or_else(|| s.trim().parse::<f64>().ok().filter(|x| *x >= 0.0).map(Duration::from_secs_f64))
            .ok_or_else(|| bad_timeout(s)),
        Some(other) => Err(bad_timeout(&other.to_string())),
    }
}

fn bad_timeout(text: &str) -> ToolError {
    ToolError::InvalidArguments(format!("`timeout` must be a duration like 30s, 2m or 4h, not {text}"))
}

/// `await_signal(signal_name, timeout, description)`.
pub struct AwaitSignal {
    pub mailbox: Option<Arc<Mailbox>>,
    pub emitter: crate::runner::emitter::Emitter,
}

#[async_trait]
impl Tool for AwaitSignal {
    fn name(&self) -> &str {
        "await_signal"
    }
    fn description(&self) -> &str {
        "Wait for a named signal: await_signal(signal_name, timeout='1h', description); returns {status: fired, payload} or {status: timeout}"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "signal_name": {"type": "string"}, "timeout": {"type": "string"}, "description": {"type": "string"}
        }, "required": ["signal_name"]})
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let mailbox = mailbox(&self.mailbox, "await_signal")?;
        let name = signal_name(&args)?;
        let timeout = timeout(&args)?;
        let value = match mailbox.wait_named(&name, Some(timeout)).await {
            Some(s) => {
                self.emitter.emit(crate::runner::event::RunEvent::SignalReceived {
                    phase: Some(ctx.phase.clone()),
                    name: Some(name.clone()),
                    payload: json!({"signal_id": s.id, "kind": "named", "payload": s.payload}),
                });
                json!({"status": "fired", "signal_name": name, "payload": s.payload})
            }
            None => json!({"status": "timeout", "signal_name": name, "timeout_seconds": timeout.as_secs_f64()}),
        };
        Ok(ToolOutput::value(value))
    }
}

/// `fire_signal(signal_name, payload)`.
pub struct FireSignal {
    pub mailbox: Option<Arc<Mailbox>>,
}

#[async_trait]
impl Tool for FireSignal {
    fn name(&self) -> &str {
        "fire_signal"
    }
    fn description(&self) -> &str {
        "Fire a named signal for every session waiting on it: fire_signal(signal_name, payload)"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "signal_name": {"type": "string"}, "payload": {}
        }, "required": ["signal_name"]})
    }
    async fn call(&self, args: Value, _ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let mailbox = mailbox(&self.mailbox, "fire_signal")?;
        let name = signal_name(&args)?;
        // A payload given as JSON text is stored as the JSON it holds.
        let payload = match args.get("payload").cloned().unwrap_or(Value::Null) {
            Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
            v => v,
        };
        mailbox.fire(&name, &payload).await.map_err(|e| ToolError::Failed(format!("fire signal `{name}`: {e}")))?;
        Ok(ToolOutput::value(json!({"status": "fired", "signal_name": name, "payload": payload})))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_like_the_corpus_writes_them() {
        assert_eq!(timeout(&json!({"timeout": "30s"})).unwrap(), Duration::from_secs(30));
        assert_eq!(timeout(&json!({"timeout": "4h"})).unwrap(), Duration::from_secs(4 * 3600));
        assert_eq!(timeout(&json!({"timeout": 2})).unwrap(), Duration::from_secs(2));
        assert_eq!(timeout(&json!({})).unwrap(), DEFAULT_TIMEOUT);
        assert!(timeout(&json!({"timeout": "soon"})).is_err());
        assert!(signal_name(&json!({"signal_name": " "})).is_err());
    }
}
